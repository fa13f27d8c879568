"""Integration tests run real DIALS; they are skipped where DIALS is not installed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"
L_CYSTEINE = FIXTURES / "images" / "l_cysteine"


def pytest_collection_modifyitems(config, items):
    if shutil.which("dials.import"):
        return
    skip = pytest.mark.skip(reason="DIALS is not installed (dials.import not on PATH)")
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def l_cysteine_sweep1() -> list[str]:
    images = sorted(str(p) for p in L_CYSTEINE.glob("l-cyst_01_*.cbf.gz"))
    if len(images) != 15:
        pytest.skip(f"L-cysteine images not found in {L_CYSTEINE}")
    return images

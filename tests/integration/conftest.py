"""Integration tests run real DIALS; they are skipped where DIALS is not installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

L_CYSTEINE = Path(__file__).resolve().parents[1] / "data" / "images" / "l_cysteine"


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


@pytest.fixture(scope="session")
def thas_summary():
    """``thas-tui summary DIR --json`` of a processing directory, decoded."""

    def summary(proc_dir: Path) -> dict:
        res = subprocess.run(
            [sys.executable, "-m", "thas_tui", "summary", str(proc_dir), "--json"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)

    return summary


@pytest.fixture(scope="session")
def demo_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str], float]:
    """`thas-tui demo --no-tui --auto-bravais` once per session (its own cache: the sweep is
    generated too); shared by the demo and compare tests, which must not change its files.

    THAS_TEST_DEMO_DIR=DIR reuses a directory this same command finished earlier (for running
    one test file again without minutes of DIALS; the demo tests that read the run's output
    then have none to read)."""
    reuse = os.environ.get("THAS_TEST_DEMO_DIR")
    if reuse:
        done = subprocess.CompletedProcess(["thas-tui", "demo"], 0, "", "")
        return Path(reuse), done, 0.0
    root = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "XDG_CACHE_HOME": str(root / "cache"), "PYTHONUNBUFFERED": "1"}
    t0 = time.monotonic()
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "thas_tui",
            "demo",
            "--no-tui",
            "--auto-bravais",
            "--dir",
            str(root / "proc"),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    return root / "proc", res, time.monotonic() - t0

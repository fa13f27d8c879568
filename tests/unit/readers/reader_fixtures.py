"""Paths of the real DIALS fixtures the reader tests use (imported by the test modules)."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data"
LCYS = DATA / "dials-3.12_l_cysteine"
QUARTZ_MERGE = DATA / "dials-3.12_quartz" / "merge.json"
SHARED = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "dials-files"


def shared(relpath: str) -> Path:
    """A file of ../shared/fixtures/dials-files (tests using it skip when it is absent)."""
    path = SHARED / relpath
    if not path.exists():
        pytest.skip(f"shared fixture {path} not present")
    return path


def resolve(spec: str) -> Path:
    """'lcys:NAME' -> tests/data file; 'shared:DIR/NAME' -> shared fixture (skip if absent)."""
    kind, _, name = spec.partition(":")
    if kind == "lcys":
        return LCYS / name
    return shared(name)

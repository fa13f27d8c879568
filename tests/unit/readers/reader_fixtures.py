"""Paths of the real DIALS fixtures the reader tests use (imported by the test modules)."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "data"
LCYS = DATA / "dials-3.12_l_cysteine"
QUARTZ_MERGE = DATA / "dials-3.12_quartz" / "merge.json"
DIALS_FILES = DATA / "dials-files"


def shared(relpath: str) -> Path:
    """A file of DIALS's regression data, vendored in tests/data/dials-files (SOURCES.md)."""
    return DIALS_FILES / relpath


def resolve(spec: str) -> Path:
    """'lcys:NAME' -> tests/data file; 'shared:DIR/NAME' -> tests/data/dials-files."""
    kind, _, name = spec.partition(":")
    if kind == "lcys":
        return LCYS / name
    return shared(name)

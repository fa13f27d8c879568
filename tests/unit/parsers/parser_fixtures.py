"""Paths to the real DIALS logs the parser tests read (imported by the parser tests)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DOCS_LOGS = REPO / "tests" / "data" / "dials-logs"
L_CYS = REPO / "tests" / "data" / "dials-3.12_l_cysteine_logs"


def shared_log(folder: str, name: str) -> Path:
    """A log of DIALS's documentation build, vendored in tests/data/dials-logs (SOURCES.md)."""
    return DOCS_LOGS / folder / name


def read(path: Path) -> str:
    """Text of a log, decoded as DIALS writes it (UTF-8: σ, ½, Δ appear in logs)."""
    return path.read_text(encoding="utf-8")


def log_path(source: str) -> Path:
    """'3.12/dials.index.log' -> tests/data/...; 'dials-2.2.11_betalactamase/x' -> tests/data/dials-logs."""
    folder, _, name = source.partition("/")
    if folder == "3.12":
        return L_CYS / name
    return shared_log(folder, name)

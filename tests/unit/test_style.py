"""The house style is checked, not hoped for: ruff lint and ruff format over the repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _ruff() -> list[str]:
    exe = Path(sys.executable).parent / "ruff"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("ruff")
    if not found:
        pytest.skip("ruff is not installed")
    return [found]


def test_ruff_check() -> None:
    res = subprocess.run([*_ruff(), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_ruff_format() -> None:
    res = subprocess.run(
        [*_ruff(), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_every_module_has_a_docstring() -> None:
    missing = []
    for path in (ROOT / "thas_tui").rglob("*.py"):
        text = path.read_text()
        if not text.lstrip().startswith('"""'):
            missing.append(str(path.relative_to(ROOT)))
    assert missing == []

"""Locating DIALS without starting it, and asking its version separately."""

from __future__ import annotations

from pathlib import Path

import pytest

from thas_tui.core.dials_env import (
    VERSION_PENDING,
    DialsTooOld,
    find_dials,
    locate_dials,
    with_version,
)
from thas_tui.core.errors import DialsNotFound


def test_locate_runs_no_dials_program(tmp_path: Path, fake_dials_bin) -> None:
    bin_dir = fake_dials_bin("3.12")
    dials = locate_dials(str(bin_dir), environ={})
    assert dials.version == VERSION_PENDING
    assert (dials.bin_dir, dials.python) == (bin_dir.resolve(), "/usr/bin/python3")
    assert not (tmp_path / "asked").exists()
    asked = with_version(dials)
    assert (tmp_path / "asked").exists()
    assert asked.version == "3.12" and asked.bin_dir == dials.bin_dir
    assert find_dials(str(bin_dir), environ={}).version == "3.12"


def test_too_old_is_refused_when_asked(fake_dials_bin) -> None:
    bin_dir = fake_dials_bin("2.2.11")
    dials = locate_dials(str(bin_dir), environ={})
    with pytest.raises(DialsTooOld, match="2.2.11 in .* is too old"):
        with_version(dials)


def test_not_found_is_said_at_once(tmp_path: Path) -> None:
    with pytest.raises(DialsNotFound):
        locate_dials(str(tmp_path), environ={})
    with pytest.raises(DialsNotFound, match="no dials.import on PATH"):
        locate_dials(None, environ={"PATH": str(tmp_path)})

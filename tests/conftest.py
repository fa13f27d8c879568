"""Fixtures shared by every layer of tests."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

FakeDials = Callable[..., Path]


@pytest.fixture
def fake_dials_bin(tmp_path: Path) -> FakeDials:
    """``make(version, seconds=0)``: a DIALS bin/ of dials.import and a dials.version that
    takes ``seconds``, says ``DIALS {version}`` and leaves ``tmp_path/asked`` when it runs."""

    def make(version: str, seconds: float = 0) -> Path:
        bin_dir = tmp_path / "dials-bin"
        bin_dir.mkdir()
        (bin_dir / "dials.import").write_text("#!/usr/bin/python3\n")
        script = bin_dir / "dials.version"
        script.write_text(
            f"#!/bin/sh\ntouch '{tmp_path}/asked'\nsleep {seconds}\necho 'DIALS {version}'\n"
        )
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        return bin_dir

    return make

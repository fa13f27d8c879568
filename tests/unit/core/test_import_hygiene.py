"""The core never imports the UI (textual, rich, plotext) nor DIALS itself."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import thas_tui.core

FORBIDDEN = ("textual", "rich", "plotext", "textual_plotext", "dials", "dxtbx", "cctbx", "scitbx")


def _core_modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages(thas_tui.core.__path__, "thas_tui.core.")]


def test_there_are_core_modules() -> None:
    mods = _core_modules()
    assert "thas_tui.core.runner" in mods and "thas_tui.core.pipeline" in mods


def test_core_modules_load_no_ui_and_no_dials() -> None:
    mods = _core_modules()
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}: importlib.import_module(m)\n"
        f"bad = sorted(k for k in sys.modules if k.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

"""``python -m thas_tui``: the same as the ``thas-tui`` command."""

from __future__ import annotations

from thas_tui.cli import entry

entry()

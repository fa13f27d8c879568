"""thas-tui's default frame rate for Textual, and the user's own setting winning over it."""

from __future__ import annotations

import os
import subprocess
import sys

CODE = "import thas_tui.app, textual.constants as c; print(c.MAX_FPS)"


def _fps(env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True, env=env
    )
    return out.stdout.strip()


def test_dashboard_repaints_at_up_to_120_frames_a_second() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    assert _fps(env) == "120"


def test_a_users_textual_fps_wins() -> None:
    assert _fps({**os.environ, "TEXTUAL_FPS": "30"}) == "30"

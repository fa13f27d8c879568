"""Runs thas-tui's command line in a child process, as a user would from a shell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def thas(
    *args: str,
    cwd: Path | None = None,
    timeout: float = 900,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`thas-tui ARGS` to its end; stdin closed so a prompt can never hang a test."""
    return subprocess.run(
        [sys.executable, "-m", "thas_tui", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        # Unbuffered, so a test that fails on a timeout still shows what was printed.
        env={**(env if env is not None else os.environ), "PYTHONUNBUFFERED": "1"},
    )

"""DIALS processes started by thas-tui outlive the dashboard; a later thas-tui picks them up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _journal(proc_dir: Path) -> list[dict]:
    path = proc_dir / "thas-tui" / "journal.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not alive: it just waits for its (dead) parent to be reaped.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_killed_dashboard_leaves_dials_running_and_resume_finishes(
    tmp_path: Path, l_cysteine_sweep1: list[str]
) -> None:
    proc_dir = tmp_path / "proc"
    dash = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "thas_tui",
            "run",
            *l_cysteine_sweep1,
            "--dir",
            str(proc_dir),
            "--no-tui",
            "--until",
            "index",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 120
        pid = None
        while time.time() < deadline:
            starts = [
                r
                for r in _journal(proc_dir)
                if r["event"] == "start" and r["stage"] == "find_spots"
            ]
            if starts:
                pid = starts[0]["pid"]
                break
            time.sleep(0.1)
        assert pid is not None, "find_spots never started"
        dash.send_signal(signal.SIGKILL)
        dash.wait(10)
        assert _alive(pid), "dials.find_spots died with the dashboard"
        # It finishes on its own and writes its output.
        while _alive(pid) and time.time() < deadline:
            time.sleep(0.2)
        assert (proc_dir / "strong.refl").is_file()
        # Its full log went on into the attempt log after the dashboard was gone.
        assert "Saved" in (proc_dir / "thas-tui" / "logs" / "find_spots.1.log").read_text()
    finally:
        if dash.poll() is None:
            dash.kill()
    # A later thas-tui sees find_spots done and continues from index.
    res = subprocess.run(
        [sys.executable, "-m", "thas_tui", "summary", str(proc_dir), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    summary = json.loads(res.stdout)
    assert summary["stages"]["find_spots"]["state"] == "done"
    assert summary["stages"]["index"]["state"] == "pending"

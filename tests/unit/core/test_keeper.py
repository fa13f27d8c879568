"""The keeper continues only a run whose dashboard died; a run that ended is left alone."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from thas_tui.core.journal import Journal, thas_dir
from thas_tui.core.lock import DirectoryLock
from thas_tui.keeper import orphaned_run, wait_for_exit


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _lock_of(workdir: Path, pid: int) -> None:
    path = thas_dir(workdir) / "lock.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "started": 0}))


def test_open_run_until_it_ends(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    assert j.open_run() is None
    j.run_begun({"until": "index", "auto_bravais": False, "nproc": 2, "extra": {}})
    assert j.open_run()["until"] == "index"
    j.run_ended("finished")
    assert j.open_run() is None
    assert j.last_settings()["nproc"] == 2


def test_dead_dashboard_with_open_run_is_continued(tmp_path: Path) -> None:
    pid = _dead_pid()
    _lock_of(tmp_path, pid)
    Journal(tmp_path).run_begun({"until": None, "auto_bravais": True, "nproc": 1, "extra": {}})
    settings = orphaned_run(tmp_path, pid)
    assert settings is not None and settings["auto_bravais"] is True


def test_ended_run_or_released_lock_is_left_alone(tmp_path: Path) -> None:
    pid = _dead_pid()
    j = Journal(tmp_path)
    j.run_begun({"until": None, "auto_bravais": True, "nproc": 1, "extra": {}})
    # Lock released: the dashboard exited normally (or handed over to a resume).
    assert orphaned_run(tmp_path, pid) is None
    # The lock now belongs to someone else (the 'leave running' resume).
    lock = DirectoryLock(tmp_path)
    assert lock.acquire().acquired
    assert orphaned_run(tmp_path, pid) is None
    lock.release()
    # Killed after its run had ended (the user stopped it, or it failed): nothing to continue.
    _lock_of(tmp_path, pid)
    j.run_ended("stopped at cancelled")
    assert orphaned_run(tmp_path, pid) is None


def test_wait_for_exit_returns_when_the_process_ends() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    t0 = time.monotonic()
    wait_for_exit(proc.pid)
    assert 0.3 < time.monotonic() - t0 < 10
    proc.wait()
    wait_for_exit(_dead_pid())  # already gone: returns at once

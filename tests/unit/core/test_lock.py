"""The directory lock: one controller, a second opens read-only, a stale lock is taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from thas_tui.core.lock import DirectoryLock, read_lock


def test_acquire_and_release(tmp_path: Path) -> None:
    lock = DirectoryLock(tmp_path)
    res = lock.acquire()
    assert res.acquired and res.took_over is None
    info = read_lock(tmp_path)
    assert info is not None and info.pid == os.getpid() and info.host == socket.gethostname()
    lock.release()
    assert read_lock(tmp_path) is None


def test_second_controller_is_refused(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        lock_file = tmp_path / "thas-tui" / "lock.json"
        lock_file.parent.mkdir(parents=True)
        lock_file.write_text(
            json.dumps({"pid": holder.pid, "host": socket.gethostname(), "started": 0})
        )
        res = DirectoryLock(tmp_path).acquire()
        assert not res.acquired
        assert res.holder is not None and res.holder.pid == holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_stale_lock_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock_file = tmp_path / "thas-tui" / "lock.json"
    lock_file.parent.mkdir(parents=True)
    lock_file.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "started": 0}))
    res = DirectoryLock(tmp_path).acquire()
    assert res.acquired and res.took_over is not None and res.took_over.pid == dead.pid
    assert read_lock(tmp_path).pid == os.getpid()


def test_lock_of_another_host_is_respected(tmp_path: Path) -> None:
    lock_file = tmp_path / "thas-tui" / "lock.json"
    lock_file.parent.mkdir(parents=True)
    lock_file.write_text(json.dumps({"pid": 1, "host": "cluster-node-17", "started": 0}))
    res = DirectoryLock(tmp_path).acquire()
    assert not res.acquired and res.holder.host == "cluster-node-17"

"""The keeper: a detached process that finishes a run when its dashboard dies (SIGKILL, crash)."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

from thas_tui.core.dials_env import DialsEnv
from thas_tui.core.journal import Journal, thas_dir
from thas_tui.core.lock import read_lock
from thas_tui.core.procs import pid_alive

_spawned: set[Path] = set()


def wait_for_exit(pid: int, poll: float = 0.5) -> None:
    """Block until ``pid`` has ended (a pidfd where Linux has one: no polling delay)."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        try:
            select.select([fd], [], [])
        finally:
            os.close(fd)
        return
    while pid_alive(pid):
        time.sleep(poll)


def orphaned_run(workdir: Path, pid: int) -> dict | None:
    """The settings of the run ``pid`` was controlling when it died, if it left one unfinished.

    A dashboard that exits normally releases its lock and records the run's end (finished,
    failed, or stopped by the user); only a dashboard that died leaves both behind.
    """
    holder = read_lock(workdir)
    if holder is None or holder.pid != pid or holder.host != socket.gethostname():
        return None
    return Journal(workdir).open_run()


def keep(workdir: Path, pid: int, dials_dir: str | None) -> int:
    """``thas-tui keep``: wait for the dashboard ``pid``; continue its run if it died mid-run."""
    from thas_tui.launch import resume_dir

    wait_for_exit(pid)
    settings = orphaned_run(workdir, pid)
    if settings is None:
        return 0
    print(
        f"thas-tui keeper: dashboard pid {pid} ended without finishing its run: continuing it",
        flush=True,
    )
    return resume_dir(workdir, dials_dir, continue_run=True)


def spawn_keeper(workdir: Path, dials: DialsEnv) -> int | None:
    """Start the keeper for this process's run in ``workdir`` (once), detached from the terminal."""
    workdir = Path(workdir)
    if workdir in _spawned:
        return None
    _spawned.add(workdir)
    argv = [
        sys.executable,
        "-m",
        "thas_tui",
        "keep",
        str(workdir),
        "--pid",
        str(os.getpid()),
        "--dials-dir",
        str(dials.bin_dir),
    ]
    try:
        return spawn_detached(workdir, argv)
    except OSError:
        return None  # without a keeper the run still works; it just cannot outlive a SIGKILL


def spawn_detached(workdir: Path, argv: list[str]) -> int:
    """Start ``argv`` in its own session (no terminal to lose), output to thas-tui/driver.log."""
    log = thas_dir(workdir) / "driver.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=str(workdir),
        )
    return proc.pid

"""Start, continue and keep a run going: the keeper, a detached resume, a stage left running."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

from thas_tui.core.dials_env import DialsEnv
from thas_tui.core.errors import ThasError
from thas_tui.core.executor import ExecutorSettings
from thas_tui.core.journal import Journal, thas_dir
from thas_tui.core.lock import read_lock
from thas_tui.core.procs import pid_alive

_spawned: set[Path] = set()


def keep_going(workdir: Path, dials: DialsEnv, executor: ExecutorSettings | None = None) -> None:
    """What keeps a run going should its controller die. Local stages are the controller's
    children: a detached keeper continues them. A Slurm chain needs nothing: the scheduler
    runs it on with no thas-tui process anywhere."""
    if executor is None or executor.kind == "local":
        spawn_keeper(workdir, dials)


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


def spawn_resume(workdir: Path, after_pid: int | None, auto_bravais: bool, dials: DialsEnv) -> int:
    """Start ``thas-tui resume`` detached (own session, output to thas-tui/driver.log)."""
    argv = [
        sys.executable,
        "-m",
        "thas_tui",
        "resume",
        str(workdir),
        "--dials-dir",
        str(dials.bin_dir),
    ]
    if after_pid:
        argv += ["--after-pid", str(after_pid), "--continue-run"]
    if auto_bravais:
        argv.append("--auto-bravais")
    return spawn_detached(workdir, argv)


def wait_for_pid(pid: int, poll: float = 1.0) -> None:
    while pid_alive(pid):
        time.sleep(poll)


def running_attempt_pid(workdir: Path) -> int | None:
    """The pid of a stage started here and still running (a dashboard left or lost it)."""
    attempt = Journal(workdir).unfinished_attempt()
    if attempt is None or not attempt.pid:
        return None
    if attempt.host and attempt.host != socket.gethostname():
        try:
            recent = time.time() - os.stat(attempt.log).st_mtime < 300
        except OSError:
            recent = False
        if recent:
            raise ThasError(
                f"{attempt.stage} was started on {attempt.host} and has not ended: "
                f"resume it there, or watch it with thas-tui attach {workdir}"
            )
        return None
    return attempt.pid if pid_alive(attempt.pid) else None

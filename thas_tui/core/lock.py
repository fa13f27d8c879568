"""One controlling dashboard per processing directory: a lock file with its pid and host."""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from thas_tui.core.journal import thas_dir
from thas_tui.core.procs import pid_alive

LOCK_NAME = "lock.json"


@dataclass(frozen=True)
class LockInfo:
    pid: int
    host: str
    started: float


@dataclass
class LockResult:
    """What happened when we asked for the lock."""

    acquired: bool
    holder: LockInfo | None = None  # who holds it when we did not get it
    took_over: LockInfo | None = None  # a stale lock we replaced


def read_lock(workdir: Path) -> LockInfo | None:
    try:
        data = json.loads((thas_dir(workdir) / LOCK_NAME).read_text())
        return LockInfo(int(data["pid"]), str(data["host"]), float(data.get("started", 0)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


class DirectoryLock:
    """Held by the process that may start stages in a directory; others only watch."""

    def __init__(self, workdir: Path) -> None:
        self.path = thas_dir(workdir) / LOCK_NAME
        self.workdir = Path(workdir)
        self.held = False

    def acquire(self) -> LockResult:
        me = LockInfo(os.getpid(), socket.gethostname(), time.time())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        took_over = None
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = read_lock(self.workdir)
                if holder is not None and (holder.host != me.host or pid_alive(holder.pid)):
                    if holder.pid == me.pid and holder.host == me.host:
                        self.held = True
                        return LockResult(True)
                    return LockResult(False, holder=holder)
                # A dead pid on this host (or an unreadable lock): stale, take it over.
                took_over = holder
                try:
                    self.path.unlink()
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w") as fh:
                json.dump({"pid": me.pid, "host": me.host, "started": me.started}, fh)
            self.held = True
            return LockResult(True, took_over=took_over)
        holder = read_lock(self.workdir)
        return LockResult(False, holder=holder)

    def release(self) -> None:
        if not self.held:
            return
        holder = read_lock(self.workdir)
        if holder is not None and holder.pid == os.getpid() and holder.host == socket.gethostname():
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
        self.held = False

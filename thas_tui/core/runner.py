"""Run one DIALS program detached from the dashboard, its output in a log file that is tailed live."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from thas_tui.core.tail import BATCH_BYTES, LineTailer, tail_lines

LinesCallback = Callable[[list[str]], None]


@dataclass
class ProcessResult:
    """How a process ended."""

    exit_code: int
    started: float
    ended: float
    pid: int
    peak_rss_mb: float | None
    log_tail: list[str] = field(default_factory=list)
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.cancelled


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids.extend(int(k) for k in fh.read().split())
    except OSError:
        pass
    return kids


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants, in MB (Linux /proc; 0 elsewhere)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _rss_kb(p)
        todo.extend(_children(p))
    return total / 1024.0


class ProcessHandle:
    """A started process: its pid, and a way to stop its whole process group."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.cancelled = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def terminate(self, grace: float = 5.0) -> None:
        """SIGTERM the process group, then SIGKILL it if it is still there after ``grace`` s."""
        self.cancelled = True
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                await asyncio.wait_for(self.proc.wait(), grace)
                return
            except asyncio.TimeoutError:
                continue


async def start_process(
    argv: list[str],
    cwd: str | os.PathLike[str],
    log_path: str | os.PathLike[str],
    env: dict[str, str] | None = None,
    append: bool = False,
) -> ProcessHandle:
    """Start ``argv`` in its own session, stdout and stderr to ``log_path`` (never a shell).

    Its own session and a file rather than a pipe let the program run on when the dashboard
    exits, is killed or loses its terminal. ``append``: a later command of the same attempt.
    """
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # 'x': never overwrite an earlier attempt's log.
    with open(log_path, "ab" if append else "xb") as log:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=str(cwd),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    return ProcessHandle(proc)


async def follow_process(
    handle: ProcessHandle,
    log_path: str | os.PathLike[str],
    on_lines: LinesCallback | None = None,
    poll: float = 0.1,
    tail_n: int = 40,
    start_offset: int = 0,
) -> ProcessResult:
    """Stream the log's new lines to ``on_lines`` in batches until the process ends."""
    tailer = LineTailer(log_path, max_bytes=BATCH_BYTES)
    tailer.offset = start_offset
    started = time.time()
    peak = 0.0
    last_rss = 0.0
    proc = handle.proc
    while True:
        try:
            await asyncio.wait_for(asyncio.shield(proc.wait()), poll)
            done = True
        except asyncio.TimeoutError:
            done = False
        now = time.monotonic()
        if not done and now - last_rss >= 1.0:
            last_rss = now
            peak = max(peak, tree_rss_mb(proc.pid))
        lines = tailer.read_new(final=done)
        while lines:
            if on_lines:
                on_lines(lines)
            # A burst larger than one read: keep reading before waiting again, but let the
            # event loop (key presses, repaints) run between reads.
            if tailer.caught_up:
                break
            await asyncio.sleep(0)
            lines = tailer.read_new(final=done)
        if done:
            break
    code = proc.returncode if proc.returncode is not None else -1
    return ProcessResult(
        exit_code=code,
        started=started,
        ended=time.time(),
        pid=proc.pid,
        peak_rss_mb=peak or None,
        log_tail=tail_lines(log_path, tail_n),
        cancelled=handle.cancelled,
    )


async def run_process(
    argv: list[str],
    cwd: str | os.PathLike[str],
    log_path: str | os.PathLike[str],
    on_lines: LinesCallback | None = None,
    env: dict[str, str] | None = None,
    on_start: Callable[[ProcessHandle], None] | None = None,
) -> ProcessResult:
    """Start ``argv`` detached and follow it to the end."""
    handle = await start_process(argv, cwd, log_path, env)
    if on_start:
        on_start(handle)
    return await follow_process(handle, log_path, on_lines)


async def run_commands(
    commands: list[list[str]],
    cwd: str | os.PathLike[str],
    log_path: str | os.PathLike[str],
    on_lines: LinesCallback | None = None,
    env: dict[str, str] | None = None,
    on_start: Callable[[ProcessHandle, int], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> tuple[ProcessResult, int]:
    """Run ``commands`` one after another into one log, each after a ``$ command`` line, as a
    shell session would read; stop at the first that fails (or when ``stop()`` says so).

    Returns the combined result (the last command's exit, the first's start, the highest peak)
    and the index of the last command run.
    """
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    first: ProcessResult | None = None
    peak = 0.0
    for i, argv in enumerate(commands):
        shown = " ".join([Path(argv[0]).name, *argv[1:]])
        with open(log_path, "ab" if i else "xb") as log:
            offset = log.tell()
            log.write(f"$ {shown}\n".encode())
        handle = await start_process(argv, cwd, log_path, env, append=True)
        if on_start:
            on_start(handle, i)
        result = await follow_process(handle, log_path, on_lines, start_offset=offset)
        first = first or result
        peak = max(peak, result.peak_rss_mb or 0.0)
        if not result.ok or (stop is not None and stop() and i + 1 < len(commands)):
            if result.ok:
                result.cancelled = True
            break
    result.started = first.started
    result.peak_rss_mb = peak or None
    return result, i

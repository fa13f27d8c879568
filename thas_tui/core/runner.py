"""Follow a stage started by an executor: its log tailed live, to the end; the local shortcuts on top."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from thas_tui.core.commands import CHAIN
from thas_tui.core.executor import Executor, Job, JobState
from thas_tui.core.local_executor import GRACE_S, LocalExecutor, tree_rss_mb
from thas_tui.core.tail import BATCH_BYTES, LineTailer, tail_lines

__all__ = ["ProcessHandle", "ProcessResult", "follow_job", "run_commands", "run_process"]
__all__ += ["start_process", "tree_rss_mb"]

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


async def follow_job(
    executor: Executor,
    job: Job,
    on_lines: LinesCallback | None = None,
    poll: float = 0.1,
    tail_n: int = 40,
    on_step: Callable[[Job], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> ProcessResult:
    """Stream the job's log to ``on_lines`` in batches, polling its executor, until it ends;
    ``on_step``: the next command of a multi-command stage has started; ``stop()``: start no
    further command of it."""
    tailer = LineTailer(job.log, max_bytes=BATCH_BYTES)
    started = time.time()
    step = job.step
    while True:
        if stop is not None and stop():
            job.no_more = True
        executor.poll([job])
        done = job.state is JobState.ENDED
        if job.step != step:
            step = job.step
            if on_step is not None:
                on_step(job)
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
        await asyncio.sleep(poll)
    code = executor.exit_status(job)
    return ProcessResult(
        exit_code=code if code is not None else -1,
        started=started,
        ended=time.time(),
        pid=int(job.job_id) if job.job_id.isdigit() else 0,
        peak_rss_mb=executor.peak_memory(job),
        log_tail=tail_lines(job.log, tail_n),
        cancelled=job.cancelled,
    )


class ProcessHandle:
    """A stage started here: its pid, and a way to stop its whole process group."""

    def __init__(self, executor: LocalExecutor, job: Job) -> None:
        self.executor = executor
        self.job = job

    @property
    def pid(self) -> int:
        return int(self.job.job_id)

    @property
    def cancelled(self) -> bool:
        return self.job.cancelled

    async def terminate(self, grace: float = GRACE_S) -> None:
        """SIGTERM the process group, then SIGKILL it if it is still there after ``grace`` s."""
        self.executor.grace = grace
        self.executor.cancel([self.job])
        deadline = time.monotonic() + grace + 2.0
        while self.job.state is not JobState.ENDED and time.monotonic() < deadline:
            self.executor.poll([self.job])
            await asyncio.sleep(0.05)


async def start_process(
    argv: list[str],
    cwd: str | os.PathLike[str],
    log_path: str | os.PathLike[str],
    env: dict[str, str] | None = None,
) -> ProcessHandle:
    """Start ``argv`` detached through the local executor (never a shell, never over a log)."""
    executor = LocalExecutor()
    job = executor.start("", 0, argv, Path(log_path), Path(cwd), env)
    return ProcessHandle(executor, job)


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
    return await follow_job(handle.executor, handle.job, on_lines)


async def run_commands(
    commands: list[list[str]],
    cwd: str | os.PathLike[str],
    log_path: str | os.PathLike[str],
    on_lines: LinesCallback | None = None,
    env: dict[str, str] | None = None,
    on_start: Callable[[ProcessHandle, int], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> tuple[ProcessResult, int]:
    """Run ``commands`` one after another into one log, each after a ``$ command`` line;
    stop at the first that fails (or, between two, when ``stop()`` says so).

    Returns the result (the last command's exit, the highest peak) and the index of the last
    command run."""
    argv = [t for i, c in enumerate(commands) for t in ([CHAIN] if i else []) + c]
    executor = LocalExecutor()
    job = executor.start("", 0, argv, Path(log_path), Path(cwd), env)
    handle = ProcessHandle(executor, job)
    if on_start:
        on_start(handle, 0)

    def stepped(j: Job) -> None:
        if on_start:
            on_start(handle, j.step)

    result = await follow_job(executor, job, on_lines, on_step=stepped, stop=stop)
    return result, job.step

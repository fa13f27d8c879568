"""The local executor through the Executor interface: start, poll, cancel, exit status, peak memory."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from thas_tui.core.commands import CHAIN
from thas_tui.core.executor import ExecutorSettings, Job, JobState, make_executor
from thas_tui.core.local_executor import LocalExecutor
from thas_tui.core.progress_eta import format_memory
from thas_tui.core.runner import follow_job

FAKE = str(Path(__file__).parents[2] / "fake_dials" / "dials.fake")
# Holds MB MiB (every page touched), then exits at once: before the first /proc sample.
HOLD = "import sys; a = bytearray({mb} << 20); a[::4096] = b'x' * len(a[::4096]); sys.exit({code})"


def _env(**kw: str) -> dict[str, str]:
    return {**os.environ, **kw}


def _until_ended(executor: LocalExecutor, job: Job, limit: float = 30.0) -> list[JobState]:
    seen, deadline = [job.state], time.monotonic() + limit
    while job.state is not JobState.ENDED:
        assert time.monotonic() < deadline, "the job never ended"
        executor.poll([job])
        seen.append(job.state)
        time.sleep(0.02)
    return seen


def test_the_local_executor_is_chosen_by_the_settings() -> None:
    executor = make_executor(ExecutorSettings())
    assert isinstance(executor, LocalExecutor)
    assert (executor.name, executor.chains) == ("local", False)


def test_start_poll_exit_status(tmp_path: Path) -> None:
    executor = LocalExecutor()
    job = executor.start(
        "find_spots", 2, [sys.executable, FAKE], tmp_path / "a.log", tmp_path, _env(FAKE_EXIT="4")
    )
    assert job.job_id == str(int(job.job_id)) and job.state is JobState.RUNNING
    assert executor.exit_status(job) is None  # not ended yet
    seen = _until_ended(executor, job)
    assert seen[0] is JobState.RUNNING and seen[-1] is JobState.ENDED
    assert executor.exit_status(job) == 4 and not job.cancelled
    assert (tmp_path / "a.log").read_text().splitlines()[-1] == "Found 50 strong pixels on image 5"


def test_peak_memory_from_the_kernels_rusage(tmp_path: Path) -> None:
    """A 300 MiB process that ends before any /proc sample: wait4's ru_maxrss still has it."""
    executor = LocalExecutor()
    argv = [sys.executable, "-c", HOLD.format(mb=300, code=0)]
    job = executor.start("integrate", 1, argv, tmp_path / "a.log", tmp_path)
    _until_ended(executor, job)
    peak = executor.peak_memory(job)
    assert executor.exit_status(job) == 0
    # 300 MiB of bytearray plus the interpreter (~10 MB), never the sum of anything else.
    assert 300 < peak < 340, peak
    assert format_memory(peak).endswith(" MB")
    assert format_memory(4198.4) == "4.1 GB"


def test_a_signal_is_minus_its_number(tmp_path: Path) -> None:
    executor = LocalExecutor()
    job = executor.start(
        "integrate", 1, [sys.executable, FAKE], tmp_path / "a.log", tmp_path, _env(FAKE_MODE="kill")
    )
    _until_ended(executor, job)
    assert executor.exit_status(job) == -9 and not job.cancelled


def test_cancel_terms_then_kills_a_group_that_ignores_sigterm(tmp_path: Path) -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('holding', flush=True); time.sleep(60)"
    )
    executor = LocalExecutor(grace=0.5)
    job = executor.start("index", 1, [sys.executable, "-c", code], tmp_path / "a.log", tmp_path)
    while "holding" not in (tmp_path / "a.log").read_text():
        executor.poll([job])
        time.sleep(0.02)
    t0 = time.monotonic()
    executor.cancel([job])
    _until_ended(executor, job)
    assert executor.exit_status(job) == -9 and job.cancelled
    assert 0.5 <= time.monotonic() - t0 < 3


def test_a_stage_of_two_commands_steps_and_stops_at_a_failure(tmp_path: Path) -> None:
    one = [sys.executable, "-c", "print('one')"]
    two = [sys.executable, "-c", HOLD.format(mb=50, code=3)]
    three = [sys.executable, "-c", "print('three')"]
    executor = LocalExecutor()
    job = executor.start(
        "mask", 1, [*one, CHAIN, *two, CHAIN, *three], tmp_path / "m.log", tmp_path
    )
    first_pid = job.job_id
    steps = set()
    while job.state is not JobState.ENDED:
        executor.poll([job])
        steps.add(job.step)
        time.sleep(0.02)
    assert steps == {0, 1} or steps == {1}
    assert job.job_id != first_pid  # the pid to follow is the running command's
    assert executor.exit_status(job) == 3 and job.step == 1
    lines = (tmp_path / "m.log").read_text().splitlines()
    assert lines == [f"$ {Path(sys.executable).name} -c print('one')", "one", lines[2]]
    assert lines[2].startswith(f"$ {Path(sys.executable).name} -c import sys")
    assert executor.peak_memory(job) > 50


def test_no_more_commands_after_a_cancel_between_two(tmp_path: Path) -> None:
    executor = LocalExecutor()
    argv = [sys.executable, "-c", "print(1)", CHAIN, sys.executable, "-c", "print(2)"]
    job = executor.start("mask", 1, argv, tmp_path / "m.log", tmp_path)
    job.no_more = True
    _until_ended(executor, job)
    assert executor.exit_status(job) == 0 and job.cancelled and job.step == 0
    assert (tmp_path / "m.log").read_text().splitlines()[-1] == "1"


def test_the_local_executor_chains_nothing(tmp_path: Path) -> None:
    executor = LocalExecutor()
    job = executor.start("import", 1, [sys.executable, "-c", "0"], tmp_path / "a.log", tmp_path)
    with pytest.raises(ValueError, match="one stage at a time"):
        executor.start("find_spots", 1, ["true"], tmp_path / "b.log", tmp_path, after=job)
    _until_ended(executor, job)


async def test_follow_job_streams_while_it_runs(tmp_path: Path) -> None:
    executor = LocalExecutor()
    job = executor.start(
        "find_spots",
        1,
        [sys.executable, FAKE],
        tmp_path / "a.log",
        tmp_path,
        _env(FAKE_LINES="4", FAKE_DELAY="0.3"),
    )
    loop = asyncio.get_running_loop()
    seen_at: list[float] = []
    result = await follow_job(executor, job, lambda b: seen_at.extend(loop.time() for _ in b))
    assert result.ok and result.pid == int(job.job_id) and len(seen_at) == 4
    assert seen_at[-1] - seen_at[0] > 0.5  # line by line, not all at the end
    assert result.peak_rss_mb == executor.peak_memory(job) > 0

"""Runner tests with a fake program: streaming, exit codes, signals, cancellation, detachment."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from thas_tui.core.failures import classify
from thas_tui.core.runner import run_process, start_process

FAKE = str(Path(__file__).parents[2] / "fake_dials" / "dials.fake")


def _env(**kw: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(kw)
    return env


async def test_streams_every_line_in_order(tmp_path: Path) -> None:
    batches: list[list[str]] = []
    res = await run_process(
        [sys.executable, FAKE], tmp_path, tmp_path / "a.log", batches.append, _env(FAKE_LINES="200")
    )
    lines = [ln for b in batches for ln in b]
    assert res.exit_code == 0 and res.ok
    assert lines == [f"Found {i * 10} strong pixels on image {i}" for i in range(1, 201)]
    assert (tmp_path / "a.log").read_text().count("\n") == 200


async def test_lines_arrive_while_running(tmp_path: Path) -> None:
    seen_at: list[float] = []
    loop = asyncio.get_running_loop()
    res = await run_process(
        [sys.executable, FAKE],
        tmp_path,
        tmp_path / "a.log",
        lambda b: seen_at.extend(loop.time() for _ in b),
        _env(FAKE_LINES="4", FAKE_DELAY="0.3"),
    )
    assert res.ok
    assert len(seen_at) == 4
    # Streaming, not collected at the end: the first line came well before the last.
    assert seen_at[-1] - seen_at[0] > 0.5


async def test_partial_last_line_is_delivered(tmp_path: Path) -> None:
    got: list[str] = []
    await run_process(
        [sys.executable, FAKE],
        tmp_path,
        tmp_path / "a.log",
        got.extend,
        _env(FAKE_LINES="1", FAKE_MODE="partial"),
    )
    assert got[-1] == "last line without newline"


async def test_nonzero_exit_with_traceback_is_classified(tmp_path: Path) -> None:
    res = await run_process(
        [sys.executable, FAKE], tmp_path, tmp_path / "a.log", None, _env(FAKE_MODE="traceback")
    )
    assert res.exit_code == 1
    failure = classify("dials.fake", res.exit_code, res.log_tail)
    assert failure is not None and failure.kind == "traceback"
    assert failure.reason.endswith("ValueError: the fake program broke")
    assert failure.detail[0].lstrip().startswith("File ")


async def test_sorry_message_is_the_reason(tmp_path: Path) -> None:
    res = await run_process(
        [sys.executable, FAKE], tmp_path, tmp_path / "a.log", None, _env(FAKE_MODE="sorry")
    )
    failure = classify("dials.index", res.exit_code, res.log_tail)
    assert failure is not None and failure.kind == "sorry"
    assert "No suitable lattice could be found." in failure.reason
    assert "max_cell" in failure.hint


async def test_killed_by_signal(tmp_path: Path) -> None:
    res = await run_process(
        [sys.executable, FAKE], tmp_path, tmp_path / "a.log", None, _env(FAKE_MODE="kill")
    )
    assert res.exit_code == -9
    failure = classify("dials.integrate", res.exit_code, res.log_tail, 2900.0)
    assert failure is not None and failure.kind == "oom"
    assert "2900 MB" in failure.reason


async def test_cancel_terminates_the_process_group(tmp_path: Path) -> None:
    handles = []
    task = asyncio.create_task(
        run_process(
            [sys.executable, FAKE],
            tmp_path,
            tmp_path / "a.log",
            None,
            _env(FAKE_LINES="1", FAKE_MODE="sleep"),
            handles.append,
        )
    )
    while not handles:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    await handles[0].terminate(grace=2)
    res = await asyncio.wait_for(task, 10)
    assert res.cancelled and not res.ok
    failure = classify("dials.fake", res.exit_code, res.log_tail, cancelled=res.cancelled)
    assert failure is not None and failure.kind == "cancelled"
    # The log of the cancelled attempt is kept.
    assert "image 1" in (tmp_path / "a.log").read_text()


async def test_process_has_its_own_session(tmp_path: Path) -> None:
    handle = await start_process(
        [sys.executable, FAKE],
        tmp_path,
        tmp_path / "a.log",
        _env(FAKE_LINES="1", FAKE_MODE="sleep"),
    )
    try:
        # Detached from the dashboard's session: a hang-up of our terminal does not reach it.
        assert os.getsid(handle.pid) == handle.pid != os.getsid(0)
    finally:
        await handle.terminate(grace=2)


async def test_never_overwrites_an_existing_log(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("earlier attempt\n")
    with pytest.raises(FileExistsError):
        await run_process([sys.executable, FAKE], tmp_path, tmp_path / "a.log")
    assert (tmp_path / "a.log").read_text() == "earlier attempt\n"


async def test_missing_program_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        await run_process([str(tmp_path / "dials.nothing")], tmp_path, tmp_path / "a.log")

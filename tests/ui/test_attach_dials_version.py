"""`attach` shows the directory before DIALS has said its version, then fills it in."""

from __future__ import annotations

import time
from pathlib import Path

from thas_tui.core.dials_env import VERSION_PENDING
from thas_tui.launch import attach_app
from thas_tui.widgets.run_header import RunHeader


async def test_first_paint_does_not_wait_for_dials_version(tmp_path: Path, fake_dials_bin) -> None:
    bin_dir = fake_dials_bin("3.12", seconds=1.5)
    work = tmp_path / "proc"
    work.mkdir()
    t0 = time.monotonic()
    app = attach_app(work, str(bin_dir), watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert time.monotonic() - t0 < 1.5  # the dashboard is up while dials.version runs
        header = app.dashboard.query_one(RunHeader)
        assert header.dials_version == VERSION_PENDING
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert header.dials_version == "3.12"
        assert app.dashboard.dials.version == "3.12"
        assert app.dashboard.dials.bin_dir == bin_dir.resolve()


async def test_too_old_dials_found_after_the_first_paint_is_said(
    tmp_path: Path, fake_dials_bin
) -> None:
    bin_dir = fake_dials_bin("2.2.11")
    work = tmp_path / "proc"
    work.mkdir()
    app = attach_app(work, str(bin_dir), watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.dashboard.dials.version == "not found"  # resuming will refuse, and say why
        messages = [n.message for n in app._notifications]  # noqa: SLF001
        assert any("DIALS 2.2.11" in m and "too old" in m for m in messages)

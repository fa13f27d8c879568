"""Pilot tests of the session screen: rows as sweeps appear, sort, filter, skip, pause, process."""

from __future__ import annotations

import time
from pathlib import Path

from textual.widgets import DataTable

from thas_tui.core.dials_env import NO_DIALS
from thas_tui.core.session.engine import SessionConfig
from thas_tui.core.session.model import DState
from thas_tui.session_app import SessionApp

CBF = b"###CBF: VERSION 1.5\r\n\r\n--CIF-BINARY-FORMAT-SECTION----\r\n;\r\n"


def _write(data: Path, prefix: str, numbers) -> None:
    for n in numbers:
        (data / f"{prefix}{n:05d}.cbf").write_bytes(CBF)


def _app(tmp_path: Path, idle: float = 0.0) -> tuple[SessionApp, Path]:
    data = tmp_path / "data"
    data.mkdir()
    config = SessionConfig(
        data, tmp_path / "proc", idle=idle, settle=0.0, live_spots=False, autoprocess=False
    )
    return SessionApp(config, NO_DIALS), data


async def _until(pilot, check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the session screen did not get there in time"
        await pilot.pause(0.1)


def _states(app: SessionApp) -> dict[str, DState]:
    return {d.name: d.state for d in app.engine.datasets.values()}


async def test_rows_appear_as_images_arrive_and_keys_act_on_them(tmp_path: Path) -> None:
    app, data = _app(tmp_path)
    _write(data, "a_1_", range(1, 4))
    async with app.run_test(size=(160, 40)) as pilot:
        await _until(pilot, lambda: _states(app).get("a_1") is DState.QUEUED)
        table = app.screen.query_one(DataTable)
        await _until(pilot, lambda: table.row_count == 1)
        # A new sweep written while the session runs: found by watchfiles, not by a re-scan.
        _write(data, "b_1_", (1, 2, 5))
        await _until(pilot, lambda: _states(app).get("b_1") is DState.WAITING)
        await _until(pilot, lambda: table.row_count == 2)
        b = next(d for d in app.engine.datasets.values() if d.name == "b_1")
        assert b.reason.startswith("images 3–4 missing")
        # Newest first: b_1 is the top row; the selection stayed on a_1, now below it.
        assert str(table.get_row_at(0)[0]) == "b_1"
        assert app.screen.selected().name == "a_1"
        await pilot.press("k")
        assert app.screen.selected().name == "b_1"
        await pilot.press("P")  # process anyway
        await _until(pilot, lambda: _states(app)["b_1"] is DState.QUEUED)
        await pilot.press("x")  # skip it
        assert _states(app)["b_1"] is DState.SKIPPED
        await pilot.press("x")  # and take it back
        await _until(pilot, lambda: _states(app)["b_1"] is DState.QUEUED)
        await pilot.press("space")
        assert app.engine.paused
        await pilot.press("space")
        assert not app.engine.paused
        await pilot.press("o")  # sort by name: a_1 first
        assert app.screen.sort == "name"
        await pilot.pause(0.2)
        assert str(table.get_row_at(0)[0]) == "a_1"
        await pilot.press("slash")
        for ch in "b_":
            await pilot.press(ch)
        await pilot.press("enter")
        await _until(pilot, lambda: table.row_count == 1)
        assert str(table.get_row_at(0)[0]) == "b_1"
        await pilot.press("escape")
        await _until(pilot, lambda: table.row_count == 2)


async def test_open_says_when_a_dataset_is_not_processed_yet(tmp_path: Path) -> None:
    app, data = _app(tmp_path, idle=3600.0)
    _write(data, "a_1_", range(1, 3))
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: app.screen.query_one(DataTable).row_count == 1)
        await pilot.press("enter")
        await pilot.pause(0.1)
        notes = [str(n.message) for n in app._notifications]
        assert any("not processed yet" in n for n in notes)


async def test_a_dashboard_opened_from_the_session_goes_back_on_escape(
    tmp_path: Path, monkeypatch
) -> None:
    import shutil

    from thas_tui.app import ThasApp
    from thas_tui.core.commands import RunConfig
    from thas_tui.core.dials_env import DialsEnv
    from thas_tui.core.watcher import pipeline_from_dir

    workdir = tmp_path / "proc"
    shutil.copytree(Path(__file__).parents[1] / "data" / "dials-3.12_thas_demo", workdir)
    pipeline, _ = pipeline_from_dir(workdir)
    dials = DialsEnv(bin_dir=Path("/usr/bin"), version="3.12", python="python3")
    # As the session starts it (SessionScreen.action_open): Esc leaves, as q does.
    monkeypatch.setenv("THAS_ESCAPE_BACK", "1")
    app = ThasApp(workdir, RunConfig(), dials, pipeline, autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        assert app.return_code is None
        await pilot.press("escape")
        await pilot.pause(0.5)
        assert app.return_code == 0  # set by exit(): the dashboard is leaving
    # Without the session, Esc does nothing to the dashboard.
    monkeypatch.delenv("THAS_ESCAPE_BACK")
    app = ThasApp(workdir, RunConfig(), dials, pipeline, autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        await pilot.press("escape")
        await pilot.pause(0.5)
        assert app.return_code is None


async def test_a_changed_row_is_repainted_alone_with_its_new_cells(tmp_path: Path) -> None:
    app, data = _app(tmp_path, idle=3600.0)
    _write(data, "a_1_", range(1, 3))
    _write(data, "b_1_", range(1, 3))
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.screen.query_one(DataTable)
        await _until(pilot, lambda: table.row_count == 2)
        await _until(pilot, lambda: all(d.n_present == 2 for d in app.engine.datasets.values()))
        await pilot.press("o")  # by name: the order stays as a_1 gets new images
        await pilot.pause(1.2)  # drawn
        whole_table_changes = table._update_count
        _write(data, "a_1_", (3, 4))
        a_row = table.get_row_index(str(data / "a_1_#####.cbf"))
        assert a_row == 0
        await _until(pilot, lambda: str(table.get_row_at(a_row)[1]) == "4")
        await pilot.pause(0.2)
        # Only that row's caches were dropped: the table as a whole did not change.
        assert table._update_count == whole_table_changes
        # And what is painted is the new count, not a stale cached line.
        y = table._get_row_region(a_row).y
        assert table._render_line(y, 0, 160, table.rich_style).text.split()[:2] == ["a_1", "4"]

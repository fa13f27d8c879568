"""Pilot tests and an SVG snapshot of the Compare view, on real xia2 and aimless outputs."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from rich.console import Console
from textual.widgets import Input, Static

from thas_tui.app import ThasApp
from thas_tui.core.commands import RunConfig
from thas_tui.core.dials_env import DialsEnv
from thas_tui.core.pipeline import Pipeline
from thas_tui.screens.compare import CompareApp, CompareScreen
from thas_tui.widgets.compare_plots import ComparePlots, series_of
from thas_tui.widgets.compare_tables import CompareTables

DATA = Path(__file__).parents[1] / "data" / "xia2-outputs"
XCHEM = DATA / "aimless-0.7.1_xchem"
# Fixed paths: the view shows them, and snapshots must not vary.
SNAP_DIR = Path("/tmp/thas-tui-snapshot-compare")


def _snap_inputs() -> list[str]:
    if SNAP_DIR.exists():
        shutil.rmtree(SNAP_DIR)
    SNAP_DIR.mkdir(parents=True)
    for name in ("dials-run", "3dii-runP1"):
        shutil.copy(XCHEM / f"{name}.aimless.log", SNAP_DIR / f"{name}.aimless.log")
    shutil.copytree(DATA / "xia2-0.3.6.3_2da-run", SNAP_DIR / "xia2-2da-run")
    return [
        str(SNAP_DIR / "dials-run.aimless.log"),
        str(SNAP_DIR / "3dii-runP1.aimless.log"),
        str(SNAP_DIR / "xia2-2da-run"),
    ]


async def _settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def test_compare_app_shows_inputs_marks_and_problems() -> None:
    app = CompareApp(_snap_inputs(), recompute=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await _settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        c = screen.comparison
        assert [i.kind for i in c.inputs] == ["aimless", "aimless", "xia2"]
        title = str(screen.query_one("#compare-title", Static).render())
        assert title == "Compare — 3 inputs, as reported (recomputing off: n)"
        assert c.best("overall", "cc_half") == 0 and c.best("high", "r_meas") == 0
        notes = str(screen.query_one("#compare-notes", Static).render())
        assert "not the same crystal?" in notes
        assert "[3] xia2 failed: error in indexing" in notes
        console = Console(width=160, record=True, file=io.StringIO())
        console.print(screen.query_one(CompareTables).group)
        tables = console.export_text()
        assert "0.995*" in tables and "0.788*" in tables  # CC½ overall, Rmeas high shell
        # The plots overlay the aimless per-bin statistics of the two runs (as reported).
        series, recomputed = series_of(c)
        assert not recomputed and [s[0] for s in series] == [0, 1]
        assert screen.query_one(ComparePlots).display


async def test_add_and_remove_inputs() -> None:
    app = CompareApp([str(XCHEM / "dials-run.aimless.log")], recompute=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        screen = app.screen
        assert len(screen.comparison.inputs) == 1
        await pilot.press("a")
        box = screen.query_one("#compare-add", Input)
        assert box.display and box.has_focus
        box.value = str(DATA / "aimless-0.7.2_xdsme" / "splTsm_2_aimless.xml")
        await pilot.press("enter")
        await _settle(pilot)
        assert [i.kind for i in screen.comparison.inputs] == ["aimless", "aimless"]
        assert screen.comparison.warnings[0].startswith("different space groups")
        await pilot.press("x")
        await _settle(pilot)
        assert len(screen.comparison.inputs) == 1
        await pilot.press("escape")
        await pilot.pause()
    assert app.return_code == 0


async def test_dashboard_key_opens_compare_with_the_directory(tmp_path: Path) -> None:
    """C on the dashboard: this directory and its archived scale attempts; Esc returns."""
    (tmp_path / "thas-tui" / "attempts" / "scale.1").mkdir(parents=True)
    dials = DialsEnv(bin_dir=Path("/nonexistent"), version="3.12", python="python3")
    app = ThasApp(tmp_path, RunConfig(images=["/data/x.cbf"]), dials, Pipeline(), autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("C")
        await _settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert screen.specs == [str(tmp_path), f"{tmp_path}@scale.1"]
        problems = [p for i in screen.comparison.inputs for p in i.problems]
        assert problems[0] == "no scaled data yet: import has not run"
        assert (
            problems[1]
            == f"{tmp_path}/thas-tui/attempts/scale.1: no merging statistics of scale attempt 1"
        )
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard


def test_compare_view_snapshot(snap_compare) -> None:
    """Two aimless runs of one crystal (one a different cell) and a failed xia2 run, 160x50."""
    assert snap_compare(
        CompareApp(_snap_inputs(), recompute=False), terminal_size=(160, 50), run_before=_settle
    )

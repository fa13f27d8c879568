"""Pilot tests of the dashboard: stage tree, live log, progress, Bravais picker, quitting."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from thas_tui.app import ThasApp
from thas_tui.core.commands import RunConfig
from thas_tui.core.dials_env import DialsEnv
from thas_tui.core.failures import Failure
from thas_tui.core.orchestrator import (
    PipelineFinished,
    StageFinished,
    StageOutput,
    StageProgress,
    StageStarted,
)
from thas_tui.core.parsers.common import Progress
from thas_tui.core.pipeline import Pipeline, State
from thas_tui.core.stage_info import bravais_solutions
from thas_tui.screens.bravais_picker import BravaisPicker
from thas_tui.screens.dashboard import DashboardScreen, PipelineEvent
from thas_tui.widgets.log_pane import FLUSH_INTERVAL, LogPane
from thas_tui.widgets.stage_tree import StageTree

DATA = Path(__file__).parents[1] / "data" / "dials-3.12_l_cysteine"
DIALS = DialsEnv(bin_dir=Path("/nonexistent"), version="3.12", python="python3")


def make_app(workdir: Path) -> ThasApp:
    return ThasApp(workdir, RunConfig(images=["/data/x.cbf"]), DIALS, Pipeline(), autostart=False)


def send(screen: DashboardScreen, event) -> None:
    screen.post_message(PipelineEvent(event))


def start_stage(screen: DashboardScreen, stage: str, log_path: Path) -> None:
    """What the orchestrator does as a stage starts: its state, then the event."""
    screen.pipeline[stage].state = State.RUNNING
    send(screen, StageStarted(stage, 1, [f"dials.{stage}"], str(log_path)))


def cell_text(tree: StageTree, stage: str, column: str) -> str:
    return str(tree.get_cell(stage, column))


async def test_stage_tree_follows_states(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.dashboard
        tree = screen.query_one(StageTree)
        assert cell_text(tree, "import", "glyph") == "·"
        run = screen.pipeline["import"]
        run.state, run.started = State.RUNNING, time.time()
        send(
            screen,
            StageStarted("import", 1, ["dials.import", "x.cbf"], str(tmp_path / "import.1.log")),
        )
        await pilot.pause()
        assert cell_text(tree, "import", "glyph") == "▶"
        run.state, run.ended, run.key_result = State.DONE, time.time(), "800 images, 1 sweep"
        send(screen, StageFinished("import", run))
        await pilot.pause()
        assert cell_text(tree, "import", "glyph") == "✓"
        assert cell_text(tree, "import", "result") == "800 images, 1 sweep"
        run = screen.pipeline["index"]
        run.state, run.error = (
            State.FAILED,
            "dials.index stopped: No suitable lattice could be found.",
        )
        send(screen, StageFinished("index", run, Failure("sorry", run.error, [])))
        await pilot.pause()
        assert cell_text(tree, "index", "glyph") == "✗"
        assert "No suitable lattice" in cell_text(tree, "index", "result")


async def test_log_pane_follows_the_running_stage(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.dashboard
        log = screen.query_one(LogPane)
        start_stage(screen, "find_spots", tmp_path / "f.log")
        send(
            screen,
            StageOutput(
                "find_spots",
                ["Found 12 strong pixels on image 1", "Found 30 strong pixels on image 2"],
            ),
        )
        send(screen, StageOutput("index", ["not shown: another stage"]))
        await pilot.pause()
        assert log.stage == "find_spots"
        assert list(log.lines) == [
            "Found 12 strong pixels on image 1",
            "Found 30 strong pixels on image 2",
        ]
        assert screen.query_one(StageTree).selected_stage == "find_spots"
        send(screen, StageProgress("find_spots", Progress("Finding spots", 2, 10)))
        await pilot.pause()
        label = str(screen.query_one("#progress-label").render())
        assert "2/10" in label


async def test_selecting_a_finished_stage_shows_its_log(tmp_path: Path) -> None:
    (tmp_path / "dials.import.log").write_text("DIALS 3.12\nimported 15 images\n")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.dashboard
        screen.pipeline["import"].state = State.DONE
        tree = screen.query_one(StageTree)
        tree.focus()
        tree.move_cursor(row=1)
        await pilot.pause()
        await pilot.press("up")
        await pilot.pause()
        log = screen.query_one(LogPane)
        assert log.stage == "import"
        assert list(log.lines)[-1] == "imported 15 images"


async def test_bravais_picker_preselects_recommended_and_keys_move(tmp_path: Path) -> None:
    solutions = bravais_solutions(DATA)
    assert solutions, "fixture bravais_summary.json must be readable"
    app = make_app(tmp_path)
    chosen: list[int | None] = []
    async with app.run_test(size=(140, 40)) as pilot:
        app.push_screen(BravaisPicker(solutions), chosen.append)
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, BravaisPicker)
        rec = picker.recommended
        assert rec.recommended and picker.highlighted.solution == rec.solution
        await pilot.press("j")
        moved = picker.highlighted.solution
        assert moved != rec.solution
        await pilot.press("k")
        assert picker.highlighted.solution == rec.solution
        await pilot.press("j")
        await pilot.press("enter")
        await pilot.pause()
    assert chosen == [moved]


async def test_bravais_picker_escape_stops(tmp_path: Path) -> None:
    solutions = bravais_solutions(DATA)
    app = make_app(tmp_path)
    chosen: list[int | None] = []
    async with app.run_test(size=(140, 40)) as pilot:
        app.push_screen(BravaisPicker(solutions), chosen.append)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert chosen == [None]


async def test_panels_load_from_real_outputs(tmp_path: Path) -> None:
    for name in ("imported.expt", "strong.refl", "refined.expt"):
        shutil.copy(DATA / name, tmp_path / name)
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        from thas_tui.widgets.histogram import SpotHistogram

        hist = app.dashboard.query_one(SpotHistogram)
        # Read, but drawn only when its tab is shown (the log tab is).
        assert not hist.counts
        await pilot.press("s")
        await pilot.pause()
        assert hist.counts is not None and sum(c or 0 for c in hist.counts) == 54


async def test_quit_when_idle_exits_at_once(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_quit_while_running_asks(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.dashboard.pipeline["integrate"].state = State.RUNNING
        # A stage this dashboard started (an orchestrator with a live process handle).
        app.dashboard.orchestrator = SimpleNamespace(busy=True)
        await pilot.press("q")
        await pilot.pause()
        from thas_tui.screens.quit_dialog import QuitDialog

        assert isinstance(app.screen, QuitDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard


async def test_failed_pipeline_sets_exit_code(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        send(app.dashboard, PipelineFinished(False, "index"))
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 1


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_layout_fits(tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        tree = app.dashboard.query_one(StageTree)
        # Every stage row is visible without scrolling, at both sizes.
        assert tree.size.height >= tree.row_count + 1
        assert tree.region.right <= size[0]


async def test_help_screen_lists_bindings(tmp_path: Path) -> None:
    from textual.widgets import Markdown

    from thas_tui.screens.help_screen import HelpScreen

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.query_one(Markdown).source
        for key in ("Ctrl+P", "Esc", "cancel the running stage", "Bravais picker"):
            assert key in text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard


async def test_enter_opens_the_stage_panel(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.dashboard
        screen.pipeline["find_spots"].state = State.DONE
        tree = screen.query_one(StageTree)
        tree.focus()
        tree.move_cursor(row=1)
        await pilot.press("enter")
        await pilot.pause()
        from thas_tui.widgets.results_tabs import ResultsTabs

        assert screen.query_one(ResultsTabs).active == "spots"
        await pilot.press("l")
        assert screen.query_one(ResultsTabs).active == "log"


async def test_command_palette_has_the_dashboard_commands(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)):
        titles = [c.title for c in app.get_system_commands(app.dashboard)]
        for title in (
            "Show Spots per image",
            "Cancel running stage",
            "Follow running stage",
            "Help",
        ):
            assert title in titles


async def test_growing_log_keeps_its_end_in_view_and_its_scrollbar_true(tmp_path: Path) -> None:
    """The pane grows without a screen layout per write: the end stays visible, the thumb right."""
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.dashboard
        log = screen.query_one(LogPane)
        start_stage(screen, "integrate", tmp_path / "i.log")
        await pilot.pause()
        n = 0
        for _ in range(6):
            send(screen, StageOutput("integrate", [f"line {n + i}" for i in range(40)]))
            n += 40
            await pilot.pause(FLUSH_INTERVAL + 0.1)  # past the pane's flush beat
            assert log.line_count == n
            assert log.scroll_y == log.max_scroll_y  # following the end
            assert log.show_vertical_scrollbar  # always shown, so never a layout to add it
            assert log.vertical_scrollbar.window_virtual_size == n
        assert log.lines[-1] == "line 239"
        # The last line is drawn in the pane's last row.
        assert log.render_line(log.scrollable_content_region.height - 1).text.startswith("line 239")


async def test_log_width_is_measured_with_the_write(tmp_path: Path) -> None:
    """A wide line's width is known when it is written (Textual's default measures it in a
    thread worker, whose answer costs a second screen update), and no layout pass follows."""
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        log = app.dashboard.query_one(LogPane)
        await pilot.pause()
        layouts = []
        real_refresh = log.refresh

        def refresh(*args, **kwargs):
            if kwargs.get("layout"):
                layouts.append(kwargs)
            return real_refresh(*args, **kwargs)

        log.refresh = refresh
        log.write_lines(["x" * 300, "short"])
        assert log.virtual_size.width >= 300
        assert log.horizontal_scrollbar.window_virtual_size >= 300
        log.write_lines([f"line {i}" for i in range(500)])
        assert log.vertical_scrollbar.window_virtual_size == 502
        assert layouts == []


@pytest.mark.parametrize(
    "lines",
    [
        ["Found 1469 strong pixels on image 544", "x" * 211],  # printable ASCII: the fast path
        ["\tcolumns\tafter\ttabs", "short"],  # tabs expand to the next multiple of 8
        ["⟨I/σ(I)⟩ Å", "数据数据数据数据"],  # not ASCII: cells, not characters
        ["control \x15\x7f characters", "x"],
    ],
)
async def test_log_width_is_the_widest_lines_cells(tmp_path: Path, lines: list[str]) -> None:
    from rich.cells import cell_len

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)):
        log = app.dashboard.query_one(LogPane)
        log.clear()
        log.write_lines(lines)
        assert log.virtual_size.width == max(cell_len(LogPane._process_line(x)) for x in lines)


async def test_garbage_settled_after_start_up(tmp_path: Path) -> None:
    """No collection while the dashboard is built (three full ones cost ~95 ms of its first
    second); a second after start-up the app's objects are exempt from full collections,
    which otherwise paused a flooded dashboard for 50-80 ms at a time, and collection resumes."""
    import gc

    from thas_tui.app import SETTLE_AFTER
    from thas_tui.launch import hold_garbage

    gc.unfreeze()
    hold_garbage()  # as launch does before it builds the app
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert gc.get_freeze_count() == 0
        assert not gc.isenabled()
        await pilot.pause(SETTLE_AFTER + 0.3)
        assert gc.get_freeze_count() > 10_000
        assert gc.isenabled()


async def test_a_tab_switch_scrolls_the_panes_and_lays_nothing_out(tmp_path: Path) -> None:
    """Showing another tab moves the strip of panes; a full layout at every switch (what a
    tabbed switcher costs) was the largest part of a key press while DIALS floods the log."""
    from textual.screen import Screen

    from thas_tui.widgets.results_tabs import PANES, PaneStrip, ResultsTabs

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.dashboard
        tabs = screen.query_one(ResultsTabs)
        strip = screen.query_one(PaneStrip)
        for key in "slrm":  # first views: their layout, and their waiting data, are done
            await pilot.press(key)
            await pilot.pause()
        layouts: list[bool] = []
        original = Screen._refresh_layout

        def counting(self, size=None, scroll=False):
            layouts.append(scroll)
            return original(self, size, scroll)

        Screen._refresh_layout = counting  # type: ignore[method-assign]
        try:
            for key, tab in (("s", "spots"), ("l", "log"), ("r", "rmsd"), ("m", "merging")):
                await pilot.press(key)
                await pilot.pause()
                assert tabs.active == tab
                pane = screen.query_one(f"#{tab}")
                assert strip.scroll_x == list(PANES).index(tab) * strip.size.width
                assert pane.region.x == strip.region.x  # the shown pane fills the strip
                assert pane.region.width == strip.region.width
        finally:
            Screen._refresh_layout = original  # type: ignore[method-assign]
        assert layouts and not [scroll for scroll in layouts if not scroll]


async def test_panes_follow_a_resize_and_the_mouse(tmp_path: Path) -> None:
    from thas_tui.widgets.results_tabs import PaneStrip, ResultsTabs

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.dashboard
        tabs = screen.query_one(ResultsTabs)
        strip = screen.query_one(PaneStrip)
        await pilot.click("#tab-cell")
        await pilot.pause()
        assert tabs.active == "cell"
        await pilot.resize_terminal(90, 30)
        await pilot.pause()
        await pilot.pause()
        pane = screen.query_one("#cell")
        assert pane.region.x == strip.region.x and pane.region.width == strip.region.width


async def test_only_the_shown_pane_takes_the_focus(tmp_path: Path) -> None:
    from thas_tui.widgets.results_tabs import ResultsTabs

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.dashboard
        log = screen.query_one(LogPane)
        symmetry_scroll = screen.query_one("#symmetry VerticalScroll")
        assert log in screen.focus_chain
        assert symmetry_scroll not in screen.focus_chain
        log.focus()
        await pilot.press("y")
        await pilot.pause()
        assert screen.query_one(ResultsTabs).active == "symmetry"
        assert screen.focused is None  # the log, scrolled away, keeps no keys
        assert symmetry_scroll in screen.focus_chain
        assert log not in screen.focus_chain


FOUR_SWEEPS = Path(__file__).parents[1] / "data" / "dials-3.12_l_cysteine_4sweeps"


async def test_bravais_picker_on_the_joint_solutions_of_four_sweeps(tmp_path: Path) -> None:
    from thas_tui.core.stage_info import bravais_sweep_count

    solutions = bravais_solutions(FOUR_SWEEPS)
    sweeps = bravais_sweep_count(FOUR_SWEEPS)
    assert sweeps == 4
    assert [(s.solution, s.bravais) for s in solutions] == [
        (5, "oP"),
        (4, "mP"),
        (3, "mP"),
        (2, "mP"),
        (1, "aP"),
    ]
    app = make_app(tmp_path)
    chosen: list[int | None] = []
    async with app.run_test(size=(140, 40)) as pilot:
        app.push_screen(BravaisPicker(solutions, sweeps), chosen.append)
        await pilot.pause()
        picker = app.screen
        joint = str(picker.query_one("#bravais-joint").render())
        assert "one lattice for all 4 sweeps" in joint
        assert picker.highlighted.solution == 5  # oP, DIALS's recommendation
        await pilot.press("j", "j")
        assert picker.highlighted.bravais == "mP" and picker.highlighted.cb_op == "-a,-c,-b"
        await pilot.press("k", "k", "enter")
        await pilot.pause()
    assert chosen == [5]


async def test_a_tab_shows_at_once_and_its_new_data_the_frame_after(tmp_path: Path) -> None:
    """A hidden panel's new data waits for its tab; the key that shows the tab is answered by
    the switch itself, and the data (an 801-point plot takes ~100 ms) is drawn right after."""
    from thas_tui.core import panel_data
    from thas_tui.widgets.results_tabs import ResultsTabs
    from thas_tui.widgets.rmsd_table import RmsdTable

    # Two rows as index and refine give them (the values only need to be drawn).
    rows = panel_data.RmsdRows(
        [("index 1", 2847, 0.51, 0.46, 0.21), ("refine", 29260, 0.04, 0.04, 0.16)]
    )
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        tabs = app.dashboard.query_one(ResultsTabs)
        table = app.dashboard.query_one(RmsdTable)
        tabs._show("rmsd", rows)  # noqa: SLF001  (what a finished stage's load does)
        assert "rmsd" in tabs._waiting and not table._rows  # noqa: SLF001
        tabs.active = "rmsd"
        assert not table._rows  # noqa: SLF001  (not drawn inside the switch)
        tabs.active = "log"  # away again before the frame: the data stays waiting
        await pilot.pause()
        assert "rmsd" in tabs._waiting and not table._rows  # noqa: SLF001
        await pilot.press("r")
        await pilot.pause()
        assert tabs.active == "rmsd"
        assert len(table._rows) == len(rows.rows)  # noqa: SLF001
        assert "rmsd" not in tabs._waiting  # noqa: SLF001

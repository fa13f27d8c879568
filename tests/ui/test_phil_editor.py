"""Pilot tests of the PHIL editor, the dashboard's edit-and-re-run flow and the attempts list."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, OptionList

from thas_tui.app import ThasApp
from thas_tui.core.commands import RunConfig
from thas_tui.core.dials_env import DialsEnv
from thas_tui.core.journal import Journal, thas_dir
from thas_tui.core.phil_params import parse_phil_listing
from thas_tui.core.pipeline import Pipeline, State
from thas_tui.screens.attempts import AttemptsScreen
from thas_tui.screens.dashboard import DashboardScreen
from thas_tui.screens.phil_editor import PhilEditor
from thas_tui.widgets.log_pane import LogPane
from thas_tui.widgets.stage_tree import StageTree

DATA = Path(__file__).parents[1] / "data" / "dials-3.12_phil"
INDEX_PARAMS = parse_phil_listing((DATA / "dials.index.phil.txt").read_text())
DIALS = DialsEnv(bin_dir=Path("/nonexistent"), version="3.12", python="python3")


def make_app(workdir: Path, read_only: str | None = None) -> ThasApp:
    return ThasApp(
        workdir,
        RunConfig(images=["/data/x.cbf"]),
        DIALS,
        Pipeline(),
        autostart=False,
        read_only=read_only,
    )


def finished_up_to(screen: DashboardScreen, last: str) -> None:
    for run in screen.pipeline:
        run.state = State.DONE
        if run.name == last:
            break
    screen.pipeline.bravais_choice, screen.pipeline.cb_op = 5, "a,b,c"


async def open_editor(app: ThasApp, pilot, tokens: list[str]) -> PhilEditor:
    result: list = []
    editor = PhilEditor("index", "dials.index", tokens, params=INDEX_PARAMS)
    app.push_screen(editor, result.append)
    await pilot.pause()
    editor.result = result  # type: ignore[attr-defined]
    return editor


async def test_filter_narrows_the_list_and_shows_help(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(app, pilot, [])
        assert len(editor.shown) == len(INDEX_PARAMS) == 176
        await pilot.press(*"max_cell")
        await pilot.pause()
        paths = [p.path for p in editor.shown]
        assert paths[0] == "indexing.max_cell"
        assert all(
            "max_cell" in p or "max_cell" in (q.help or "")
            for p, q in zip(paths, editor.shown, strict=True)
        )
        help_text = str(editor.query_one("#phil-help").render())
        assert "Maximum length of candidate unit cell basis vectors" in help_text
        # Two words: both must match (name or help).
        editor.query_one("#phil-filter", Input).value = "method fft"
        await pilot.pause()
        assert [p.path for p in editor.shown][0] == "indexing.method"


async def test_bad_value_shows_an_error_and_good_value_is_returned(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(app, pilot, ["max_cell=150"])
        await pilot.press(*"indexing.max_cell")
        await pilot.press("enter")  # picks the first match into the value input
        await pilot.pause()
        value = editor.query_one("#phil-value", Input)
        assert value.has_focus
        assert value.value == "150"  # the stage's current value, not the default
        value.value = "twenty"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is editor
        assert "needs a number, not 'twenty'" in editor.error
        value.value = "20"
        await pilot.press("enter")
        await pilot.pause()
        assert editor.error == ""
        # The shortened max_cell=150 was replaced, not duplicated.
        assert editor.tokens == ["indexing.max_cell=20"]
        # A choice, typed straight into the filter as name=value.
        editor.query_one("#phil-filter", Input).focus()
        editor.query_one("#phil-filter", Input).value = "method=fft1d"
        await pilot.press("enter")
        await pilot.pause()
        assert "'method' is ambiguous: indexing.index_assignment.method" in editor.error
        editor.query_one("#phil-filter", Input).value = "indexing.method=fft1d"
        await pilot.press("enter")
        await pilot.pause()
        assert editor.tokens == ["indexing.max_cell=20", "indexing.method=fft1d"]
        editor.query_one("#phil-filter", Input).value = "indexing.method=fft2d"
        await pilot.press("enter")
        await pilot.pause()
        assert "not a choice" in editor.error
        await pilot.press("ctrl+r")
        await pilot.pause()
    assert editor.result == [["indexing.max_cell=20", "indexing.method=fft1d"]]


async def test_delete_a_set_parameter_and_escape_cancels(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(app, pilot, ["max_cell=20", "indexing.method=fft1d"])
        set_list = editor.query_one("#phil-set", OptionList)
        set_list.focus()
        set_list.highlighted = 0
        await pilot.press("delete")
        await pilot.pause()
        assert editor.tokens == ["indexing.method=fft1d"]
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard
    assert editor.result == [None]


async def test_edit_and_rerun_marks_stale_and_runs_from_the_stage(
    tmp_path: Path, monkeypatch
) -> None:
    app = make_app(tmp_path)
    started: list[str | None] = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.dashboard
        monkeypatch.setattr(screen, "run_pipeline", lambda start=None: started.append(start))
        monkeypatch.setattr("thas_tui.core.phil_params.list_params", lambda *a, **k: INDEX_PARAMS)
        finished_up_to(screen, "refine")
        screen.config.set_extra("index", ["max_cell=150"])
        tree = screen.query_one(StageTree)
        tree.focus()
        tree.select_stage("index")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, PhilEditor)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert editor.tokens == ["max_cell=150"]
        editor.query_one("#phil-filter", Input).value = "max_cell=20"
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.screen is screen
        assert screen.config.extra["index"] == ["indexing.max_cell=20"]
        assert started == ["index"]
        states = {run.name: run.state for run in screen.pipeline}
        assert states["import"] is State.DONE and states["find_spots"] is State.DONE
        for name in ("index", "refine_bravais_settings", "reindex", "refine"):
            assert states[name] is State.STALE, name
        assert states["integrate"] is State.PENDING
        # The Bravais choice belongs to the old refine_bravais_settings: it is asked again.
        assert screen.pipeline.bravais_choice is None and screen.pipeline.cb_op is None
        # The stage tree shows them stale at once (the run itself is not started here).
        for name in ("index", "refine"):
            assert str(tree.get_cell(name, "glyph")) == "~"
            assert str(tree.get_cell(name, "result")).startswith("stale")


async def test_rerun_of_integrate_keeps_the_bravais_choice(tmp_path: Path, monkeypatch) -> None:
    app = make_app(tmp_path)
    started: list[str | None] = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.dashboard
        monkeypatch.setattr(screen, "run_pipeline", lambda start=None: started.append(start))
        finished_up_to(screen, "merge")
        screen.rerun_from("integrate")
        await pilot.pause()
        assert started == ["integrate"]
        assert screen.pipeline.bravais_choice == 5
        assert screen.pipeline["refine"].state is State.DONE
        assert screen.pipeline["merge"].state is State.STALE


async def test_edit_is_refused_when_it_cannot_run(tmp_path: Path, monkeypatch) -> None:
    app = make_app(tmp_path)
    started: list[str | None] = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.dashboard
        monkeypatch.setattr(screen, "run_pipeline", lambda start=None: started.append(start))
        tree = screen.query_one(StageTree)
        tree.focus()
        # find_spots has not run: index cannot be re-run yet.
        tree.select_stage("index")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert app.screen is screen
        finished_up_to(screen, "index")
        screen.pipeline["refine_bravais_settings"].state = State.RUNNING
        await pilot.press("e")
        await pilot.pause()
        assert app.screen is screen
        assert started == []
        messages = [n.message for n in app._notifications]
        assert any("has not finished" in m for m in messages)
        assert any("is running" in m for m in messages)


async def test_edit_refused_read_only(tmp_path: Path) -> None:
    app = make_app(tmp_path, read_only="watching a run started elsewhere")
    async with app.run_test(size=(120, 40)) as pilot:
        finished_up_to(app.dashboard, "index")
        app.dashboard.query_one(StageTree).select_stage("index")
        await pilot.press("e")
        await pilot.pause()
        assert app.screen is app.dashboard
        assert any("watching a run" in n.message for n in app._notifications)


async def test_attempts_lists_the_journal_and_shows_a_log(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    logs = thas_dir(tmp_path) / "logs"
    logs.mkdir(parents=True)
    for n, extra in ((1, []), (2, ["max_cell=20"])):
        log = logs / f"index.{n}.log"
        log.write_text(f"attempt {n} of dials.index\n")
        argv = ["/usr/bin/dials.index", "imported.expt", "strong.refl", *extra]
        journal.started("index", n, argv, str(log), 1000 + n)
        journal.ended("index", n, 0 if n == 2 else 1)
    archived = thas_dir(tmp_path) / "attempts" / "index.1"
    archived.mkdir(parents=True)
    (archived / "dials.index.log").write_text("old\n")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.dashboard
        screen.query_one(StageTree).select_stage("index")
        await pilot.press("a")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, AttemptsScreen)
        assert [a.attempt for a in dialog.attempts] == [1, 2]
        assert dialog.highlighted.attempt == 2  # the newest, preselected
        from textual.widgets import DataTable

        table = dialog.query_one(DataTable)
        assert str(table.get_row_at(1)[4]) == "max_cell=20"
        assert str(table.get_row_at(0)[3]) == "exit 1"
        await pilot.press("k")
        await pilot.pause()
        detail = str(dialog.query_one("#attempts-detail").render())
        assert "attempts/index.1/ (dials.index.log)" in detail
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        log = screen.query_one(LogPane)
        assert log.stage == "index"
        assert list(log.lines) == ["attempt 1 of dials.index"]

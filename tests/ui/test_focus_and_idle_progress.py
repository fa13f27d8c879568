"""Pilot tests: the progress row after a run's end, and which part the keys act on."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from thas_tui.app import ThasApp
from thas_tui.core.commands import RunConfig
from thas_tui.core.dials_env import DialsEnv
from thas_tui.core.pipeline import Pipeline, State
from thas_tui.core.watcher import pipeline_from_dir
from thas_tui.screens.phil_editor import PhilEditor
from thas_tui.widgets.log_pane import LogPane
from thas_tui.widgets.stage_progress import StageProgress
from thas_tui.widgets.stage_tree import StageTree

DATA = Path(__file__).parents[1] / "data"
LCYS = DATA / "dials-3.12_l_cysteine"
DIALS = DialsEnv(bin_dir=Path("/nonexistent"), version="3.12", python="python3")


def _finished_scale_dir(workdir: Path) -> None:
    """A run that ended with scale: outputs, then (as DIALS does) its log written after them."""
    for name in ("imported.expt", "strong.refl", "indexed.expt", "indexed.refl"):
        shutil.copy(LCYS / name, workdir / name)
    for name in ("symmetrized.expt", "scaled.expt", "scaled.refl"):
        shutil.copy(LCYS / name, workdir / name)
    logs = workdir / "thas-tui" / "logs"
    logs.mkdir(parents=True)
    log = logs / "scale.1.log"
    shutil.copy(DATA / "dials-3.12_l_cysteine_logs" / "dials.scale.log", log)
    now = time.time()
    start = now - 30
    records = [
        {"event": "run_begin", "pid": 1, "time": start - 5},
        {"event": "start", "stage": "scale", "attempt": 1, "argv": ["dials.scale"],
         "log": str(log), "pid": 999999, "host": os.uname().nodename, "time": start},
        {"event": "end", "stage": "scale", "attempt": 1, "exit_code": 0, "time": now - 5},
        {"event": "run_end", "outcome": "finished", "time": now - 5},
    ]  # fmt: skip
    (workdir / "thas-tui" / "journal.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records)
    )
    for p in workdir.iterdir():
        if p.is_file():
            os.utime(p, (now - 20, now - 20))
    os.utime(log, (now - 6, now - 6))  # the log's last lines come 14 s after scaled.refl


async def test_progress_row_is_idle_once_the_run_has_ended(tmp_path: Path) -> None:
    """Watching after the run: a log written after its outputs is no stage starting again."""
    _finished_scale_dir(tmp_path)
    pipeline, _ = pipeline_from_dir(tmp_path)
    assert pipeline["scale"].state is State.DONE
    app = ThasApp(tmp_path, RunConfig(), DIALS, pipeline, autostart=False, watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.dashboard
        await pilot.pause(1.0)
        progress = screen.query_one(StageProgress)
        assert progress.has_class("-idle")
        assert str(progress.query_one("#progress-label").content) == ""
        assert screen.pipeline["scale"].state is State.DONE
        assert str(screen.query_one(StageTree).get_cell("scale", "glyph")) == "✓"


def _make_app(workdir: Path) -> ThasApp:
    pipeline = Pipeline()
    for name in ("import", "find_spots", "index"):
        pipeline[name].state = State.DONE
    return ThasApp(workdir, RunConfig(images=["/data/x.cbf"]), DIALS, pipeline, autostart=False)


async def test_j_k_move_the_stage_tree_wherever_the_focus_is_and_e_edits_its_stage(
    tmp_path: Path,
) -> None:
    app = _make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.dashboard
        tree = screen.query_one(StageTree)
        log = screen.query_one(LogPane)
        tree.move_cursor(row=0)
        log.focus()
        await pilot.pause()
        assert screen.focused is log
        await pilot.press("j", "j")
        await pilot.pause()
        assert tree.selected_stage == "index" and screen.focused is log
        await pilot.press("k")
        await pilot.pause()
        assert tree.selected_stage == "find_spots"
        await pilot.press("e")
        await pilot.pause(0.5)
        editor = app.screen
        assert isinstance(editor, PhilEditor)
        assert editor.program == "dials.find_spots"


async def test_S_focuses_the_stage_tree_and_the_focused_part_is_outlined(
    tmp_path: Path,
) -> None:
    app = _make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.dashboard
        tree = screen.query_one(StageTree)
        await pilot.press("y")  # the symmetry pane: its scroll view takes the focus
        await pilot.pause()
        table = screen.query_one("#symmetry VerticalScroll")
        table.focus()
        await pilot.pause()
        assert screen.focused is table
        assert table.styles.outline_top[0] == "round"
        await pilot.press("S")
        await pilot.pause()
        assert screen.focused is tree
        assert table.styles.outline_top[0] == ""
        assert tree.styles.border_top[0] == "round"
        assert tree.styles.border_top[1] != screen.query_one(LogPane).styles.border_top[1]

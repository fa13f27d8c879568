"""The Mask stage in the dashboard: a row after Import when a mask is used, added when one is saved."""

from __future__ import annotations

import shutil
from pathlib import Path

from thas_tui.app import ThasApp
from thas_tui.core.commands import RunConfig
from thas_tui.core.dials_env import DialsEnv
from thas_tui.core.mask_spec import MaskSpec, Rectangle, save_mask_phil
from thas_tui.core.pipeline import State
from thas_tui.core.watcher import pipeline_from_dir
from thas_tui.widgets.stage_detail import StageDetail
from thas_tui.widgets.stage_tree import StageTree

DATA = Path(__file__).parents[1] / "data"
DEMO = DATA / "dials-3.12_thas_demo"
MASKED = DATA / "dials-3.12_mask"
DIALS = DialsEnv(bin_dir=Path("/usr/bin"), version="3.12", python="python3")


def _rows(tree: StageTree) -> list[str]:
    return [str(k.value) for k in tree.rows]


async def test_hand_run_mask_directory_shows_the_mask_stage_done(tmp_path: Path) -> None:
    work = tmp_path / "proc"
    work.mkdir()
    for name in ("imported.expt", "masked.expt", "mask.phil", "dials.generate_mask.log"):
        shutil.copy(MASKED / name, work / name)
    pipeline, _ = pipeline_from_dir(work)
    app = ThasApp(work, RunConfig(), DIALS, pipeline, autostart=False, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        tree = app.dashboard.query_one(StageTree)
        assert _rows(tree)[:3] == ["import", "mask", "find_spots"]
        assert str(tree.get_cell("mask", "glyph")) == "✓"
        assert str(tree.get_cell("mask", "stage")) == "Mask"
        assert app.dashboard.pipeline["mask"].key_result == "24,957 px masked: 1 circle, border 2"
        assert str(tree.get_cell("mask", "result")).startswith("24,957 px masked: 1 circ")
        for _ in range(len(_rows(tree))):
            if tree.selected_stage == "mask":
                break
            await pilot.press("up")
        await pilot.pause(0.2)
        assert "dials.generate_mask  ·  done" in str(app.dashboard.query_one(StageDetail).render())
        await pilot.press("q")


async def test_saving_a_mask_adds_the_stage_and_makes_find_spots_onwards_stale(
    tmp_path: Path,
) -> None:
    work = tmp_path / "proc"
    shutil.copytree(DEMO, work)
    pipeline, _ = pipeline_from_dir(work)
    assert not pipeline.has_mask and pipeline["index"].state is State.DONE
    app = ThasApp(work, RunConfig(), DIALS, pipeline, autostart=False, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        tree = app.dashboard.query_one(StageTree)
        assert "mask" not in _rows(tree) and len(_rows(tree)) == 11
        tree.select_stage("index")  # a row moves down: the cursor stays on Index
        await pilot.pause(0.1)
        save_mask_phil(MaskSpec(untrusted=[Rectangle(1200, 1300, 0, 1260)]), work)
        stale = app.dashboard.mask_saved()
        await pilot.pause(0.2)
        # this copy has find_spots' log but not strong.refl: it stays pending, what ran is stale
        assert stale == [
            "index",
            "refine_bravais_settings",
            "refine",
            "integrate",
            "symmetry",
            "scale",
        ]
        assert _rows(tree)[:3] == ["import", "mask", "find_spots"]
        assert str(tree.get_cell("mask", "glyph")) == "·"
        assert str(tree.get_cell("index", "glyph")) == "~"
        assert str(tree.get_cell("import", "glyph")) == "✓"
        assert tree.selected_stage == "index"
        assert app.dashboard.config.mask
        await pilot.press("q")


async def test_a_mask_saved_elsewhere_is_picked_up_by_the_watch(tmp_path: Path) -> None:
    work = tmp_path / "proc"
    work.mkdir()
    # imported, then spots found without a mask
    shutil.copy(MASKED / "imported.expt", work / "imported.expt")
    shutil.copy(DATA / "dials-3.12_l_cysteine" / "strong.refl", work / "strong.refl")
    pipeline, _ = pipeline_from_dir(work)
    app = ThasApp(work, RunConfig(), DIALS, pipeline, autostart=False, watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(1.0)
        tree = app.dashboard.query_one(StageTree)
        save_mask_phil(MaskSpec(border=2), work)
        for _ in range(200):  # a loaded machine can be slow to deliver the file event
            await pilot.pause(0.1)
            if "mask" in _rows(tree):
                break
        assert _rows(tree)[:3] == ["import", "mask", "find_spots"]
        for _ in range(50):
            await pilot.pause(0.1)
            if str(tree.get_cell("find_spots", "glyph")) == "~":
                break
        assert str(tree.get_cell("find_spots", "glyph")) == "~"
        await pilot.press("q")


async def test_the_mask_editors_save_adds_the_stage_and_offers_to_run_it(tmp_path: Path) -> None:
    from thas_tui.screens.image_dialogs import Confirm
    from thas_tui.widgets.image_view import ImageView

    work = tmp_path / "proc"
    work.mkdir()
    shutil.copy(MASKED / "imported.expt", work / "imported.expt")
    shutil.copy(DATA / "dials-3.12_l_cysteine" / "strong.refl", work / "strong.refl")
    pipeline, _ = pipeline_from_dir(work)
    app = ThasApp(work, RunConfig(), DIALS, pipeline, autostart=False, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        path = save_mask_phil(MaskSpec(border=2), work)
        app.dashboard.query_one(ImageView).post_message(ImageView.MaskSaved(path))
        await pilot.pause(0.3)
        tree = app.dashboard.query_one(StageTree)
        assert _rows(tree)[:3] == ["import", "mask", "find_spots"]
        assert str(tree.get_cell("find_spots", "glyph")) == "~"
        assert isinstance(app.screen, Confirm)
        assert "Run Mask now" in app.screen.question
        await pilot.press("escape")  # not now: nothing runs, the stage waits
        await pilot.pause(0.2)
        assert app.dashboard.pipeline["mask"].state is State.PENDING
        assert app.dashboard.orchestrator is None or not app.dashboard.orchestrator.busy
        await pilot.press("q")

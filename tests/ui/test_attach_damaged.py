"""Attach to a real processing directory with damaged files, and resize the terminal: no crash."""

from __future__ import annotations

import shutil
from pathlib import Path

from thas_tui.app import ThasApp
from thas_tui.core.commands import RunConfig
from thas_tui.core.dials_env import DialsEnv
from thas_tui.core.pipeline import State
from thas_tui.core.watcher import pipeline_from_dir
from thas_tui.widgets.results_tabs import ResultsTabs
from thas_tui.widgets.stage_tree import StageTree

DATA = Path(__file__).parents[1] / "data" / "dials-3.12_thas_demo"
DIALS = DialsEnv(bin_dir=Path("/usr/bin"), version="3.12", python="python3")
TABS = ("l", "s", "r", "p", "i", "y", "m")


def _damage(workdir: Path) -> None:
    """What a full disk, a killed writer or a half-synced copy leaves behind."""
    expt = workdir / "refined.expt"
    expt.write_bytes(expt.read_bytes()[: len(expt.read_bytes()) // 2])
    (workdir / "dials.scale.json").write_text('{"resolution_binned": [1, 2,')
    merge = workdir / "dials.merge.json"
    merge.write_bytes(merge.read_bytes()[:1000])
    (workdir / "strong.refl").write_bytes(b"\x92\xa5dials\x82\xa8")  # msgpack cut short
    (workdir / "dials.integrate.log").write_bytes(b"\x00\xff\xfe garbage \x89PNG\r\n" * 50)
    (workdir / "bravais_summary.json").write_text("not json at all")


async def test_attach_to_damaged_directory_shows_what_it_can(tmp_path: Path) -> None:
    workdir = tmp_path / "proc"
    shutil.copytree(DATA, workdir)
    _damage(workdir)
    pipeline, _ = pipeline_from_dir(workdir)
    app = ThasApp(workdir, RunConfig(), DIALS, pipeline, autostart=False, watch=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause(1.0)
        for key in TABS:
            await pilot.press(key)
            await pilot.pause(0.1)
            assert app.dashboard.query_one(ResultsTabs).active
        messages = " ".join(n.message for n in app._notifications)
        # Each unreadable file is named as a warning, with what to do; the rest is shown.
        assert "strong.refl: not a readable DIALS msgpack reflection table" in messages
        assert "refined.expt: not valid JSON" in messages and "Re-run" in messages
        tree = app.dashboard.query_one(StageTree)
        assert str(tree.get_cell("import", "glyph")) == "✓"
        assert str(tree.get_cell("symmetry", "glyph")) == "✓"
        assert "P 21 21 21" in str(tree.get_cell("symmetry", "result"))
        # A damaged file that is repaired while we watch is picked up without a key press.
        assert app.dashboard.pipeline["refine"].state is not State.DONE
        shutil.copy(DATA / "refined.expt", workdir / "refined.expt")
        for _ in range(200):  # a loaded CI machine can be slow to deliver the file event
            await pilot.pause(0.1)
            if app.dashboard.pipeline["refine"].state is State.DONE:
                break
        assert app.dashboard.pipeline["refine"].state is State.DONE
        assert str(tree.get_cell("refine", "glyph")) == "✓"
        # Quitting never offers to stop a stage this dashboard did not start.
        await pilot.press("q")
    assert app.return_code == 0


async def test_resize_to_80x24_and_back(tmp_path: Path) -> None:
    workdir = tmp_path / "proc"
    shutil.copytree(DATA, workdir)
    pipeline, _ = pipeline_from_dir(workdir)
    app = ThasApp(workdir, RunConfig(), DIALS, pipeline, autostart=False, watch=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause(0.5)
        tree = app.dashboard.query_one(StageTree)
        wide = tree.size.width
        before = [(run.name, run.state) for run in app.dashboard.pipeline]
        for size in ((80, 24), (160, 50), (80, 24), (200, 60)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.3)
            for key in TABS:
                await pilot.press(key)
            await pilot.pause(0.2)
            assert app.size == size
            # The whole tree is on screen and inside the terminal at every size.
            assert tree.region.right <= size[0]
            assert tree.size.height >= tree.row_count + 1
            panels = app.dashboard.query_one(ResultsTabs)
            assert panels.region.right <= size[0] and panels.region.bottom <= size[1]
        assert tree.size.width >= wide
        assert [(run.name, run.state) for run in app.dashboard.pipeline] == before

"""SVG snapshots of the whole dashboard on a real DIALS 3.12 processing directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from thas_tui.app import ThasApp
from thas_tui.core.commands import RunConfig
from thas_tui.core.dials_env import DialsEnv
from thas_tui.core.watcher import pipeline_from_dir

DATA = Path(__file__).parents[1] / "data" / "dials-3.12_thas_demo"
# A fixed path: the header shows the processing directory, and snapshots must not vary.
WORKDIR = Path("/tmp/thas-tui-snapshot-thas-demo")
DIALS = DialsEnv(bin_dir=Path("/usr/bin"), version="3.12", python="python3")


@pytest.fixture
def finished_dir() -> Path:
    if WORKDIR.exists():
        shutil.rmtree(WORKDIR)
    shutil.copytree(DATA, WORKDIR)
    for p in WORKDIR.iterdir():
        # One mtime for all: staleness is judged from mtimes, and a copy's order is arbitrary.
        import os

        os.utime(p, (1_700_000_000, 1_700_000_000))
    return WORKDIR


def _app(workdir: Path) -> ThasApp:
    pipeline, _ = pipeline_from_dir(workdir)
    return ThasApp(workdir, RunConfig(), DIALS, pipeline, autostart=False, watch=False)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
def test_dashboard_finished_run(snap_compare, finished_dir: Path, size: tuple[int, int]) -> None:
    """The stage tree with each stage's key result, and the log of the first stage."""

    async def settle(pilot) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(_app(finished_dir), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("tab", ["spots", "rmsd", "cell", "integration", "symmetry", "merging"])
def test_dashboard_panels(snap_compare, finished_dir: Path, tab: str) -> None:
    """Each result panel filled from the directory's files, at 160x50."""

    async def show(pilot) -> None:
        from thas_tui.widgets.results_tabs import ResultsTabs

        await pilot.app.workers.wait_for_complete()
        pilot.app.dashboard.action_show_tab(tab)
        await pilot.pause()
        # A tab's waiting data is drawn the frame after it shows (ResultsTabs._switch).
        tabs = pilot.app.dashboard.query_one(ResultsTabs)
        for _ in range(100):
            if tab not in tabs._waiting:  # noqa: SLF001
                break
            await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(_app(finished_dir), terminal_size=(160, 50), run_before=show)

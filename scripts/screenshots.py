"""Regenerate screenshots/ from a real demo run: the real app, real DIALS, Textual's SVG export."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from pathlib import Path

from thas_tui.app import ThasApp
from thas_tui.core.commands import RunConfig
from thas_tui.core.dials_env import find_dials
from thas_tui.core.pipeline import DEMO_STAGE_NAMES, Pipeline, State
from thas_tui.launch import demo_config
from thas_tui.screens.bravais_picker import BravaisPicker
from thas_tui.widgets.results_tabs import ResultsTabs

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "screenshots"
TABS = ("log", "spots", "rmsd", "cell", "integration", "symmetry", "merging")


async def lattice_shots(app: ThasApp, pilot) -> None:
    """The Lattice view after indexing (along c*) and before (strong.refl, along the beam)."""
    screen = app.dashboard
    screen.action_show_tab("lattice")
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause(0.5)
    await pilot.press("5", "plus", "plus")
    await pilot.pause(0.5)
    _save(app, "lattice-indexed")
    await pilot.press("t")
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause(0.5)
    await pilot.press("0")
    await pilot.pause(0.5)
    _save(app, "lattice-strong")


async def lattice_only(workdir: Path, size: tuple[int, int]) -> int:
    """Only the Lattice screenshots, from an existing processed directory."""
    from thas_tui.core.watcher import pipeline_from_dir

    pipeline, _ = pipeline_from_dir(workdir)
    app = ThasApp(workdir, RunConfig(), find_dials(), pipeline, autostart=False, watch=False)
    OUT.mkdir(exist_ok=True)
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await lattice_shots(app, pilot)
    return 0


def _save(app: ThasApp, name: str) -> None:
    app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
    print(f"saved screenshots/{name}.svg", flush=True)


async def main(workdir: Path, preset: str, size: tuple[int, int]) -> int:
    dials = find_dials()
    config = RunConfig(nproc=2)
    pipeline = Pipeline(DEMO_STAGE_NAMES)
    demo_config(dials, preset, config, pipeline)
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    OUT.mkdir(exist_ok=True)
    app = ThasApp(workdir, config, dials, pipeline, auto_bravais=False)
    taken: set[str] = set()
    async with app.run_test(size=size) as pilot:
        screen = app.dashboard
        while screen.finished is None:
            await asyncio.sleep(0.5)
            fs = pipeline["find_spots"]
            if fs.state is State.RUNNING and "find-spots" not in taken:
                counts = screen.query_one(ResultsTabs).live_pixels.by_image
                if len(counts) >= 0.5 * len(config.images):
                    screen.action_show_tab("spots")
                    await pilot.pause()
                    _save(app, "dashboard-find-spots")
                    taken.add("find-spots")
                    screen.action_show_tab("log")
            if isinstance(app.screen, BravaisPicker) and "bravais" not in taken:
                await pilot.pause(0.5)
                _save(app, "bravais-picker")
                taken.add("bravais")
                await pilot.press("enter")
            if pipeline["integrate"].state is State.RUNNING and "integrate" not in taken:
                await asyncio.sleep(20)
                _save(app, "dashboard-integrate")
                taken.add("integrate")
        await app.workers.wait_for_complete()
        await pilot.pause(1.0)
        for tab in TABS:
            screen.action_show_tab(tab)
            await pilot.pause(0.5)
            _save(app, f"panel-{tab}")
        await lattice_shots(app, pilot)
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.5)
        screen.action_show_tab("log")
        await pilot.pause(0.5)
        _save(app, "dashboard-80x24")
        ok = screen.finished.ok
    print(f"demo run {'finished' if ok else 'FAILED'} in {workdir}", flush=True)
    return 0 if ok else 1


async def attached(workdir: Path, name: str, tab: str, size: tuple[int, int]) -> int:
    """One screenshot of a processed directory as ``thas-tui attach`` shows it (e.g. the EIGER
    demo: ``--attach thas-demo-eiger --name dashboard-eiger``)."""
    from thas_tui.launch import attach_app

    app = attach_app(workdir.resolve(), None, watch=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause(2.0)
        app.dashboard.action_show_tab(tab)
        await pilot.pause(1.0)
        _save(app, name)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", default="/tmp/thas-screenshots-run", help="processing directory")
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--size", default="160x50")
    parser.add_argument(
        "--lattice", metavar="DIR", help="only the Lattice screenshots, from a processed DIR"
    )
    parser.add_argument("--attach", type=Path, help="screenshot this processed directory only")
    parser.add_argument("--name", default="dashboard-attached", help="with --attach: file name")
    parser.add_argument("--tab", default="spots", help="with --attach: the tab shown")
    a = parser.parse_args()
    w, h = (int(x) for x in a.size.split("x"))
    t0 = time.time()
    if a.lattice:
        code = asyncio.run(lattice_only(Path(a.lattice), (w, h)))
    elif a.attach:
        code = asyncio.run(attached(a.attach, a.name, a.tab, (w, h)))
    else:
        code = asyncio.run(main(Path(a.dir), a.preset, (w, h)))
    print(f"{time.time() - t0:.0f} s", flush=True)
    sys.exit(code)

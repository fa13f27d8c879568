"""Screenshots of the Mask stage from a real run with --mask: the stage tree, detail and log."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from thas_tui.app import ThasApp
from thas_tui.core.commands import RunConfig
from thas_tui.core.dials_env import find_dials
from thas_tui.core.watcher import pipeline_from_dir
from thas_tui.widgets.stage_tree import StageTree

OUT = Path(__file__).resolve().parents[1] / "screenshots"


async def main(workdir: Path) -> None:
    for size, name in (((160, 50), "mask-stage"), ((80, 24), "mask-stage-80x24")):
        pipeline, _ = pipeline_from_dir(workdir)
        app = ThasApp(workdir, RunConfig(), find_dials(), pipeline, autostart=False, watch=False)
        async with app.run_test(size=size) as pilot:
            await pilot.pause(1.0)
            tree = app.dashboard.query_one(StageTree)
            for _ in range(len(pipeline.names)):
                if tree.selected_stage == "mask":
                    break
                await pilot.press("up")
            await pilot.pause(1.0)
            app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
            print(f"saved screenshots/{name}.svg", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dir", type=Path, help="a directory run with --mask (to find_spots)")
    asyncio.run(main(parser.parse_args().dir))

"""Screenshots of `thas-tui attach` following a live Slurm run (the real app, squeue, the logs)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from thas_tui.core.pipeline import State
from thas_tui.launch import attach_app

OUT = Path(__file__).resolve().parents[1] / "screenshots"


async def main(workdir: Path, stage: str, size: tuple[int, int], name: str) -> int:
    """Attach to ``workdir`` and save a screenshot once ``stage`` runs as a job."""
    app = attach_app(workdir, None)
    async with app.run_test(size=size) as pilot:
        for _ in range(3000):
            await pilot.pause(0.2)
            run = app.dashboard.pipeline[stage]
            if run.state is State.RUNNING and run.node:
                break
        else:
            print(f"{stage} never ran as a job", file=sys.stderr)
            return 1
        await pilot.pause(3.0)  # a few log lines and a progress beat
        app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
        print(f"saved screenshots/{name}.svg")
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dir", type=Path)
    ap.add_argument("--stage", default="integrate")
    ap.add_argument("--size", default="160x50")
    ap.add_argument("--name", default="slurm-attach")
    a = ap.parse_args()
    w, h = (int(x) for x in a.size.split("x"))
    sys.exit(asyncio.run(main(a.dir, a.stage, (w, h), a.name)))

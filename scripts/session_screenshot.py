"""screenshots/session.svg from a real session: processed datasets, and one still being collected."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from pathlib import Path

from thas_tui.core.dials_env import find_dials
from thas_tui.core.session.engine import SessionConfig
from thas_tui.session_app import SessionApp

OUT = Path(__file__).resolve().parents[1] / "screenshots"


async def main(data: Path, proc: Path, start: int, size: tuple[int, int], name: str) -> int:
    config = SessionConfig(data, proc, idle=30, nproc=2)
    app = SessionApp(config, find_dials())
    collector = subprocess.Popen(
        [sys.executable, "-m", "thas_tui", "collect-demo", str(data), "--seeds", "1"]
        + ["--preset", "session", "--rate", "1", "--start", str(start)]
    )
    try:
        async with app.run_test(size=size) as pilot:
            live = f"xtal{start}_1"
            while True:
                await asyncio.sleep(1.0)
                ds = next((d for d in app.engine.datasets.values() if d.name == live), None)
                if ds is not None and len(ds.spots) >= 12:
                    break
            await pilot.pause(1.5)
            app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
            print(f"saved screenshots/{name}.svg")
            app.engine.stop()
    finally:
        collector.terminate()
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("data", type=Path)
    ap.add_argument("proc", type=Path)
    ap.add_argument("--start", type=int, default=3, help="number of the live crystal")
    ap.add_argument("--size", default="160x30")
    ap.add_argument("--name", default="session")
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.split("x"))
    sys.exit(asyncio.run(main(a.data, a.proc, a.start, (w, h), a.name)))

"""screenshots/compare.svg (and compare-plots.svg): the Compare view of real inputs, recomputed alike.

usage: .venv/bin/python scripts/compare_screenshot.py INPUT [INPUT ...] [--size 160x50]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from thas_tui.screens.compare import CompareApp, CompareScreen
from thas_tui.widgets.compare_plots import ComparePlots

OUT = Path(__file__).resolve().parents[1] / "screenshots"


async def main(inputs: list[str], size: tuple[int, int], name: str, reported_plots: bool) -> None:
    app = CompareApp(inputs, recompute=True)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        while screen.comparison is None or screen.recomputing:
            await asyncio.sleep(0.5)
        await pilot.pause(0.5)
        app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
        print(f"saved screenshots/{name}.svg")
        if reported_plots:
            await pilot.press("p")  # the plots as reported: where each input ends
        screen.query_one(ComparePlots).scroll_visible(animate=False, top=True)
        await pilot.pause(0.5)
        app.save_screenshot(filename=f"{name}-plots.svg", path=str(OUT))
        print(f"saved screenshots/{name}-plots.svg")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--size", default="160x50")
    ap.add_argument("--name", default="compare")
    ap.add_argument("--reported-plots", action="store_true", help="plots as reported (p)")
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.split("x"))
    asyncio.run(main(a.inputs, (w, h), a.name, a.reported_plots))

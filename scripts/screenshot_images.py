"""Screenshots of the image view on a processed directory: spots, threshold pixels, mask editor."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from thas_tui.launch import attach_app
from thas_tui.widgets.image_view import ImageView

OUT = Path(__file__).resolve().parents[1] / "screenshots"
SHOTS = {
    # name: keys after the view has opened
    "image-spots": ("b", "b", "plus", "plus", "o"),
    "image-threshold": ("t", "plus", "plus"),
    "image-threshold-panel": ("T", "down", "down", "down", "minus", "minus"),
    "image-mask": (
        "M",
        "1",
        *["right"] * 8,
        *["down"] * 6,
        "enter",
        *["left"] * 20,
        "2",
        "right",
        "right",
        "right",
        "enter",
        "right_square_bracket",
    ),
}


async def settle(pilot, view: ImageView) -> None:
    for _ in range(1200):
        await pilot.pause(0.05)
        if not view._fetching and (view.answer is not None or view.error):
            break
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.3)


async def main(workdir: Path, shots: dict[str, tuple[str, ...]] = SHOTS) -> None:
    for name, keys in shots.items():
        for size, suffix in (((160, 50), ""), ((80, 24), "-80x24")):
            app = attach_app(workdir, None, watch=False)
            async with app.run_test(size=size) as pilot:
                await pilot.pause(1.0)
                if size[0] < 100:
                    await pilot.press("z")
                await pilot.press("v")
                view = app.dashboard.query_one(ImageView)
                await settle(pilot, view)
                for key in keys:
                    await pilot.press(key)
                await settle(pilot, view)
                if view.state.threshold is not None:
                    for _ in range(400):
                        if view.strong_count is not None:
                            break
                        await pilot.pause(0.05)
                    view.refresh()
                    await pilot.pause(0.2)
                app.save_screenshot(filename=f"{name}{suffix}.svg", path=str(OUT))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "dir", type=Path, help="a processing directory with imported.expt (and strong.refl)"
    )
    ap.add_argument(
        "--multi",
        type=Path,
        help="a directory imported with format.multi_panel=True: image-multipanel*.svg",
    )
    args = ap.parse_args()
    asyncio.run(main(args.dir))
    if args.multi:
        asyncio.run(main(args.multi, {"image-multipanel": ("b", "b", "plus")}))

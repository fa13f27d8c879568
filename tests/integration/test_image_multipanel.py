"""A multi-panel detector in the image view: the demo's PILATUS 6M imported as its 60 modules
(``dials.import format.multi_panel=True``), every panel tiled by its position on the detector."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import numpy as np
import pytest

from thas_tui.core.image_client import ImageClient
from thas_tui.launch import attach_app
from thas_tui.widgets.image_view import ImageView

pytestmark = pytest.mark.integration

PYTHON = "/usr/bin/python3"


@pytest.fixture
def multi_dir(multi_panel_dir: Path) -> Path:
    return multi_panel_dir


async def _raw(expt: Path, index: int):
    client = ImageClient(PYTHON, expt)
    try:
        got = await client.request({"op": "raw", "index": index})
        return client.meta, got.arrays["data"], got.arrays["good"]
    finally:
        await client.close()


def test_tiled_panels_are_the_single_panel_image(
    single_panel_demo_dir: Path, multi_dir: Path
) -> None:
    meta, data, good = asyncio.run(_raw(multi_dir / "imported.expt", 1))
    _, data1, good1 = asyncio.run(_raw(single_panel_demo_dir / "imported.expt", 1))
    sets = meta["imagesets"][0]
    assert sets["panels"] == 60 and len(sets["panel_maps"]) == 60
    # The modules tiled by their positions give back the whole detector, pixel for pixel:
    # the gaps between them are exactly the single-panel import's masked module gaps.
    assert sets["size"] == [2463, 2527] and data.shape == data1.shape == (2527, 2463)
    assert np.array_equal(good, good1)
    assert np.array_equal(data[good], data1[good1])
    assert int(good.sum()) == int(good1.sum())


def _find_spots_counts(workdir: Path) -> dict[int, int]:
    text = (workdir / "dials.find_spots.log").read_text()
    return {
        int(m[2]): int(m[1]) for m in re.finditer(r"Found (\d+) strong pixels on image (\d+)", text)
    }


def test_threshold_counts_of_all_panels_equal_find_spots(multi_dir: Path) -> None:
    async def counts() -> list[int]:
        client = ImageClient(PYTHON, multi_dir / "imported.expt")
        try:
            out = []
            for i in range(3):
                got = await client.request({"op": "count", "index": i, "threshold": {}})
                out.append(got.header["strong_count"])
            return out
        finally:
            await client.close()

    expected = _find_spots_counts(multi_dir)
    assert len(expected) == 3
    assert asyncio.run(counts()) == [expected[i] for i in (1, 2, 3)]


async def _settle(pilot, view: ImageView) -> None:
    for _ in range(600):
        await pilot.pause(0.05)
        if not view._fetching and (view.answer is not None or view.error):
            break
    await pilot.pause(0.05)


async def test_status_names_the_panel_and_its_pixel(multi_dir: Path) -> None:
    app = attach_app(multi_dir, None, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("v")
        view = app.dashboard.query_one(ImageView)
        await _settle(pilot, view)
        assert view.error is None, view.error
        await pilot.press("plus", "plus", "plus", "plus", "plus")
        await _settle(pilot, view)
        assert view.view.bin == 1
        x, y = view.view.pixel(*view.cursor)
        # PILATUS modules: 487 x 195 pixels, 7 (fast) and 17 (slow) pixel gaps.
        col, row = x // 494, y // 212
        assert x % 494 < 487 and y % 212 < 195, "the cursor starts on a module (beam centre)"
        p = int(view.answer.arrays["panel"][view.cursor[1], view.cursor[0]])
        assert f"panel {p} ({x - 494 * col}, {y - 212 * row})" in view._status()
        # Between modules: said, and masked.
        await pilot.press(*["up"] * (y % 212 + 1))  # to the last row of the gap above
        assert view.view.pixel(*view.cursor) == (x, y - y % 212 - 1)
        text = view._status()
        assert "between panels" in text and "masked" in text
        await pilot.press("M")  # the editor draws single-panel masks: refused, said
        assert not view.editor.active
        assert any("60 panels" in n.message for n in app._notifications)


async def test_spots_of_every_panel_land_where_the_single_panel_import_has_them(
    single_panel_demo_dir: Path, multi_dir: Path
) -> None:
    positions = []
    for work in (single_panel_demo_dir, multi_dir):
        app = attach_app(work, None, watch=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("v")
            view = app.dashboard.query_one(ImageView)
            await _settle(pilot, view)
            for _ in range(100):
                if "spots" in view.overlays:
                    break
                await pilot.pause(0.05)
            spots = view.overlays["spots"]
            maps = view._panel_maps()
            xs, ys = spots.x, spots.y
            if maps is not None:
                m = maps[spots.panel]
                xs, ys = (
                    m[:, 0] + m[:, 2] * xs + m[:, 3] * ys,
                    m[:, 1] + m[:, 4] * xs + m[:, 5] * ys,
                )
            positions.append(sorted(zip(np.round(xs, 3), np.round(ys, 3), strict=True)))
    single, multi = positions
    # find_spots itself finds 62 more spots panel by panel (2161 against 2099); 2008 of the
    # single panel's spots are at the same place to 0.001 px once the panels are tiled (a
    # wrong placement would leave next to none).
    assert (len(single), len(multi)) == (2099, 2161)
    assert len(set(single) & set(multi)) == 2008

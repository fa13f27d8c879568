"""SVG snapshots of the image view (half-block mode) on real L-cysteine images and the real helper."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from thas_tui.launch import attach_app
from thas_tui.widgets.image_view import ImageView

pytestmark = pytest.mark.integration

# A fixed path: the header shows the processing directory, and snapshots must not vary.
WORKDIR = Path("/tmp/thas-tui-snapshot-images")
MULTI_WORKDIR = Path("/tmp/thas-tui-snapshot-multipanel")
SIZES = [(160, 50), (80, 24)]


@pytest.fixture
def snap_dir(image_dir: Path, monkeypatch) -> Path:
    monkeypatch.setenv("THAS_IMAGE_MODE", "halfblock")
    if WORKDIR.exists():
        shutil.rmtree(WORKDIR)
    shutil.copytree(image_dir, WORKDIR)
    return WORKDIR


async def _open(pilot, size: tuple[int, int]) -> ImageView:
    if size[0] < 100:
        await pilot.press("z")  # 80x24: the image takes the whole terminal
    await pilot.press("v")
    view = pilot.app.dashboard.query_one(ImageView)
    await _settle(pilot, view)
    return view


async def _settle(pilot, view: ImageView) -> None:
    for _ in range(600):
        await pilot.pause(0.05)
        if not view._fetching and (view.answer is not None or view.error):
            break
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.1)


async def _settle_strong(pilot, view) -> None:
    """Settled, and the threshold helper has answered with the strong-pixel count."""
    await _settle(pilot, view)
    for _ in range(200):
        if view.strong_count is not None:
            break
        await pilot.pause(0.05)
    view.refresh()
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", SIZES)
def test_image_with_spots(snap_compare, snap_dir: Path, size: tuple[int, int]) -> None:
    """Image 1 zoomed on the beam centre, brighter, with the strong spots of strong.refl."""

    async def run(pilot) -> None:
        view = await _open(pilot, size)
        await pilot.press("b", "b", "b", "plus", "plus", "o")
        await _settle(pilot, view)

    assert snap_compare(attach_app(snap_dir, None, watch=False), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_threshold_overlay(snap_compare, snap_dir: Path, size: tuple[int, int]) -> None:
    """Image 2 with the strong pixels of find_spots' threshold (132 on this image)."""

    async def run(pilot) -> None:
        view = await _open(pilot, size)
        await pilot.press("n", "t", "plus")
        await _settle_strong(pilot, view)

    assert snap_compare(attach_app(snap_dir, None, watch=False), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_mask_editor(snap_compare, snap_dir: Path, size: tuple[int, int]) -> None:
    """The mask editor: a rectangle, a circle and a border drawn with the keys, shown as edited."""

    async def run(pilot) -> None:
        view = await _open(pilot, size)
        await pilot.press("M", "1")
        await pilot.press(*["right"] * 6, *["down"] * 4, "enter")
        await pilot.press(*["left"] * 12, "2", *["right"] * 3, "enter")
        await pilot.press("right_square_bracket")
        view.editor.spec.border = 20
        view._recompose()
        await pilot.pause(0.1)

    assert snap_compare(attach_app(snap_dir, None, watch=False), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_threshold_panel(snap_compare, snap_dir: Path, size: tuple[int, int]) -> None:
    """The threshold side panel on image 1: sigma_strong stepped down to 2, redrawn at once."""

    async def run(pilot) -> None:
        view = await _open(pilot, size)
        await pilot.press("T", "down", "down", "down", "minus", "minus")
        await _settle_strong(pilot, view)

    assert snap_compare(attach_app(snap_dir, None, watch=False), terminal_size=size, run_before=run)


@pytest.fixture
def multi_snap_dir(multi_panel_dir: Path, monkeypatch) -> Path:
    monkeypatch.setenv("THAS_IMAGE_MODE", "halfblock")
    if MULTI_WORKDIR.exists():
        shutil.rmtree(MULTI_WORKDIR)
    shutil.copytree(multi_panel_dir, MULTI_WORKDIR)
    return MULTI_WORKDIR


@pytest.mark.parametrize("size", SIZES)
def test_multi_panel_detector(snap_compare, multi_snap_dir: Path, size: tuple[int, int]) -> None:
    """The PILATUS 2M as 24 panels: all tiled by position, the gaps masked, the panel named."""

    async def run(pilot) -> None:
        view = await _open(pilot, size)
        await pilot.press("b", "b", "plus")
        await _settle(pilot, view)

    assert snap_compare(
        attach_app(multi_snap_dir, None, watch=False), terminal_size=size, run_before=run
    )

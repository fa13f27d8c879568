"""Pilot tests of the image view's keys on real L-cysteine images read by the real image helper."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from thas_tui.core.mask_spec import Circle, MaskSpec, Polygon, Rectangle
from thas_tui.launch import attach_app
from thas_tui.widgets.image_view import ImageView

pytestmark = pytest.mark.integration


@pytest.fixture
def workdir(image_dir: Path, tmp_path: Path) -> Path:
    """A copy of the processed directory (the mask editor writes into it)."""
    work = tmp_path / "proc"
    shutil.copytree(image_dir, work)
    return work


async def settle(pilot, view: ImageView) -> None:
    """Wait until the view has drawn what was last asked (the helper answers in seconds)."""
    for _ in range(600):
        await pilot.pause(0.05)
        if not view._fetching and (view.answer is not None or view.error):
            break
    await pilot.pause(0.05)


async def opened(pilot) -> ImageView:
    await pilot.press("v")
    view = pilot.app.dashboard.query_one(ImageView)
    await settle(pilot, view)
    assert view.error is None, view.error
    return view


def status(view: ImageView) -> str:
    return view._status()


async def test_navigation_keys(workdir: Path) -> None:
    app = attach_app(workdir, None, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await opened(pilot)
        assert app.focused is view
        assert status(view).startswith("image 1/3 · ")
        for key, index in (
            ("n", 1),
            ("n", 2),
            ("n", 2),
            ("N", 1),
            ("home", 0),
            ("end", 2),
            ("pageup", 1),
            ("pagedown", 2),
        ):
            await pilot.press(key)
            await settle(pilot, view)
            assert view.state.index == index, key
            assert view.answer.header["index"] == index
        await pilot.press("g")
        await pilot.pause()
        app.screen.query_one("#number").value = "1"
        await pilot.press("enter")
        await settle(pilot, view)
        assert view.state.index == 0
        assert status(view).startswith("image 1/3")


async def test_zoom_pan_cursor_keys(workdir: Path) -> None:
    app = attach_app(workdir, None, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await opened(pilot)
        fit_bin = view.view.bin
        # The view fits the 1475 x 1679 detector into 120 x 2*(rows - 2) bins.
        assert fit_bin == -(-1679 // view.view.rows)
        # The cursor starts on the beam centre (192.7, 865.0).
        px, py = view.view.pixel(*view.cursor)
        assert abs(px - 192.7) <= fit_bin and abs(py - 865.0) <= fit_bin
        await pilot.press("plus")
        await settle(pilot, view)
        assert view.view.bin == fit_bin // 2
        await pilot.press("plus", "plus", "plus", "plus")
        await settle(pilot, view)
        assert view.view.bin == 1
        x, y = view.view.pixel(*view.cursor)
        assert abs(x - px) <= fit_bin and abs(y - py) <= fit_bin  # zoomed around the cursor
        # Cursor keys move one pixel at 1 px/bin; the status gives its raw value and d.
        c0 = view.cursor
        await pilot.press("right", "down")
        assert view.cursor == (c0[0] + 1, c0[1] + 1)
        x1, y1 = view.view.pixel(*view.cursor)
        assert (x1, y1) == (x + 1, y + 1)
        text = status(view)
        assert f"({x1}, {y1})" in text and " Å" in text and "value " in text
        value = int(view.answer.arrays["centre"][view.cursor[1], view.cursor[0]])
        assert f"value {value}" in text
        await pilot.press("left", "up")
        assert view.cursor == c0
        before = view.view.x0
        await pilot.press("shift+right")
        await settle(pilot, view)
        assert view.view.x0 == before + view.view.cols // 4
        await pilot.press("shift+left")
        await settle(pilot, view)
        assert view.view.x0 == before
        y_before = view.view.y0
        await pilot.press("shift+down")
        await settle(pilot, view)
        assert view.view.y0 == y_before + view.view.rows // 4
        await pilot.press("shift+up")
        await settle(pilot, view)
        assert view.view.y0 == y_before
        await pilot.press("minus")
        await settle(pilot, view)
        assert view.view.bin == 2
        await pilot.press("0")
        await settle(pilot, view)
        assert view.view.bin == fit_bin and view.state.bin == 0


async def test_display_keys_remap_without_reading(workdir: Path) -> None:
    app = attach_app(workdir, None, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await opened(pilot)
        answer = view.answer
        rgb = view._rgb.copy()
        await pilot.press("b")
        assert view.state.brightness == 15
        await pilot.press("B", "B")
        assert view.state.brightness == 9
        await pilot.press("k")
        assert view.state.scheme == "inverted"
        assert not np.array_equal(view._rgb, rgb)
        await pilot.press("k")
        assert view.state.scheme == "heat"
        await pilot.press("k")
        assert view.state.scheme == "grey"
        await pilot.press("o")
        assert view.state.rings and "rings" in view._header()
        assert any(label.endswith(" Å") for label, _ in view._labels.values())
        await pilot.press("x")
        assert not view.state.beam
        await pilot.press("d")
        assert not view.state.spots
        await pilot.press("D")
        assert not view.state.predicted
        assert view.answer is answer  # brightness, colours, rings, overlays: no re-read


async def test_strong_spots_overlay_counts_strong_refl(workdir: Path) -> None:
    app = attach_app(workdir, None, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await opened(pilot)
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        spots = view.overlays["spots"]
        assert spots.kind == "strong"
        n = view._spot_count()
        assert n is not None and n > 0
        assert f"{n} spots" in view._header()
        assert n == len(spots.on_frame(0, 0))


async def test_threshold_keys_and_parameters(workdir: Path) -> None:
    app = attach_app(workdir, None, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await opened(pilot)
        await pilot.press("t")
        await settle(pilot, view)
        assert view.strong_count == 89  # find_spots: "Found 89 strong pixels on image 1"
        assert "89 strong pixels" in status(view)
        await pilot.press("n")
        await settle(pilot, view)
        assert "132 strong pixels" in status(view)
        # Zoomed in: the view's pixels, then the image's count.
        await pilot.press("plus", "plus")
        await settle(pilot, view)
        assert view.answer.header["whole"] is False
        for _ in range(200):
            if view.strong_count is not None:
                break
            await pilot.pause(0.05)
        assert view.strong_count == 132
        # The side panel: the parameters chosen, stepped and typed in place, redrawn at once.
        await pilot.press("0", "T")
        await settle(pilot, view)
        assert view.panel.open and view.panel.name == "gain"
        cursor = view.cursor
        await pilot.press("down", "down", "down")
        assert view.panel.name == "sigma_strong" and view.cursor == cursor
        await pilot.press("minus", "minus")
        await settle(pilot, view)
        assert view.state.params["sigma_strong"] == 2.0
        assert view.state.threshold["sigma_strong"] == 2.0
        assert view.strong_count == int(view.answer.header["strong_in_region"]) > 132
        assert f"{view.strong_count} strong pixels" in status(view)
        await pilot.press("down", "down", "down", "right")
        await settle(pilot, view)
        assert view.panel.name == "algorithm"
        assert view.state.params["algorithm"] == "dispersion"
        assert view.strong_count == int(view.answer.header["strong_in_region"])
        # Typed: kernel_size 5,5 (enter, the value, enter); a bad value is refused and said.
        await pilot.press("up", "up", "up", "up", "up", "enter", "5", "comma", "5", "enter")
        await settle(pilot, view)
        assert view.panel.name == "kernel_size" and view.panel.typing is None
        assert view.state.params["kernel_size"] == [5, 5]
        row = 2 + 1  # title, count, then the parameters from gain
        assert "kernel_size      5,5" in view.render_line(1 + row).text
        await pilot.press("enter", "9", "enter")
        assert view.panel.problem == "kernel_size is two half-widths from 1 to 8, e.g. 3,3."
        assert view.state.params["kernel_size"] == [5, 5]
        await pilot.press("escape")
        assert view.panel.typing is None and view.panel.open
        await pilot.press("escape")
        assert not view.panel.open
        await pilot.press("t")
        await settle(pilot, view)
        assert view.state.threshold is None and "strong pixels" not in status(view)


async def test_threshold_to_find_spots_sets_its_phil(workdir: Path) -> None:
    app = attach_app(workdir, None, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await opened(pilot)
        await pilot.press("T", "down", "plus", "plus")
        await settle(pilot, view)
        assert view.state.params["kernel_size"] == [5, 5]
        await pilot.press("F")
        await pilot.pause(0.3)
        extra = app.dashboard.config.extra["find_spots"]
        assert "spotfinder.threshold.dispersion.kernel_size=5,5" in extra
        assert "spotfinder.threshold.algorithm=dispersion_extended" in extra
        assert app.screen.__class__.__name__ == "Confirm"  # re-run offered
        assert view.panel.open  # the panel stays


async def test_mask_editor_keys_and_save(workdir: Path) -> None:
    app = attach_app(workdir, None, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await opened(pilot)
        await pilot.press("plus", "plus", "plus", "plus", "plus")
        await settle(pilot, view)
        assert view.view.bin == 1
        await pilot.press("M")
        assert view.editor.active and status(view).startswith("MASK empty")
        x, y = view.view.pixel(*view.cursor)
        await pilot.press("1", "right", "right", "down", "enter")
        await pilot.press("2", "right", "right", "right", "enter")
        await pilot.press("3", "left", "enter")
        await pilot.press("3")  # two vertices: refused
        assert "at least 3 vertices" in view.editor.note
        await pilot.press("up", "enter", "3")
        await pilot.press("right_square_bracket", "right_square_bracket", "left_square_bracket")
        await pilot.press("5")
        assert view.editor.spec.untrusted == [
            Rectangle(x, x + 3, y, y + 2),
            Circle(x + 2, y + 1, 3),
            Polygon([(x + 5.0, y + 1.0), (x + 4.0, y + 1.0), (x + 4.0, y + 0.0)]),
        ]
        assert view.editor.spec.border == 1 and view.editor.spec.ice_rings
        text = status(view)
        assert "1 rectangle, 1 circle, 1 polygon, border 1, ice rings" in text
        await pilot.press("u")
        assert len(view.editor.spec.untrusted) == 2
        await pilot.press("1", "escape")
        assert view.editor.pending is None and view.editor.active
        await pilot.press("4")
        await pilot.pause()
        app.screen.query_one("#d_min").value = "0.9"
        app.screen.query_one("#d_min").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert view.editor.spec.d_min == 0.9
        await pilot.press("w")
        await pilot.pause()
        saved = MaskSpec.from_phil((workdir / "mask.phil").read_text())
        assert saved.untrusted == view.editor.spec.untrusted
        assert saved.border == 1 and saved.ice_rings and saved.d_min == 0.9
        # The Mask stage joins the pipeline before Find spots; running it is offered: not now.
        assert app.dashboard.pipeline.has_mask
        assert "Run Mask now" in app.screen.question
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")
        assert not view.editor.active


async def test_mask_that_leaves_no_pixels_is_refused(workdir: Path) -> None:
    app = attach_app(workdir, None, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await opened(pilot)
        await pilot.press("M")
        view.editor.spec.untrusted.append(Rectangle(0, 1475, 0, 1679))
        await pilot.press("w")
        await pilot.pause()
        assert not (workdir / "mask.phil").exists()
        assert any("leaves no pixels" in n.message for n in app._notifications)


async def test_read_only_directory_turns_mask_editing_off(workdir: Path, monkeypatch) -> None:
    # Tests run as root here, who may write anywhere: the directory's answer is what is replaced.
    real_access = os.access
    monkeypatch.setattr(
        "thas_tui.widgets.image_view.os.access",
        lambda p, mode: False if Path(p) == workdir and mode == os.W_OK else real_access(p, mode),
    )
    app = attach_app(workdir, None, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await opened(pilot)
        await pilot.press("M")
        assert not view.editor.active
        assert view.mask_reason == f"mask editing is off: {workdir} is read-only"
        assert any(view.mask_reason in n.message for n in app._notifications)


async def test_full_screen_key_and_palette_commands(workdir: Path) -> None:
    app = attach_app(workdir, None, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        dash = app.dashboard
        await pilot.press("z")
        assert dash.has_class("-full")
        assert not dash.query_one("#left").display
        await pilot.press("z")
        assert not dash.has_class("-full")
        titles = [c.title for c in app.get_system_commands(dash)]
        for title in ("Image", "Threshold pixels", "Mask", "Full screen"):
            assert title in titles
        dash.action_image_toggle("threshold")
        view = dash.query_one(ImageView)
        await settle(pilot, view)
        assert view.state.threshold is not None and view.strong_count == 89


async def test_images_missing_says_which_and_the_dashboard_goes_on(workdir: Path) -> None:
    images = workdir.parent / "images"
    images.mkdir()
    for path in sorted((Path(__file__).parents[1] / "data" / "images" / "l_cysteine").glob("*.gz"))[
        :3
    ]:
        shutil.copy(path, images)
    import subprocess

    subprocess.run(
        ["dials.import", *sorted(str(p) for p in images.glob("*.gz"))],
        cwd=workdir,
        capture_output=True,
        check=True,
        timeout=300,
    )
    (images / "l-cyst_01_00001.cbf.gz").unlink()
    app = attach_app(workdir, None, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("v")
        view = app.dashboard.query_one(ImageView)
        await settle(pilot, view)
        assert view.error.startswith("The images cannot be shown:\nimage ")
        assert "l-cyst_01_00001.cbf.gz is missing" in view.error
        await pilot.press("l")  # the view's keys do not reach it: the dashboard still answers
        assert app.dashboard.query_one("#panels").active == "log"


async def test_forced_sixel_draws_finer_pixels_through_textual_image(
    workdir: Path, monkeypatch
) -> None:
    monkeypatch.setenv("THAS_IMAGE_MODE", "sixel")
    app = attach_app(workdir, None, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await opened(pilot)
        assert (view.mode, view.mode_reason) == ("sixel", "forced")
        assert "sixel (forced)" in view._header()
        from textual_image.widget import SixelImage

        picture = view.query_one(SixelImage)
        assert picture is view._picture
        # 10x20-pixel cells (textual-image's default off a terminal): 8 fine bins per bin.
        bf = view.answer.header["fine_bin"]
        assert bf == -(-view.view.bin // 8)
        assert view.answer.arrays["fine"].shape == (-(-1679 // bf), -(-1475 // bf))
        assert picture.image.size == (
            -(-view.view.cols * view.view.bin // bf),
            -(-view.view.rows * view.view.bin // bf),
        )
        assert view.render_line(5).text.strip() == ""  # the picture covers the lines
        # The resolution rings' d labels, which no text cell can show over the picture, are
        # in its pixels: each label's cells hold the ring colour's ink on a black ground.
        await pilot.press("o")
        await pilot.pause(0.1)
        rings = {k: v for k, v in view._labels.items() if v[0].endswith(" Å")}
        assert rings, view._labels
        fine = view._fine
        cw = fine.shape[1] / view.view.cols
        ch = 2 * fine.shape[0] / view.view.rows
        for (row, col), (text, colour) in rings.items():
            cells = fine[
                int(row * ch) : int((row + 1) * ch), int(col * cw) : int((col + len(text)) * cw)
            ]
            assert (cells == colour).all(axis=-1).sum() > 10 * len(text.strip()), text
            assert (cells == 0).all(axis=-1).any(), text


async def test_without_a_forced_mode_tests_get_half_blocks(workdir: Path, monkeypatch) -> None:
    monkeypatch.delenv("THAS_IMAGE_MODE", raising=False)
    app = attach_app(workdir, None, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await opened(pilot)
        # Not a terminal: nobody asked it, so half-blocks; no picture widget.
        assert (view.mode, view.mode_reason) == ("halfblock", "auto")
        assert view._picture is None and "▀" in view.render_line(20).text


async def test_ascii_mode_draws_density_characters(workdir: Path, monkeypatch) -> None:
    monkeypatch.setenv("THAS_IMAGE_MODE", "ascii")
    app = attach_app(workdir, None, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await opened(pilot)
        assert view.mode == "ascii"
        assert "characters (NO_COLOR) (forced)" in view._header()
        lines = [view._image_line(r, view.size.width).text for r in range(view.size.height - 2)]
        text = "".join(lines)
        assert set(text) <= set(" .:-=+*#%@")
        assert "%" in text  # the module gaps (masked, dark red) are the darkest marks


async def test_a_prefetched_view_reads_the_spot_files_only_when_opened(workdir: Path) -> None:
    # The dashboard starts the helper and draws the first image before the view is opened;
    # a stage's end must not make it read strong.refl (108 MB for an 800-image sweep) for a
    # view nobody has looked at: the 800-image run's dashboard grew 80 MB and lost key presses.
    app = attach_app(workdir, None, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.dashboard.prefetch_images()
        view = app.dashboard.query_one(ImageView)
        await app.workers.wait_for_complete()
        assert view.client is not None and view.overlays == {}
        view.files_changed("find_spots")
        await app.workers.wait_for_complete()
        assert view.overlays == {}
        view = await opened(pilot)
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        assert view.overlays["spots"].kind == "strong"

"""Pilot and snapshot tests of the Lattice view on the demo sweep's real strong.refl and indexed.refl."""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from thas_tui.app import ThasApp
from thas_tui.core.commands import RunConfig
from thas_tui.core.dials_env import DialsEnv
from thas_tui.core.watcher import pipeline_from_dir
from thas_tui.widgets.lattice_view import LatticeView

DATA = Path(__file__).parents[1] / "data" / "dials-3.12_thas_demo_lattice"
DIALS = DialsEnv(bin_dir=Path("/usr/bin"), version="3.12", python="python3")
# Fixed paths: the header shows the processing directory, and snapshots must not vary.
BEFORE = Path("/tmp/thas-tui-snapshot-lattice-strong")
AFTER = Path("/tmp/thas-tui-snapshot-lattice-indexed")


def _copy(target: Path, names: tuple[str, ...]) -> Path:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    for name in names:
        shutil.copy(DATA / name, target / name)
        os.utime(target / name, (1_700_000_000, 1_700_000_000))
    return target


@pytest.fixture
def strong_dir() -> Path:
    """A directory after find_spots: imported.expt and strong.refl."""
    return _copy(BEFORE, ("imported.expt", "strong.refl"))


@pytest.fixture
def indexed_dir() -> Path:
    """A directory after index."""
    return _copy(AFTER, ("imported.expt", "strong.refl", "indexed.expt", "indexed.refl"))


def _app(workdir: Path) -> ThasApp:
    pipeline, _ = pipeline_from_dir(workdir)
    return ThasApp(workdir, RunConfig(), DIALS, pipeline, autostart=False, watch=False)


async def _settle(pilot) -> None:
    # A worker can start another (the panes' load starts the lattice's): wait for both.
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def _open(pilot) -> LatticeView:
    await _settle(pilot)
    await pilot.press("L")
    await _settle(pilot)
    return pilot.app.dashboard.query_one(LatticeView)


async def _press(pilot, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _angle(u: np.ndarray, v: np.ndarray) -> float:
    return math.degrees(math.acos(np.clip(u @ v / np.linalg.norm(u) / np.linalg.norm(v), -1, 1)))


async def test_key_opens_the_lattice_focused_with_the_legend(indexed_dir: Path) -> None:
    app = _app(indexed_dir)
    async with app.run_test(size=(160, 50)) as pilot:
        view = await _open(pilot)
        assert app.dashboard.query_one("#panels").active == "lattice"
        assert app.focused is view
        assert view.source == "indexed"
        text = view.frame_text()
        assert text[0].startswith("28,223 spots · 26,758 indexed · 1,465 unindexed")
        assert "indexed.refl + indexed.expt" in text[0]
        assert "Max Z 36/36" in text[1] and "28,223 shown" in text[1]
        # The unindexed spots per resolution shell, beside the cloud.
        assert any("Unindexed spots by resolution" in line for line in text)
        assert any(ch and "\u2800" < ch <= "\u28ff" for line in text for ch in line)


async def test_turn_zoom_reset_and_views(indexed_dir: Path) -> None:
    app = _app(indexed_dir)
    async with app.run_test(size=(160, 50)) as pilot:
        view = await _open(pilot)
        lat = view.scene.lattice
        assert view.view_name == "beam"
        assert np.allclose(view.view[2], -lat.beam)
        c_star = lat.crystals[0].A[:, 2]
        await _press(pilot, "5")
        assert view.view_name == "c*"
        assert np.allclose(view.view[2], c_star / np.linalg.norm(c_star))
        before = view.view.copy()
        await _press(pilot, "right")
        assert view.view_name == "free"
        assert _angle(before[2], view.view[2]) == pytest.approx(15.0)
        assert np.allclose(before[1], view.view[1])  # about the screen's vertical
        await _press(pilot, "shift+up")
        assert np.allclose(np.linalg.det(view.view), 1.0)
        await _press(pilot, "5", "shift+down")
        assert _angle(before[2], view.view[2]) == pytest.approx(2.0)
        tilted = view.view.copy()
        await _press(pilot, "comma")
        assert np.allclose(tilted[2], view.view[2])  # a roll keeps the view direction
        assert _angle(tilted[0], view.view[0]) == pytest.approx(15.0)
        await _press(pilot, "1")
        assert np.allclose(view.view[2], lat.rotation_axis / np.linalg.norm(lat.rotation_axis))
        await _press(pilot, "plus", "plus")
        assert view.zoom == pytest.approx(1.5625)
        await _press(pilot, "minus")
        assert view.zoom == pytest.approx(1.25)
        await _press(pilot, "0")
        assert (view.view_name, view.zoom) == ("beam", 1.0)
        for key, star in (("3", 0), ("4", 1)):
            await _press(pilot, key)
            axis = lat.crystals[0].A[:, star]
            assert np.allclose(view.view[2], axis / np.linalg.norm(axis))


async def test_max_z_slider_and_the_sweep_animation(indexed_dir: Path) -> None:
    app = _app(indexed_dir)
    async with app.run_test(size=(160, 50)) as pilot:
        view = await _open(pilot)
        image = view.scene.lattice.image
        await _press(pilot, "left_square_bracket")
        assert view.max_image == 35
        await _press(pilot, "left_curly_bracket")
        assert view.max_image == 32
        await _press(pilot, "right_square_bracket")
        assert view.max_image == 33
        shown = int((image <= 33).sum())
        assert f"Max Z 33/36 · d ≥ all · {shown:,} shown" in view.frame_text()[1]
        await _press(pilot, "space")
        assert view.animating and view.max_image < 36  # from image 1, a step per frame
        for _ in range(100):
            if not view.animating:
                break
            await pilot.pause(0.1)
        assert not view.animating and view.max_image == 36


async def test_resolution_filter_axes_table_and_only(indexed_dir: Path) -> None:
    app = _app(indexed_dir)
    async with app.run_test(size=(160, 50)) as pilot:
        view = await _open(pilot)
        lat = view.scene.lattice
        await _press(pilot, "d")
        assert view.d_min == 3.0  # the lowest step above the data's 2.58 Å
        assert f"d ≥ 3 Å · {int((lat.d >= 3.0).sum()):,} shown" in view.frame_text()[1]
        await _press(pilot, "d")
        assert view.d_min == 3.5
        await _press(pilot, "D", "D")
        assert view.d_min is None
        assert any("a*" in line for line in view.frame_text()[2:])
        await _press(pilot, "x")
        assert not view.axes_on
        assert not any("a*" in line for line in view.frame_text()[2:-1])
        await _press(pilot, "u")
        assert not any("Unindexed spots" in line for line in view.frame_text())
        await _press(pilot, "o")
        assert view.show == "indexed" and "26,758 shown" in view.frame_text()[1]
        await _press(pilot, "o")
        assert view.show == "unindexed" and "1,465 shown" in view.frame_text()[1]
        await _press(pilot, "o")
        assert view.show == "all"


async def test_toggle_between_strong_and_indexed(indexed_dir: Path) -> None:
    app = _app(indexed_dir)
    async with app.run_test(size=(160, 50)) as pilot:
        view = await _open(pilot)
        await _press(pilot, "5", "t")
        assert view.source == "strong"
        text = view.frame_text()
        assert text[0].startswith("28,223 spots · strong.refl + imported.expt")
        assert "image 1 " in text[1]
        # The same sweep: the view along c* is kept, and the crystal of indexed.expt serves.
        assert view.view_name == "c*"
        await _press(pilot, "t")
        assert view.source == "indexed"


async def test_narrow_terminal_table_in_place_of_the_cloud(indexed_dir: Path) -> None:
    app = _app(indexed_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await _open(pilot)
        text = view.frame_text()
        assert not any("Unindexed spots" in line for line in text)
        await _press(pilot, "u")
        assert "Unindexed spots by resolution" in view.frame_text()[2]


async def test_before_find_spots_the_view_says_which_stage(tmp_path: Path) -> None:
    shutil.copy(DATA / "imported.expt", tmp_path)
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await _open(pilot)
        assert view.scene is None
        assert (
            " ".join(view.frame_text()).split()
            == ("No strong.refl yet: dials.find_spots writes it (the find_spots stage).").split()
        )
        # Live: find_spots finishes, the dashboard reloads its panes, the lattice appears.
        shutil.copy(DATA / "strong.refl", tmp_path)
        app.dashboard.load_panels(("spots", "lattice"))
        await _settle(pilot)
        assert view.scene is not None and view.source == "strong"
        # ... and after index, indexed.refl.
        shutil.copy(DATA / "indexed.expt", tmp_path)
        shutil.copy(DATA / "indexed.refl", tmp_path)
        app.dashboard.load_panels(("rmsd", "lattice"))
        await _settle(pilot)
        assert view.source == "indexed"


async def test_damaged_refl_is_named_and_the_rest_works(tmp_path: Path) -> None:
    shutil.copy(DATA / "imported.expt", tmp_path)
    (tmp_path / "strong.refl").write_bytes((DATA / "strong.refl").read_bytes()[:5000])
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await _open(pilot)
        assert view.scene is None
        # Wrapped to the pane, long words (the path) broken: compare without the spaces.
        message = "".join("".join(view.frame_text()).split())
        assert str(tmp_path / "strong.refl") in message
        assert "notareadableDIALSmsgpackreflectiontable" in message
        await _press(pilot, "l")
        assert app.dashboard.query_one("#panels").active == "log"


async def test_ascii_mode_draws_no_braille(indexed_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("THAS_ASCII", "1")
    app = _app(indexed_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await _open(pilot)
        body = "".join(view.frame_text()[2:-1])
        assert not any("\u2800" <= ch <= "\u28ff" for ch in body)
        assert {"@", "o"} <= set(body)


def test_snapshot_before_indexing(snap_compare, strong_dir: Path) -> None:
    """strong.refl with imported.expt, coloured by image, seen along the beam."""

    async def show(pilot) -> None:
        await _open(pilot)

    assert snap_compare(_app(strong_dir), terminal_size=(160, 50), run_before=show)


def test_snapshot_after_indexing(snap_compare, indexed_dir: Path) -> None:
    """indexed.refl along c*: lattice rows lined up, unindexed spots white, the d table."""

    async def show(pilot) -> None:
        await _open(pilot)
        await _press(pilot, "5", "plus", "plus")

    assert snap_compare(_app(indexed_dir), terminal_size=(160, 50), run_before=show)


async def test_no_color_shows_depth_by_bold_and_dim(indexed_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = _app(indexed_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.no_color
        view = await _open(pilot)
        await _press(pilot, "right", "up")  # a turned view: spots at every depth
        text = view.frame_text()
        assert text[0].startswith("28,223 spots · 26,758 indexed")
        # Textual drops the colours; the shade of depth stays as bold (near) and dim (far).
        used = {(s.bold, s.dim) for key, s in view._styles.items() if key[1] in (0, 2)}
        assert (True, False) in used and (False, True) in used


async def test_lattice_in_the_command_palette(indexed_dir: Path) -> None:
    app = _app(indexed_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        commands = [c for c in app.get_system_commands(app.screen) if "Lattice" in c.title]
        assert [c.title for c in commands] == ["Show Lattice: spots in reciprocal space"]
        commands[0].callback()
        await _settle(pilot)
        assert app.dashboard.query_one("#panels").active == "lattice"
        assert app.dashboard.query_one(LatticeView).scene is not None

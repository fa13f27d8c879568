"""Spots in reciprocal space (core/reciprocal.py, core/reciprocal_view.py) on real DIALS 3.12 files."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from thas_tui.core.errors import UnreadableFile
from thas_tui.core.readers import refl
from thas_tui.core.readers.expt import read_expt
from thas_tui.core.reciprocal import REFL_COLUMNS, lattice_from, load_lattice, unindexed_by_d
from thas_tui.core.reciprocal_view import VOXELS, Cloud, look_along, turn

DATA = Path(__file__).parents[2] / "data"
DEMO = DATA / "dials-3.12_thas_demo_lattice"
L_CYS = DATA / "dials-3.12_l_cysteine"


@pytest.fixture(scope="module")
def demo_indexed():
    return load_lattice(DEMO, "indexed")


@pytest.fixture(scope="module")
def demo_strong():
    return load_lattice(DEMO, "strong")


def _coherence(x: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """|⟨exp(2πi x/p)⟩| for each trial period p: 1 when every x is a multiple of p."""
    return np.abs(np.exp(2j * np.pi * x[None, :] / periods[:, None]).mean(axis=1))


def _measure_period(x: np.ndarray) -> tuple[float, float]:
    """The fundamental period (Å⁻¹) of points on a 1D lattice, and how well they sit on it.

    Submultiples of the period fit as well as it does, so: the longest trial period that still
    fits, then the best fit around it."""
    x = x[:: max(1, len(x) // 2000)]
    coarse = np.linspace(0.004, 0.05, 400)
    longest = coarse[_coherence(x, coarse) > 0.5].max()
    fine = np.linspace(0.9 * longest, 1.1 * longest, 400)
    c = _coherence(x, fine)
    return float(fine[c.argmax()]), float(c.max())


def test_along_c_star_the_spots_fall_on_the_a_star_b_star_lattice(demo_indexed) -> None:
    a_mat = demo_indexed.crystals[0].A
    a_star, b_star, _ = np.linalg.norm(a_mat, axis=0)
    assert (round(1 / a_star, 2), round(1 / b_star, 2)) == (57.10, 102.19)
    view = look_along(a_mat[:, 2], a_mat[:, 1])
    screen = demo_indexed.rlp[demo_indexed.indexed] @ view.T
    period_x, fit_x = _measure_period(screen[:, 0])
    period_y, fit_y = _measure_period(screen[:, 1])
    assert period_x == pytest.approx(a_star, rel=5e-3)
    assert period_y == pytest.approx(b_star, rel=5e-3)
    assert fit_x > 0.9 and fit_y > 0.9
    # Turned 10° off c*, the rows no longer line up.
    off = demo_indexed.rlp[demo_indexed.indexed] @ turn(view, 1, 10).T
    assert _coherence(off[::10, 0], np.array([period_x]))[0] < 0.3


def test_legend_and_counts(demo_indexed, demo_strong) -> None:
    assert demo_indexed.legend() == "28,223 spots · 26,758 indexed · 1,465 unindexed"
    assert demo_strong.legend() == "28,223 spots"
    assert demo_strong.n_indexed == 0
    assert demo_indexed.image_range == (1, 36)
    # The image of each spot is its z centroid's, as the Spots pane counts them.
    table = refl.read_refl(DEMO / "strong.refl")
    per_image = refl.spots_per_image(table, (1, 36))
    assert np.array_equal(np.bincount(demo_strong.image, minlength=37)[1:], per_image)
    # strong.refl maps with imported.expt; the crystal for the a*/b*/c* views comes from
    # indexed.expt once there is one.
    assert demo_strong.expt_path.name == "imported.expt"
    assert len(demo_strong.crystals) == 1


def test_unindexed_by_resolution_shells(demo_indexed) -> None:
    shells = unindexed_by_d(demo_indexed, 12)
    assert len(shells) == 12
    assert sum(s.n_spots for s in shells) == 28223
    assert sum(s.n_unindexed for s in shells) == 1465
    assert shells[0].d_max == pytest.approx(demo_indexed.d.max())
    assert shells[-1].d_min == pytest.approx(demo_indexed.d.min())
    # Shells of equal width in 1/d².
    widths = [1 / s.d_min**2 - 1 / s.d_max**2 for s in shells]
    assert max(widths) == pytest.approx(min(widths))
    # This simulated crystal has no ice: unindexed spots grow with resolution, no ring.
    assert not any(s.excess for s in shells)
    assert [s.ice for s in shells if s.ice] == [(3.897, 3.669), (3.441,), (2.671,)]


def test_an_ice_ring_shows_as_a_shell_of_excess(demo_indexed) -> None:
    # 600 unindexed spots at d = 3.669 Å added to the demo's: the shell holding it stands out.
    rng = np.random.default_rng(0)
    ring = rng.normal(size=(600, 3))
    ring /= np.linalg.norm(ring, axis=1)[:, None] * 3.669
    lat = replace(
        demo_indexed,
        rlp=np.vstack([demo_indexed.rlp, ring]),
        indexed=np.concatenate([demo_indexed.indexed, np.zeros(600, bool)]),
    )
    ring_shells = [s for s in unindexed_by_d(lat, 12) if s.excess]
    assert len(ring_shells) == 1
    assert ring_shells[0].d_min <= 3.669 < ring_shells[0].d_max
    assert ring_shells[0].ice == (3.897, 3.669)


def test_multi_experiment_l_cysteine() -> None:
    lat = load_lattice(L_CYS, "indexed")
    assert lat.experiments == (0, 1, 2, 3)
    assert lat.legend() == "160 spots · 129 indexed · 31 unindexed · 4 experiments"
    # As DIALS 3.12 counts the file's imageset_id and id columns.
    assert np.bincount(lat.imageset).tolist() == [54, 33, 43, 30]
    assert np.bincount(lat.experiment[lat.experiment >= 0]).tolist() == [47, 29, 29, 24]
    assert not lat.still


def test_what_is_missing_is_said(tmp_path: Path) -> None:
    assert load_lattice(tmp_path, "strong") == (
        "No strong.refl yet: dials.find_spots writes it (the find_spots stage)."
    )
    assert load_lattice(tmp_path, "indexed") == (
        "No indexed.refl yet: dials.index writes it (the index stage)."
    )
    shutil.copy(DEMO / "strong.refl", tmp_path)
    assert "imported.expt is not" in load_lattice(tmp_path, "strong")


def test_damaged_refl_is_named(tmp_path: Path) -> None:
    shutil.copy(DEMO / "imported.expt", tmp_path)
    (tmp_path / "strong.refl").write_bytes((DEMO / "strong.refl").read_bytes()[:3000])
    with pytest.raises(UnreadableFile) as err:
        load_lattice(tmp_path, "strong")
    assert str(tmp_path / "strong.refl") in str(err.value)


def test_stills_are_flagged(tmp_path: Path) -> None:
    expts = read_expt(DEMO / "imported.expt")
    still = replace(
        expts,
        experiments=tuple(replace(e, goniometer=None, scan=None) for e in expts.experiments),
    )
    table = refl.read_refl(DEMO / "strong.refl", columns=REFL_COLUMNS)
    lat = lattice_from(table, still)
    assert lat.still
    assert lat.notes == ("stills (no scan or goniometer): drawn at the single orientation",)
    # Without a rotation, rlp = s1 - s0: every spot sits on the Ewald sphere through the origin.
    s0 = -np.asarray(expts[0].beam.direction) / expts[0].beam.wavelength
    radius = np.linalg.norm(lat.rlp + s0, axis=1)
    assert np.allclose(radius, 1 / expts[0].beam.wavelength, rtol=1e-12)


def test_views_are_rotations() -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        d, up = rng.normal(size=3), rng.normal(size=3)
        v = look_along(d, up)
        assert np.allclose(v @ v.T, np.eye(3))
        assert np.linalg.det(v) == pytest.approx(1.0)
        assert np.allclose(v[2], d / np.linalg.norm(d))
        t = turn(v, 0, 37.0)
        assert np.allclose(t @ t.T, np.eye(3))
        assert np.allclose(turn(t, 0, -37.0), v)


def test_decimation_keeps_every_region(demo_strong) -> None:
    cloud = Cloud(demo_strong.rlp, demo_strong.image, demo_strong.d)
    occupied = np.unique(cloud.voxel)
    kept = cloud.select(None, 5000)
    assert len(kept) <= 5000 + len(occupied)
    # Every occupied voxel keeps at least one point: no region of reciprocal space goes dark.
    assert np.array_equal(np.unique(cloud.voxel[kept]), occupied)
    # With a filter, the same holds among the points it lets through.
    mask = demo_strong.image <= 10
    kept = cloud.select(mask, 3000)
    assert mask[kept].all()
    assert np.array_equal(np.unique(cloud.voxel[kept]), np.unique(cloud.voxel[mask]))
    # Within the budget nothing is dropped.
    assert len(cloud.select(mask, 10**6)) == int(mask.sum())
    assert cloud.voxel.max() < VOXELS**3


def test_raster_puts_every_point_in_a_braille_cell(demo_strong) -> None:
    cloud = Cloud(demo_strong.rlp, demo_strong.image, demo_strong.d)
    cloud.select(None, 10**6)
    cat = np.zeros(len(cloud.kept), np.int32)
    r = cloud.raster(np.eye(3), 1.0, 80, 20, cat, 1)
    assert r.shown == 28223  # at zoom 1 the farthest spot fits the frame
    assert r.pattern.shape == (20, 80)
    assert ((r.pattern > 0) == (r.category >= 0)).all()
    assert set(np.unique(r.depth[r.pattern > 0])) <= {0, 1, 2}
    zoomed = cloud.raster(np.eye(3), 4.0, 80, 20, cat, 1)
    assert zoomed.shown < r.shown

"""Bars of the spot histogram grouped by DIALS's own rule (dials/util/ascii_art.py)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from thas_tui.core.parsers.find_spots import parse as parse_find_spots_log
from thas_tui.core.readers.refl import read_refl
from thas_tui.core.spot_bins import bin_images, bin_z

DATA = Path(__file__).resolve().parents[2] / "data" / "dials-3.12_l_cysteine"


def _stars(counts: list[int], rows: int = 10) -> list[int]:
    """Stars per column as flex_histogram draws them: counts * rows / max, iround."""
    peak = max(counts)
    return [math.floor(c * rows / peak + 0.5) for c in counts]


def test_real_strong_refl_binned_as_the_real_log_shows() -> None:
    # The 4-sweep L-cysteine run: strong.refl and the find_spots log of the same dials.find_spots.
    table = read_refl(DATA / "strong.refl", columns=("xyzobs.px.value", "id"))
    log = parse_find_spots_log((DATA / "logs" / "dials.find_spots.log").read_text())
    assert [h.imageset for h in log.histograms] == [0, 1, 2, 3]
    for hist in log.histograms:
        z = table["xyzobs.px.value"][:, 2][table["id"] == hist.imageset]
        bins = bin_z(z)
        assert bins is not None
        assert bins.header() == (
            f"{hist.n_spots} spots found on {hist.n_images} images (max {hist.max_per_bin} / bin)"
        )
        assert (bins.first_image, bins.last_image) == (hist.first_image, hist.last_image)
        assert _stars(bins.counts, hist.rows) == hist.heights
    assert log.histograms[0].n_spots == 54 and log.histograms[0].max_per_bin == 10


def test_more_images_than_bars_groups_like_dials() -> None:
    # 800 images of one spot each into 60 bars: centres 0.5..799.5, step 799/60 = 13.3.
    bins = bin_images([1] * 800, 1, 60)
    assert bins is not None
    assert len(bins.counts) == 60 and sum(bins.counts) == 800
    assert bins.counts[:3] == [14, 13, 13] and bins.counts[-1] == 14
    assert bins.header() == "800 spots found on 800 images (max 14 / bin)"
    assert bins.frames[0] == (0, 13) and bins.frames[-1] == (786, 799)
    assert (bins.first_image, bins.last_image) == (1, 800)


def test_fewer_images_than_bars_one_bar_each() -> None:
    bins = bin_images([5, None, 7], 101, 60)
    assert bins is not None
    assert bins.counts == [5, 0, 7] and bins.frames == [(0, 0), (1, 1), (2, 2)]
    assert (bins.first_image, bins.last_image) == (101, 103)


def test_bin_z_agrees_with_per_image_centres() -> None:
    # Spots exactly at image centres: bin_z's DIALS rule and bin_images's give the same bars.
    counts = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4]
    z = np.repeat(np.arange(len(counts)) + 0.5, counts)
    for width in (4, 7, 20):
        from_z, from_counts = bin_z(z, width), bin_images(counts, 1, width)
        assert from_z is not None and from_counts is not None
        assert sum(from_z.counts) == sum(counts) == 97
        assert from_z.frames == from_counts.frames


@pytest.mark.parametrize("z", [np.array([]), np.array([0.2, 0.7])])
def test_no_spots_or_one_image_has_no_bars(z: np.ndarray) -> None:
    assert bin_z(z) is None


def test_800_images_grouped_into_dials_60_bars_exactly() -> None:
    # The 800-image demo's real find_spots: 800 images do not fit 60 columns, so DIALS groups
    # 13.3 images per bar; the same z centroids binned here give its header and every bar.
    full = DATA.parent / "dials-3.12_thas_full"
    z = np.load(full / "strong_z.npz")["z"]
    log = parse_find_spots_log((full / "dials.find_spots.log").read_text())
    (hist,) = log.histograms
    bins = bin_z(z)
    assert bins is not None
    assert bins.header() == "171701 spots found on 800 images (max 3014 / bin)"
    assert (hist.n_spots, hist.n_images, hist.max_per_bin) == (171701, 800, 3014)
    assert len(bins.counts) == len(hist.heights) == 60
    assert _stars(bins.counts, hist.rows) == hist.heights
    assert (bins.first_image, bins.last_image) == (hist.first_image, hist.last_image) == (1, 800)

"""DIALS's rule for grouping images into the bars of its per-image spot histogram."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: dials.find_spots draws its histogram 60 characters wide.
DIALS_WIDTH = 60


@dataclass(frozen=True)
class SpotBins:
    """Counts per bar, as dials.util.ascii_art.flex_histogram bins them.

    ``first_image`` and ``last_image`` are the labels DIALS puts under the first and last bar;
    ``frames[i]`` is the (first, last) 0-based frame whose centre falls in bar i (for marking
    bars that hold a weak image).
    """

    counts: list[int]
    first_image: int
    last_image: int
    frames: list[tuple[int, int]]

    @property
    def image_count(self) -> int:
        return self.last_image - self.first_image + 1

    @property
    def max_per_bin(self) -> int:
        return max(self.counts, default=0)

    def header(self) -> str:
        """DIALS's own first line, e.g. "28223 spots found on 45 images (max 912 / bin)"."""
        return (
            f"{sum(self.counts)} spots found on {self.image_count} images "
            f"(max {self.max_per_bin} / bin)"
        )


def _frame_ranges(n_frames: int, z_min: float, z_step: float, width: int) -> list[tuple[int, int]]:
    """The frames whose centre (k + 0.5) lands in each bar (an empty bar repeats its neighbour)."""
    members: list[list[int]] = [[] for _ in range(width)]
    for k in range(n_frames):
        bar = math.floor((k + 0.5 - z_min) / z_step) if z_step > 0 else 0
        members[min(width - 1, max(0, bar))].append(k)
    return _ranges(members)


def _ranges(members: list[list[int]]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for m in members:
        ranges.append((m[0], m[-1]) if m else ranges[-1] if ranges else (0, 0))
    return ranges


def bin_z(z: np.ndarray, width: int = DIALS_WIDTH) -> SpotBins | None:
    """Bin spot z centroids (frame coordinates) exactly as dials.find_spots does.

    Its rule: bars = min(images, width); the z range [min z, max z] is cut into that many equal
    steps; every spot is jittered by ±0.25 (odd/even index) first, so that spots on a frame
    boundary split between bars. Returns None for no spots or a single image (DIALS then
    prints "N spots found on 1 image").
    """
    z = np.asarray(z, dtype=np.float64)
    if z.size == 0:
        return None
    z_min, z_max = float(z.min()), float(z.max())
    jittered = z + (np.arange(z.size) % 2) / 2 - 0.25
    first, last = math.ceil(z_min), math.ceil(z_max)
    image_count = last - first + 1
    if image_count <= 1:
        return None
    width = min(image_count, width)
    z_step = (z_max - z_min) / width
    counts: list[int] = []
    seen = 0
    bound = z_min
    for i in range(1, width):
        bound = z_min + i * z_step
        below = int(np.count_nonzero(jittered < bound))
        counts.append(below - seen)
        seen = below
    counts.append(int(np.count_nonzero(jittered >= bound)))
    n_frames = int(math.floor(z_max)) + 1
    return SpotBins(counts, first, last, _frame_ranges(n_frames, z_min, z_step, width))


def bin_images(counts: Sequence[int | None], first_image: int, width: int) -> SpotBins | None:
    """Per-image counts into at most ``width`` bars by the same rule as :func:`bin_z`.

    Live, only counts per image are known, so each image's spots are placed at its centre; an
    image not reported yet (None) adds nothing. Images are numbered from ``first_image``.
    """
    n = len(counts)
    if n == 0 or width < 1:
        return None
    bars = min(n, width)
    if n == 1:
        return SpotBins([int(counts[0] or 0)], first_image, first_image, [(0, 0)])
    # Centres run from 0.5 to n - 0.5, so a step is (n - 1) / bars and frame k falls in bar
    # floor(k * bars / (n - 1)), the last frame in the last bar: integer arithmetic, no rounding.
    sums = [0] * bars
    frames: list[list[int]] = [[] for _ in range(bars)]
    for k, c in enumerate(counts):
        b = min(bars - 1, k * bars // (n - 1))
        sums[b] += int(c or 0)
        frames[b].append(k)
    return SpotBins(sums, first_image, first_image + n - 1, _ranges(frames))

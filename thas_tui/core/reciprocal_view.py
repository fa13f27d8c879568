"""A reciprocal-space point cloud seen from a direction: views, filters, decimation, a dot raster."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Braille: the bit of each dot of a 2-wide, 4-high cell (U+2800 + the sum of the lit dots).
BRAILLE_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], np.uint8)
# Voxels per axis of the decimation grid: a sample is kept in every occupied voxel.
VOXELS = 48
# Depth is drawn in this many shades (far, middle, near).
DEPTH_LEVELS = 3


def _unit(v: np.ndarray) -> np.ndarray:
    return np.asarray(v, float) / np.linalg.norm(v)


def look_along(direction: np.ndarray, up: np.ndarray | None = None) -> np.ndarray:
    """View matrix (rows: screen right, screen up, towards the viewer) looking down
    `direction`, which points out of the screen (as a view along c* shows a* right and b* up),
    with `up` as near to screen-up as it can be."""
    back = _unit(direction)
    if up is None or np.linalg.norm(np.cross(up, back)) < 1e-6:
        up = np.array([0.0, 1, 0]) if abs(back[1]) < 0.9 else np.array([0.0, 0, 1])
    up = _unit(np.asarray(up, float) - (np.asarray(up, float) @ back) * back)
    right = np.cross(up, back)
    return np.array([right, up, back])


def turn(view: np.ndarray, screen_axis: int, degrees: float) -> np.ndarray:
    """The view turned by `degrees` about a screen axis (0 right, 1 up, 2 towards the viewer)."""
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    i, j = [(1, 2), (2, 0), (0, 1)][screen_axis]
    r = np.eye(3)
    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
    return r @ view


@dataclass(frozen=True)
class Raster:
    """A cloud drawn into `rows` × `cols` character cells of 2 × 4 dots each."""

    pattern: np.ndarray  # (rows, cols) uint8 Braille bits; 0 = empty
    category: np.ndarray  # (rows, cols) most frequent category of the cell's points; -1 empty
    depth: np.ndarray  # (rows, cols) 0 far … DEPTH_LEVELS-1 near
    shown: int  # points drawn (inside the frame)


class Cloud:
    """The points of a lattice ready to be drawn again and again: filter and decimate once,
    then each view is one 3×3 projection and a few bincounts over the kept points."""

    def __init__(self, rlp: np.ndarray, image: np.ndarray, d: np.ndarray, seed: int = 1) -> None:
        self.rlp = np.ascontiguousarray(rlp, float)
        self.image = image
        self.d = d
        n = len(self.rlp)
        r = self.rlp
        norms = np.sqrt(r[:, 0] ** 2 + r[:, 1] ** 2 + r[:, 2] ** 2) if n else np.zeros(0)
        self.radius = float(norms.max()) if n and norms.max() > 0 else 1.0
        cell = np.clip(((self.rlp / self.radius + 1) / 2 * VOXELS).astype(np.int64), 0, VOXELS - 1)
        self.voxel = (cell[:, 0] * VOXELS + cell[:, 1]) * VOXELS + cell[:, 2]
        # Points in voxel order, shuffled inside each voxel, so that the first k of a voxel
        # are a fair sample of it whatever the filter.
        # One integer sort: the voxel in the high bits, a random rank below it.
        shuffle = np.random.default_rng(seed).integers(0, 1 << 24, n)
        self.order = np.argsort((self.voxel << 24) | shuffle)
        self.kept = np.arange(n)
        # (3, n) float32 rows: a 3×3 projection as three multiply-adds per row is ~100× faster
        # than a BLAS matmul of (n, 3) on a busy machine (BLAS threads wait for cores).
        self.points = np.ascontiguousarray(self.rlp.T, np.float32)

    def select(self, mask: np.ndarray | None, budget: int) -> np.ndarray:
        """Keep the points of `mask` (all if None), at most ~`budget` of them: the same number
        from every occupied voxel (never fewer than one), so no region is ever dropped."""
        order = self.order if mask is None else self.order[mask[self.order]]
        m = len(order)
        if m > budget > 0:
            v = self.voxel[order]
            change = np.empty(m, bool)
            change[0] = True
            np.not_equal(v[1:], v[:-1], out=change[1:])
            starts = np.flatnonzero(change)
            sizes = np.diff(np.append(starts, m))
            rank = np.arange(m) - np.repeat(starts, sizes)
            lo, hi = 1, int(sizes.max())
            while lo < hi:  # the largest per-voxel quota that fits the budget
                k = (lo + hi + 1) // 2
                if np.minimum(sizes, k).sum() <= budget:
                    lo = k
                else:
                    hi = k - 1
            order = order[rank < lo]
        self.kept = np.sort(order)
        self.points = np.ascontiguousarray(self.rlp[self.kept].T, np.float32)
        return self.kept

    def scale(self, zoom: float, cols: int, rows: int) -> float:
        """Dots per Å⁻¹: at zoom 1 the sphere of the farthest spot fits the frame."""
        return zoom * 0.98 * min(2 * cols, 4 * rows) / (2 * self.radius)

    def to_dots(
        self, pts: np.ndarray, view: np.ndarray, zoom: float, cols: int, rows: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Dot column, dot row and depth (towards the viewer, Å⁻¹) of (3, n) points."""
        k = self.scale(zoom, cols, rows)
        v = np.asarray(view, np.float32)
        f32 = np.float32
        px = pts[0] * f32(v[0, 0] * k) + pts[1] * f32(v[0, 1] * k) + pts[2] * f32(v[0, 2] * k)
        py = pts[0] * f32(v[1, 0] * k) + pts[1] * f32(v[1, 1] * k) + pts[2] * f32(v[1, 2] * k)
        pz = pts[0] * f32(v[2, 0]) + pts[1] * f32(v[2, 1]) + pts[2] * f32(v[2, 2])
        x = np.floor(px + f32(cols)).astype(np.int32)
        y = np.floor(f32(2 * rows) - py).astype(np.int32)
        return x, y, pz

    def raster(
        self,
        view: np.ndarray,
        zoom: float,
        cols: int,
        rows: int,
        category: np.ndarray,
        n_categories: int,
    ) -> Raster:
        """The kept points under `view`; `category` (one per kept point) colours the cells."""
        w, h = 2 * cols, 4 * rows
        x, y, depth = self.to_dots(self.points, view, zoom, cols, rows)
        inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        if not inside.all():
            x, y, depth, category = x[inside], y[inside], depth[inside], category[inside]
        lit = np.zeros(h * w, np.uint8)
        lit[y * w + x] = 1
        dots = lit.reshape(rows, 4, cols, 2)
        pattern = np.zeros((rows, cols), np.uint8)
        for dy in range(4):
            for dx in range(2):
                pattern |= dots[:, dy, :, dx] * BRAILLE_BITS[dy, dx]
        cell = (y >> 2) * cols + (x >> 1)
        n_cells = rows * cols
        third = np.float32(self.radius / 3)
        level = (depth > -third).astype(np.int32) + (depth > third)
        # The shade of a cell is its points' mean depth level, the colour their commonest category.
        counts = np.bincount(cell, minlength=n_cells)
        level_sum = np.bincount(cell, weights=level, minlength=n_cells)
        mean_level = np.rint(level_sum / np.maximum(counts, 1)).astype(np.int8)
        by_cat = np.bincount(cell * n_categories + category, minlength=n_cells * n_categories)
        cat = by_cat.reshape(n_cells, n_categories).argmax(axis=1)
        cat[counts == 0] = -1
        return Raster(pattern, cat.reshape(rows, cols), mean_level.reshape(rows, cols), int(len(x)))

"""Diffraction image pixels to colours: dials.image_viewer's brightness, colour schemes, overlays."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

SCHEMES = ("grey", "inverted", "heat")
DEFAULT_BRIGHTNESS = 10
# dials.image_viewer's overlay colours: saturated yellow, masked red.
SATURATED = (255, 255, 0)
MASKED = (200, 30, 30)
STRONG = {"grey": (0, 140, 255), "inverted": (0, 140, 255), "heat": (0, 230, 90)}
RING = (0, 200, 200)
BEAM = (255, 0, 255)
CURSOR = (0, 255, 0)
SPOT_COLOURS = {
    "strong": (255, 150, 0),
    "indexed": (40, 220, 40),
    "unindexed": (255, 60, 200),
    "predicted": (170, 60, 255),
    "mask": (255, 90, 0),
}
# Resolution ring candidates (Å), from low to high resolution.
NICE_D = (50, 30, 20, 15, 10, 8, 6, 5, 4, 3.5, 3, 2.5, 2.2, 2, 1.8, 1.6, 1.5, 1.4, 1.3, 1.2)
NICE_D += (1.1, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5)
# Shades drawn (as many as the eye tells apart in a terminal cell; 256 would make ~40x more
# distinct cell styles to build).
LEVELS = 48
# Density characters for NO_COLOR terminals, light to dark.
DENSITY = " .:-=+*#%@"


def brightness_factor(brightness: float, p90: float) -> float:
    """dials.image_viewer's (iotbx FlexImage) scale: counts times this is the shade in 0..1."""
    if p90 > 0:
        return (brightness / 100.0) * 0.4 / p90
    return (brightness / 100.0) / 5.0


def shade(data: np.ndarray, brightness: float, p90: float) -> np.ndarray:
    """0 (no signal) .. 1 (full signal) per bin, in LEVELS steps; a remap, no re-read."""
    s = np.clip(data.astype(np.float32) * brightness_factor(brightness, p90), 0.0, 1.0)
    # Few distinct colours: a terminal style per colour pair is built once and reused.
    return np.round(s * (LEVELS - 1)) / (LEVELS - 1)


def _heat(s: np.ndarray) -> np.ndarray:
    # Black → red → yellow → white, as dials.image_viewer's "heatmap".
    r = np.clip(s * 3.0, 0, 1)
    g = np.clip(s * 3.0 - 1.0, 0, 1)
    b = np.clip(s * 3.0 - 2.0, 0, 1)
    return np.stack([r, g, b], axis=-1)


def colours(
    data: np.ndarray,
    masked: np.ndarray,
    brightness: float,
    p90: float,
    scheme: str,
    saturation: float | None = None,
) -> np.ndarray:
    """An RGB uint8 array (rows, cols, 3) of the binned image: masked and saturated marked."""
    s = shade(data, brightness, p90)
    if scheme == "grey":
        rgb = np.repeat((1.0 - s)[..., None], 3, axis=-1)
    elif scheme == "inverted":
        rgb = np.repeat(s[..., None], 3, axis=-1)
    elif scheme == "heat":
        rgb = _heat(s)
    else:
        raise ValueError(f"no colour scheme {scheme!r}: one of {', '.join(SCHEMES)}")
    out = (rgb * 255.0 + 0.5).astype(np.uint8)
    if saturation is not None:
        out[data >= saturation] = SATURATED
    out[masked.astype(bool) | (data < 0)] = MASKED
    return out


def paint(rgb: np.ndarray, where: np.ndarray, colour: tuple[int, int, int]) -> None:
    """Set the bins where ``where`` is true to ``colour``, in place."""
    rgb[where.astype(bool)] = colour


def ring_values(d: np.ndarray, most: int = 5) -> list[float]:
    """Up to ``most`` round resolutions (Å) spread over those the view spans."""
    finite = d[np.isfinite(d) & (d > 0)]
    if finite.size == 0:
        return []
    lo, hi = float(finite.min()), float(finite.max())
    inside = [v for v in NICE_D if lo < v < hi]
    if len(inside) <= most:
        return inside
    # Even in 1/d^2 (rings evenly spaced on the detector at low angle).
    q = np.array([1.0 / v**2 for v in inside])
    targets = np.linspace(q[0], q[-1], most)
    picked = sorted({int(np.abs(q - t).argmin()) for t in targets})
    return [inside[i] for i in picked]


def ring_mask(d: np.ndarray, value: float) -> np.ndarray:
    """Bins that the ring at resolution ``value`` crosses (a sign change to a neighbour)."""
    side = np.nan_to_num(d, nan=np.inf) > value
    out = np.zeros_like(side)
    out[:, 1:] |= side[:, 1:] != side[:, :-1]
    out[1:, :] |= side[1:, :] != side[:-1, :]
    return out


def ring_label_at(d: np.ndarray, value: float) -> tuple[int, int] | None:
    """Where to print a ring's label: its crossing nearest the top of the view, then the left."""
    rows, cols = np.nonzero(ring_mask(d, value))
    if rows.size == 0:
        return None
    order = np.lexsort((cols, rows))
    return int(rows[order[0]]), int(cols[order[0]])


@dataclass(frozen=True)
class View:
    """Which detector pixels the screen shows: origin (x0, y0), bin size, and size in bins."""

    x0: int
    y0: int
    bin: int
    cols: int
    rows: int

    @property
    def region(self) -> tuple[int, int, int, int]:
        return (self.x0, self.y0, self.x0 + self.cols * self.bin, self.y0 + self.rows * self.bin)

    def to_bin(self, x: float, y: float) -> tuple[int, int]:
        """The (col, row) bin holding detector pixel coordinate (x, y)."""
        return int((x - self.x0) // self.bin), int((y - self.y0) // self.bin)

    def pixel(self, col: int, row: int) -> tuple[int, int]:
        """The detector pixel a bin shows for the cursor (its middle pixel)."""
        return self.x0 + col * self.bin + self.bin // 2, self.y0 + row * self.bin + self.bin // 2


def fit(width: int, height: int, cols: int, rows: int) -> int:
    """The smallest bin that shows a ``width`` x ``height`` detector in ``cols`` x ``rows`` bins."""
    return max(1, -(-width // max(1, cols)), -(-height // max(1, rows)))


def place(
    width: int, height: int, b: int, cols: int, rows: int, cx: float, cy: float
) -> tuple[int, int]:
    """The view origin at bin ``b`` centred on (cx, cy), kept on the detector where it fits."""
    span_x, span_y = cols * b, rows * b
    x0 = int(cx - span_x / 2)
    y0 = int(cy - span_y / 2)
    x0 = min(max(0, x0), max(0, width - span_x)) if span_x < width else -(span_x - width) // 2
    y0 = min(max(0, y0), max(0, height - span_y)) if span_y < height else -(span_y - height) // 2
    return x0, y0


def bins_of(view: View, xy: Iterable[tuple[float, float]]) -> list[tuple[int, int]]:
    """The (col, row) bins of pixel coordinates that fall in ``view``."""
    out = []
    for x, y in xy:
        c, r = view.to_bin(x, y)
        if 0 <= c < view.cols and 0 <= r < view.rows:
            out.append((c, r))
    return out


def density(rgb_top: np.ndarray, rgb_bottom: np.ndarray) -> np.ndarray:
    """Characters for a terminal without colour: the darker of the two bins a cell holds."""
    lum = np.minimum(rgb_top.mean(axis=-1), rgb_bottom.mean(axis=-1)) / 255.0
    idx = ((1.0 - lum) * (len(DENSITY) - 1) + 0.5).astype(int)
    return np.array(list(DENSITY))[idx]


def overlay_fine(
    fine: np.ndarray, base: np.ndarray, marked: np.ndarray, b: int, bf: int
) -> np.ndarray:
    """A finer picture (bin ``bf``) of the view whose coarse picture (bin ``b``) is ``marked``
    (``base`` before its marks): every coarse bin that a mark (cursor, spot, ring, beam, mask
    tint) changed is drawn over the fine bins inside it."""
    h, w = fine.shape[:2]
    rows = np.minimum((np.arange(h) * bf) // b, base.shape[0] - 1)
    cols = np.minimum((np.arange(w) * bf) // b, base.shape[1] - 1)
    changed = (base != marked).any(axis=-1)[np.ix_(rows, cols)]
    out = fine.copy()
    out[changed] = marked[np.ix_(rows, cols)][changed]
    return out

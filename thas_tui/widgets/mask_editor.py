"""The mask being drawn on the image: its shapes, the one under construction, its pixels per bin."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from thas_tui.core import image_render as ir
from thas_tui.core.mask_spec import (
    MASK_PHIL,
    Circle,
    MaskSpec,
    Polygon,
    Rectangle,
    ResolutionRange,
    mask_array,
    save_mask_phil,
)

KEYS = (
    "1 rect · 2 circle · 3 polygon · 4 d range · 5 ice · [ ] border · enter point · u undo · w save"
)


class MaskEditor:
    """Keyboard mask drawing: a shape starts at the cursor, Enter places its next point."""

    def __init__(self) -> None:
        self.spec = MaskSpec()
        self.wanted = False
        self.active = False
        self.loaded = False
        self.pending: tuple[str, list[tuple[int, int]]] | None = None
        self.note = ""
        self._shapes_key: str | None = None
        self._shapes: np.ndarray | None = None

    def load(self, workdir: Path) -> None:
        """Start from the directory's mask.phil when there is one."""
        self.loaded = True
        path = Path(workdir) / MASK_PHIL
        if path.is_file():
            try:
                self.spec = MaskSpec.from_phil(path.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                return
            self.note = f"from {MASK_PHIL}" + (
                f" ({len(self.spec.errors)} lines not understood)" if self.spec.errors else ""
            )

    # -- editing ---------------------------------------------------------------------------------
    def start(self, kind: str, pixel: tuple[int, int]) -> None:
        if kind == "polygon" and self.pending and self.pending[0] == "polygon":
            self.note = self._close_polygon()
            return
        self.pending = (kind, [pixel])
        self.note = {
            "rectangle": "rectangle: move to the opposite corner, Enter",
            "circle": "circle: move to the edge, Enter",
            "polygon": "polygon: Enter adds a vertex at the cursor, 3 closes it",
        }[kind]

    def point(self, pixel: tuple[int, int], detector: tuple[int, int] | None) -> str | None:
        """Place the pending shape's next point; a problem sentence, or None."""
        if self.pending is None:
            return "Start a shape first: 1 rectangle, 2 circle, 3 polygon."
        kind, points = self.pending
        w, h = detector or (10**9, 10**9)
        if kind == "rectangle":
            (ax, ay), (bx, by) = points[0], pixel
            x0, x1 = sorted((ax, bx))
            y0, y1 = sorted((ay, by))
            self.spec.untrusted.append(
                Rectangle(max(0, x0), min(w, x1 + 1), max(0, y0), min(h, y1 + 1))
            )
            self.pending = None
        elif kind == "circle":
            (cx, cy), (ex, ey) = points[0], pixel
            r = max(1, round(math.hypot(ex - cx, ey - cy)))
            self.spec.untrusted.append(Circle(cx, cy, r))
            self.pending = None
        else:
            points.append(pixel)
            self.note = f"polygon: {len(points)} vertices; 3 closes it"
            return None
        self.note = f"{len(self.spec.untrusted)} shapes"
        return None

    def _close_polygon(self) -> str:
        assert self.pending is not None
        points = self.pending[1]
        if len(points) < 3:
            return f"A polygon needs at least 3 vertices (it has {len(points)}): Enter adds one."
        self.spec.untrusted.append(Polygon([(float(x), float(y)) for x, y in points]))
        self.pending = None
        return f"polygon of {len(points)} vertices added"

    def undo(self) -> None:
        if self.pending is not None:
            self.pending = None
        elif self.spec.untrusted:
            self.spec.untrusted.pop()
        self.note = f"{len(self.spec.untrusted)} shapes"

    def cancel(self) -> None:
        self.pending = None
        self.note = "shape cancelled"

    def set_resolution(
        self, d_min: float | None, d_max: float | None, band: tuple[float, float] | None
    ) -> None:
        self.spec.d_min = d_min
        self.spec.d_max = d_max
        if band is not None:
            self.spec.resolution_ranges.append(ResolutionRange(*band))

    # -- pixels ------------------------------------------------------------------------------------
    def masked_bins(
        self, detector: tuple[int, int], view: ir.View, d: np.ndarray, header: dict
    ) -> np.ndarray | None:
        """True where the mask being edited hides at least half a bin of the view."""
        if self.spec.is_empty():
            return None
        w, h = detector
        shapes_only = replace(
            self.spec, d_min=None, d_max=None, resolution_ranges=[], ice_rings=False
        )
        key = shapes_only.to_phil()
        if key != self._shapes_key:
            self._shapes = mask_array(shapes_only, (h, w))
            self._shapes_key = key
        assert self._shapes is not None
        x0, y0, x1, y1 = view.region
        good = self._shapes[max(0, y0) : y1, max(0, x0) : x1]
        b = view.bin
        gh, gw = good.shape
        padded = np.pad(good, ((0, -gh % b), (0, -gw % b)), constant_values=True)
        n = padded.reshape(padded.shape[0] // b, b, padded.shape[1] // b, b).sum(axis=(1, 3))
        bad = n * 2 < b * b
        res = MaskSpec(
            d_min=self.spec.d_min,
            d_max=self.spec.d_max,
            resolution_ranges=self.spec.resolution_ranges,
            ice_rings=self.spec.ice_rings,
        )
        if not res.is_empty():
            res_good = mask_array(res, d.shape, d_map=d.astype(np.float64))
            rh, rw = min(bad.shape[0], d.shape[0]), min(bad.shape[1], d.shape[1])
            bad[:rh, :rw] |= ~res_good[:rh, :rw]
        return bad

    def paint_pending(self, rgb: np.ndarray, view: ir.View) -> None:
        if self.pending is None:
            return
        for c, r in ir.bins_of(view, self.pending[1]):
            rgb[r, c] = ir.SPOT_COLOURS["mask"]

    def status(self) -> str:
        s = self.spec
        counts: dict[str, int] = {}
        for shape in s.untrusted:
            name = type(shape).__name__.lower()
            counts[name] = counts.get(name, 0) + 1
        parts = [f"{n} {k}{'s' if n > 1 else ''}" for k, n in counts.items()]
        if s.border:
            parts.append(f"border {s.border}")
        if s.d_min is not None:
            parts.append(f"d_min {s.d_min:g}")
        if s.d_max is not None:
            parts.append(f"d_max {s.d_max:g}")
        parts += [f"d {r.d1:g}–{r.d2:g}" for r in s.resolution_ranges]
        if s.ice_rings:
            parts.append("ice rings")
        what = ", ".join(parts) or "empty"
        note = f" · {self.note}" if self.note else ""
        return f"MASK {what}{note} · {KEYS}"

    def save(
        self, workdir: Path, detector: tuple[int, int], d_fit: np.ndarray | None
    ) -> tuple[Path | None, list[str]]:
        """Write mask.phil after checking it as DIALS would; (path, []) or (None, problems)."""
        if self.pending is not None:
            return None, ["Finish the shape being drawn (Enter) or cancel it (Escape) first."]
        if self.spec.is_empty():
            return None, ["The mask is empty: draw a shape, a border or a resolution limit first."]
        problems = self.spec.validate([detector])
        if not problems and d_fit is not None:
            res = replace(self.spec, untrusted=[], border=0)
            if not mask_array(res, d_fit.shape, d_map=d_fit.astype(np.float64)).any():
                problems = [
                    "This mask leaves no pixels on the detector: every pixel would be masked."
                ]
        if problems:
            return None, problems
        return save_mask_phil(self.spec, workdir), []

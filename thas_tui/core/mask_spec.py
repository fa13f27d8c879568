"""A detector mask as DIALS's mask.phil describes it: shapes, resolution limits, its numpy pixels."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from thas_tui.core.journal import thas_dir

MASK_PHIL = "mask.phil"
MASKS_DIR = "masks"

# DIALS's ice_rings defaults (dials/util/masking.py): hexagonal ice, P6_3/mmc, ring width in 1/d^2.
ICE_CELL_A = 4.498
ICE_CELL_C = 7.338
ICE_RING_WIDTH = 0.002


@dataclass
class Rectangle:
    """Untrusted pixels x0 <= x < x1, y0 <= y < y1 (half-open, as DIALS)."""

    x0: int
    x1: int
    y0: int
    y1: int
    panel: int = 0


@dataclass
class Circle:
    """Untrusted pixels with (x - xc)^2 + (y - yc)^2 < r^2 on integer pixel indices."""

    xc: int
    yc: int
    r: int
    panel: int = 0


@dataclass
class Polygon:
    """Untrusted pixels whose centres lie inside the polygon (even-odd rule)."""

    vertices: list[tuple[float, float]]
    panel: int = 0


@dataclass
class WholePanel:
    """An `untrusted { panel = N }` with no shape: DIALS masks the whole panel."""

    panel: int = 0


@dataclass
class ResolutionRange:
    """Untrusted pixels with d between d1 and d2 Å (either order, inclusive)."""

    d1: float
    d2: float


Shape = Rectangle | Circle | Polygon | WholePanel


@dataclass
class MaskSpec:
    """What mask.phil says; `errors` holds what `from_phil` could not read."""

    border: int = 0
    d_min: float | None = None
    d_max: float | None = None
    untrusted: list[Shape] = field(default_factory=list)
    resolution_ranges: list[ResolutionRange] = field(default_factory=list)
    ice_rings: bool = False
    errors: list[str] = field(default_factory=list, compare=False, repr=False)

    def is_empty(self) -> bool:
        """True when the mask masks nothing at all."""
        return (
            self.border <= 0
            and self.d_min is None
            and self.d_max is None
            and not self.untrusted
            and not self.resolution_ranges
            and not self.ice_rings
        )

    def to_phil(self) -> str:
        """The mask in DIALS's mask.phil grammar (as the image viewer's mask tool saves it)."""
        lines: list[str] = []
        if self.border > 0:
            lines.append(f"border = {int(self.border)}")
        if self.d_min is not None:
            lines.append(f"d_min = {_num(self.d_min)}")
        if self.d_max is not None:
            lines.append(f"d_max = {_num(self.d_max)}")
        for rr in self.resolution_ranges:
            lines.append(f"resolution_range = {_num(rr.d1)} {_num(rr.d2)}")
        for shape in self.untrusted:
            lines.append("untrusted {")
            lines.append(f"  panel = {int(shape.panel)}")
            if isinstance(shape, Rectangle):
                x0, x1, y0, y1 = _rect_ints(shape)
                lines.append(f"  rectangle = {x0} {x1} {y0} {y1}")
            elif isinstance(shape, Circle):
                xc, yc, r = _circle_ints(shape)
                lines.append(f"  circle = {xc} {yc} {r}")
            elif isinstance(shape, Polygon):
                flat = " ".join(f"{x} {y}" for x, y in _polygon_ints(shape))
                lines.append(f"  polygon = {flat}")
            lines.append("}")
        if self.ice_rings:
            lines += ["ice_rings {", "  filter = True", "}"]
        return "\n".join(lines) + "\n" if lines else ""

    @classmethod
    def from_phil(cls, text: str) -> MaskSpec:
        """Read mask.phil text; what cannot be read is skipped and described in `errors`."""
        return _Reader(text).read()

    def validate(
        self,
        panel_sizes: list[tuple[int, int]],
        d_maps: list[np.ndarray] | None = None,
    ) -> list[str]:
        """What DIALS would refuse or what makes no sense, one sentence each.

        `panel_sizes` are (width, height) in pixels per panel, as dxtbx's `get_image_size()`;
        `d_maps` (d in Å at pixel centres, per panel) let the resolution limits be checked too.
        """
        problems: list[str] = []
        n_panels = len(panel_sizes)
        if self.border < 0:
            problems.append(f"The border must be 0 or more pixels (it is {self.border}).")
        if self.d_min is not None and self.d_min <= 0:
            problems.append(f"d_min must be greater than 0 Å (it is {_num(self.d_min)}).")
        if self.d_max is not None and self.d_max <= 0:
            problems.append(f"d_max must be greater than 0 Å (it is {_num(self.d_max)}).")
        for rr in self.resolution_ranges:
            if rr.d1 == rr.d2:
                problems.append(
                    f"The resolution range {_num(rr.d1)}–{_num(rr.d2)} Å is empty: "
                    "give two different d values."
                )
            elif min(rr.d1, rr.d2) < 0:
                problems.append(
                    f"The resolution range {_num(rr.d1)}–{_num(rr.d2)} Å has a negative d."
                )
        for n, shape in enumerate(self.untrusted, 1):
            where = f"Untrusted region {n} ({_describe(shape)})"
            if not 0 <= shape.panel < n_panels:
                plural = "panel" if n_panels == 1 else "panels"
                problems.append(
                    f"{where} is on panel {shape.panel}, but the detector has "
                    f"{n_panels} {plural} (numbered from 0)."
                )
                continue
            width, height = panel_sizes[shape.panel]
            problem = _shape_problem(shape, width, height)
            if problem:
                problems.append(f"{where} {problem}")
        if problems:
            return problems
        for panel, (width, height) in enumerate(panel_sizes):
            d_map = d_maps[panel] if d_maps is not None else None
            good = mask_array(self, (height, width), d_map=d_map, panel=panel)
            if not good.any():
                name = "the detector" if n_panels == 1 else f"panel {panel}"
                problems.append(
                    f"This mask leaves no pixels on {name}: every pixel would be masked."
                )
        if (
            self.d_min is not None
            and self.d_max is not None
            and self.d_min >= self.d_max
            and not problems
        ):
            problems.append(
                f"d_min {_num(self.d_min)} Å is not smaller than d_max {_num(self.d_max)} Å: "
                "together they mask every pixel."
            )
        return problems


def _num(value: float) -> str:
    """A float as PHIL text, without a trailing .0 for whole numbers."""
    return f"{float(value):.10g}"


def _rect_ints(r: Rectangle) -> tuple[int, int, int, int]:
    return round(r.x0), round(r.x1), round(r.y0), round(r.y1)


def _circle_ints(c: Circle) -> tuple[int, int, int]:
    return round(c.xc), round(c.yc), round(c.r)


def _polygon_ints(p: Polygon) -> list[tuple[int, int]]:
    """The vertices as mask.phil's integers; a triangle closed by repeating its first vertex.

    DIALS 3.12's generate_mask asserts more than 3 vertices; the closing repeat adds only a
    degenerate edge, so the pixels are the triangle's.
    """
    vertices = [(round(x), round(y)) for x, y in p.vertices]
    if len(vertices) == 3:
        vertices.append(vertices[0])
    return vertices


def _describe(shape: Shape) -> str:
    if isinstance(shape, Rectangle):
        return "rectangle {} {} {} {}".format(*_rect_ints(shape))
    if isinstance(shape, Circle):
        return "circle {} {} {}".format(*_circle_ints(shape))
    if isinstance(shape, Polygon):
        return f"polygon of {len(shape.vertices)} vertices"
    return f"whole panel {shape.panel}"


def _shape_problem(shape: Shape, width: int, height: int) -> str | None:
    """Why DIALS would refuse this shape on a width x height panel, or None."""
    size = f"the panel is {width}×{height} pixels"
    if isinstance(shape, Rectangle):
        x0, x1, y0, y1 = _rect_ints(shape)
        if min(x0, x1, y0, y1) < 0:
            return "has a negative coordinate: pixel coordinates start at 0."
        if x1 <= x0 or y1 <= y0:
            return "is empty: x1 must be greater than x0 and y1 greater than y0."
        if x1 > width or y1 > height:
            return f"passes the panel's edge ({size}): x1 must be ≤ {width}, y1 ≤ {height}."
        return None
    if isinstance(shape, Circle):
        xc, yc, r = _circle_ints(shape)
        if r <= 0:
            return "has a radius of 0: give a radius of at least 1 pixel."
        if xc + r <= 0 or yc + r <= 0 or xc - r >= width or yc - r >= height:
            return f"lies wholly off the panel ({size})."
        return None
    if isinstance(shape, Polygon):
        distinct = {(round(x), round(y)) for x, y in shape.vertices}
        if len(distinct) < 3:
            return f"has {len(distinct)} distinct vertices: a polygon needs at least 3."
        if any(x < 0 or y < 0 for x, y in _polygon_ints(shape)):
            return "has a vertex with a negative coordinate: pixel coordinates start at 0."
        xs = [math.floor(x) for x, _ in _polygon_ints(shape)]
        ys = [math.floor(y) for _, y in _polygon_ints(shape)]
        if min(xs) >= width or min(ys) >= height:
            return f"lies wholly off the panel ({size})."
        return None
    return None


# --- reading mask.phil ------------------------------------------------------------------------

_TOKEN = re.compile(r'"[^"]*"|[{}=;\n]|[^\s{}=;"]+')
_SHAPE_NAMES = ("rectangle", "circle", "polygon", "pixel")


class _Reader:
    """A tolerant reader of the part of the PHIL grammar that mask.phil uses."""

    def __init__(self, text: str) -> None:
        self.spec = MaskSpec()
        self.statements = _statements(text)

    def error(self, line: int, message: str) -> None:
        self.spec.errors.append(f"mask.phil line {line}: {message}")

    def read(self) -> MaskSpec:
        scope: str | None = None
        region: dict | None = None
        for line, kind, name, values in self.statements:
            if kind == "open":
                if scope is not None:
                    self.error(line, f"'{name} {{' inside '{scope} {{' is not a mask.phil scope.")
                    continue
                if name not in ("untrusted", "ice_rings"):
                    self.error(line, f"unknown scope '{name}' (ignored).")
                scope = name
                region = {"line": line} if name == "untrusted" else None
                continue
            if kind == "bad":
                self.error(line, f"cannot read '{name}': expected 'name = value' (ignored).")
                continue
            if kind == "close":
                if scope is None:
                    self.error(line, "'}' without an open scope (ignored).")
                elif scope == "untrusted" and region is not None:
                    self.finish_region(region)
                scope, region = None, None
                continue
            full = f"{scope}.{name}" if scope else name
            if "." in full:
                head, _, tail = full.partition(".")
                if head == "untrusted" and scope is None:
                    # untrusted.rectangle = ... at top level is one region of its own
                    one = {"line": line}
                    self.assign_region(one, tail, values, line)
                    self.finish_region(one)
                    continue
                if head == "untrusted" and region is not None:
                    self.assign_region(region, tail, values, line)
                    continue
                if head == "ice_rings":
                    self.assign_ice(tail, values, line)
                    continue
                if scope not in (None, "untrusted", "ice_rings"):
                    continue
            self.assign_top(full, values, line)
        if scope is not None:
            self.error(
                self.statements[-1][0] if self.statements else 1, f"'{scope} {{' is never closed."
            )
            if scope == "untrusted" and region is not None:
                self.finish_region(region)
        return self.spec

    def assign_top(self, name: str, values: list[str], line: int) -> None:
        if name == "border":
            value = self.ints(values, 1, name, line)
            if value is not None:
                self.spec.border = value[0]
        elif name in ("d_min", "d_max"):
            if _is_none(values):
                setattr(self.spec, name, None)
                return
            value = self.floats(values, 1, name, line)
            if value is not None:
                setattr(self.spec, name, value[0])
        elif name == "resolution_range":
            if _is_none(values):
                return
            value = self.floats(values, 2, name, line)
            if value is not None:
                self.spec.resolution_ranges.append(ResolutionRange(value[0], value[1]))
        elif name == "disable_parallax_correction":
            self.error(line, "disable_parallax_correction is not kept by the mask editor.")
        else:
            self.error(line, f"unknown parameter '{name}' (ignored).")

    def assign_ice(self, name: str, values: list[str], line: int) -> None:
        if name == "filter":
            flag = _bool(values)
            if flag is None:
                self.error(
                    line, f"ice_rings.filter must be True or False, not '{' '.join(values)}'."
                )
            else:
                self.spec.ice_rings = flag
        else:
            self.error(
                line, f"ice_rings.{name} is not kept by the mask editor (DIALS's default used)."
            )

    def assign_region(self, region: dict, name: str, values: list[str], line: int) -> None:
        if name == "panel":
            value = self.ints(values, 1, "panel", line)
            if value is None:
                region["bad"] = True
            else:
                region["panel"] = value[0]
        elif name in _SHAPE_NAMES:
            if _is_none(values):
                return
            count = {"rectangle": 4, "circle": 3, "pixel": 2, "polygon": None}[name]
            value = self.ints(values, count, name, line)
            if value is None:
                region["bad"] = True
                return
            if name == "polygon" and len(value) % 2:
                self.error(line, "a polygon needs x y pairs: it has an odd number of values.")
                region["bad"] = True
                return
            region.setdefault("shapes", []).append((name, value))
        else:
            self.error(line, f"unknown parameter 'untrusted.{name}' (ignored).")

    def finish_region(self, region: dict) -> None:
        panel = region.get("panel", 0)
        shapes = region.get("shapes", [])
        if not shapes and not region.get("bad"):
            self.spec.untrusted.append(WholePanel(panel))
        for name, v in shapes:
            if name == "rectangle":
                self.spec.untrusted.append(Rectangle(v[0], v[1], v[2], v[3], panel))
            elif name == "circle":
                self.spec.untrusted.append(Circle(v[0], v[1], v[2], panel))
            elif name == "polygon":
                pairs = [(v[i], v[i + 1]) for i in range(0, len(v), 2)]
                if len(pairs) == 4 and pairs[-1] == pairs[0]:
                    pairs.pop()  # the repeat that closes a triangle for generate_mask
                self.spec.untrusted.append(Polygon(pairs, panel))
            elif name == "pixel":
                # pixel = y x (slow, fast): one pixel is a 1x1 rectangle
                y, x = v
                self.spec.untrusted.append(Rectangle(x, x + 1, y, y + 1, panel))

    def ints(self, values: list[str], count: int | None, name: str, line: int) -> list[int] | None:
        try:
            out = [int(v) for v in values]
        except ValueError:
            self.error(line, f"{name} needs whole numbers, not '{' '.join(values)}'.")
            return None
        if count is not None and len(out) != count or not out:
            self.error(line, f"{name} needs {count or 'some'} whole numbers, got {len(out)}.")
            return None
        return out

    def floats(self, values: list[str], count: int, name: str, line: int) -> list[float] | None:
        try:
            out = [float(v) for v in values]
        except ValueError:
            self.error(line, f"{name} needs numbers, not '{' '.join(values)}'.")
            return None
        if len(out) != count:
            self.error(line, f"{name} needs {count} numbers, got {len(out)}.")
            return None
        return out


def _statements(text: str) -> list[tuple[int, str, str, list[str]]]:
    """(line, kind, name, values) for each `name = values`, `name {` and `}` in PHIL text.

    kind is "assign", "open", "close" or "bad" (words that are none of these).
    """
    text = "\n".join(row.split("#", 1)[0] for row in text.splitlines())
    out: list[tuple[int, str, str, list[str]]] = []
    pending: list[tuple[int, str]] = []
    line = 1

    def flush() -> None:
        if not pending:
            return
        first_line, name = pending[0]
        if len(pending) >= 2 and pending[1][1] == "=":
            values = [part for _, v in pending[2:] for part in v.strip('"').split(",") if part]
            out.append((first_line, "assign", name, values))
        else:
            out.append((first_line, "bad", " ".join(w for _, w in pending), []))
        pending.clear()

    for tok in _TOKEN.findall(text):
        if tok == "\n":
            flush()
            line += 1
        elif tok == ";":
            flush()
        elif tok == "{":
            if len(pending) == 1:
                out.append((pending[0][0], "open", pending[0][1], []))
                pending.clear()
            else:
                flush()
                out.append((line, "bad", "{", []))
        elif tok == "}":
            flush()
            out.append((line, "close", "}", []))
        else:
            pending.append((line, tok))
    flush()
    return out


def _is_none(values: list[str]) -> bool:
    return len(values) == 1 and values[0].lower() == "none"


def _bool(values: list[str]) -> bool | None:
    if len(values) != 1:
        return None
    word = values[0].lower()
    if word in ("true", "yes", "1"):
        return True
    if word in ("false", "no", "0", "none"):
        return False
    return None


# --- pixels ------------------------------------------------------------------------------------


def mask_array(
    spec: MaskSpec,
    shape_slow_fast: tuple[int, int],
    d_map: np.ndarray | None = None,
    panel: int = 0,
    ice_d_min: float | None = None,
) -> np.ndarray:
    """The panel's mask as DIALS's generate_mask makes it: a bool array, True = good pixel.

    `d_map` is d (Å) at each pixel centre as DIALS's ResolutionMaskGenerator computes it:
    1 / |s1 - s0| with s1 = unit(panel.get_lab_coord(panel.pixel_to_millimeter((i + 0.5,
    j + 0.5)))) / wavelength (parallax-corrected; tests/integration/dials_mask_arrays.py does it
    for a whole panel in flex); without it the resolution limits and ice rings are left out.
    `ice_d_min` is DIALS's `panel.get_max_resolution_at_corners(s0)` (else the map's smallest d).
    Shapes that DIALS would refuse are clipped to the panel here (`validate` reports them).
    """
    height, width = shape_slow_fast
    mask = np.ones((height, width), dtype=bool)
    if spec.border > 0:
        b = spec.border
        mask[:b, :] = False
        mask[-b:, :] = False
        mask[:, :b] = False
        mask[:, -b:] = False
    for shape in spec.untrusted:
        if shape.panel != panel:
            continue
        if isinstance(shape, WholePanel):
            mask[:, :] = False
        elif isinstance(shape, Rectangle):
            x0, x1, y0, y1 = _rect_ints(shape)
            mask[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = False
        elif isinstance(shape, Circle):
            _mask_circle(mask, *_circle_ints(shape))
        elif isinstance(shape, Polygon):
            vertices = _polygon_ints(shape)
            if len(vertices) >= 3:
                _mask_polygon(mask, vertices)
    if d_map is None:
        return mask
    ranges: list[tuple[float, float]] = []
    if spec.d_min is not None:
        ranges.append((0.0, spec.d_min))
    if spec.d_max is not None:
        ranges.append((spec.d_max, max(spec.d_max + 1, 1e9)))
    for rr in spec.resolution_ranges:
        ranges.append((min(rr.d1, rr.d2), max(rr.d1, rr.d2)))
    if spec.ice_rings:
        lowest = float(np.nanmin(d_map)) if ice_d_min is None else ice_d_min
        ranges += ice_ring_ranges(lowest)
    for lo, hi in ranges:
        mask &= ~((lo <= d_map) & (d_map <= hi))
    return mask


def _mask_circle(mask: np.ndarray, xc: int, yc: int, r: int) -> None:
    """dxtbx's mask_untrusted_circle: integer pixel indices strictly inside the radius."""
    if r <= 0:
        return
    height, width = mask.shape
    x0, y0 = max(math.floor(xc - r), 0), max(math.floor(yc - r), 0)
    x1, y1 = min(math.ceil(xc + r), width), min(math.ceil(yc + r), height)
    if x1 <= x0 or y1 <= y0:
        return
    i = np.arange(x0, x1, dtype=np.float64)[None, :]
    j = np.arange(y0, y1, dtype=np.float64)[:, None]
    inside = (i - xc) * (i - xc) + (j - yc) * (j - yc) < float(r) * float(r)
    mask[y0:y1, x0:x1] &= ~inside


def _mask_polygon(mask: np.ndarray, vertices: list[tuple[int, int]]) -> None:
    """dxtbx's mask_untrusted_polygon: pixel centres inside by the even-odd rule."""
    height, width = mask.shape
    xs = [math.floor(x) for x, _ in vertices]
    ys = [math.floor(y) for _, y in vertices]
    x0, y0 = max(min(xs), 0), max(min(ys), 0)
    x1, y1 = min(max(xs) + 1, width), min(max(ys) + 1, height)
    if x1 <= x0 or y1 <= y0:
        return
    x = np.arange(x0, x1, dtype=np.float64)[None, :] + 0.5
    y = np.arange(y0, y1, dtype=np.float64)[:, None] + 0.5
    inside = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    poly = [(float(px), float(py)) for px, py in vertices]
    j = len(poly) - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(len(poly)):
            xi, yi = poly[i]
            xj, yj = poly[j]
            crosses = (yi > y) != (yj > y)
            if crosses.any():
                # the same arithmetic, in the same order, as dxtbx's is_inside_polygon
                edge_x = (xj - xi) * (y - yi) / (yj - yi) + xi
                inside ^= crosses & (x < edge_x)
            j = i
    mask[y0:y1, x0:x1] &= ~inside


def ice_ring_d_spacings(d_min: float) -> list[float]:
    """d (Å) of hexagonal ice's reflections down to d_min, as DIALS's default ice_rings uses.

    cctbx's `build_miller_set` for P6_3/mmc (a = 4.498, c = 7.338 Å) less its systematic
    absences (hh-2h-l with l odd); d depends only on h^2 + hk + k^2 and l, so each value once.
    """
    a, c = ICE_CELL_A, ICE_CELL_C
    hmax = int(2 * a / d_min) + 2
    lmax = int(c / d_min) + 2
    limit = 1.0 / (d_min * d_min)
    keys: set[tuple[int, int]] = set()
    for h in range(hmax + 1):
        for k in range(hmax + 1):
            for ell in range(lmax + 1):
                if (h, k, ell) == (0, 0, 0) or (ell % 2 and h == k):
                    continue
                keys.add((h * h + h * k + k * k, ell))
    spacings = []
    for q, ell in keys:
        inv_d2 = 4.0 / 3.0 * q / (a * a) + ell * ell / (c * c)
        if inv_d2 <= limit:
            spacings.append(1.0 / math.sqrt(inv_d2))
    return sorted(spacings, reverse=True)


def ice_ring_ranges(d_min: float, width: float = ICE_RING_WIDTH) -> list[tuple[float, float]]:
    """(d_lo, d_hi) per ice ring: d ± width/2 in 1/d^2, as dials.util.masking computes them."""
    half = width * 0.5
    out = []
    for d in ice_ring_d_spacings(d_min):
        inv = 1.0 / (d * d)
        out.append((math.sqrt(1.0 / (inv + half)), math.sqrt(1.0 / (inv - half))))
    return out


# --- saving ------------------------------------------------------------------------------------


def save_mask_phil(spec: MaskSpec, workdir: str | os.PathLike[str]) -> Path:
    """Write workdir/mask.phil; a different mask.phil already there is archived first.

    The earlier file goes to thas-tui/masks/mask.N.phil (N counting up), never overwritten.
    """
    workdir = Path(workdir)
    path = workdir / MASK_PHIL
    text = spec.to_phil()
    if path.exists():
        try:
            old = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            old = None
        if old == text:
            return path
        archive_mask_phil(workdir)
    tmp = path.with_name(f".{MASK_PHIL}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def archive_mask_phil(workdir: str | os.PathLike[str]) -> Path | None:
    """Move workdir/mask.phil to thas-tui/masks/mask.N.phil; the new path, or None if absent."""
    path = Path(workdir) / MASK_PHIL
    if not path.exists():
        return None
    dest_dir = thas_dir(workdir) / MASKS_DIR
    dest_dir.mkdir(parents=True, exist_ok=True)
    n = 1
    while (dest := dest_dir / f"mask.{n}.phil").exists():
        n += 1
    os.replace(path, dest)
    return dest

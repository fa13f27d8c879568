"""The reciprocal lattice viewer: spots in reciprocal space as a Braille point cloud, turned by keys."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np
from rich.color import Color as RichColor
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from thas_tui.core.reciprocal import DShell, Lattice, unindexed_by_d
from thas_tui.core.reciprocal_view import DEPTH_LEVELS, Cloud, Raster, look_along, turn

COARSE, FINE = 15.0, 2.0  # degrees per turn key
ZOOM_STEP = 1.25
# Max Z animation: frames per second, and the sweep's length in frames (at most).
ANIMATE_FPS = 12
ANIMATE_FRAMES = 48
# Resolution cut-offs offered by d / D (Å); only those inside the data are used.
D_STEPS = (10.0, 8.0, 6.0, 5.0, 4.0, 3.5, 3.0, 2.5, 2.0, 1.8, 1.6, 1.4, 1.2, 1.0, 0.9, 0.8)
# The unindexed-per-d table goes beside the cloud from this width on (else it replaces it).
TABLE_WIDTH = 45
SIDE_TABLE_MIN = 90
# Colours: images from first (blue) to last (red); unindexed white, lattices a palette (as the
# DIALS viewer: id -1 white, id i palette[i mod 7]).
IMAGE_COLOURS = (
    "#4060ff",
    "#2f9bff",
    "#22d3d3",
    "#35d66b",
    "#b5e234",
    "#ffd23a",
    "#ff9330",
    "#ff4040",
)
UNINDEXED = "#ffffff"
LATTICE_COLOURS = ("#ff5f5f", "#5fd75f", "#5fafff", "#ffd75f", "#d787ff", "#5fd7d7", "#ff9f4f")
AXIS_COLOUR = "#ff00ff"
SHOW = ("all", "indexed", "unindexed")
ASCII_DEPTH = (".", "o", "@")  # far, middle, near
AXIS_ID = -2  # the style of the cell axes' cells
# Every segment carries a style: Textual's NO_COLOR filter (Monochrome) fails on None.
PLAIN = Style()


@dataclass(frozen=True)
class Scene:
    """A lattice and its cloud, built off the event loop (the cloud's sort is the heavy part)."""

    lattice: Lattice
    cloud: Cloud
    shells: tuple[DShell, ...]


def make_scene(lattice: Lattice) -> Scene:
    """Everything a view needs that depends only on the data (run it in a worker)."""
    cloud = Cloud(lattice.rlp, lattice.image, lattice.d)
    return Scene(lattice, cloud, tuple(unindexed_by_d(lattice)))


class LatticeView(Widget, can_focus=True):
    """Spots in reciprocal space; the screen sets the scene, this draws it and takes the keys."""

    BINDINGS = [
        Binding("left", "turn(1, -1)", "Turn", show=False),
        Binding("right", "turn(1, 1)", "Turn", show=False),
        Binding("up", "turn(0, -1)", "Turn", show=False),
        Binding("down", "turn(0, 1)", "Turn", show=False),
        Binding("shift+left", "turn(1, -1, True)", "Turn fine", show=False),
        Binding("shift+right", "turn(1, 1, True)", "Turn fine", show=False),
        Binding("shift+up", "turn(0, -1, True)", "Turn fine", show=False),
        Binding("shift+down", "turn(0, 1, True)", "Turn fine", show=False),
        Binding("comma", "turn(2, 1)", "Roll", show=False),
        Binding("full_stop", "turn(2, -1)", "Roll", show=False),
        Binding("plus,equals_sign", "zoom(1)", "Zoom in", show=False),
        Binding("minus", "zoom(-1)", "Zoom out", show=False),
        Binding("0", "reset", "Reset view", show=False),
        Binding("1", "view('axis')", "Along the rotation axis", show=False),
        Binding("2", "view('beam')", "Along the beam", show=False),
        Binding("3", "view('a*')", "Along a*", show=False),
        Binding("4", "view('b*')", "Along b*", show=False),
        Binding("5", "view('c*')", "Along c*", show=False),
        Binding("left_square_bracket", "max_z(-1)", "Max Z -1", show=False),
        Binding("right_square_bracket", "max_z(1)", "Max Z +1", show=False),
        Binding("left_curly_bracket", "max_z(-10)", "Max Z -10 %", show=False),
        Binding("right_curly_bracket", "max_z(10)", "Max Z +10 %", show=False),
        Binding("space", "animate", "Play the sweep", show=False),
        Binding("d", "resolution(1)", "Higher d_min", show=False),
        Binding("D", "resolution(-1)", "Lower d_min", show=False),
        Binding("x", "toggle_axes", "Cell axes", show=False),
        Binding("t", "toggle_source", "strong/indexed", show=False),
        Binding("u", "toggle_table", "Unindexed by d", show=False),
        Binding("o", "cycle_show", "Show all/indexed/unindexed", show=False),
    ]

    class SourceRequested(Message):
        """The user asked for the other reflection file (strong.refl ↔ indexed.refl)."""

        def __init__(self, source: str) -> None:
            super().__init__()
            self.source = source

    def __init__(
        self,
        *,
        ascii_only: bool = False,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's keyword
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.ascii_only = ascii_only
        self.scene: Scene | None = None
        self.message = "Lattice: waiting for strong.refl (dials.find_spots writes it)."
        self.source = "strong"
        self.view = np.eye(3)
        self.zoom = 1.0
        self.view_name = "beam"
        self.max_image = 1
        self.d_min: float | None = None
        self.show = "all"
        self.axes_on = True
        self.table_on = True
        self.table_only = False
        self._category = np.zeros(0, np.int32)
        self._n_categories = 1
        self._kept_category = np.zeros(0, np.int32)
        self._lines: list[Strip] = []
        self._drawn_for: tuple | None = None
        self._animation: Timer | None = None
        self._styles: dict[tuple[int, int], Style] = {}
        self._n_shown = 0
        self._table_cache: tuple[object, list[list[Segment]]] = (None, [])
        self._axes_scale = 1
        self.redraws = 0

    # -- data in (from the screen) ------------------------------------------------------------
    def set_scene(self, scene: Scene) -> None:
        """Show a new lattice; the view, zoom and filters are kept when the geometry is the same
        sweep (a re-index), else reset."""
        first = self.scene is None or self.scene.lattice.image_range != scene.lattice.image_range
        self.scene = scene
        self.source = scene.lattice.source
        self.message = ""
        if first:
            self.max_image = scene.lattice.image_range[1]
            self.d_min = None
            self._reset_view()
        if self.source == "strong" and self.show != "all":
            self.show = "all"
        self._colour_by()
        self._select()

    def set_message(self, text: str) -> None:
        """Nothing to draw: say why (which stage writes the file, what is damaged)."""
        self.scene = None
        self.message = text
        self._invalidate()

    # -- the state behind a frame ---------------------------------------------------------------
    def _colour_by(self) -> None:
        lat = self.scene.lattice  # type: ignore[union-attr]
        if lat.source == "indexed":
            self._category = np.where(lat.experiment < 0, 0, 1 + lat.experiment % 7).astype(
                np.int32
            )
            self._n_categories = 8
        else:
            first, last = lat.image_range
            span = max(last - first + 1, 1)
            cat = (lat.image - first) * len(IMAGE_COLOURS) // span
            self._category = np.clip(cat, 0, len(IMAGE_COLOURS) - 1).astype(np.int32)
            self._n_categories = len(IMAGE_COLOURS)

    def _mask(self) -> np.ndarray | None:
        lat = self.scene.lattice  # type: ignore[union-attr]
        mask = None
        if self.max_image < lat.image_range[1]:
            mask = lat.image <= self.max_image
        if self.d_min is not None:
            m = lat.d >= self.d_min
            mask = m if mask is None else mask & m
        if self.show != "all" and lat.source == "indexed":
            m = lat.indexed if self.show == "indexed" else ~lat.indexed
            mask = m if mask is None else mask & m
        return mask

    def _budget(self) -> int:
        # Twice the dots of the frame: every dot that a point would light can still be lit
        # (decimation keeps a sample in every occupied voxel), at a fraction of the work.
        cols, rows = self._plot_size()
        return max(20_000, 2 * 8 * cols * rows)

    def _select(self) -> None:
        if self.scene is None:
            return
        mask = self._mask()
        kept = self.scene.cloud.select(mask, self._budget())
        self._kept_category = self._category[kept]
        self._n_shown = len(self.scene.lattice.rlp) if mask is None else int(mask.sum())
        self._invalidate()

    def _invalidate(self) -> None:
        self._drawn_for = None
        self.refresh()

    def _reset_view(self) -> None:
        self.zoom = 1.0
        self._set_view("beam")

    def _direction(self, name: str) -> tuple[np.ndarray, np.ndarray | None] | None:
        lat = self.scene.lattice  # type: ignore[union-attr]
        if name == "axis":
            return lat.rotation_axis, lat.beam
        if name == "beam":
            # From the source: the beam goes into the screen, the rotation axis horizontal.
            up = np.cross(lat.beam, lat.rotation_axis)
            return -lat.beam, up
        if not lat.crystals:
            return None
        a = lat.crystals[0].A
        star = {"a*": 0, "b*": 1, "c*": 2}[name]
        up = a[:, 2] if star != 2 else a[:, 1]
        # Along a reciprocal axis: the other two span the screen, the lattice rows line up.
        return a[:, star], up

    def _set_view(self, name: str) -> bool:
        found = self._direction(name)
        if found is None:
            return False
        self.view = look_along(*found)
        self.view_name = name
        self._invalidate()
        return True

    # -- actions ------------------------------------------------------------------------------
    def action_turn(self, axis: int, sign: int, fine: bool = False) -> None:
        if self.scene is None:
            return
        self.view = turn(self.view, axis, sign * (FINE if fine else COARSE))
        self.view_name = "free"
        self._invalidate()

    def action_zoom(self, sign: int) -> None:
        self.zoom = min(max(self.zoom * ZOOM_STEP**sign, 0.2), 50.0)
        self._invalidate()

    def action_reset(self) -> None:
        if self.scene is None:
            return
        self._stop_animation()
        self.max_image = self.scene.lattice.image_range[1]
        self.d_min = None
        self.show = "all"
        self._reset_view()
        self._select()

    def action_view(self, name: str) -> None:
        if self.scene is None:
            return
        if not self._set_view(name):
            self.notify(
                f"No crystal model yet: the view along {name} needs indexing (indexed.expt).",
                severity="warning",
            )

    def action_max_z(self, step: int) -> None:
        if self.scene is None:
            return
        first, last = self.scene.lattice.image_range
        if abs(step) == 10:
            step = (1 if step > 0 else -1) * max(1, (last - first + 1) // 10)
        self._stop_animation()
        self._set_max_image(self.max_image + step)

    def _set_max_image(self, value: int) -> None:
        first, last = self.scene.lattice.image_range  # type: ignore[union-attr]
        value = min(max(value, first), last)
        if value != self.max_image:
            self.max_image = value
            self._select()

    def action_animate(self) -> None:
        """Sweep Max Z from the first image to the last: reciprocal space fills as measured."""
        if self.scene is None:
            return
        if self._animation is not None:
            self._stop_animation()
            return
        first, last = self.scene.lattice.image_range
        step = max(1, (last - first + 1) // ANIMATE_FRAMES)
        self._set_max_image(first)

        def tick() -> None:
            if self.max_image >= last:
                self._stop_animation()
                return
            self._set_max_image(self.max_image + step)

        self._animation = self.set_interval(1 / ANIMATE_FPS, tick)

    def _stop_animation(self) -> None:
        if self._animation is not None:
            self._animation.stop()
            self._animation = None
            self._invalidate()

    @property
    def animating(self) -> bool:
        return self._animation is not None

    def action_resolution(self, sign: int) -> None:
        if self.scene is None:
            return
        d = self.scene.lattice.d
        finite = d[np.isfinite(d)]
        if not len(finite):
            return
        lo, hi = float(finite.min()), float(finite.max())
        steps = [s for s in D_STEPS if lo < s < hi]
        if not steps:
            return
        if self.d_min is None:
            new = steps[-1] if sign > 0 else None
        else:
            i = steps.index(self.d_min) if self.d_min in steps else len(steps) - 1
            j = i - sign
            new = steps[j] if 0 <= j < len(steps) else (None if j >= len(steps) else steps[0])
        self.d_min = new
        self._select()

    def action_toggle_axes(self) -> None:
        self.axes_on = not self.axes_on
        self._invalidate()

    def action_toggle_table(self) -> None:
        if self.size.width >= SIDE_TABLE_MIN:
            self.table_on = not self.table_on
        else:
            self.table_only = not self.table_only
        self._select()  # the plot's size, hence the dot budget, changes

    def action_cycle_show(self) -> None:
        if self.scene is None or self.scene.lattice.source != "indexed":
            self.notify("Indexed and unindexed spots are told apart in indexed.refl (t).")
            return
        self.show = SHOW[(SHOW.index(self.show) + 1) % len(SHOW)]
        self._select()

    def action_toggle_source(self) -> None:
        self._stop_animation()
        self.post_message(self.SourceRequested("indexed" if self.source == "strong" else "strong"))

    # -- drawing ------------------------------------------------------------------------------
    def _table_shown(self, width: int) -> bool:
        if self.scene is None or self.scene.lattice.source != "indexed" or not self.scene.shells:
            return False
        # Beside the cloud when there is room; else in its place, on request only.
        return self.table_on if width >= SIDE_TABLE_MIN else self.table_only

    def _plot_size(self, size: tuple[int, int] | None = None) -> tuple[int, int]:
        width, height = size or (self.size.width, self.size.height)
        width, height = max(width, 20), max(height, 6)
        cols = width
        if self._table_shown(width):
            cols = width - TABLE_WIDTH - 1 if width >= SIDE_TABLE_MIN else 0
        return max(cols, 0), max(height - 3, 1)

    def on_resize(self) -> None:
        self._select()

    def render_line(self, y: int) -> Strip:
        size = self.size
        key = (size.width, size.height)
        if self._drawn_for != key:
            self._lines = self._draw(*key)
            self._drawn_for = key
            self.redraws += 1
        if y < len(self._lines):
            return self._lines[y]
        return Strip.blank(size.width, PLAIN)

    def frame_text(self) -> list[str]:
        """The drawn frame as plain text, a line per row (tests, screenshots in text)."""
        self._drawn_for = None
        self.render_line(0)
        return ["".join(seg.text for seg in strip) for strip in self._lines]

    def _draw(self, width: int, height: int) -> list[Strip]:
        if width <= 0 or height <= 0:
            return []
        if self.scene is None:
            muted = Style(italic=True, dim=True)
            lines = [
                Strip([Segment(line, muted)]).adjust_cell_length(width, PLAIN)
                for line in textwrap.wrap(self.message, width, break_long_words=True)[:height]
            ]
            return lines + [Strip.blank(width, PLAIN)] * (height - len(lines))
        lat = self.scene.lattice
        cols, rows = self._plot_size((width, height))
        body: list[list[Segment]] = [[] for _ in range(rows)]
        if cols > 0:
            raster = self.scene.cloud.raster(
                self.view, self.zoom, cols, rows, self._kept_category, self._n_categories
            )
            body = self._rows(raster, cols, rows, lat.source == "indexed")
        used = cols
        if self._table_shown(width):
            table = self._table_rows(rows)
            gap = [Segment(" ", PLAIN)] if cols else []
            body = [b + gap + t for b, t in zip(body, table, strict=True)]
            used = cols + len(gap) + TABLE_WIDTH
        lines = [self._legend_line(width), self._state_line(width)]
        # No empty segments: Textual's line_trim (an outline's) fails on them.
        pad = [Segment(" " * (width - used), PLAIN)] if width > used else []
        # Every cell of the body is one column wide: the strips need no measuring.
        strips = [Strip([*segs, *pad], max(used, width)) for segs in body]
        lines += strips if used <= width else [strip.crop(0, width) for strip in strips]
        lines.append(self._keys_line(width))
        return lines[:height]

    def _style(self, category: int, level: int, indexed_mode: bool) -> Style:
        key = (category if indexed_mode else 100 + category, level)
        style = self._styles.get(key)
        if style is None:
            if indexed_mode:
                hexc = UNINDEXED if category == 0 else LATTICE_COLOURS[(category - 1) % 7]
            else:
                hexc = IMAGE_COLOURS[category]
            # Far points fade towards the background; near ones are full strength.
            fade = (0.45, 0.72, 1.0)[level]
            rgb = RichColor.parse(hexc).get_truecolor()
            colour = RichColor.from_rgb(rgb.red * fade, rgb.green * fade, rgb.blue * fade)
            no_colour = getattr(self.app, "no_color", False)
            style = Style(
                color=colour,
                bold=no_colour and level == DEPTH_LEVELS - 1,
                dim=no_colour and level == 0,
            )
            self._styles[key] = style
        return style

    def _rows(self, r: Raster, cols: int, rows: int, indexed_mode: bool) -> list[list[Segment]]:
        """The raster as segments, a run of cells of one style per segment."""
        if self.ascii_only:
            glyphs = np.array([ord(c) for c in ASCII_DEPTH], np.uint32)[r.depth]
            codes = np.where(r.pattern > 0, glyphs, 32).astype(np.uint32)
        else:
            codes = np.where(r.pattern > 0, 0x2800 + r.pattern.astype(np.uint32), 32)
            codes = codes.astype(np.uint32)
        style_id = np.where(r.category >= 0, r.category * DEPTH_LEVELS + r.depth, -1)
        if self.axes_on and self.scene is not None and self.scene.lattice.crystals:
            self._overlay_axes(codes, style_id, cols, rows)
        styles = {-1: Style(), AXIS_ID: Style(color=AXIS_COLOUR, bold=True)}
        # Every run of one style in the whole raster at once: a run starts at each column where
        # the style changes, and at each row's first column.
        starts = np.ones((rows, cols), bool)
        starts[:, 1:] = style_id[:, 1:] != style_id[:, :-1]
        flat = np.flatnonzero(starts)
        ends = np.append(flat[1:], rows * cols)
        ends = np.minimum(ends, (flat // cols + 1) * cols)
        text = codes.tobytes().decode("utf-32-le")
        ids = style_id.ravel()[flat].tolist()
        out: list[list[Segment]] = [[] for _ in range(rows)]
        for s, e, sid in zip(flat.tolist(), ends.tolist(), ids, strict=True):
            style = styles.get(sid)
            if style is None:
                style = self._style(sid // DEPTH_LEVELS, sid % DEPTH_LEVELS, indexed_mode)
                styles[sid] = style
            out[s // cols].append(Segment(text[s:e], style))
        return out

    def _overlay_axes(self, codes: np.ndarray, style_id: np.ndarray, cols: int, rows: int) -> None:
        """a*, b*, c* of the first crystal drawn from the origin, scaled to be seen, labelled."""
        lat = self.scene.lattice  # type: ignore[union-attr]
        cloud = self.scene.cloud  # type: ignore[union-attr]
        a = lat.crystals[0].A
        longest = float(np.linalg.norm(a, axis=0).max())
        self._axes_scale = max(1, int(0.4 * cloud.radius / longest))
        t = np.linspace(0.0, 1.0, 4 * max(cols, rows))
        dot = ord("+" if self.ascii_only else "·")
        labels = []
        for i, label in enumerate(("a*", "b*", "c*")):
            seg = np.outer(a[:, i] * self._axes_scale, t).astype(np.float32)
            x, y, _ = cloud.to_dots(seg, self.view, self.zoom, cols, rows)
            cx, cy = x // 2, y // 4
            ok = (cx >= 0) & (cx < cols) & (cy >= 0) & (cy < rows)
            codes[cy[ok], cx[ok]] = dot
            style_id[cy[ok], cx[ok]] = AXIS_ID
            if ok.any():
                labels.append((int(cy[ok][-1]), int(cx[ok][-1]), label))
        for ty, tx, label in labels:  # after the lines, so that no line crosses a label
            for k, ch in enumerate(label):
                if tx + 1 + k < cols:
                    codes[ty, tx + 1 + k] = ord(ch)
                    style_id[ty, tx + 1 + k] = AXIS_ID

    def _legend_line(self, width: int) -> Strip:
        lat = self.scene.lattice  # type: ignore[union-attr]
        sep = " | " if self.ascii_only else " · "
        files = f"{lat.refl_path.name} + {lat.expt_path.name}"
        text = lat.legend().replace(" · ", sep)
        segs = [Segment(text, Style(bold=True)), Segment(sep + files, Style(dim=True))]
        if lat.still:
            segs.append(Segment(sep + "stills: one orientation", Style(color="yellow")))
        return Strip(segs).adjust_cell_length(width, PLAIN)

    def _state_line(self, width: int) -> Strip:
        lat = self.scene.lattice  # type: ignore[union-attr]
        first, last = lat.image_range
        sep = " | " if self.ascii_only else " · "
        ge, angstrom = (">=", "A") if self.ascii_only else ("≥", "Å")
        playing = " (playing)" if self.animating else ""
        parts = [
            f"view {self.view_name}",
            f"zoom {self.zoom:.2g}",
            f"Max Z {self.max_image}/{last}{playing}",
            f"d {ge} " + (f"{self.d_min:g} {angstrom}" if self.d_min else "all"),
            f"{self._n_shown:,} shown",
        ]
        if lat.source == "indexed" and self.show != "all":
            parts.append(f"only {self.show}")
        segs = [Segment(sep.join(parts) + sep, Style(dim=True))]
        if lat.source == "indexed":
            segs.append(Segment("■" if not self.ascii_only else "#", self._style(0, 2, True)))
            segs.append(Segment(" unindexed ", PLAIN))
            for e in lat.experiments[:7]:
                segs.append(
                    Segment("■" if not self.ascii_only else "#", self._style(1 + e % 7, 2, True))
                )
                segs.append(Segment(f" exp {e} ", PLAIN))
        else:
            segs.append(Segment(f"image {first} ", PLAIN))
            for i in range(len(IMAGE_COLOURS)):
                segs.append(Segment("█" if not self.ascii_only else "#", self._style(i, 2, False)))
            segs.append(Segment(f" {last}", PLAIN))
        if self.axes_on and lat.crystals:
            segs.append(
                Segment(
                    f"{sep}axes {'x' if self.ascii_only else '×'}{self._axes_scale}",
                    Style(color=AXIS_COLOUR),
                )
            )
        return Strip(segs).adjust_cell_length(width, PLAIN)

    def _keys_line(self, width: int) -> Strip:
        if width >= 150:
            text = (
                "←→↑↓ turn (⇧ fine) ,. roll  +- zoom  0 reset  1 axis 2 beam 3 a* 4 b* 5 c*  "
                "[ ] { } Max Z  space play  d/D resolution  x axes  t strong/indexed  "
                "u table  o only"
            )
        else:
            text = "←→↑↓ turn +- zoom 0 reset 1-5 views [ ] Max Z space play d/D res t file u o"
        if self.ascii_only:
            text = text.replace("←→↑↓", "arrows").replace("⇧", "shift")
        return Strip([Segment(text, Style(dim=True))]).adjust_cell_length(width, PLAIN)

    def _table_rows(self, rows: int) -> list[list[Segment]]:
        """The unindexed-per-d table, TABLE_WIDTH cells a row (all one-cell characters)."""
        key = (id(self.scene), rows)
        if self._table_cache[0] != key:
            self._table_cache = (key, self._build_table(rows))
        return self._table_cache[1]

    def _build_table(self, rows: int) -> list[list[Segment]]:
        shells = self.scene.shells  # type: ignore[union-attr]
        d_head = "d (A)" if self.ascii_only else "d (Å)"
        dash = "-" if self.ascii_only else "–"
        lines: list[list[tuple[str, Style]]] = [
            [("Unindexed spots by resolution", Style(bold=True))],
            [(f"{d_head:^11} {'spots':>7} {'unind':>6}    %", Style(dim=True))],
        ]
        for s in shells:
            pct = 100 * s.n_unindexed / s.n_spots if s.n_spots else 0.0
            d_range = f"{s.d_max:5.2f}{dash}{s.d_min:<5.2f}"
            text = f"{d_range:11} {s.n_spots:7,} {s.n_unindexed:6,} {pct:4.0f}"
            style = Style(color="yellow", bold=True) if s.excess else Style()
            line = [(text, style)]
            if s.ice:
                rings = " ".join(f"{r:.2f}" for r in s.ice)
                line.append((f" ice {rings}", style if s.excess else Style(dim=True)))
            lines.append(line)
        out = []
        for line in lines[:rows]:
            segs, used = [], 0
            for text, style in line:
                text = text[: TABLE_WIDTH - used]
                if text:
                    segs.append(Segment(text, style))
                    used += len(text)
            if used < TABLE_WIDTH:
                segs.append(Segment(" " * (TABLE_WIDTH - used), PLAIN))
            out.append(segs)
        return out + [[Segment(" " * TABLE_WIDTH, PLAIN)] for _ in range(rows - len(out))]

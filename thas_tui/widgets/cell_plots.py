"""Scan-varying unit cell and orientation against image number (as dials.plot_scan_varying_model)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.strip import Strip
from textual.widgets import Static
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from thas_tui.core.decimate import envelope
from thas_tui.widgets.ansi_strips import AnsiStrips
from thas_tui.widgets.panel import Panel

EMPTY_MESSAGE = "no data yet — appears when scan-varying refine finishes"

# plotext draws its frame with box-drawing characters whatever the marker; map them for
# terminals without Unicode.
_ASCII_FRAME = str.maketrans(
    {
        "─": "-",
        "│": "|",
        "┌": "+",
        "┐": "+",
        "└": "+",
        "┘": "+",
        "┼": "+",
        "┬": "+",
        "┴": "+",
        "├": "+",
        "┤": "+",
        "•": "*",
        "Δ": "d",
        "α": "alpha",
        "β": "beta",
        "γ": "gamma",
        "φ": "phi",
        "½": "1/2",
        "⟨": "<",
        "⟩": ">",
        "σ": "sig",
        "Å": "A",
        "°": "deg",
        "…": "...",
        "—": "-",
        "–": "-",
        "▲": "^",
    }
)

DrawFunc = Callable[[Plot, int, int, Callable[[int, str], str]], None]


def ascii_text(text: str) -> str:
    """Replace the Unicode characters these panels use with ASCII stand-ins."""
    return text.translate(_ASCII_FRAME)


class PanelPlot(PlotextPlot):
    """A PlotextPlot redrawn from a draw function when its data or size changes, so ticks follow
    its size; its lines are decoded to strips directly (see widgets/ansi_strips.py)."""

    DEFAULT_CSS = """
    PanelPlot { width: 1fr; height: 1fr; min-width: 20; min-height: 7; }
    """

    ascii_only: reactive[bool] = reactive(False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes=classes)
        self._draw: DrawFunc | None = None
        self._version = 0
        self._decoder = AnsiStrips()
        self._strips: list[Strip] = []
        self._strips_key: tuple[object, ...] | None = None

    def set_draw(self, draw: DrawFunc | None) -> None:
        """Use `draw(plt, width, height, marker)` to build the figure at each render."""
        self._draw = draw
        self._version += 1
        self.refresh()

    def marker(self, index: int, letter: str) -> str:
        """Marker for series `index`: braille lines, or a letter when colour or Unicode is missing."""
        if self.ascii_only or getattr(self.app, "no_color", False):
            return letter
        return "braille"

    def build_ansi(self) -> str:
        """The figure as plotext draws it at the widget's size, with terminal colour codes."""
        width, height = self.size
        plt = self.plt
        plt.clear_figure()
        if self._draw is not None:
            self._draw(plt, width, height, self.marker)
        # As PlotextPlot.render: the size twice (textual-plotext issue 5) and the app's theme.
        plt.plotsize(width, height)
        plt._set_size(width, height)  # noqa: SLF001
        plt.theme(self._get_plotext_theme_name(self.app.theme))
        ansi = plt.build()
        if self.ascii_only:
            # Escape codes are ASCII: only the drawing changes.
            ansi = ansi.translate(_ONE_CHAR_ASCII)
        return ansi

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        key = (width, height, self._version, self.ascii_only, self.app.theme, self.theme)
        if key != self._strips_key:
            self._strips = self._decoder.strips(self.build_ansi(), width, height, self.rich_style)
            self._strips_key = key
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, self.rich_style)


# The multi-character stand-ins (α → alpha) would shift the columns, so only one-for-one ones.
_ONE_CHAR_ASCII = str.maketrans({k: v for k, v in _ASCII_FRAME.items() if len(v) == 1})


@dataclass(frozen=True)
class ModelChange:
    """First and last value of one scan-varying parameter."""

    name: str
    first: float
    last: float
    unit: str

    @property
    def delta(self) -> float:
        return self.last - self.first

    @property
    def percent(self) -> float | None:
        return 100.0 * self.delta / self.first if self.first else None


def cell_changes(cells: Sequence[Sequence[float]]) -> list[ModelChange]:
    """Change of a, b, c, α, β, γ between the first and last image."""
    names = ("a", "b", "c", "α", "β", "γ")
    units = ("Å", "Å", "Å", "°", "°", "°")
    return [
        ModelChange(names[i], float(cells[0][i]), float(cells[-1][i]), units[i]) for i in range(6)
    ]


class CellPlots(Panel):
    """Plots of a, b, c, of α, β, γ and of φ1, φ2, φ3 against image, with the total change."""

    DEFAULT_CSS = """
    CellPlots { height: 1fr; layout: vertical; }
    CellPlots > .cell-plots--title { height: auto; text-style: bold; }
    CellPlots > .cell-plots--empty { color: $text-muted; text-style: italic; }
    CellPlots > Horizontal { height: 1fr; }
    CellPlots > .cell-plots--summary { height: auto; }
    """

    def __init__(
        self,
        *,
        ascii_only: bool = False,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's keyword
        classes: str | None = None,
    ) -> None:
        super().__init__(ascii_only=ascii_only, name=name, id=id, classes=classes)
        self._images: list[float] = []
        self._cells: list[tuple[float, ...]] = []
        self._angles: list[tuple[float, ...]] | None = None
        self._label = ""

    def compose(self) -> ComposeResult:
        yield Static(EMPTY_MESSAGE, classes="cell-plots--title cell-plots--empty")
        with Horizontal():
            yield PanelPlot(id="cell-lengths")
            yield PanelPlot(id="cell-angles")
            yield PanelPlot(id="orientation")
        yield Static("", classes="cell-plots--summary")

    def on_mount(self) -> None:
        self._redraw()

    def watch_ascii_only(self, _value: bool) -> None:
        if self.is_mounted:
            self._redraw()

    def set_model(
        self,
        images: Sequence[float],
        cells: Sequence[Sequence[float]],
        angles: Sequence[Sequence[float]] | None,
        label: str = "",
    ) -> None:
        """Cell (a, b, c, α, β, γ) and orientation angles (φ1, φ2, φ3, in degrees relative to
        the start, as dials.plot_scan_varying_model) at each image number."""
        if len(cells) != len(images) or (angles is not None and len(angles) != len(images)):
            raise ValueError("images, cells and angles must have the same length")
        self._images = [float(x) for x in images]
        self._cells = [tuple(float(v) for v in cell) for cell in cells]
        self._angles = None if angles is None else [tuple(float(v) for v in a) for a in angles]
        self._label = label
        if self.is_mounted:
            self._redraw()

    def _redraw(self) -> None:
        title = self.query_one(".cell-plots--title", Static)
        summary = self.query_one(".cell-plots--summary", Static)
        plots = self.query(PanelPlot)
        for plot in plots:
            plot.ascii_only = self.ascii_only
        has_data = bool(self._images)
        title.set_class(not has_data, "cell-plots--empty")
        self.query_one(Horizontal).display = has_data
        summary.display = has_data
        if not has_data:
            title.update(EMPTY_MESSAGE)
            for plot in plots:
                plot.set_draw(None)
            return
        fix = ascii_text if self.ascii_only else str
        first, last = self._images[0], self._images[-1]
        title.update(
            fix(
                (f"{self._label} (p: next) · " if self._label else "")
                + f"Scan-varying cell and orientation — {len(self._images)} points, "
                f"images {first:g}–{last:g}"
            )
        )
        images = self._images
        starts = self._cells[0]

        def series(index: int) -> list[float]:
            return [cell[index] - starts[index] for cell in self._cells]

        # A braille plot has two dots per column: more points than that per column only cost
        # plotext time (801 points at 800 images: 24 ms a plot, 10 ms thinned).
        def draw_lengths(plt: Plot, width: int, height: int, marker) -> None:
            for i, name in enumerate("abc"):
                xs, ys = envelope(images, series(i), 2 * width)
                plt.plot(xs, ys, marker=marker(i, name), label=fix(f"{name}"))
            plt.title(fix("Δa Δb Δc (Å)"))
            _style_axes(plt, images, width, height, [v for i in range(3) for v in series(i)])

        def draw_angles(plt: Plot, width: int, height: int, marker) -> None:
            fixed = all(abs(v) < 1e-6 for i in range(3, 6) for v in series(i))
            for i, (name, letter) in enumerate(zip("αβγ", "ABG", strict=True)):
                xs, ys = envelope(images, series(3 + i), 2 * width)
                plt.plot(xs, ys, marker=marker(i, letter), label=fix(name))
            # Constrained angles (e.g. 90° in orthorhombic) never move; say so instead of
            # leaving a reader to wonder about a flat line.
            plt.title(fix("Δα Δβ Δγ (°), fixed" if fixed else "Δα Δβ Δγ (°)"))
            _style_axes(plt, images, width, height, [v for i in range(3, 6) for v in series(i)])

        angles = self._angles

        def draw_orientation(plt: Plot, width: int, height: int, marker) -> None:
            if angles is None:
                plt.title("orientation: not given")
                return
            for i in range(3):
                xs, ys = envelope(images, [a[i] for a in angles], 2 * width)
                plt.plot(xs, ys, marker=marker(i, str(i + 1)), label=fix(f"φ{i + 1}"))
            plt.title(fix("φ1 φ2 φ3 (°)"))
            _style_axes(plt, images, width, height, [v for a in angles for v in a])

        # Angles held by the lattice symmetry (90° in orthorhombic) draw three flat lines: give
        # their third of the width to the other plots and say so in the summary instead.
        angles_fixed = self._angles_fixed()
        plots[1].display = not angles_fixed
        plots[0].set_draw(draw_lengths)
        plots[1].set_draw(draw_angles)
        plots[2].set_draw(draw_orientation)
        summary.update(fix(self.summary_text()))

    def _angles_fixed(self) -> bool:
        first = self._cells[0]
        return all(abs(cell[i] - first[i]) < 1e-6 for cell in self._cells for i in range(3, 6))

    def summary_text(self) -> str:
        """Total change across the scan, e.g. "Δa = +0.03 Å (+0.05 %)" and max |Δφ|."""
        if not self._cells:
            return ""
        changes = cell_changes(self._cells)
        start = self._cells[0]
        line0 = (
            f"image {self._images[0]:g}: a b c = {start[0]:.3f} {start[1]:.3f} {start[2]:.3f} Å, "
            f"α β γ = {start[3]:.2f} {start[4]:.2f} {start[5]:.2f}°"
        )
        line1 = "  ".join(
            f"Δ{c.name} = {c.delta:+.3f} {c.unit} ({c.percent:+.2f} %)" for c in changes[:3]
        )
        if self._angles_fixed():
            line2 = "α β γ fixed by symmetry"
        else:
            line2 = "  ".join(f"Δ{c.name} = {c.delta:+.3f}{c.unit}" for c in changes[3:])
        if self._angles:
            # The angles are relative rotations; the largest excursion says how much the
            # crystal wandered (or the goniometer model is off) during the scan.
            biggest = max(
                abs(v - self._angles[0][i]) for a in self._angles for i, v in enumerate(a)
            )
            line2 += f"   max |Δφ| = {biggest:.3f}°"
        return f"{line0}\n{line1}\n{line2}"


def nice_ticks(lo: float, hi: float, max_count: int) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 × 10^k) within lo..hi, as many as fit max_count."""
    if hi <= lo:
        return [lo]
    magnitude = 10 ** math.floor(math.log10((hi - lo) / max(1, max_count)))
    for step in (m * magnitude * 10**e for e in range(0, 3) for m in (1, 2, 2.5, 5)):
        first = math.ceil(lo / step - 1e-9)
        last = math.floor(hi / step + 1e-9)
        if last - first + 1 <= max_count:
            return [0.0 if k == 0 else k * step for k in range(first, last + 1)]
    return [lo, hi]


def set_y_ticks(plt: Plot, lo: float, hi: float, height: int) -> None:
    """Fix the y range to lo..hi with round tick labels, about one per three rows."""
    if hi <= lo:
        lo, hi = lo - 1.0, hi + 1.0
    plt.ylim(lo, hi)
    ticks = nice_ticks(lo, hi, max(3, min(7, (height - 4) // 2)))
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    digits = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    if step * 10**digits % 1 > 1e-6:  # 2.5 × 10^k needs one more digit
        digits += 1
    plt.yticks(ticks, [f"{t:.{digits}f}" for t in ticks])


def _style_axes(
    plt: Plot, images: Sequence[float], width: int, height: int, ys: Sequence[float]
) -> None:
    plt.xlabel("image")
    lo, hi = min(ys), max(ys)
    pad = 0.05 * (hi - lo) if hi > lo else 0.5
    set_y_ticks(plt, lo - pad, hi + pad, height)
    # Few x ticks: image numbers need up to five characters each.
    lo, hi = images[0], images[-1]
    count = max(2, min(6, width // 12))
    ticks = [lo + (hi - lo) * k / (count - 1) for k in range(count)]
    plt.xticks(ticks, [f"{t:.0f}" for t in ticks])

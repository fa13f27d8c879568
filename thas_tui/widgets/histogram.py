"""Per-image spot count histogram (the graphical form of dials.find_spots' ASCII histogram)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from rich.style import Style
from rich.text import Text

from thas_tui.core.spot_bins import DIALS_WIDTH, bin_images, bin_z
from thas_tui.widgets.panel import Panel

# One character cell holds eight heights with the lower-block glyphs.
BLOCKS = " ▁▂▃▄▅▆▇█"
# An image is "weak" below this fraction of the median count: the same rule of thumb as
# dials.detect_blanks uses for spot counts (10 % of the median).
WEAK_FRACTION = 0.10

EMPTY_MESSAGE = "no data yet — appears while find_spots runs"


def image_ranges(images: Sequence[int]) -> list[tuple[int, int]]:
    """Group sorted image numbers into consecutive (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for image in images:
        if runs and image == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], image)
        else:
            runs.append((image, image))
    return runs


def format_ranges(runs: Sequence[tuple[int, int]], width: int, dash: str = "–") -> str:
    """Format runs as "31–33, 400", cut to `width` with a count of what was left out."""
    parts = [str(a) if a == b else f"{a}{dash}{b}" for a, b in runs]
    out = ""
    for i, part in enumerate(parts):
        candidate = part if not out else f"{out}, {part}"
        rest = len(parts) - i - 1
        suffix = f", … +{rest} more" if rest else ""
        if len(candidate) + len(suffix) > width and out:
            return f"{out}, … +{len(parts) - i} more"
        out = candidate
    return out


class SpotHistogram(Panel):
    """Vertical bar histogram of counts per image, binned to fit the widget's width."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "spot-histogram--title",
        "spot-histogram--bar",
        "spot-histogram--weak",
        "spot-histogram--axis",
        "spot-histogram--empty",
    }

    DEFAULT_CSS = """
    SpotHistogram { height: 1fr; min-height: 8; }
    SpotHistogram > .spot-histogram--title { text-style: bold; }
    SpotHistogram > .spot-histogram--bar { color: $primary; }
    SpotHistogram > .spot-histogram--weak { color: $error; text-style: bold; }
    SpotHistogram > .spot-histogram--axis { color: $text-muted; }
    SpotHistogram > .spot-histogram--empty { color: $text-muted; text-style: italic; }
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
        self._first_image = 1
        # None marks an image not reported yet (live find_spots output arrives in bursts).
        self._counts: list[int | None] = []
        self._kind = "spots"
        # Spot z centroids (frames) once strong.refl is read: bars then match DIALS's exactly.
        self._z: np.ndarray | None = None
        # Several sweeps: (label, first image, counts, z) each, drawn one under the other.
        self._sweeps: list[tuple[str, int, list[int | None], np.ndarray | None]] = []
        self._label = ""

    # -- data in ---------------------------------------------------------------------------
    def set_counts(
        self,
        first_image: int,
        counts: Sequence[int],
        kind: str,
        z: np.ndarray | None = None,
        label: str = "",
    ) -> None:
        """Show `counts[i]` for image `first_image + i`; kind is "spots" or "strong pixels (live)".

        ``z``: the spots' z centroids, when known, so that bars group them as DIALS does."""
        self._first_image = int(first_image)
        self._z = z
        self._counts = [None if c is None else int(c) for c in counts]
        self._kind = kind
        self._sweeps = []
        self._label = label
        self.refresh()

    def set_sweeps(self, sweeps: Sequence, kind: str = "spots") -> None:
        """One histogram per sweep (objects with label, first_image, counts and z), stacked."""
        first = sweeps[0]
        self.set_counts(first.first_image, first.counts, kind, first.z)
        self._sweeps = [
            (s.label, int(s.first_image), [None if c is None else int(c) for c in s.counts], s.z)
            for s in sweeps
        ]

    def clear(self) -> None:
        """Back to the empty state."""
        self._counts = []
        self.refresh()

    @property
    def counts(self) -> list[int | None]:
        """The per-image counts shown (None for images not yet reported)."""
        return list(self._counts)

    @property
    def weak_images(self) -> list[int]:
        """Image numbers whose count is below WEAK_FRACTION of the median."""
        known = [c for c in self._counts if c is not None]
        if not known:
            return []
        threshold = WEAK_FRACTION * statistics.median(known)
        return [
            self._first_image + i
            for i, c in enumerate(self._counts)
            if c is not None and (c < threshold or c == 0)
        ]

    # -- drawing ---------------------------------------------------------------------------
    def _style(self, part: str) -> Style:
        return self.get_component_rich_style(f"spot-histogram--{part}")

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        if not any(c is not None for c in self._counts):
            return Text(EMPTY_MESSAGE, style=self._style("empty"), no_wrap=True)
        if len(self._sweeps) < 2:
            return self._render_histogram(max(width, 20), max(height, 6))
        # Several sweeps share the height; the one-sweep state is borrowed for each in turn.
        out = Text(no_wrap=True, overflow="crop")
        share = max(6, height // len(self._sweeps))
        saved = self._label, self._first_image, self._counts, self._z
        try:
            for i, (label, first, counts, z) in enumerate(self._sweeps):
                self._label, self._first_image, self._counts, self._z = label, first, counts, z
                if i:
                    out.append("\n")
                out.append_text(self._render_histogram(max(width, 20), share - (1 if i else 0)))
        finally:
            self._label, self._first_image, self._counts, self._z = saved
        return out

    def _render_histogram(self, width: int, height: int) -> Text:
        ascii_only = self.ascii_only
        dash = "-" if ascii_only else "–"
        counts = self._counts
        n = len(counts)
        first, last = self._first_image, self._first_image + n - 1
        known = [c for c in counts if c is not None]
        total = sum(known)
        weak = set(self.weak_images)

        # The y labels need the peak's digits, known only after binning: the total bounds it.
        gutter = len(f"{total}") + 1
        columns = max(1, width - gutter - 1)
        # One bar per image when they fit; otherwise the bars dials.find_spots' own histogram
        # has (core.spot_bins: 60, fewer on a narrow terminal), so that "max N / bin" reads as
        # in its log: binned from the spots' z once strong.refl exists, per-image counts live.
        bars = n if n <= columns else min(DIALS_WIDTH, columns)
        binned = (
            bin_z(self._z, bars) if self._z is not None and self._z.size else None
        ) or bin_images(counts, first, bars)
        assert binned is not None
        peak = binned.max_per_bin
        per_bin = n / len(binned.counts)
        bins: list[tuple[int | None, bool, int]] = []  # (count in bar, holds weak image, image)
        for value, (f0, f1) in zip(binned.counts, binned.frames, strict=True):
            reported = any(c is not None for c in counts[f0 : f1 + 1])
            holds_weak = any(first + k in weak for k in range(f0, f1 + 1))
            bins.append((value if reported else None, holds_weak, first + f0))
        # Few images: widen the bars so that they fill the width instead of huddling left.
        bar_width = max(1, min(4, columns // len(bins))) if per_bin == 1 else columns // len(bins)

        kind = self._kind
        label = "Strong pixels per image (live)" if kind.startswith("strong") else "Spots per image"
        if kind not in ("spots", "strong pixels (live)"):
            label = f"{kind} per image"
        binning = f"bar = {per_bin:.3g} images" if per_bin > 1 else "bar = 1 image"
        parts = [
            f"{self._label}: {label}" if self._label else label,
            f"{n} images ({first}{dash}{last})",
            f"total {total:,}",
            f"max {peak:,} / bin",
            binning,
        ]
        title_lines = _pack(parts, width, " · " if not ascii_only else " | ")

        weak_runs = image_ranges(sorted(weak))
        footer_rows = 2 if weak_runs else 1  # marker row + list, or just the x labels
        rows = max(2, height - len(title_lines) - 1 - footer_rows)

        out = Text(no_wrap=True, overflow="crop")
        for line in title_lines:
            out.append(line + "\n", style=self._style("title"))

        axis = self._style("axis")
        bar_style, weak_style = self._style("bar"), self._style("weak")
        vbar = "|" if ascii_only else "│"
        for row in range(rows):
            # Row 0 is the top; each row spans peak/rows counts.
            level_top = rows - row
            if row == 0:
                label_text = f"{peak}"
            elif row == rows - 1:
                label_text = "0"
            elif row == rows // 2 and rows >= 5:
                label_text = f"{round(peak * (rows - row) / rows)}"
            else:
                label_text = ""
            out.append(label_text.rjust(gutter - 1) + vbar, style=axis)
            # One span per run of same-styled cells, not one per cell: a wide live histogram
            # otherwise costs thousands of spans on every repaint.
            run: list[str] = []
            run_weak = False
            for value, holds_weak, _ in bins:
                glyph = " "
                if value is not None and peak > 0:
                    eighths = value / peak * rows * 8
                    filled = eighths - (level_top - 1) * 8
                    glyph = _glyph(filled, ascii_only, value > 0 and row == rows - 1)
                if run and holds_weak != run_weak:
                    out.append("".join(run), style=weak_style if run_weak else bar_style)
                    run = []
                run_weak = holds_weak
                run.append(glyph * bar_width)
            if run:
                out.append("".join(run), style=weak_style if run_weak else bar_style)
            out.append("\n")

        # Marker row under bins that contain a weak image, so they show without colour too.
        if weak_runs:
            out.append(" " * (gutter - 1) + (vbar if ascii_only else "└"), style=axis)
            for _value, holds_weak, _ in bins:
                mark = ("^" if ascii_only else "▲") if holds_weak else ("-" if ascii_only else "─")
                out.append(mark * bar_width, style=weak_style if holds_weak else axis)
            out.append("\n")

        out.append(self._x_labels(bins, bar_width, gutter, width, last), style=axis)
        if weak_runs:
            head = f"blank/weak images (< {WEAK_FRACTION:.0%} of median): "
            body = format_ranges(weak_runs, max(10, width - len(head)), dash)
            out.append("\n")
            out.append(head + body, style=weak_style)
        return out

    @staticmethod
    def _x_labels(
        bins: list[tuple[int | None, bool, int]],
        bar_width: int,
        gutter: int,
        width: int,
        last_image: int,
    ) -> str:
        """First image under the first bar, last image ending under the last bar, and
        between them a bar's first image every ten or more columns where it fits."""
        line = [" "] * width
        end = text_end = min(width, gutter + len(bins) * bar_width)
        last_text = str(last_image)
        last_x = max(gutter, end - len(last_text))
        step = 10  # columns between labels, leaves room for 5-digit image numbers
        col = -step
        for index, (_v, _w, image) in enumerate(bins):
            x = gutter + index * bar_width
            text = str(image)
            if index and (x - col < step or x + len(text) + 2 > last_x):
                continue
            line[x : x + len(text)] = text
            col = x
        if len(bins) > 1 and col + len(str(bins[0][2])) < last_x:
            line[last_x:text_end] = last_text
        return "".join(line).rstrip()


def _glyph(filled_eighths: float, ascii_only: bool, nonzero_bottom: bool) -> str:
    """The character for one cell that is `filled_eighths`/8 full."""
    if filled_eighths >= 8:
        return "#" if ascii_only else BLOCKS[8]
    if filled_eighths <= 0:
        return " "
    eighths = round(filled_eighths)
    if eighths == 0:
        # Keep a non-zero count visible on the baseline rather than indistinguishable from zero.
        eighths = 1 if nonzero_bottom else 0
    if ascii_only:
        return "#" if eighths >= 4 else ("." if eighths else " ")
    return BLOCKS[eighths]


def _pack(parts: Sequence[str], width: int, sep: str) -> list[str]:
    """Join parts with sep into as few lines of at most `width` as possible."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + len(sep) + len(part) <= width:
            lines[-1] += sep + part
        else:
            lines.append(part)
    return lines

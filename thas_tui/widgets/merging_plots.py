"""Merging statistics against resolution: x axis in 1/d², tick labels in Å."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from textual.app import ComposeResult
from textual.containers import Grid
from textual.widgets import Static
from textual_plotext.plot import Plot

from thas_tui.widgets.cell_plots import PanelPlot, ascii_text, set_y_ticks
from thas_tui.widgets.panel import Panel

EMPTY_MESSAGE = "no data yet — appears when scale (or merge) finishes"

# Canonical series names and the spellings accepted for them (dials.merge / dials.scale
# json= outputs and the log tables), so a screen can pass what a reader returns.
SERIES_ALIASES: dict[str, tuple[str, ...]] = {
    "cc_half": ("cc_half", "cc_one_half", "cc1/2", "cc½", "cc half"),
    "cc_anom": ("cc_anom", "cc anom", "anomalous correlation"),
    "i_over_sigma": ("i_over_sigma", "i_over_sigma_mean", "i/sigma", "i/sigi", "⟨i/σ⟩"),
    "completeness": ("completeness", "compl", "completeness (%)"),
    "anom_completeness": ("anom_completeness", "anomalous completeness"),
    "multiplicity": ("multiplicity", "mult", "redundancy"),
    "r_meas": ("r_meas", "rmeas", "rmeas(i)"),
    "r_pim": ("r_pim", "rpim", "rpim(i)"),
    "r_merge": ("r_merge", "rmerge", "rmerge(i)"),
}
_LOOKUP = {alias: key for key, aliases in SERIES_ALIASES.items() for alias in aliases}

# (plot id, title, series drawn in it with their legend labels and ASCII markers)
PLOTS: tuple[tuple[str, str, tuple[tuple[str, str, str], ...]], ...] = (
    ("cc", "CC½", (("cc_half", "CC½", "h"), ("cc_anom", "CC anom", "a"))),
    ("i-over-sigma", "⟨I/σ⟩", (("i_over_sigma", "⟨I/σ⟩", "i"),)),
    (
        "completeness",
        "completeness (%)",
        (("completeness", "all", "c"), ("anom_completeness", "anom", "a")),
    ),
    ("multiplicity", "multiplicity", (("multiplicity", "mult", "m"),)),
    ("r-factors", "Rmeas, Rpim", (("r_meas", "Rmeas", "m"), ("r_pim", "Rpim", "p"))),
)


def normalise_series(series: Mapping[str, Sequence[float | None]]) -> dict[str, list[float | None]]:
    """Map accepted spellings to canonical keys; completeness given as a fraction becomes %."""
    out: dict[str, list[float | None]] = {}
    for name, values in series.items():
        key = _LOOKUP.get(name.strip().lower(), name)
        out[key] = [None if v is None else float(v) for v in values]
    for key in ("completeness", "anom_completeness"):
        known = [v for v in out.get(key, []) if v is not None]
        # iotbx's merging statistics give completeness as a fraction, the logs as a percentage.
        if known and max(known) <= 1.0:
            out[key] = [None if v is None else 100.0 * v for v in out[key]]
    return out


def d_ticks(s_lo: float, s_hi: float, count: int) -> list[tuple[float, str]]:
    """Tick positions in 1/d² between s_lo and s_hi, at round d values, labelled in Å."""
    ticks: list[tuple[float, str]] = []
    for k in range(count):
        s = s_lo + (s_hi - s_lo) * k / max(1, count - 1)
        if s <= 0:
            continue
        d = 1.0 / math.sqrt(s)
        digits = 0 if d >= 10 else 1 if d >= 3 else 2
        d_round = round(d, digits)
        label = f"{d_round:.{digits}f}"
        position = 1.0 / d_round**2
        if not ticks or label != ticks[-1][1]:
            ticks.append((position, label))
    return ticks


class MergingPlots(Panel):
    """CC½ (and CC anom), ⟨I/σ⟩, completeness, multiplicity, Rmeas/Rpim against resolution."""

    DEFAULT_CSS = """
    MergingPlots { height: 1fr; layout: vertical; }
    MergingPlots > .merging-plots--title { height: auto; text-style: bold; }
    MergingPlots > .merging-plots--empty { color: $text-muted; text-style: italic; }
    MergingPlots > Grid { grid-size: 3 2; height: 1fr; }
    MergingPlots .merging-plots--note { padding: 1 1; color: $text-muted; }
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
        self._d_min: list[float] = []
        self._d_max: list[float] = []
        self._series: dict[str, list[float | None]] = {}

    def compose(self) -> ComposeResult:
        yield Static(EMPTY_MESSAGE, classes="merging-plots--title merging-plots--empty")
        with Grid():
            for plot_id, _title, _series in PLOTS:
                yield PanelPlot(id=plot_id)
            yield Static("", classes="merging-plots--note")

    def on_mount(self) -> None:
        self._redraw()

    def watch_ascii_only(self, _value: bool) -> None:
        if self.is_mounted:
            self._redraw()

    def set_stats(
        self,
        d_min_per_bin: Sequence[float],
        d_max_per_bin: Sequence[float],
        series: Mapping[str, Sequence[float | None]],
    ) -> None:
        """Per-bin statistics; series keys as in SERIES_ALIASES, None where a bin has no value."""
        if len(d_min_per_bin) != len(d_max_per_bin):
            raise ValueError("d_min_per_bin and d_max_per_bin differ in length")
        self._d_min = [float(d) for d in d_min_per_bin]
        self._d_max = [float(d) for d in d_max_per_bin]
        self._series = normalise_series(series)
        if self.is_mounted:
            self._redraw()

    def _redraw(self) -> None:
        title = self.query_one(".merging-plots--title", Static)
        grid = self.query_one(Grid)
        has_data = bool(self._d_min)
        title.set_class(not has_data, "merging-plots--empty")
        grid.display = has_data
        fix = ascii_text if self.ascii_only else str
        for plot in self.query(PanelPlot):
            plot.ascii_only = self.ascii_only
        if not has_data:
            title.update(EMPTY_MESSAGE)
            return
        d_low, d_high = max(self._d_max), min(self._d_min)
        nbins = len(self._d_min)
        title.update(
            fix(f"Merging statistics vs resolution — {nbins} bins, {d_low:.2f}–{d_high:.2f} Å")
        )
        # Bin centres in 1/d², the axis on which resolution shells are evenly spaced.
        x = [
            (1 / dmin**2 + 1 / dmax**2) / 2
            for dmin, dmax in zip(self._d_min, self._d_max, strict=True)
        ]
        s_lo, s_hi = 1 / d_low**2, 1 / d_high**2
        for plot_id, plot_title, members in PLOTS:
            plot = self.query_one(f"#{plot_id}", PanelPlot)
            plot.set_draw(self._drawer(plot_id, plot_title, members, x, s_lo, s_hi, fix))
        note = self.query_one(".merging-plots--note", Static)
        note.update(fix("x: 1/d², labelled with d in Å\n(high resolution to the right)"))

    def _drawer(self, plot_id, plot_title, members, x, s_lo, s_hi, fix):
        series = self._series

        def draw(plt: Plot, width: int, height: int, marker) -> None:
            drawn = 0
            y_all: list[float] = []
            for index, (key, label, letter) in enumerate(members):
                values = series.get(key)
                if not values:
                    continue
                points = [(xi, v) for xi, v in zip(x, values, strict=False) if v is not None]
                if not points:
                    continue
                xs, ys = zip(*points, strict=True)
                y_all.extend(ys)
                show_label = len(members) > 1 and any(series.get(k) for k, _l, _m in members[1:])
                plt.plot(
                    list(xs),
                    list(ys),
                    marker=marker(index, letter),
                    label=fix(label) if show_label else None,
                )
                drawn += 1
            plt.title(fix(plot_title))
            if not drawn:
                plt.title(fix(f"{plot_title}: not given"))
                return
            plt.xlim(s_lo, s_hi)
            count = max(2, min(6, width // 9))
            ticks = d_ticks(s_lo, s_hi, count)
            plt.xticks([t for t, _ in ticks], [label for _, label in ticks])
            lo, hi = min(y_all), max(y_all)
            # Counts, percentages and R-values start at zero; only CC anom may go negative.
            # CCs end at 1 and completeness at 100 %, so a full data set touches the top.
            top = {"cc": 1.0, "completeness": 100.0}.get(plot_id, hi * 1.05 if hi > 0 else 1.0)
            set_y_ticks(plt, min(0.0, lo), max(top, hi), height)
            plt.xlabel(fix("d (Å)"))

        return draw

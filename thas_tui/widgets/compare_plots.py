"""The Compare view's plots: CC½, ⟨I/σ⟩, completeness and Rmeas against resolution, one line per input."""

from __future__ import annotations

import math

import numpy as np
from textual.app import ComposeResult
from textual.containers import Grid
from textual_plotext.plot import Plot

from thas_tui.core.compare import Comparison
from thas_tui.widgets.cell_plots import PanelPlot, ascii_text, set_y_ticks
from thas_tui.widgets.compare_tables import colour
from thas_tui.widgets.merging_plots import d_ticks

PLOTS = (
    ("compare-cc-half", "CC½", "cc_half", 1.0),
    ("compare-i-over-sigma", "⟨I/σ⟩", "i_over_sigma", None),
    ("compare-completeness", "completeness (%)", "completeness", 100.0),
    ("compare-r-meas", "Rmeas", "r_meas", None),
)


def series_of(
    c: Comparison, reported: bool = False
) -> tuple[list[tuple[int, str, np.ndarray, dict]], bool]:
    """Per input with bins: (index, legend, x in 1/d², values); the recomputed bins when there
    are any (like with like) unless `reported`, else the bins as each program reported them."""
    recomputed = not reported and any(i.recomputed_bins is not None for i in c.inputs)
    out = []
    for i, inp in enumerate(c.inputs):
        bins = inp.recomputed_bins if recomputed else inp.bins
        if bins is None or not len(bins):
            continue
        x = np.asarray(bins.d_star_sq, dtype=float)
        out.append((i, f"[{i + 1}] {inp.label}", x, bins.values))
    return out, recomputed


def legend_text(c: Comparison, recomputed: bool, ascii_only: bool = False):
    """One line naming each input's colour (and, without colour, its marker: its number)."""
    from rich.text import Text

    t = Text("Plots " + ("recomputed alike" if recomputed else "as reported") + " (p switches):  ")
    for i, inp in enumerate(c.inputs):
        t.append(
            f"{'--' if ascii_only else '━━'} [{i + 1}] {inp.label}   ", style=f"bold {colour(i)}"
        )
    return t


class ComparePlots(Grid):
    """Four overlaid plots; the legend names each input by its number and label."""

    def compose(self) -> ComposeResult:
        for plot_id, *_ in PLOTS:
            yield PanelPlot(id=plot_id)

    def show(self, c: Comparison, ascii_only: bool = False, reported: bool = False) -> None:
        series, recomputed = series_of(c, reported)
        fix = ascii_text if ascii_only else str
        finite = [x[np.isfinite(x)] for _, _, x, _ in series]
        xs = np.concatenate(finite) if finite else np.array([])
        for plot_id, title, key, top in PLOTS:
            plot = self.query_one(f"#{plot_id}", PanelPlot)
            plot.ascii_only = ascii_only
            plot.set_draw(self._drawer(series, xs, title, key, top, recomputed, fix))

    @staticmethod
    def _drawer(series, xs, title, key, top, recomputed, fix):
        def draw(plt: Plot, width: int, height: int, marker) -> None:
            what = "recomputed" if recomputed else "as reported"
            # No plotext legend: it hides the top-left corner, where CC½ and completeness are;
            # the view's legend line above the plots names the colours.
            plt.title(fix(f"{title} ({what})"))
            if not len(xs):
                plt.title(fix(f"{title}: no per-bin statistics"))
                return
            s_lo, s_hi = float(xs.min()), float(xs.max())
            y_all: list[float] = []
            for index, _label, x, values in series:
                y = values.get(key)
                if y is None:
                    continue
                keep = np.isfinite(x) & np.isfinite(y)
                if not keep.any():
                    continue
                y_all += list(y[keep])
                plt.plot(
                    list(x[keep]),
                    list(y[keep]),
                    marker=marker(index, str(index + 1)),
                    color=colour(index),
                )
            if not y_all:
                plt.title(fix(f"{title}: not given"))
                return
            if s_hi > s_lo:
                plt.xlim(s_lo, s_hi)
                ticks = d_ticks(max(s_lo, 1e-6), s_hi, max(2, min(6, width // 9)))
                plt.xticks([t for t, _ in ticks], [lab for _, lab in ticks])
            lo, hi = min(y_all), max(y_all)
            upper = top if top is not None and hi <= top else (hi * 1.05 if hi > 0 else 1.0)
            set_y_ticks(plt, min(0.0, lo), upper if math.isfinite(upper) else 1.0, height)
            plt.xlabel(fix("d (Å)"))

        return draw

"""The Compare view: inputs side by side, recomputed alike in a worker, and overlaid plots."""

from __future__ import annotations

import copy
import os
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, LoadingIndicator, Static
from textual.worker import get_current_worker

from thas_tui.core.compare import Comparison, build
from thas_tui.core.compare_inputs import directory_inputs, read_input
from thas_tui.core.compare_text import verdict_lines
from thas_tui.widgets.compare_plots import ComparePlots, legend_text, series_of
from thas_tui.widgets.compare_tables import CompareTables, inputs_text, notes_text


class CompareScreen(Screen[None]):
    """Compare runs, attempts, xia2 and aimless results; the like-with-like numbers in a worker."""

    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("a", "add", "Add input"),
        Binding("d", "add_attempts", "Add attempts"),
        Binding("x", "remove_last", "Remove last"),
        Binding("n", "toggle_recompute", "Recompute on/off"),
        Binding("p", "toggle_plots", "Plots: reported/recomputed"),
    ]

    class Loaded(Message):
        """A comparison to show; `recomputing` while the like-with-like numbers are still due."""

        def __init__(self, comparison: Comparison, recomputing: bool) -> None:
            super().__init__()
            self.comparison = comparison
            self.recomputing = recomputing

    class Progress(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(
        self,
        specs: list[str],
        recompute: bool = True,
        workdir: Path | None = None,
        ascii_only: bool = False,
    ) -> None:
        super().__init__()
        self.specs = list(specs)
        self.recompute = recompute
        self.workdir = workdir
        self.ascii_only = ascii_only
        self.comparison: Comparison | None = None
        self.recomputing = False
        self.plots_reported = False  # p: the plots as each program reported its bins

    def compose(self) -> ComposeResult:
        with Horizontal(id="compare-status"):
            yield Static("Compare", id="compare-title")
            yield LoadingIndicator(id="compare-busy")
        with VerticalScroll(id="compare-body"):
            yield Static("", id="compare-inputs")
            yield Static("", id="compare-verdict")
            yield Static("", id="compare-notes")
            yield CompareTables(id="compare-tables")
            yield Static("", id="compare-legend")
            yield ComparePlots(id="compare-plots")
        yield Input(
            placeholder="a directory, DIR@scale.N, xia2 dir/file, aimless log/XML or MTZ — Enter adds",
            id="compare-add",
        )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#compare-add", Input).display = False
        self.load()

    # --- the worker -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="compare")
    def load(self) -> None:
        """Read every input (quick), show it, then recompute alike (DIALS/cctbx subprocesses)."""
        worker = get_current_worker()
        specs, recompute = list(self.specs), self.recompute
        self.post_message(self.Progress(f"reading {len(specs)} inputs"))
        c = build([read_input(s) for s in specs]) if specs else None
        if c is None or worker.is_cancelled:
            self.post_message(self.Loaded(Comparison([], []), False))
            return
        due = recompute and any(i.can_recompute for i in c.inputs)
        self.post_message(self.Loaded(copy.deepcopy(c), due))
        if not due:
            return
        from thas_tui.core.recompute import recompute_all

        def progress(text: str) -> None:
            if not worker.is_cancelled:
                self.post_message(self.Progress(text))

        recompute_all(c, progress=progress)
        if not worker.is_cancelled:
            self.post_message(self.Loaded(c, False))

    # --- messages ---------------------------------------------------------------------------

    def on_compare_screen_progress(self, message: Progress) -> None:
        self.query_one("#compare-title", Static).update(f"Compare — {message.text} …")
        self.query_one("#compare-busy").display = True

    def on_compare_screen_loaded(self, message: Loaded) -> None:
        c = message.comparison
        self.comparison, self.recomputing = c, message.recomputing
        busy = self.query_one("#compare-busy")
        busy.display = message.recomputing
        n = len(c.inputs)
        state = (
            "recomputing alike …"
            if message.recomputing
            else ("recomputed alike" if any(i.recomputed for i in c.inputs) else "as reported")
        )
        if not self.recompute:
            state = "as reported (recomputing off: n)"
        self.query_one("#compare-title", Static).update(
            f"Compare — {n} input{'s' if n != 1 else ''}, {state}"
            if n
            else "Compare — no inputs: a adds one, d this directory's attempts"
        )
        self.query_one("#compare-inputs", Static).update(inputs_text(c) if n else "")
        self.query_one("#compare-verdict", Static).update("\n".join(verdict_lines(c)))
        notes = notes_text(c) if n else ""
        notes_widget = self.query_one("#compare-notes", Static)
        notes_widget.update(notes)
        notes_widget.display = bool(str(notes))
        tables = self.query_one(CompareTables)
        plots = self.query_one(ComparePlots)
        tables.display = plots.display = bool(n)
        if n:
            tables.show(c, message.recomputing)
            self._show_plots()

    def _show_plots(self) -> None:
        c = self.comparison
        if c is None or not c.inputs:
            return
        _series, recomputed = series_of(c, self.plots_reported)
        self.query_one("#compare-legend", Static).update(
            legend_text(c, recomputed, self.ascii_only)
        )
        self.query_one(ComparePlots).show(c, self.ascii_only, self.plots_reported)

    # --- actions ----------------------------------------------------------------------------

    def action_close(self) -> None:
        box = self.query_one("#compare-add", Input)
        if box.display:
            box.display = False
            return
        if isinstance(self.app, CompareApp):
            self.app.exit(0)
        else:
            self.dismiss(None)

    def action_add(self) -> None:
        box = self.query_one("#compare-add", Input)
        box.display = True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.value = ""
        event.input.display = False
        if text:
            self.specs.append(text)
            self.load()

    def action_add_attempts(self) -> None:
        base = self.workdir or (Path(self.specs[0]) if self.specs else Path.cwd())
        base = Path(str(base).split("@", 1)[0])
        new = [s for s in directory_inputs(base) if s not in self.specs]
        if not new:
            self.notify(f"No other attempts of scale in {base}.")
            return
        self.specs += new
        self.load()

    def action_remove_last(self) -> None:
        if self.specs:
            self.specs.pop()
            self.load()

    def action_toggle_plots(self) -> None:
        self.plots_reported = not self.plots_reported
        self._show_plots()

    def action_toggle_recompute(self) -> None:
        self.recompute = not self.recompute
        self.notify("Recomputing alike " + ("on" if self.recompute else "off"))
        self.load()


class CompareApp(App[int]):
    """`thas-tui compare --tui`: the Compare view on its own."""

    CSS_PATH = "../thas.tcss"
    TITLE = "thas-tui compare"

    def __init__(self, specs: list[str], recompute: bool = True) -> None:
        super().__init__()
        self.specs, self.recompute = specs, recompute

    def on_mount(self) -> None:
        from thas_tui.app import unicode_ok

        if "TEXTUAL_ANIMATIONS" not in os.environ:
            self.animation_level = "none"
        self.push_screen(CompareScreen(self.specs, self.recompute, ascii_only=not unicode_ok()))

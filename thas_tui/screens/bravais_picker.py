"""The Bravais picker: DIALS's candidate lattices, the recommended one preselected; Enter confirms."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label

from thas_tui.core.readers.bravais import BravaisSolution
from thas_tui.core.stage_info import recommended_solution

EXPLANATION = (
    "★ recommended: the highest symmetry with an acceptable metric fit, rmsd and cc "
    "(DIALS's choice). ↑/↓ or j/k move, Enter confirms, Esc stops before reindexing."
)


class BravaisPicker(ModalScreen[int | None]):
    """Returns the chosen solution number, or None when the user stops."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("enter", "choose", "Choose", priority=True),
        Binding("escape", "stop", "Stop here"),
    ]

    def __init__(self, solutions: list[BravaisSolution], sweeps: int = 1) -> None:
        super().__init__()
        self.solutions = solutions
        self.sweeps = sweeps
        self.recommended = recommended_solution(solutions)

    def compose(self) -> ComposeResult:
        with Vertical(id="bravais-dialog"):
            yield Label(
                "[b]Choose the Bravais lattice[/b] (dials.refine_bravais_settings)",
                id="bravais-title",
            )
            if self.sweeps > 1:
                # DIALS fits one lattice to all experiments at once: a choice applies to every
                # sweep, and a sweep that will not take it fails reindex, not silently.
                yield Label(
                    f"Joint solutions: one lattice for all {self.sweeps} sweeps "
                    "(metric fit, rmsd and cc over every experiment).",
                    id="bravais-joint",
                )
            yield DataTable(cursor_type="row", id="bravais-table")
            yield Label(EXPLANATION, id="bravais-explanation")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        theme = self.app.current_theme
        for label in (
            "",
            "#",
            "lattice",
            "metric fit",
            "rmsd",
            "min/max cc",
            "#spots",
            "unit cell",
            "volume",
            "cb_op",
        ):
            table.add_column(label)
        for s in self.solutions:
            ok = s.recommended
            style = theme.success if ok else ""
            cell = " ".join(f"{v:.1f}" for v in s.unit_cell or ())
            cc = f"{_fmt(s.min_cc, 3)}/{_fmt(s.max_cc, 3)}"
            table.add_row(
                Text("★" if s is self.recommended else ("✓" if ok else ""), style=style),
                str(s.solution),
                Text(s.bravais, style=f"bold {style}" if ok else ""),
                _fmt(s.metric_fit, 4),
                _fmt(s.rmsd, 3),
                cc,
                str(s.nspots if s.nspots is not None else ""),
                cell,
                _fmt(s.volume, 0),
                s.cb_op,
                key=str(s.solution),
            )
        table.move_cursor(row=self.solutions.index(self.recommended))
        table.focus()

    @property
    def highlighted(self) -> BravaisSolution:
        return self.solutions[self.query_one(DataTable).cursor_row]

    def action_cursor_down(self) -> None:
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(DataTable).action_cursor_up()

    def action_choose(self) -> None:
        self.dismiss(self.highlighted.solution)

    def action_stop(self) -> None:
        self.dismiss(None)


def _fmt(value: float | None, digits: int) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}"

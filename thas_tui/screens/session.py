"""The session screen: one row a dataset of the visit, k9s-like, live as images arrive."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from thas_tui.core.pipeline import STAGE_NAMES
from thas_tui.core.session import report
from thas_tui.core.session.engine import SessionEngine
from thas_tui.core.session.model import Dataset, DState
from thas_tui.widgets.frame import FRAME
from thas_tui.widgets.row_table import RowTable
from thas_tui.widgets.sparkline_text import sparkline

SPARK_WIDTH = 24
# Column key, title, and how a sort by it orders rows.
COLUMNS = (
    ("name", "dataset"),
    ("images", "images"),
    ("state", "state"),
    ("spark", "spots per image"),
    ("spots", "spots"),
    ("est_d", "est. d"),
    ("sg", "space group"),
    ("cell", "cell a b c"),
    ("d_min", "d_min"),
    ("cc_half", "CC½"),
    ("compl", "compl."),
)
SORTS = ("newest", "name", "state", "spots", "cc_half")
STATE_STYLE = {
    DState.COLLECTING: "cyan",
    DState.WAITING: "yellow",
    DState.QUEUED: "",
    DState.PROCESSING: "bold blue",
    DState.DONE: "green",
    DState.FAILED: "bold red",
    DState.SKIPPED: "dim",
}


def _num(value, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def cells(ds: Dataset, ascii_only: bool = False) -> tuple:
    """A dataset's row, cell by cell."""
    r = ds.results
    images = str(ds.n_present)
    if ds.expected:
        images += f"/{ds.expected}"
    gaps = ds.gaps()
    if gaps:
        images += f" ({len(gaps)} missing)"
    series = ds.spot_series()
    first = min(ds.ready) if ds.ready else None
    last = max(ds.ready) if ds.ready else None
    state = Text(report.state_text(ds, len(STAGE_NAMES)), style=STATE_STYLE.get(ds.state, ""))
    cell = " ".join(f"{v:.1f}" for v in r["unit_cell"][:3]) if r.get("unit_cell") else "–"
    mean = ds.mean_spots()
    return (
        ds.name,
        images,
        state,
        Text(sparkline(series, first, last, SPARK_WIDTH, ascii_only), style="green"),
        _num(mean, ".0f"),
        _num(ds.d_min_estimate(), ".2f"),
        r.get("space_group") or "–",
        cell,
        _num(r.get("d_min"), ".2f"),
        _num(r.get("cc_half"), ".3f"),
        _num(r.get("completeness"), ".1f"),
    )


def sort_key(how: str):
    order = list(DState)
    return {
        "newest": lambda d: -max(d.last_new, d.first_seen),
        "name": lambda d: d.name,
        "state": lambda d: (order.index(d.state), d.name),
        "spots": lambda d: -(d.mean_spots() or -1),
        "cc_half": lambda d: -(d.results.get("cc_half") or -1),
    }[how]


class SessionScreen(Screen):
    """Every dataset of the session; Enter opens one in the dashboard."""

    BINDINGS = [
        Binding("enter", "open", "Open"),
        Binding("o", "cycle_sort", "Sort"),
        Binding("slash", "filter", "Filter"),
        Binding("space", "toggle_pause", "Pause queue"),
        Binding("x", "skip", "Skip"),
        Binding("P", "force", "Process anyway"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("j", "move(1)", "Down", show=False),
        Binding("k", "move(-1)", "Up", show=False),
    ]

    def __init__(self, engine: SessionEngine, ascii_only: bool = False) -> None:
        super().__init__()
        self.engine = engine
        self.ascii_only = ascii_only
        self.sort = "newest"
        self.filter_text = ""
        self._shown_version = -1
        self._away = False  # a dataset's dashboard has the terminal
        self._rows: list[str] = []
        self._drawn: dict[str, int] = {}  # row key -> the dataset's rev drawn

    def compose(self) -> ComposeResult:
        yield Static(id="session-header")
        table = RowTable(id="session-table", cursor_type="row", zebra_stripes=True)
        for key, title in COLUMNS:
            table.add_column(title, key=key)
        yield table
        with Horizontal(id="session-filter-row"):
            yield Input(placeholder="filter datasets by name or state", id="session-filter")
        yield Static(id="session-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#session-filter-row").display = False
        self.set_interval(FRAME, self.refresh_rows)
        self.refresh_rows()
        self.query_one(DataTable).focus()

    # ----- drawing -----
    def visible(self) -> list[Dataset]:
        rows = sorted(self.engine.datasets.values(), key=sort_key(self.sort))
        if self.filter_text:
            f = self.filter_text.lower()
            rows = [
                d
                for d in rows
                if f in d.name.lower() or f in report.state_text(d, len(STAGE_NAMES)).lower()
            ]
        return rows

    def refresh_rows(self, force: bool = False) -> None:
        if self._away or (not force and self.engine.version == self._shown_version):
            return
        self._shown_version = self.engine.version
        table = self.query_one(DataTable)
        datasets = self.visible()
        keys = [d.files.key for d in datasets]
        if set(keys) >= set(self._rows) and keys != self._rows:
            # New datasets (the common change): their rows added and the table re-sorted in
            # place, not rebuilt; a rebuild of 100 rows was the slowest key press of a session.
            selected = self.selected_key()
            rank = {k: i for i, k in enumerate(keys)}
            known = set(self._rows)
            for d in datasets:
                if d.files.key not in known:
                    table.add_row(*cells(d, self.ascii_only), key=d.files.key)
                    self._drawn[d.files.key] = d.rev
            place = {d.name: i for i, d in enumerate(datasets)}  # names are unique
            table.sort("name", key=place.__getitem__)
            self._rows = keys
            if selected in rank:
                table.move_cursor(row=rank[selected])
        elif keys != self._rows:
            # Rows removed (a filter): rebuild.
            selected = self.selected_key()
            table.clear()
            for d in datasets:
                table.add_row(*cells(d, self.ascii_only), key=d.files.key)
                self._drawn[d.files.key] = d.rev
            self._rows = keys
            if selected in keys:
                table.move_cursor(row=keys.index(selected))
        for d in datasets:
            if self._drawn.get(d.files.key) == d.rev:
                continue  # unchanged since drawn: no cell work for the other 99 rows
            self._drawn[d.files.key] = d.rev
            # That row alone repainted (update_cell would repaint every visible row).
            table.update_row(d.files.key, cells(d, self.ascii_only))
        self._draw_header()
        self._draw_detail()

    def _draw_header(self) -> None:
        e = self.engine
        counts: dict[str, int] = {}
        for d in e.datasets.values():
            counts[d.state.value] = counts.get(d.state.value, 0) + 1
        summary = " · ".join(f"{n} {s}" for s, n in counts.items()) or (
            "looking for images…" if e.scanning else "no dataset yet"
        )
        queue = "queue PAUSED" if e.paused else f"queue running ({e.config.jobs} at a time)"
        if not e.config.autoprocess:
            queue = "processing off"
        head = Text.assemble(
            ("session ", "bold"),
            str(e.config.data_dir),
            " → ",
            str(e.config.proc_root),
            "   ",
            (queue, "yellow" if e.paused else ""),
            "   ",
            summary,
            f"   sorted by {self.sort}",
            f"   filter: {self.filter_text}" if self.filter_text else "",
        )
        # Fixed heights (thas.tcss): no layout of the screen for a new text.
        self.query_one("#session-header", Static).update(head, layout=False)

    def _draw_detail(self) -> None:
        ds = self.selected()
        lines: list[str] = []
        if ds is not None:
            where = ds.files.master or (ds.files.template.pattern if ds.files.template else "")
            lines.append(f"{ds.name}: {where}")
            if ds.reason:
                lines.append(ds.reason)
            elif ds.state is DState.DONE:
                lines.append(f"processed in {ds.proc_dir}: Enter opens its dashboard")
        if self.engine.notes:
            lines.append(self.engine.notes[-1])
        self.query_one("#session-detail", Static).update("\n".join(lines), layout=False)

    def on_data_table_row_highlighted(self, _event) -> None:
        self._draw_detail()

    async def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        # The table takes Enter for itself: a selected row opens its dataset.
        await self.action_open()

    def action_move(self, step: int) -> None:
        table = self.query_one(DataTable)
        table.move_cursor(row=max(0, table.cursor_row + step))

    # ----- selection -----
    def selected_key(self) -> str | None:
        table = self.query_one(DataTable)
        if not self._rows or table.cursor_row is None or table.cursor_row >= len(self._rows):
            return None
        return self._rows[table.cursor_row]

    def selected(self) -> Dataset | None:
        key = self.selected_key()
        return self.engine.datasets.get(key) if key else None

    # ----- actions -----
    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.refresh_rows(force=True)

    def action_filter(self) -> None:
        row = self.query_one("#session-filter-row")
        row.display = True
        self.query_one("#session-filter", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.refresh_rows(force=True)

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()

    def action_clear_filter(self) -> None:
        self.filter_text = ""
        self.query_one("#session-filter", Input).value = ""
        self.query_one("#session-filter-row").display = False
        self.query_one(DataTable).focus()
        self.refresh_rows(force=True)

    def action_toggle_pause(self) -> None:
        self.engine.set_paused(not self.engine.paused)
        self.refresh_rows(force=True)

    def action_skip(self) -> None:
        ds = self.selected()
        if ds is not None:
            self.engine.skip(ds.files.key)
            self.refresh_rows(force=True)

    def action_force(self) -> None:
        ds = self.selected()
        if ds is None:
            return
        if ds.state in (DState.WAITING, DState.FAILED, DState.COLLECTING):
            self.engine.force(ds.files.key)
            self.notify(f"{ds.name}: queued for processing")
            self.refresh_rows(force=True)

    def action_help(self) -> None:
        from thas_tui.screens.help_screen import HelpScreen

        self.app.push_screen(HelpScreen(session=True))

    def action_quit(self) -> None:
        self.engine.stop()
        self.app.exit(0)

    async def action_open(self) -> None:
        """The dataset's own dashboard (thas-tui attach); Esc or q comes back here."""
        ds = self.selected()
        if ds is None:
            return
        if not (ds.proc_dir / "thas-tui").is_dir():
            self.notify(
                f"{ds.name} is not processed yet ({ds.state.value}): its dashboard opens once "
                "processing has started",
                severity="warning",
            )
            return
        argv = [sys.executable, "-m", "thas_tui", "attach", str(ds.proc_dir)]
        env = {**os.environ, "THAS_ESCAPE_BACK": "1"}
        self._away = True
        try:
            with self.app.suspend():
                await asyncio.to_thread(subprocess.run, argv, env=env)
        finally:
            self._away = False
        self.refresh_rows(force=True)

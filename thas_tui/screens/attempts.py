"""Earlier attempts of one stage, from the journal: when, how long, how it ended, with what."""

from __future__ import annotations

import time
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label, Static

from thas_tui.core.journal import Attempt, thas_dir


def phil_tokens(argv: list[str]) -> list[str]:
    """The ``name=value`` tokens of a command line (what set this attempt apart)."""
    return [a for a in argv[1:] if "=" in a and not a.startswith("/")]


def outcome(a: Attempt) -> str:
    if a.cancelled:
        return "cancelled"
    if a.exit_code is None:
        return "running" if a.ended is None else "?"
    return "ok" if a.exit_code == 0 else f"exit {a.exit_code}"


def duration(a: Attempt) -> str:
    if a.started is None or a.ended is None:
        return "-"
    s = max(0, int(round(a.ended - a.started)))
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def archive_dir(workdir: Path, a: Attempt) -> Path:
    """Where the orchestrator moved this attempt's outputs when the next one started."""
    return thas_dir(workdir) / "attempts" / f"{a.stage}.{a.attempt}"


class AttemptsScreen(ModalScreen[Attempt | None]):
    """Returns the attempt whose log to show, or None."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("enter", "show_log", "Show log", priority=True),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, stage: str, attempts: list[Attempt], workdir: Path) -> None:
        super().__init__()
        self.stage = stage
        self.attempts = attempts
        self.workdir = workdir

    def compose(self) -> ComposeResult:
        with Vertical(id="attempts-dialog"):
            yield Label(f"[b]Attempts of {self.stage}[/b] (journal)", id="attempts-title")
            yield DataTable(cursor_type="row", id="attempts-table")
            yield Static("", id="attempts-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label in ("#", "started", "took", "result", "parameters"):
            table.add_column(label)
        for a in self.attempts:
            started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(a.started or 0))
            result = outcome(a)
            style = "" if result in ("ok", "running") else "bold"
            table.add_row(
                str(a.attempt),
                started if a.started else "-",
                duration(a),
                Text(result, style=style),
                " ".join(phil_tokens(a.argv)),
                key=str(a.attempt),
            )
        if self.attempts:
            table.move_cursor(row=len(self.attempts) - 1)
            self._detail(self.attempts[-1])
        else:
            self.query_one("#attempts-detail", Static).update(
                f"No attempt of {self.stage} in the journal yet."
            )
        table.focus()

    @property
    def highlighted(self) -> Attempt | None:
        if not self.attempts:
            return None
        return self.attempts[self.query_one(DataTable).cursor_row]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.attempts):
            self._detail(self.attempts[event.cursor_row])

    def _detail(self, a: Attempt) -> None:
        text = Text()
        text.append("log: ", style="bold")
        text.append(a.log or "-")
        archived = archive_dir(self.workdir, a)
        text.append("\noutputs: ", style="bold")
        if archived.is_dir():
            names = sorted(p.name for p in archived.iterdir())
            text.append(f"{archived}/ ({', '.join(names)})")
        elif a is self.attempts[-1]:
            text.append(f"{self.workdir}/ (the latest attempt's)")
        else:
            text.append("not kept (the stage wrote none, or they were removed)")
        if a.key_result:
            text.append("\nresult: ", style="bold")
            text.append(a.key_result)
        text.append("\ncommand: ", style="bold")
        text.append(" ".join(a.argv))
        self.query_one("#attempts-detail", Static).update(text)

    def action_cursor_down(self) -> None:
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(DataTable).action_cursor_up()

    def action_show_log(self) -> None:
        self.dismiss(self.highlighted)

    def action_close(self) -> None:
        self.dismiss(None)

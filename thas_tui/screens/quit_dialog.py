"""Asked on quit while a stage runs: stop it, leave it running detached, or stay."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class QuitDialog(ModalScreen[str]):
    """Returns "stop", "leave" or "cancel"."""

    BINDINGS = [
        Binding("escape", "dismiss('cancel')", "Stay"),
        Binding("s", "dismiss('stop')", "Stop stage and quit"),
        Binding("l", "dismiss('leave')", "Leave running"),
    ]

    def __init__(self, stage: str) -> None:
        super().__init__()
        self.stage = stage

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog"):
            yield Label(f"[b]{self.stage}[/b] is running.")
            yield Label(
                "Stop it (its log is kept) and quit, or quit and leave the DIALS process running "
                "in the background?"
            )
            with Horizontal(id="quit-buttons"):
                yield Button("[u]S[/u]top and quit", id="stop", variant="error")
                yield Button("[u]L[/u]eave running", id="leave", variant="warning")
                yield Button("Stay (Esc)", id="cancel", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")

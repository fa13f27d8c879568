"""The log pane: follows the running stage live, or shows a finished stage's log; bounded memory."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Log

from thas_tui.core.tail import tail_lines

MAX_LINES = 5000


class LogPane(Log):
    """A Log that keeps at most MAX_LINES lines and knows which stage it shows."""

    def __init__(self, **kwargs) -> None:
        super().__init__(max_lines=MAX_LINES, highlight=False, auto_scroll=True, **kwargs)
        self.stage: str | None = None

    def show_stage(self, stage: str, log_path: str | None) -> None:
        """Replace the content with the last MAX_LINES lines of a stage's log."""
        self.stage = stage
        self.clear()
        self.border_title = f"log · {stage}"
        if not log_path or not Path(log_path).exists():
            self.write_line(f"(no log yet for {stage})")
            return
        lines = tail_lines(log_path, MAX_LINES)
        self.border_subtitle = str(log_path)
        self.write_lines(lines)

    def append(self, stage: str, lines: list[str]) -> None:
        """Append lines when they belong to the stage shown."""
        if stage == self.stage:
            self.write_lines(lines)

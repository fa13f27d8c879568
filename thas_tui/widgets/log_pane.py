"""The log pane: follows the running stage live, or shows a finished stage's log; bounded memory."""

from __future__ import annotations

from collections import deque
from pathlib import Path

from rich.cells import cell_len
from textual import work
from textual.actions import SkipAction
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Log

from thas_tui.core.tail import count_lines, tail_lines
from thas_tui.widgets.frame import FRAME, Beat

MAX_LINES = 5000
# Live lines are written to the Log at most this often (s); what arrives in between is coalesced
# and only its last MAX_LINES are written.
FLUSH_INTERVAL = FRAME


class LogPane(Log):
    """A Log that keeps at most MAX_LINES lines and knows which stage it shows."""

    def __init__(self, **kwargs) -> None:
        super().__init__(max_lines=MAX_LINES, highlight=False, auto_scroll=True, **kwargs)
        self.stage: str | None = None
        self._pending: deque[str] = deque(maxlen=MAX_LINES)
        self._beat = Beat(self, self._flush, FLUSH_INTERVAL)

    # Textual lays out the whole screen whenever a widget's virtual size changes; a growing log
    # changes it at every write, and that layout was half of the dashboard's CPU during a run.
    # Only the scrollbars depend on it: lay out when they appear or vanish, else move the thumb
    # (thas.tcss shows both always: no layout at all).
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, old: Size, new: Size) -> None:
        window = self.scrollable_content_region.size
        vertical_toggles = self.styles.overflow_y == "auto" and (old.height > window.height) != (
            new.height > window.height
        )
        horizontal_toggles = self.styles.overflow_x == "auto" and (old.width > window.width) != (
            new.width > window.width
        )
        if vertical_toggles or horizontal_toggles:
            self.refresh(layout=True)
            return
        bar = self._vertical_scrollbar
        if bar is not None and self.show_vertical_scrollbar:
            bar.window_virtual_size = new.height
        bar = self._horizontal_scrollbar
        if bar is not None and self.show_horizontal_scrollbar:
            bar.window_virtual_size = new.width
        self.refresh()

    def _update_size(self, updates: int, lines: list[str]) -> None:
        # Textual measures new lines' width in a thread worker whose answer arrives ~50 ms later
        # and costs a second screen update per beat; a beat's lines (at most MAX_LINES) are
        # measured here in less time than that update takes.
        if not lines:
            return
        text = "".join(lines)
        if text.isascii() and text.isprintable():
            # DIALS writes printable ASCII: a character is a cell, and a beat's 5,000 lines
            # are measured in ~1 ms instead of ~9 (cell_len of each processed line).
            width = max(map(len, lines))
        else:
            process = self._process_line
            width = max(cell_len(process(line)) for line in lines)
        self._update_maximum_width(updates, width)

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
        if len(lines) >= MAX_LINES:
            # Only the tail is shown: say how much of the file that is, counted off the event loop.
            self._count_lines(stage, log_path, len(lines))

    @work(thread=True, exclusive=True, group="log-count")
    def _count_lines(self, stage: str, log_path: str, shown: int) -> None:
        total = count_lines(log_path)
        if total > shown:
            self.app.call_from_thread(self._note_total, stage, shown, total)

    def _note_total(self, stage: str, shown: int, total: int) -> None:
        if self.stage == stage:
            self.border_title = f"log · {stage} · showing last {shown:,} of {total:,} lines"

    def append(self, stage: str, lines: list[str]) -> None:
        """Append lines when they belong to the stage shown (batched: see FLUSH_INTERVAL)."""
        if stage != self.stage:
            return
        # Only the last MAX_LINES can stay: the deque drops older ones before they cost anything.
        self._pending.extend(lines)
        self._beat.poke()

    def _flush(self) -> None:
        if self._pending:
            lines = list(self._pending)
            self._pending.clear()
            self.write_lines(lines)

    def clear(self) -> LogPane:
        """Empty the pane, and drop lines not written yet."""
        self._pending.clear()
        self._beat.cancel()
        return super().clear()

    # Home/End jump at once: Textual's default is a 1 s animated scroll through up to 5000 lines.
    def action_scroll_home(self) -> None:
        if not self._allow_scroll:
            raise SkipAction()
        self.scroll_home(animate=False, x_axis=self.scroll_y == 0)

    def action_scroll_end(self) -> None:
        if not self._allow_scroll:
            raise SkipAction()
        self.scroll_end(animate=False, x_axis=False)

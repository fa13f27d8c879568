"""The stage tree: every stage with its state glyph, elapsed time and one-line key result."""

from __future__ import annotations

import time

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from thas_tui.core.pipeline import Pipeline, StageRun, State
from thas_tui.core.progress_eta import format_seconds

GLYPHS = {
    State.PENDING: "·",
    State.RUNNING: "▶",
    State.WAITING: "?",
    State.DONE: "✓",
    State.FAILED: "✗",
    State.CANCELLED: "■",
    State.STALE: "~",
}
ASCII_GLYPHS = {
    State.PENDING: ".",
    State.RUNNING: ">",
    State.WAITING: "?",
    State.DONE: "+",
    State.FAILED: "x",
    State.CANCELLED: "#",
    State.STALE: "~",
}


class StageTree(DataTable):
    """One row a stage; the cursor selects whose log and panels are shown."""

    class StageSelected(Message):
        """The user moved to (or opened) a stage."""

        def __init__(self, stage: str, opened: bool = False) -> None:
            super().__init__()
            self.stage = stage
            self.opened = opened

    def __init__(self, pipeline: Pipeline, ascii_only: bool = False, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.pipeline = pipeline
        self.glyphs = ASCII_GLYPHS if ascii_only else GLYPHS

    # glyph 1 + stage 21 + time 7, each with DataTable's cell padding of 1 on both sides.
    _FIXED_WIDTH = 1 + 21 + 7 + 3 * 2 + 2

    def on_mount(self) -> None:
        self.add_column(" ", key="glyph", width=1)
        self.add_column("Stage", key="stage", width=21)
        self.add_column("Time", key="time", width=7)
        self.add_column("Result", key="result", width=self._result_width())
        for run in self.pipeline:
            self.add_row(*self._cells(run), key=run.name)

    def _result_width(self) -> int:
        # The result column takes what is left, so that the table never scrolls sideways.
        return max(12, self.scrollable_content_region.width - self._FIXED_WIDTH)

    def on_resize(self) -> None:
        if "result" not in self.columns:
            return
        width = self._result_width()
        column = self.columns["result"]
        if column.width != width:
            column.width = width
            for run in self.pipeline:
                self.refresh_stage(run.name)
            self.refresh()

    def _state_style(self, state: State) -> str:
        theme = self.app.current_theme
        return {
            State.PENDING: "dim",
            State.RUNNING: f"bold {theme.accent or theme.primary}",
            State.WAITING: f"bold {theme.warning}",
            State.DONE: f"{theme.success}",
            State.FAILED: f"bold {theme.error}",
            State.CANCELLED: f"{theme.warning}",
            State.STALE: f"dim {theme.warning}",
        }[state]

    def _cells(self, run: StageRun) -> tuple[Text, Text, Text, Text]:
        style = self._state_style(run.state)
        elapsed = run.elapsed(time.time())
        result = run.key_result
        if run.state is State.FAILED and not result:
            result = (run.error or "failed").splitlines()[0]
            # "dials.index stopped: No suitable…" → the reason, which is what fits in the column.
            if result.startswith(run.spec.program) and ": " in result:
                result = result.split(": ", 1)[1]
        elif run.state is State.WAITING:
            result = "choose a Bravais solution"
        elif run.state is State.STALE:
            result = f"stale: {result}" if result else "stale"
        elif run.queue_note and run.state in (State.PENDING, State.RUNNING):
            result = run.queue_note  # a Slurm job: where it is in the queue, or its node
        result_style = style if run.state is not State.DONE else ""
        if run.concerns and run.state is State.DONE:
            # the result stands, but an expert would look twice: the detail says why
            n = len(run.concerns)
            result = f"⚠{n if n > 1 else ''} {result}"
            result_style = self.app.current_theme.warning or "yellow"
        return (
            Text(self.glyphs[run.state], style=style),
            Text(run.spec.title, style="bold" if run.state is State.RUNNING else ""),
            Text(format_seconds(elapsed) if elapsed is not None else "", justify="right"),
            Text(_truncate(result, self._result_width()), style=result_style),
        )

    def sync_rows(self) -> None:
        """Rows again from the pipeline, when it gained a stage (Mask), the cursor kept."""
        keys = [k.value for k in self.rows]
        if keys == self.pipeline.names:
            return
        selected = keys[self.cursor_row] if keys else None
        self.clear()
        for run in self.pipeline:
            self.add_row(*self._cells(run), key=run.name)
        if selected in self.pipeline.runs:
            self.select_stage(selected)

    def refresh_stage(self, name: str) -> None:
        """Redraw one stage's row from the pipeline model."""
        run = self.pipeline[name]
        for key, cell in zip(("glyph", "stage", "time", "result"), self._cells(run), strict=True):
            self.update_cell(name, key, cell)

    def refresh_running(self) -> None:
        """Tick the elapsed time of running stages."""
        for run in self.pipeline:
            if run.state in (State.RUNNING, State.WAITING):
                self.update_cell(run.name, "time", self._cells(run)[2])

    @property
    def selected_stage(self) -> str | None:
        if self.row_count == 0:
            return None
        return self.pipeline.names[self.cursor_row]

    def select_stage(self, name: str) -> None:
        self.move_cursor(row=self.pipeline.index(name))

    # Only the user's moves select a stage: the cursor also moves when the screen follows the
    # running stage, and those (late) highlight events must not switch the log away from it.
    _user_moved = False

    def _by_user(self, action) -> None:
        self._user_moved = True
        action()

    def action_cursor_up(self) -> None:
        self._by_user(super().action_cursor_up)

    def action_cursor_down(self) -> None:
        self._by_user(super().action_cursor_down)

    def action_page_up(self) -> None:
        self._by_user(super().action_page_up)

    def action_page_down(self) -> None:
        self._by_user(super().action_page_down)

    def action_scroll_top(self) -> None:
        self._by_user(super().action_scroll_top)

    def action_scroll_bottom(self) -> None:
        self._by_user(super().action_scroll_bottom)

    async def _on_click(self, event) -> None:
        self._user_moved = True
        await super()._on_click(event)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value and self._user_moved:
            self._user_moved = False
            self.post_message(self.StageSelected(str(event.row_key.value)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.post_message(self.StageSelected(str(event.row_key.value), opened=True))


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"

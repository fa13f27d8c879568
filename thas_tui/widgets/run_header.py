"""The run header: data set, DIALS version, processing directory, elapsed time, running stage."""

from __future__ import annotations

import time

from textual.reactive import reactive
from textual.widgets import Static

from thas_tui.core.progress_eta import format_seconds


class RunHeader(Static):
    """One or two lines at the top; attributes are set by the screen."""

    dials_version: reactive[str] = reactive("")
    workdir: reactive[str] = reactive("")
    dataset: reactive[str] = reactive("")
    running: reactive[str] = reactive("")
    started: reactive[float | None] = reactive(None)
    finished: reactive[float | None] = reactive(None)

    def render(self) -> str:
        # Most important first: an 80-column terminal cuts the end of the line.
        parts = [f"[b]thas-tui[/b]  DIALS {self.dials_version or '?'}"]
        if self.running:
            parts.append(f"[b]{self.running}[/b]")
        if self.started is not None:
            end = self.finished if self.finished is not None else time.time()
            parts.append(format_seconds(end - self.started))
        if self.dataset:
            parts.append(self.dataset)
        parts.append(self.workdir)
        return " · ".join(parts)

    def tick(self) -> None:
        if self.started is not None and self.finished is None:
            self.refresh()

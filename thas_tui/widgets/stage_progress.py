"""Progress of the running stage: phase, done/total, bar and estimated time left."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, ProgressBar

from thas_tui.core.parsers.common import Progress
from thas_tui.core.progress_eta import EtaClock, format_seconds
from thas_tui.widgets.frame import Beat


class StageProgress(Vertical):
    """A label line above a bar with its ETA; invisible when no stage runs (class ``-idle``).

    Invisible, not undisplayed: its two lines stay reserved, so a stage starting or ending
    repaints them without laying out the screen (on 80×24, where lines are scarce, thas.tcss
    takes them back)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._clock = EtaClock()
        self._key: tuple[str, str] | None = None
        self._beat = Beat(self, self._show_latest)

    def compose(self) -> ComposeResult:
        with Horizontal(id="progress-head"):
            yield Label("", id="progress-label")
            yield Label("", id="progress-clock")
        with Horizontal(id="progress-row"):
            yield ProgressBar(total=1, show_eta=False, show_percentage=True, id="progress-bar")
            yield Label("", id="progress-eta")

    def start(self, stage: str, started: float | None = None) -> None:
        self._started = time.time() if started is None else started
        self._key = (stage, "")
        self._clock = EtaClock()
        _set(self.query_one("#progress-label", Label), f"{stage}: starting")
        # Not total=None: Textual animates an indeterminate bar ~10×/s, which over a long
        # stage costs the dashboard more CPU than everything else together.
        self.query_one("#progress-bar", ProgressBar).update(total=1, progress=0)
        _set(self.query_one("#progress-eta", Label), "")
        self.tick()
        self.set_class(False, "-idle")

    _started: float | None = None

    def tick(self) -> None:
        """The running stage's clock, every second (the screen calls it on the beat)."""
        if self._started is not None:
            elapsed = format_seconds(max(0.0, time.time() - self._started))
            _set(self.query_one("#progress-clock", Label), elapsed)

    def update_progress(self, stage: str, progress: Progress) -> None:
        """Show the latest progress, at most once per frame (see widgets/frame.py)."""
        self._latest = (stage, progress)
        self._beat.poke()

    _latest: tuple[str, Progress] | None = None

    def _show_latest(self) -> None:
        if self._latest is not None:
            self._show(*self._latest)
            self._latest = None

    def _show(self, stage: str, progress: Progress) -> None:
        key = (stage, progress.phase)
        if key != self._key:
            self._key = key
            self._clock = EtaClock()
        total = progress.total
        bar = self.query_one("#progress-bar", ProgressBar)
        if total:
            bar.update(total=total, progress=progress.done)
        phase = (
            f" ({progress.phase_index + 1}/{progress.phase_count})"
            if progress.phase_count > 1
            else ""
        )
        of = f"/{total}" if total else ""
        eta = self._clock.eta(progress.done, total)
        # Both labels have a fixed size: a new text needs a repaint, never a layout pass.
        _set(
            self.query_one("#progress-label", Label),
            f"{stage}: {progress.phase}{phase} {progress.done}{of}",
        )
        _set(
            self.query_one("#progress-eta", Label),
            f"ETA {format_seconds(eta)}" if eta is not None else "",
        )

    def finish(self) -> None:
        self._beat.cancel()
        self._latest = None
        self._started = None
        self.set_class(True, "-idle")


def _set(label: Label, text: str) -> None:
    if str(label.content) != text:
        label.update(text, layout=False)

"""A shared beat for live updates, so that the log, spots, progress and clock repaint together."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.timer import Timer
    from textual.widget import Widget

# Every live update waits for the next multiple of FRAME seconds of the monotonic clock: the
# log pane, the live spot histogram, the progress bar and the clocks then land in one screen
# update instead of four, and each update costs a compositor pass over most of the screen
# (Textual renders every widget under the union of the changed regions). Once a second is
# what `top` and `watch` do; the processing it watches runs for minutes.
FRAME = 1.0

# Output after this long a silence is shown at once: a stage's first lines, or a lone line.
QUIET = 2 * FRAME


def until_next(period: float = FRAME, now: float | None = None) -> float:
    """Seconds from ``now`` to the next multiple of ``period`` (never less than a millisecond)."""
    now = time.monotonic() if now is None else now
    return max(0.001, period - (now % period))


class Beat:
    """Runs ``callback`` on the shared beat: at once after a silence of ``QUIET``, else at the
    next multiple of ``period``; calls in between coalesce into that one run."""

    def __init__(self, owner: Widget, callback: Callable[[], None], period: float = FRAME) -> None:
        self._owner = owner
        self._callback = callback
        self._period = period
        self._timer: Timer | None = None
        self._last = 0.0

    def poke(self) -> None:
        if self._timer is not None:
            return
        if time.monotonic() - self._last >= max(QUIET, 2 * self._period):
            self._run()  # quiet until now: show it at once
        else:
            self._timer = self._owner.set_timer(until_next(self._period), self._run)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _run(self) -> None:
        self._timer = None
        self._last = time.monotonic()
        self._callback()

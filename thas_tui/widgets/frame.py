"""A shared beat for live updates, so that the log, spots, progress and clock repaint together."""

from __future__ import annotations

import time

# Every live update waits for the next multiple of FRAME seconds of the monotonic clock: the
# log pane, the live spot histogram, the progress bar and the clocks then land in one screen
# update instead of four, and each update costs a compositor pass whatever it holds.
FRAME = 0.5


def until_next(period: float = FRAME, now: float | None = None) -> float:
    """Seconds from ``now`` to the next multiple of ``period`` (never less than a millisecond)."""
    now = time.monotonic() if now is None else now
    return max(0.001, period - (now % period))

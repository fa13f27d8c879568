"""Estimated time to completion from a stream of (done, total) progress readings."""

from __future__ import annotations

import time


class EtaClock:
    """ETA from the rate since the first reading with work done (DIALS work is roughly linear)."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._t0: float | None = None
        self._done0 = 0

    def eta(self, done: int, total: int | None) -> float | None:
        """Seconds left, or None when it cannot be estimated yet."""
        now = self._clock()
        if total is None or total <= 0:
            return None
        if self._t0 is None:
            self._t0, self._done0 = now, done
            return None
        rate_done = done - self._done0
        elapsed = now - self._t0
        if rate_done <= 0 or elapsed <= 0:
            return None
        return max(0.0, (total - done) * elapsed / rate_done)


def format_seconds(seconds: float | None) -> str:
    """12.3 s, 4m05s, 1h02m."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_memory(mb: float | None) -> str:
    """215 MB, 4.1 GB (1 GB = 1024 MB, as ru_maxrss and Slurm count)."""
    if not mb:
        return ""
    if mb < 1024:
        return f"{mb:.0f} MB"
    return f"{mb / 1024:.1f} GB"

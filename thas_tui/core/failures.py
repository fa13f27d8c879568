"""Classify why a stage failed, from its exit status and the end of its log (as xia2 does)."""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass

from thas_tui.core.parsers.common import find_failure


@dataclass(frozen=True)
class Failure:
    """A failed stage explained: one-line reason, detail lines, and what to try."""

    kind: str  # "signal", "oom", "traceback", "sorry", "exit", "cancelled"
    reason: str
    detail: list[str]
    hint: str = ""

    def text(self) -> str:
        parts = [self.reason, *self.detail]
        if self.hint:
            parts.append(self.hint)
        return "\n".join(parts)


_SORRY = re.compile(r"^(?:\S+:\s+)?(Sorry|DialsIndexError|DialsIndexRefineError)[:\s]\s*(.*)$")
_INDEX_HINT = (
    "Try: more spots (dials.find_spots min_spot_size=2 or d_min=...), a known cell "
    "(dials.index unit_cell=... space_group=...), max_cell=..., or index a subset of images."
)


def signal_name(code: int | None) -> str | None:
    """Name of the signal for a negative returncode (or 128+N shell style)."""
    if code is None:
        return None
    num = -code if code < 0 else (code - 128 if code > 128 and code - 128 < 65 else None)
    if num is None:
        return None
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def classify(
    program: str,
    exit_code: int | None,
    log_tail: list[str],
    peak_rss_mb: float | None = None,
    cancelled: bool = False,
) -> Failure | None:
    """Explain a finished process; ``None`` when it succeeded."""
    if cancelled:
        return Failure("cancelled", f"{program} was cancelled by the user.", [])
    if exit_code == 0:
        return None
    sig = signal_name(exit_code)
    if sig == "SIGKILL":
        mem = f" after reaching {peak_rss_mb:.0f} MB" if peak_rss_mb else ""
        return Failure(
            "oom",
            f"{program} was killed (SIGKILL){mem}: most often the system ran out of memory.",
            log_tail[-3:],
            "Try fewer processes (nproc=1) or smaller blocks, or a machine with more memory.",
        )
    if sig is not None:
        return Failure("signal", f"{program} was stopped by {sig}.", log_tail[-3:])
    # A Python traceback: show its last lines, where the exception is.
    for i in range(len(log_tail) - 1, -1, -1):
        if log_tail[i].startswith("Traceback (most recent call last)"):
            tb = [ln for ln in log_tail[i:] if ln.strip()]
            last = tb[-1].strip() if tb else ""
            # The exception line first: it is what a user needs when space is short.
            return Failure(
                "traceback", f"{program} crashed (exit code {exit_code}): {last}", tb[-6:-1]
            )
    hint = _INDEX_HINT if program.endswith("dials.index") else ""
    for line in reversed(log_tail):
        m = _SORRY.match(line.strip())
        if m:
            return Failure("sorry", f"{program} stopped: {m.group(2).strip()}", [], hint)
    detail = [ln.rstrip() for ln in log_tail if ln.strip()][-8:]
    known = find_failure(log_tail)
    if known:
        return Failure("exit", f"{program} stopped (exit code {exit_code}): {known}", detail, hint)
    return Failure("exit", f"{program} failed with exit code {exit_code}.", detail, hint)

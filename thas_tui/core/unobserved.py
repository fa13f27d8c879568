"""Record the end of a stage that finished while no dashboard watched (its driver was killed)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from thas_tui.core.journal import Attempt, Journal
from thas_tui.core.pipeline import SPECS
from thas_tui.core.procs import pid_alive


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def close_unobserved(workdir: str | os.PathLike[str]) -> Attempt | None:
    """Write the journal's end of a stage whose process ended unseen; the attempt, or None.

    Only an attempt started on this host whose process is gone: its end time is the last write
    of its logs (thas-tui's per-attempt log, DIALS's own), its outputs are checked, and its exit
    status, which no one reaped, is learnt from the log where DIALS said it failed.
    """
    from thas_tui.core.failures import classify
    from thas_tui.core.tail import tail_lines

    workdir = Path(workdir)
    journal = Journal(workdir)
    a = journal.unfinished_attempt()
    if a is None or not a.pid or a.started is None or a.stage not in SPECS:
        return None
    if (a.host and a.host != socket.gethostname()) or pid_alive(a.pid):
        return None
    spec = SPECS[a.stage]
    logs = [Path(a.log)] if a.log else []
    if spec.log_name:
        logs.append(workdir / spec.log_name)
    times = [t for t in (_mtime(p) for p in logs) if t is not None and t >= a.started - 1]
    ended = max(times, default=a.started)
    outputs = [workdir / o for o in spec.outputs]
    written = all((_mtime(p) or 0.0) >= a.started - 1 for p in outputs) if outputs else True
    tail = tail_lines(Path(a.log), 40) if a.log and Path(a.log).exists() else []
    # classify() with a non-zero code says what DIALS printed when it failed: a Sorry or a
    # traceback in the log is the exit status we can still learn.
    said = classify(spec.program, 1, tail, None, False)
    failed = said is not None and said.kind in ("sorry", "parameter", "traceback")
    exit_code = 1 if failed else (0 if written else None)
    note = (
        "ended unobserved: no dashboard watched; end time from the log's last write"
        + ("; DIALS's log says it failed" if failed else "")
        + ("" if written else f"; {spec.primary_output} not written")
        + ("; outputs written, exit status inferred" if exit_code == 0 else "")
    )
    journal.ended_unobserved(a.stage, a.attempt, ended, exit_code, note)
    a.ended, a.exit_code, a.unobserved = ended, exit_code, note
    return a

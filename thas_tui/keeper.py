"""The keeper: a detached process that finishes a run when its dashboard dies (SIGKILL, crash)."""

from __future__ import annotations

from pathlib import Path

# The keeper's machinery lives in the core, with the rest of starting and continuing a run.
from thas_tui.core.run_control import orphaned_run, spawn_keeper, wait_for_exit

__all__ = ["keep", "orphaned_run", "spawn_keeper", "wait_for_exit"]


def keep(workdir: Path, pid: int, dials_dir: str | None) -> int:
    """``thas-tui keep``: wait for the dashboard ``pid``; continue its run if it died mid-run."""
    from thas_tui.core.run_control import continue_run
    from thas_tui.headless import LinePrinter, run_headless

    wait_for_exit(pid)
    settings = orphaned_run(workdir, pid)
    if settings is None:
        return 0
    print(
        f"thas-tui keeper: dashboard pid {pid} ended without finishing its run: continuing it",
        flush=True,
    )
    return continue_run(
        workdir,
        dials_dir,
        LinePrinter(),
        run_headless,
        lambda line: print(line, flush=True),
        continue_run=True,
    )

"""Details of the selected stage: command line, attempt, times, memory, log, failure."""

from __future__ import annotations

import time
from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from thas_tui.core.commands import split_chain
from thas_tui.core.pipeline import StageRun, State
from thas_tui.core.progress_eta import format_memory, format_seconds


class StageDetail(Static):
    """What one would otherwise dig out of the journal and the log for a stage."""

    def show(self, run: StageRun | None) -> None:
        if run is None:
            self._shown = ""
            self.update("")
            return
        t = Text()
        t.append(f"{run.spec.title}", style="bold")
        t.append(f"  {run.spec.program}  ·  {run.state.value}")
        if run.attempt:
            t.append(f"  ·  attempt {run.attempt}")
        t.append("\n")
        # Mask runs two commands: one "$" line each, as typed in the tutorial.
        for command in split_chain(run.argv):
            t.append("$ " + " ".join(_short(a) for a in command) + "\n", style="dim")
        if run.started:
            start = datetime.fromtimestamp(run.started).strftime("%H:%M:%S")
            took = run.elapsed(time.time())
            t.append(f"started {start}, {format_seconds(took)}")
            if run.peak_rss_mb:
                t.append(f", peak memory {format_memory(run.peak_rss_mb)}")
            elif run.peak_note and run.state is not State.RUNNING:
                t.append(f", {run.peak_note}")
            if run.exit_code not in (None, 0):
                t.append(f", exit code {run.exit_code}")
            t.append("\n")
            if run.unobserved:
                t.append(run.unobserved + "\n", style="italic")
        if run.job_id:
            where = f" on {run.node}" if run.node else ""
            cpus = f", {run.cpus} CPU{'s' if run.cpus != 1 else ''}" if run.cpus else ""
            t.append(f"Slurm job {run.job_id}{where}{cpus}")
            if run.state is State.PENDING:
                t.append(f"  ·  queued: {run.slurm_reason or 'submitted'}")
            t.append("\n")
        if run.key_result and run.state is State.DONE:
            t.append(run.key_result + "\n")
        if run.state is State.DONE:
            for c in run.concerns:
                t.append(f"⚠ {c.what}\n", style="bold")
                t.append(f"  {c.why}. Try: {c.try_}\n")
        if run.error and run.state in (State.FAILED, State.CANCELLED, State.STALE):
            t.append(run.error + "\n", style="bold")
        if run.log_path:
            t.append(f"log: {run.log_path}", style="dim")
        # Ticked while a stage runs: repaint only what changed. Its size is the rest of the
        # column (thas.tcss), whatever the text: never a layout pass.
        if t.plain == self._shown:
            return
        self._shown = t.plain
        self.update(t, layout=False)

    _shown = ""


def _short(arg: str) -> str:
    # Image paths make the command unreadable; their names say enough.
    if "/" in arg and "=" not in arg:
        return arg.rsplit("/", 1)[-1]
    return arg

"""The ``--no-tui`` run: the pipeline's events printed as plain lines, for scripts, cron and CI."""

from __future__ import annotations

import asyncio
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import TextIO

from thas_tui.core.commands import CHAIN
from thas_tui.core.orchestrator import (
    BravaisChosen,
    Event,
    Orchestrator,
    PipelineFinished,
    StageFinished,
    StageOutput,
    StageProgress,
    StageQueued,
    StageStarted,
)
from thas_tui.core.pipeline import State
from thas_tui.core.progress_eta import EtaClock, format_seconds


def _same_terminal(a: TextIO, b: TextIO) -> bool:
    """Both streams show on one terminal: print the block once, not twice."""
    try:
        return a.isatty() and b.isatty()
    except (AttributeError, ValueError):
        return False


class LinePrinter:
    """Turns pipeline events into short, timestamped lines; progress at most every few seconds."""

    def __init__(
        self, out: TextIO | None = None, progress_every: float = 5.0, err: TextIO | None = None
    ) -> None:
        self.out = out or sys.stdout
        # Why a stage failed goes to stderr too, where scripts and cluster logs look for errors.
        self.err = err or sys.stderr
        self.progress_every = progress_every
        self._last_progress: dict[str, float] = {}
        self._eta: dict[str, EtaClock] = {}
        self.failure_text: str | None = None
        self._reported_done: set[str] = set()

    def _print(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        print(f"[{stamp}] {text}", file=self.out, flush=True)

    def _explain(self, what: str, lines: list[str]) -> None:
        """The failure block: on stdout under the timeline, and on stderr when that differs."""
        for line in lines:
            print(f"         {line}", file=self.out, flush=True)
        if self.err is not self.out and not _same_terminal(self.out, self.err):
            print(f"thas-tui: {what}", file=self.err, flush=True)
            for line in lines:
                print(f"  {line}", file=self.err, flush=True)

    def _concerns(self, run) -> None:
        """What an expert would distrust in the result, under its done line."""
        for c in run.concerns:
            self._print(f"check  {run.name:<24} {c.what}")
            print(f"         why: {c.why}", file=self.out, flush=True)
            print(f"         try: {c.try_}", file=self.out, flush=True)

    def __call__(self, event: Event) -> None:
        if isinstance(event, StageStarted):
            self._reported_done.discard(event.stage)
            self._eta[event.stage] = EtaClock()
            if CHAIN in event.argv:
                # Mask's two commands, in full: they are short and the tutorial's own.
                shown, more = " ".join(event.argv), ""
            else:
                shown = " ".join(event.argv[:4])
                more = f" … (+{len(event.argv) - 4} args)" if len(event.argv) > 4 else ""
            self._print(f"start  {event.stage:<24} {shown}{more}")
        elif isinstance(event, StageQueued):
            never = "  (will never start)" if event.never_clears else ""
            self._print(f"queued {event.stage:<24} job {event.job_id}: {event.reason}{never}")
        elif isinstance(event, StageProgress):
            now = time.monotonic()
            p = event.progress
            if p.total is None:
                return  # nothing measurable to report (e.g. index's macrocycles)
            done = p.done >= p.total
            if not done and now - self._last_progress.get(event.stage, 0.0) < self.progress_every:
                return
            self._last_progress[event.stage] = now
            clock = self._eta.setdefault(event.stage, EtaClock())
            eta = clock.eta(p.done, p.total)
            total = f"/{p.total}" if p.total else ""
            eta_text = f"  ETA {format_seconds(eta)}" if eta is not None and not done else ""
            self._print(
                f"  ...  {event.stage:<24} {p.phase or ''} {p.done}{total}{eta_text}".rstrip()
            )
        elif isinstance(event, StageFinished):
            run = event.run
            took = run.elapsed(time.time())
            took_text = format_seconds(took) if took is not None else ""
            if run.state is State.DONE:
                if run.name in self._reported_done:
                    return
                self._reported_done.add(run.name)
                self._print(f"done   {run.name:<24} {took_text:>7}  {run.key_result}")
                self._concerns(run)
            elif run.state is State.WAITING:
                self._print(f"wait   {run.name:<24} choose a Bravais solution")
            elif run.state in (State.FAILED, State.CANCELLED):
                word = "FAILED" if run.state is State.FAILED else "stopped"
                self._print(f"{word:<6} {run.name:<24} {took_text:>7}")
                lines = []
                if event.failure is not None:
                    self.failure_text = event.failure.text()
                    lines = self.failure_text.splitlines()
                if run.log_path:
                    lines.append(f"full log: {run.log_path}")
                    if event.failure is not None and event.failure.fix:
                        # The log is DIR/thas-tui/logs/STAGE.N.log: the fix as one command.
                        workdir = shlex.quote(str(Path(run.log_path).parents[2]))
                        fix = " ".join(f"--phil {run.name}:{t}" for t in event.failure.fix)
                        lines.append(f"re-run with it: thas-tui resume {workdir} {fix}")
                self._explain(f"{run.name} {'failed' if word == 'FAILED' else 'stopped'}", lines)
        elif isinstance(event, BravaisChosen):
            how = "recommended, chosen automatically" if event.auto else "chosen"
            self._print(
                f"chose  {event.lattice} chosen: solution {event.solution} ({how}), cb_op {event.cb_op}"
            )
        elif isinstance(event, PipelineFinished):
            total = format_seconds(event.elapsed)
            if event.ok:
                self._print(f"pipeline finished in {total}")
            else:
                self._print(f"pipeline stopped at {event.stopped_at} after {total}")
                if event.failure is not None and self.failure_text is None:
                    self.failure_text = event.failure.text()
                    self._explain("stopped", self.failure_text.splitlines())
        elif isinstance(event, StageOutput):
            pass


async def _run(orch: Orchestrator, until: str | None) -> bool:
    loop = asyncio.get_running_loop()
    interrupted = False

    def on_sigint() -> None:
        nonlocal interrupted
        if interrupted:
            return
        interrupted = True
        print(
            "\nthas-tui: interrupted: stopping the running stage (its log is kept)", file=sys.stderr
        )
        loop.create_task(orch.cancel())

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
        loop.add_signal_handler(signal.SIGTERM, on_sigint)
    except (NotImplementedError, RuntimeError):
        pass
    ok = await orch.run(stop_after=until)
    return ok and not interrupted


def run_headless(orch: Orchestrator, until: str | None = None) -> int:
    """Run to the end; exit code 0 when every stage succeeded, 1 when one failed, 130 on Ctrl-C."""
    ok = asyncio.run(_run(orch, until))
    if ok:
        return 0
    # A failed stage whose dependants were cancelled with it (a Slurm chain) is a failure.
    failed = any(r.state is State.FAILED for r in orch.pipeline)
    cancelled = any(r.state is State.CANCELLED for r in orch.pipeline)
    return 130 if cancelled and not failed else 1

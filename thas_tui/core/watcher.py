"""Watch a processing directory that something else is processing, as pipeline events."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from thas_tui.core import stage_info
from thas_tui.core import warnings as expert
from thas_tui.core.errors import ThasError
from thas_tui.core.orchestrator import (
    Emit,
    StageFinished,
    StageOutput,
    StageProgress,
    StagesChanged,
    StageStarted,
)
from thas_tui.core.parsers.registry import latest_progress
from thas_tui.core.pipeline import Pipeline, StageRun, State
from thas_tui.core.rundir import RunDirState, StageState, read_rundir
from thas_tui.core.tail import BATCH_BYTES, LineTailer

# A log written to this recently, with no newer output, is taken as a stage running now: a run
# started by hand or on another machine has no journal entry with a pid to check.
RECENT_S = 60.0


def _mtime(path: Path | None) -> float | None:
    if path is None:
        return None
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def running_stage(state: RunDirState, now: float | None = None) -> StageState | None:
    """The stage running now: the journal's live pid, else the freshest log without newer output."""
    if state.running is not None:
        return state.running
    now = time.time() if now is None else now
    best: tuple[float, StageState] | None = None
    for st in state.stages.values():
        log_time = _mtime(st.log)
        if log_time is None or now - log_time > RECENT_S:
            continue
        if st.state is State.DONE and st.mtime is not None and st.mtime >= log_time - 1.0:
            continue
        if st.state is State.FAILED:
            continue
        last = st.last_attempt
        if last is not None and last.ended is not None and st.log == Path(last.log):
            # the journal recorded this log's end: DIALS writes its log after its outputs
            # (dials.merge: the html report after merged.mtz), which is no sign of a new run
            continue
        if best is None or log_time > best[0]:
            best = (log_time, st)
    return best[1] if best else None


def apply_state(
    pipeline: Pipeline, state: RunDirState, workdir: Path, key_results: bool = True
) -> list[str]:
    """Copy what the directory says into the pipeline model; return the stages that changed."""
    changed = []
    live = running_stage(state)
    for name, st in state.stages.items():
        if name not in pipeline.runs:
            continue
        run = pipeline[name]
        new_state = State.RUNNING if live is not None and live.name == name else st.state
        log_path = str(st.log) if st.log else None
        last = st.last_attempt
        if new_state is run.state and log_path == run.log_path:
            continue
        run.state = new_state
        run.log_path = log_path
        if last is not None:
            run.attempt = last.attempt
            run.started, run.ended = last.started, last.ended
            run.exit_code, run.pid = last.exit_code, last.pid
            run.peak_rss_mb = last.peak_rss_mb
            run.unobserved = last.unobserved
            # A Slurm stage: attach (from any node) shows its job as the submitting run did.
            run.job_id, run.node = last.job_id, last.node
            run.argv = list(last.argv)
        elif new_state is State.RUNNING:
            run.started = _mtime(st.log)
        run.error = st.failure
        if new_state is State.DONE and key_results:
            try:
                run.key_result = stage_info.key_result(name, workdir)
            except Exception as exc:  # one unreadable file must not stop the watch
                run.key_result = f"(could not read result: {exc})"
            run.concerns = expert.for_stage(name, workdir)
        elif new_state is State.STALE:
            run.key_result = st.note or ""
        changed.append(name)
    if state.bravais_choice is not None:
        pipeline.bravais_choice, pipeline.cb_op = state.bravais_choice
    return changed


def pipeline_from_dir(workdir: Path) -> tuple[Pipeline, RunDirState]:
    """A pipeline model showing what a processing directory holds now."""
    state = read_rundir(workdir)
    pipeline = Pipeline(tuple(state.stages))
    apply_state(pipeline, state, Path(workdir))
    return pipeline, state


class DirectoryWatcher:
    """Follows a processing directory: re-reads its state when files change, tails the live log."""

    def __init__(self, workdir: Path, pipeline: Pipeline, emit: Emit, poll: float = 0.25) -> None:
        self.workdir = Path(workdir)
        self.pipeline = pipeline
        self.emit = emit
        self.poll = poll
        self._tail: LineTailer | None = None
        self._tail_stage: str | None = None
        self._tracker = None
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Until stopped: a file-change loop and a tail loop side by side."""
        await self.refresh()
        tasks = [asyncio.create_task(self._watch_files()), asyncio.create_task(self._tail_loop())]
        try:
            await self._stop.wait()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def refresh(self) -> None:
        """Re-read the directory and emit what changed."""
        try:
            state = await asyncio.to_thread(read_rundir, self.workdir)
        except ThasError:
            return  # the directory went away; keep showing what we had
        if "mask" in state.stages and not self.pipeline.has_mask:
            # A mask.phil saved (or a Mask run by hand) since the dashboard opened.
            self.pipeline.mask_changed()
            self.emit(StagesChanged())
        before = {r.name: r.state for r in self.pipeline}
        changed = await asyncio.to_thread(apply_state, self.pipeline, state, self.workdir)
        for name in changed:
            run = self.pipeline[name]
            if run.state is State.RUNNING and before.get(name) is not State.RUNNING:
                self._follow(run)
                self.emit(StageStarted(name, run.attempt, run.argv, run.log_path or ""))
            elif before.get(name) is State.RUNNING and self._tail_stage == name:
                self._drain()
                self._tail, self._tail_stage = None, None
                self.emit(StageFinished(name, run))
            else:
                self.emit(StageFinished(name, run))

    def _follow(self, run: StageRun) -> None:
        self._tail = LineTailer(run.log_path, max_bytes=BATCH_BYTES) if run.log_path else None
        self._tail_stage = run.name
        self._tracker = stage_info.progress_tracker(run.name)

    def _drain(self) -> None:
        if self._tail is None or self._tail_stage is None:
            return
        while True:
            lines = self._tail.read_new(final=True)
            if not lines:
                break
            self._deliver(self._tail_stage, lines)

    def _deliver(self, stage: str, lines: list[str]) -> None:
        self.emit(StageOutput(stage, lines))
        if self._tracker is None:
            return
        latest = latest_progress(self._tracker, lines)
        if latest is not None:
            self.emit(StageProgress(stage, latest))

    async def _tail_loop(self) -> None:
        while not self._stop.is_set():
            if self._tail is not None and self._tail_stage is not None:
                lines = self._tail.read_new()
                if lines:
                    self._deliver(self._tail_stage, lines)
                    if not self._tail.caught_up:
                        await asyncio.sleep(0)  # more to read: go on, but let the UI run
                        continue
            await asyncio.sleep(self.poll)

    async def _watch_files(self) -> None:
        from watchfiles import Change, awatch

        logs_dir = os.path.join(str(self.workdir), "thas-tui", "logs")
        async for changes in awatch(
            self.workdir, stop_event=self._stop, debounce=400, step=100, recursive=True
        ):
            # Growing logs are the tail loop's business; anything else can change a stage's state.
            interesting = any(
                kind is not Change.modified
                or not (path.endswith(".log") or path.startswith(logs_dir))
                for kind, path in changes
            )
            if interesting:
                await self.refresh()
            elif self._tail_stage is None:
                # A log grew with nothing followed: a stage may have started by hand.
                await self.refresh()

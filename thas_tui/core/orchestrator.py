"""Run the pipeline's stages in order as DIALS subprocesses and report what happens as events."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from thas_tui.core import stage_info
from thas_tui.core import warnings as expert
from thas_tui.core.commands import RunConfig, split_chain, stage_argv
from thas_tui.core.dials_env import DialsEnv
from thas_tui.core.errors import ThasError
from thas_tui.core.executor import Executor, ExecutorSettings, Job, JobState, make_executor
from thas_tui.core.failures import (
    DISK_HINT,
    Failure,
    classify,
    disk_full,
    mask_failure,
    missing_output,
    signal_name,
)
from thas_tui.core.journal import Journal, thas_dir
from thas_tui.core.parsers.common import Progress
from thas_tui.core.parsers.registry import latest_progress
from thas_tui.core.pipeline import MASK_INPUT, Pipeline, StageRun, State
from thas_tui.core.readers.bravais import BravaisSolution

# Seconds between counts of the images a running integrate has opened.
IMAGE_READS_INTERVAL = 1.0


@dataclass
class StageStarted:
    stage: str
    attempt: int
    argv: list[str]
    log_path: str


@dataclass
class StageQueued:
    """A stage's Slurm job waits in the queue (Slurm's reason, and whether it can ever clear)."""

    stage: str
    job_id: str
    reason: str
    never_clears: bool = False


@dataclass
class StageOnNode:
    """A stage's Slurm job runs: on which node, with how many CPUs."""

    stage: str
    job_id: str
    node: str | None
    cpus: int | None


@dataclass
class StageOutput:
    stage: str
    lines: list[str]


@dataclass
class StageProgress:
    stage: str
    progress: Progress


@dataclass
class StageFinished:
    stage: str
    run: StageRun
    failure: Failure | None = None


@dataclass
class BravaisChosen:
    solution: int
    cb_op: str
    auto: bool
    lattice: str = ""


@dataclass
class StagesChanged:
    """The pipeline gained a stage (Mask, once a mask.phil is saved): redraw the stage list."""

    stale: list[str] = field(default_factory=list)


@dataclass
class PipelineFinished:
    ok: bool
    stopped_at: str | None = None
    failure: Failure | None = None
    elapsed: float = 0.0
    durations: dict[str, float] = field(default_factory=dict)


Event = (
    StageStarted
    | StageQueued
    | StageOnNode
    | StageOutput
    | StageProgress
    | StageFinished
    | BravaisChosen
    | StagesChanged
    | PipelineFinished
)
Emit = Callable[[Event], None]
Chooser = Callable[[list[BravaisSolution]], Awaitable[int | None]]


class Orchestrator:
    """Drives one processing directory through the pipeline; the UI listens to its events."""

    def __init__(
        self,
        workdir: str | os.PathLike[str],
        config: RunConfig,
        dials: DialsEnv,
        emit: Emit,
        choose_bravais: Chooser | None = None,
        pipeline: Pipeline | None = None,
        executor: ExecutorSettings | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.config = config
        self.dials = dials
        self.emit = emit
        self.choose_bravais = choose_bravais
        self.pipeline = pipeline or Pipeline()
        self.journal = Journal(self.workdir)
        self._job: Job | None = None
        self._job_executor: Executor | None = None
        self._stop_requested = False
        self.executor = executor or ExecutorSettings()
        # Where the stages run: one interface, the local or the Slurm executor.
        self.backend = make_executor(self.executor)
        # A chaining executor's run (Slurm): the jobs submitted and followed.
        self.chain = None

    @property
    def busy(self) -> bool:
        """A stage of ours is running now (a local process; Slurm jobs run on without us)."""
        return self._job is not None

    # -- control -----------------------------------------------------------------------------
    async def cancel(self) -> None:
        """Stop the running stage (its whole process group) and the pipeline after it."""
        self._stop_requested = True
        job, executor = self._job, self._job_executor
        if job is not None and executor is not None:
            executor.cancel([job])
            # Until it has ended (the stage's follower polls it, and kills it after the grace).
            deadline = time.monotonic() + getattr(executor, "grace", 5.0) + 2.0
            while job.state is not JobState.ENDED and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        if self.chain is not None:
            running = self.pipeline.running
            await asyncio.to_thread(self.chain.cancel_from, running.name if running else None)

    # -- running -----------------------------------------------------------------------------
    async def run(self, start: str | None = None, stop_after: str | None = None) -> bool:
        """Run from ``start`` (default: the first unfinished stage) to the end or ``stop_after``."""
        try:
            self.journal.run_begun(
                {
                    "start": start,
                    "until": stop_after,
                    "auto_bravais": self.choose_bravais is None,
                    "nproc": self.config.nproc,
                    "extra": self.config.extra,
                    "executor": self.executor.to_json(),
                }
            )
        except OSError as exc:
            failure = Failure(
                "disk",
                f"Cannot write in {thas_dir(self.workdir)}: {exc.strerror or exc}.",
                [],
                DISK_HINT,
            )
            self.emit(PipelineFinished(False, start or "start", failure))
            return False
        # A dashboard that dies (SIGKILL) never writes run_end: its keeper then finishes the run.
        self._outcome = "closed"
        try:
            if self.backend.chains:
                return await self._run_chain(start, stop_after)
            return await self._run(start, stop_after)
        finally:
            self.journal.run_ended(self._outcome)

    def _finish(self, event: PipelineFinished) -> None:
        self._outcome = "finished" if event.ok else f"stopped at {event.stopped_at}"
        self.emit(event)

    async def _run(self, start: str | None, stop_after: str | None) -> bool:
        t0 = time.time()
        self.workdir.mkdir(parents=True, exist_ok=True)
        names = self.pipeline.names
        first = names.index(start) if start else self._first_to_run()
        # The check the chain makes before submitting (_refused_before_submit), made here
        # before the first stage runs (or a Bravais choice is asked for).
        if first < len(names) and self._stills_stop(names[first]):
            self._finish(
                PipelineFinished(
                    False, names[first], self._last_failure, time.time() - t0, self._durations()
                )
            )
            return False
        for name in names[first:]:
            if self._stop_requested:
                break
            if name in ("reindex", "refine") and self.pipeline.bravais_choice is None:
                self._restore_choice()
                # Resuming a directory processed by hand: nobody has chosen yet, so ask now.
                if self.pipeline.bravais_choice is None and not await self._pick_bravais():
                    self._finish(
                        PipelineFinished(False, name, None, time.time() - t0, self._durations())
                    )
                    return False
            if self.pipeline[name].state is State.DONE and name == "simulate":
                continue
            ok = await self.run_stage(name)
            if not ok:
                self._finish(
                    PipelineFinished(
                        False, name, self._last_failure, time.time() - t0, self._durations()
                    )
                )
                return False
            if name == stop_after:
                break
            if name == "refine_bravais_settings":
                if not await self._pick_bravais():
                    self._finish(
                        PipelineFinished(False, name, None, time.time() - t0, self._durations())
                    )
                    return False
        ok = not self._stop_requested
        self._finish(
            PipelineFinished(
                ok, None if ok else "cancelled", None, time.time() - t0, self._durations()
            )
        )
        return ok

    async def _run_chain(self, start: str | None, stop_after: str | None) -> bool:
        """The remaining stages submitted at once as afterok jobs, then followed to the end.

        Without a chooser (--auto-bravais) the chain reaches the end: the reindex and refine jobs
        pick the recommended solution themselves. With one, it stops after
        refine_bravais_settings, and the user's choice submits the rest."""
        from thas_tui.core.slurm_chain import SlurmChain

        t0 = time.time()
        names = self.pipeline.names
        first = names.index(start) if start else self._first_to_run()
        if "simulate" in names[first:] and self.pipeline["simulate"].state is not State.DONE:
            # The demo's images must exist before import is submitted: made here, not a job.
            if not await self.run_stage("simulate"):
                self._finish(PipelineFinished(False, "simulate", self._last_failure, 0.0))
                return False
        todo = [n for n in names[first:] if n != "simulate"]
        if stop_after in todo:
            todo = todo[: todo.index(stop_after) + 1]
        executor = self.backend
        await asyncio.to_thread(executor.check)
        # The checks a local run makes before import and find_spots, made here before anything
        # is submitted (on this node, under DIALS's Python).
        refused = await self._refused_before_submit(todo)
        if refused is not None:
            self._finish(PipelineFinished(False, refused, self._last_failure, 0.0))
            return False
        self.chain = SlurmChain(self.workdir, self.pipeline, self.emit, executor)
        # A re-run replaces the jobs of these stages still queued or running from before.
        stale = [
            Job(a.stage, a.attempt, str(a.job_id), a.log, a.argv)
            for a in self.journal.open_slurm_jobs()
            if a.stage in todo
        ]
        if stale:
            self.journal.cancel_requested(
                [j.job_id for j in stale], "thas-tui: replaced by a re-run"
            )
            await asyncio.to_thread(executor.cancel, stale)
        if "refine_bravais_settings" in todo:
            self.pipeline.bravais_choice = self.pipeline.cb_op = None
        else:
            self._restore_choice()
        ok = True
        while todo and ok and not self._stop_requested:
            auto = self.choose_bravais is None
            needs = self.pipeline.bravais_choice is None and any(
                n in todo for n in ("reindex", "refine")
            )
            segment = todo
            if needs and not auto and "refine_bravais_settings" in todo:
                segment = todo[: todo.index("refine_bravais_settings") + 1]
            elif needs and not auto:
                if not await self._pick_bravais():
                    break
            await asyncio.to_thread(self.chain.submit, segment, self, needs and auto)
            ok = await self.chain.follow()
            todo = todo[len(segment) :]
            if ok and todo and segment[-1] == "refine_bravais_settings":
                if not await self._pick_bravais():
                    self._finish(
                        PipelineFinished(
                            False, segment[-1], None, time.time() - t0, self._durations()
                        )
                    )
                    return False
        failed = next(
            (r for r in self.pipeline if r.state in (State.FAILED, State.CANCELLED)), None
        )
        ok = ok and failed is None and not self._stop_requested
        failure = None
        if failed is not None and failed.error:
            failure = Failure("slurm", failed.error.splitlines()[0], failed.error.splitlines()[1:])
        self._finish(
            PipelineFinished(
                ok,
                None if ok else (failed.name if failed else "cancelled"),
                failure,
                time.time() - t0,
                self._durations(),
            )
        )
        return ok

    async def _refused_before_submit(self, todo: list[str]) -> str | None:
        """The master files before an import, or the imported sweep before find_spots (when
        import is not itself in the chain): the stage failed with the reason, or None."""
        if "import" in todo:
            problem = await self._check_masters()
            if problem is not None:
                self._bad_input(self.pipeline["import"], problem)
                return "import"
            return None
        if todo and self._stills_stop(todo[0]):
            return todo[0]
        return None

    def _after_import(self, name: str) -> bool:
        names = self.pipeline.names
        return "import" in names and names.index(name) > names.index("import")

    def _stills_stop(self, name: str) -> bool:
        """Resumed after an import that made no rotation sweep (whatever ran after it before):
        ``name`` fails with the same words as the import did, and nothing runs."""
        if not self._after_import(name) or self.pipeline["import"].state is not State.DONE:
            return False
        still = expert.not_a_rotation_sweep(self.workdir)
        if still is None:
            return False
        self._not_a_sweep(self.pipeline[name], still)
        return True

    def _durations(self) -> dict[str, float]:
        return {
            r.name: r.ended - r.started
            for r in self.pipeline
            if r.started is not None and r.ended is not None and r.state is State.DONE
        }

    def _first_to_run(self) -> int:
        run = self.pipeline.first_unfinished()
        return self.pipeline.index(run.name) if run else len(self.pipeline.names)

    def _restore_choice(self) -> None:
        last = self.journal.last_choice()
        if last:
            self.pipeline.bravais_choice, self.pipeline.cb_op = last

    async def _pick_bravais(self) -> bool:
        solutions = stage_info.bravais_solutions(self.workdir)
        if not solutions:
            raise ThasError(
                f"refine_bravais_settings wrote no usable bravais_summary.json in {self.workdir}."
            )
        recommended = stage_info.recommended_solution(solutions)
        run = self.pipeline["refine_bravais_settings"]
        auto = self.choose_bravais is None
        if auto:
            choice = recommended.solution
        else:
            run.state = State.WAITING
            self.emit(StageFinished(run.name, run))
            choice = await self.choose_bravais(solutions)
            if choice is None:
                run.state = State.DONE
                self._stop_requested = True
                self.emit(StageFinished(run.name, run))
                return False
        chosen = next(s for s in solutions if s.solution == choice)
        self.pipeline.bravais_choice = chosen.solution
        self.pipeline.cb_op = chosen.cb_op
        self.journal.choice(chosen.solution, chosen.cb_op)
        run.state = State.DONE
        run.key_result = f"{chosen.bravais} chosen (#{chosen.solution})"
        concern = expert.bravais_concern(solutions, chosen.solution)
        run.concerns = [concern] if concern is not None else []
        self.emit(StageFinished(run.name, run))
        self.emit(BravaisChosen(chosen.solution, chosen.cb_op, auto, chosen.bravais))
        return True

    def _archive_outputs(self, run: StageRun, attempt: int) -> None:
        """Move an earlier attempt's outputs aside so that nothing is overwritten."""
        names = list(run.spec.outputs)
        if run.spec.log_name:
            names.append(run.spec.log_name)
        if run.name == "refine_bravais_settings":
            names += [p.name for p in self.workdir.glob("bravais_setting_*.expt")]
        present = [n for n in names if (self.workdir / n).exists()]
        if not present:
            return
        dest = thas_dir(self.workdir) / "attempts" / f"{run.name}.{attempt - 1}"
        n = 0
        while dest.exists():
            n += 1
            dest = dest.with_name(f"{run.name}.{attempt - 1}.{n}")
        dest.mkdir(parents=True)
        for name in present:
            shutil.move(str(self.workdir / name), str(dest / name))

    async def run_stage(self, name: str) -> bool:
        """Run one stage to its end; True when it succeeded."""
        from thas_tui.core.runner import follow_job

        run = self.pipeline[name]
        # find_spots and index read masked.expt once the Mask stage has made it (a mask saved
        # while an earlier stage runs waits for its own run: Mask is not in this run's order).
        self.config.mask = self.pipeline.has_mask and self.pipeline["mask"].state is State.DONE
        if name == "import":
            problem = await self._check_masters()
            if problem is not None:
                return self._bad_input(run, problem)
        argv = stage_argv(
            name,
            self.config,
            self.dials.program(run.spec.program),
            self.pipeline.bravais_choice,
            self.pipeline.cb_op,
        )
        commands = split_chain(argv)
        attempt = self.journal.next_attempt(name)
        log_path = thas_dir(self.workdir) / "logs" / f"{name}.{attempt}.log"
        try:
            self._archive_outputs(run, attempt)
        except OSError as exc:
            return self._could_not_prepare(run, exc)
        if name == "mask" and not (self.workdir / MASK_INPUT).is_file():
            return self._no_mask_phil(run)
        run.state = State.RUNNING
        run.attempt = attempt
        run.argv = argv
        run.log_path = str(log_path)
        run.started = time.time()
        run.ended = run.exit_code = run.signal_name = run.error = None
        run.peak_rss_mb = run.peak_note = None
        run.key_result = ""
        run.concerns = []
        self._last_failure = None
        tracker = stage_info.progress_tracker(name)
        self.emit(StageStarted(name, attempt, argv, str(log_path)))

        def on_lines(lines: list[str]) -> None:
            self.emit(StageOutput(name, lines))
            if tracker is None:
                return
            latest = latest_progress(tracker, lines)
            if latest is not None:
                self.emit(StageProgress(name, latest))

        def on_step(job: Job) -> None:
            run.pid = int(job.job_id)
            try:
                if job.step == 0:
                    self.journal.started(name, attempt, argv, str(log_path), run.pid)
                else:
                    self.journal.step(name, attempt, commands[job.step], run.pid)
            except OSError:
                pass  # disk full: the stage itself will fail and say so

        # One stage followed to its end by this process: on the run's executor, or here when
        # that one chains (only the demo's image generator, before a Slurm chain, runs so).
        executor = self.backend
        if executor.chains:
            from thas_tui.core.local_executor import LocalExecutor

            executor = LocalExecutor()
        try:
            job = executor.start(
                name, attempt, argv, log_path, self.workdir, self.dials.subprocess_env()
            )
        except OSError as exc:
            return self._could_not_prepare(run, exc)
        self._job, self._job_executor = job, executor
        on_step(job)
        reads = self._watch_image_reads(name, tracker)
        try:
            result = await follow_job(
                executor, job, on_lines, on_step=on_step, stop=lambda: self._stop_requested
            )
        except OSError as exc:  # the next command of a stage of several could not start
            return self._could_not_prepare(run, exc)
        finally:
            self._job = None
            if reads is not None:
                reads.cancel()
        last = job.step
        run.ended = result.ended
        run.exit_code = result.exit_code
        run.signal_name = signal_name(result.exit_code)
        run.peak_rss_mb = result.peak_rss_mb
        program = Path(commands[last][0]).name if len(commands) > 1 else run.spec.program
        failure = classify(
            program,
            result.exit_code,
            result.log_tail,
            result.peak_rss_mb,
            result.cancelled,
        )
        if failure is not None and name == "mask" and failure.kind != "cancelled":
            failure = mask_failure(program, failure, result.log_tail, self.workdir)
        if failure is None and name == "simulate":
            failure = self._take_simulated_images(result.log_tail)
        if failure is None and name == "import":
            still = expert.not_a_rotation_sweep(self.workdir)
            if still is not None:
                failure = Failure("input", f"Not a rotation sweep: {still}", [], expert.STILLS_HINT)
        if failure is None:
            try:
                # Off the event loop: the result reads DIALS's outputs (indexed.refl of an
                # 800-image sweep is 136 MB), and the dashboard's keys must not wait for it.
                run.key_result = await asyncio.to_thread(
                    stage_info.key_result, name, self.workdir, self.config
                )
            except Exception as exc:  # a summary must never fail a stage that DIALS completed
                run.key_result = f"(could not read result: {exc})"
            missing = [o for o in run.spec.outputs[:1] if not (self.workdir / o).exists()]
            if missing:
                from thas_tui.core.tail import head_lines

                failure = missing_output(
                    run.spec.program, missing, head_lines(log_path, 200), result.log_tail
                )
        run.state = (
            State.DONE
            if failure is None
            else (State.CANCELLED if failure.kind == "cancelled" else State.FAILED)
        )
        if failure is not None:
            run.error = failure.text()
        self._last_failure = failure
        try:
            self.journal.ended(
                name,
                attempt,
                result.exit_code,
                result.cancelled,
                result.peak_rss_mb,
                run.key_result,
            )
        except OSError:
            pass  # disk full: the failure (or the files) tell the story
        if run.state is State.DONE:
            self.pipeline.invalidate_downstream(name)
            run.concerns = await asyncio.to_thread(expert.for_stage, name, self.workdir)
        self.emit(StageFinished(name, run, failure))
        return run.state is State.DONE

    _last_failure: Failure | None = None

    def _watch_image_reads(self, name: str, tracker) -> asyncio.Task | None:
        """For a tracker that places image reads (integrate), count the program's opens of
        the images each second and emit the progress they give."""
        images_read = getattr(tracker, "images_read", None)
        if images_read is None or not self.config.images:
            return None
        from thas_tui.core.image_reads import ImageReads

        watcher = ImageReads(self.config.images)
        if not watcher.active:
            return None

        async def poll() -> None:
            try:
                while True:
                    await asyncio.sleep(IMAGE_READS_INTERVAL)
                    progress = images_read(watcher.poll())
                    if progress is not None:
                        self.emit(StageProgress(name, progress))
            finally:
                watcher.close()

        return asyncio.ensure_future(poll())

    def _could_not_prepare(self, run: StageRun, exc: OSError) -> bool:
        """A stage that could not start: its log or earlier outputs could not be written/moved."""
        run.state = State.FAILED
        run.ended = time.time()
        where = exc.filename or self.workdir
        if disk_full(exc):
            failure = Failure(
                "disk", f"Cannot write {where}: {exc.strerror}: disk full.", [], DISK_HINT
            )
        else:
            failure = Failure(
                "exit",
                f"Could not start {run.spec.program}: {exc.strerror or exc} ({where}).",
                [],
            )
        run.error = failure.text()
        self._last_failure = failure
        self.emit(StageFinished(run.name, run, failure))
        return False

    def _not_a_sweep(self, run: StageRun, still: str) -> bool:
        failure = Failure("input", f"Not a rotation sweep: {still}", [], expert.STILLS_HINT)
        run.state = State.FAILED
        run.error = failure.text()
        self._last_failure = failure
        self.emit(StageFinished(run.name, run, failure))
        return False

    def _no_mask_phil(self, run: StageRun) -> bool:
        """The Mask stage without its input: say where mask.phil should be and how to make it."""
        run.state = State.FAILED
        run.ended = time.time()
        failure = Failure(
            "exit",
            f"No {MASK_INPUT} in {self.workdir}: the Mask stage has nothing to apply.",
            [],
            "Draw a mask in the image view and save it, or run with --mask FILE.",
        )
        run.error = failure.text()
        self._last_failure = failure
        self.emit(StageFinished(run.name, run, failure))
        return False

    async def _check_masters(self) -> Failure | None:
        """HDF5 inputs checked under DIALS's Python before import: a missing data file, a
        compression DIALS cannot decode or a file still being written fails here, by name,
        rather than as a traceback in find_spots (or zeros read from a missing file)."""
        from thas_tui.core import master_check

        masters = master_check.hdf5_inputs(self.config.images)
        if not masters:
            return None
        reports = await master_check.run_check(
            self.dials.python, masters, self.dials.subprocess_env()
        )
        if reports is None:
            return None  # the check could not run: DIALS's own errors will have to do
        try:
            master_check.save(self.workdir, reports)
        except OSError:
            pass  # only the header's detector name is lost
        texts = master_check.problem_texts(reports)
        if not texts:
            return None
        first, *rest = "\n".join(texts).splitlines()
        return Failure("input", first, rest)

    def _bad_input(self, run: StageRun, failure: Failure) -> bool:
        """A stage not started because its inputs cannot work (said by ``failure``)."""
        run.state = State.FAILED
        run.started = run.ended = time.time()
        run.exit_code = None
        run.error = failure.text()
        self._last_failure = failure
        self.emit(StageFinished(run.name, run, failure))
        return False

    def _take_simulated_images(self, log_tail: list[str]) -> Failure | None:
        """After the demo generator: import reads the images it cached."""
        from thas_tui.core import demo

        preset = self.config.demo_preset or "demo"
        paths = demo.image_paths(preset)
        if not paths or not demo.is_cached(preset):
            return Failure(
                "exit",
                f"The demo generator finished but left no complete sweep in {demo.demo_cache_dir(preset)}.",
                [ln for ln in log_tail if ln.strip()][-5:],
            )
        self.config.images = [str(p) for p in paths]
        return None


def run_sync(orchestrator: Orchestrator) -> bool:
    """Run the pipeline to the end in a fresh event loop (the headless path)."""
    return asyncio.run(orchestrator.run())

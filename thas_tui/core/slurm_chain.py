"""The remaining stages as a chain of afterok Slurm jobs, and following them from squeue and the logs."""

from __future__ import annotations

import asyncio
import getpass
import shlex
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from thas_tui.core import stage_info
from thas_tui.core.errors import ThasError
from thas_tui.core.executor import ExecutorSettings, Job, JobState, SlurmExecutor, with_nproc
from thas_tui.core.failures import Failure, classify, missing_output
from thas_tui.core.journal import Journal, thas_dir
from thas_tui.core.parsers.registry import latest_progress
from thas_tui.core.pipeline import Pipeline, State
from thas_tui.core.rundir import log_failure
from thas_tui.core.slurm import (
    JobInfo,
    SlurmClient,
    SlurmError,
    exit_code_of,
    explain_end,
    explain_pending,
)
from thas_tui.core.tail import BATCH_BYTES, LineTailer, head_lines, tail_lines

# What the detail says of a job's memory when sstat gave none while it ran.
NO_PEAK = {
    False: "peak memory unknown (no accounting)",
    None: "peak memory unknown (the job ended before Slurm's sstat sampled it)",
    True: "peak memory unknown (the job ended before Slurm's sstat sampled it)",
}

# The unattended Bravais choice, run by the reindex and refine jobs under DIALS's own Python
# (nothing of thas-tui's on the compute node): the recommended solution of the highest
# symmetry, as stage_info.recommended_solution picks it. With "record" it also appends the
# choice to the journal, as thas-tui would have.
PICK_BRAVAIS = (
    "import json,sys,time\n"
    'd=json.load(open("bravais_summary.json"))\n'
    "s=sorted((int(k),v) for k,v in d.items() if k.isdigit())\n"
    'r=[x for x in s if x[1].get("recommended") is True] or s\n'
    "n,v=r[-1]\n"
    'if sys.argv[1:]==["record"]:\n'
    '    f=open("thas-tui/journal.jsonl","a")\n'
    '    f.write(json.dumps({"event":"bravais_choice","solution":n,"cb_op":v["cb_op"],'
    '"auto":True,"by":"slurm job","time":time.time()})+"\\n")\n'
    "    f.close()\n"
    'print(n,v["cb_op"])\n'
)
_SOLUTION = -1  # stands for "the recommended solution" until the job picks it
_CB_OP = "@CB_OP@"
# How the journal and the dashboard show those two arguments until the choice is known.
SHOWN_SOLUTION = "bravais_setting_<recommended>.expt"
SHOWN_CB_OP = "change_of_basis_op=<recommended>"


def shown_argv(argv: list[str], choice: tuple[int, str] | None = None) -> list[str]:
    """The argv with the job-time choice shown: the chosen values once known, else placeholders."""
    out = []
    for a in argv:
        if a in (f"bravais_setting_{_SOLUTION}.expt", SHOWN_SOLUTION):
            a = f"bravais_setting_{choice[0]}.expt" if choice else SHOWN_SOLUTION
        elif a in (f"change_of_basis_op={_CB_OP}", SHOWN_CB_OP):
            a = f"change_of_basis_op={choice[1]}" if choice else SHOWN_CB_OP
        out.append(a)
    return out


POLL_S = 1.0  # one Slurm call per second, for all the jobs together


def choice_body(argv: list[str], python: str, record: bool) -> str:
    """The job's shell body: pick the solution under DIALS's Python, then exec the stage's argv
    with the solution and cb_op in place (every other token quoted by shlex)."""
    words = []
    for a in argv:
        if a == f"bravais_setting_{_SOLUTION}.expt":
            words.append('"bravais_setting_$1.expt"')
        elif a == f"change_of_basis_op={_CB_OP}":
            words.append('"change_of_basis_op=$2"')
        else:
            words.append(shlex.quote(a))
    pick = shlex.join([python, "-c", PICK_BRAVAIS, *(["record"] if record else [])])
    return "\n".join(
        [
            f"choice=$({pick}) || exit 1",
            "set -- $choice",
            'echo "thas-tui: Bravais solution $1 (recommended, chosen automatically), cb_op $2"',
            "exec " + " ".join(words),
        ]
    )


@dataclass
class TrackedJob(Job):
    """A stage's job as the follower knows it (the executor's Job, and what is shown of it)."""

    running_seen: bool = False
    node: str | None = None
    started: float | None = None  # when the job was first seen running
    cancel_sent: bool = False
    tailer: LineTailer | None = field(default=None, repr=False)
    tracker: object = field(default=None, repr=False)

    @property
    def ended(self) -> bool:
        return self.state is JobState.ENDED


def tracked_from_journal(journal: Journal) -> list[TrackedJob]:
    """The open Slurm jobs of a directory (a dashboard reopened, or attach from any node)."""
    jobs = [
        TrackedJob(a.stage, a.attempt, str(a.job_id), a.log, a.argv)
        for a in journal.open_slurm_jobs()
    ]
    for job, a in zip(jobs, journal.open_slurm_jobs(), strict=True):
        job.running_seen = a.slurm_state == "RUNNING"
        job.state = JobState.RUNNING if job.running_seen else JobState.QUEUED
        job.node = a.node
        job.started = a.started if job.running_seen else None
    return jobs


class SlurmChain:
    """Submits stages as afterok-chained jobs and follows them (squeue, logs) to their ends."""

    def __init__(
        self,
        workdir: Path,
        pipeline: Pipeline,
        emit,
        executor: SlurmExecutor | None = None,
        client: SlurmClient | None = None,
        poll: float = POLL_S,
    ) -> None:
        self.workdir = Path(workdir)
        self.pipeline = pipeline
        self.emit = emit
        self.executor = executor or SlurmExecutor(ExecutorSettings("slurm"), client)
        self.client = self.executor.client
        self.journal = Journal(self.workdir)
        self.jobs: list[TrackedJob] = []
        self.poll = poll
        self._stop = asyncio.Event()

    # -- submitting ------------------------------------------------------------------------
    def submit(self, names: list[str], orch, auto_choice: bool) -> list[TrackedJob]:
        """Every stage of ``names`` as one job, each after the one before (afterok)."""
        submitted: list[TrackedJob] = []
        # find_spots and index read masked.expt whenever this pipeline has a Mask stage.
        orch.config.mask = self.pipeline.has_mask
        for name in names:
            run = self.pipeline[name]
            res = self.executor.settings.for_stage(name)
            cpus = res.cpus or orch.config.nproc
            res.cpus = cpus
            picks = auto_choice and name in ("reindex", "refine")
            choice = (
                (_SOLUTION, _CB_OP)
                if picks
                else (
                    self.pipeline.bravais_choice,
                    self.pipeline.cb_op,
                )
            )
            from thas_tui.core.commands import stage_argv

            argv = with_nproc(
                stage_argv(name, orch.config, orch.dials.program(run.spec.program), *choice),
                cpus,
            )
            attempt = self.journal.next_attempt(name)
            log = thas_dir(self.workdir) / "logs" / f"{name}.{attempt}.log"
            orch._archive_outputs(run, attempt)
            body = choice_body(argv, orch.dials.python, name == "reindex") if picks else None
            self.executor.settings.stages[name] = res
            try:
                job = self.executor.start(
                    name,
                    attempt,
                    argv,
                    log,
                    self.workdir,
                    orch.dials.subprocess_env(),
                    submitted[-1] if submitted else None,
                    body,
                )
            except SlurmError:
                # What was submitted before this one is not left waiting for it.
                self.executor.cancel(submitted)
                raise
            argv = shown_argv(argv)
            self.journal.submitted(name, attempt, argv, str(log), job.job_id, str(job.script))
            tracked = TrackedJob(name, attempt, job.job_id, str(log), argv, script=job.script)
            submitted.append(tracked)
            run.state = State.PENDING
            run.attempt, run.argv, run.log_path = attempt, argv, str(log)
            run.job_id, run.node, run.cpus = job.job_id, None, cpus
            run.started = run.ended = run.exit_code = run.error = None
            run.peak_rss_mb = run.peak_note = None
            run.key_result = ""
            run.queue_note = "queued: submitted"
            run.slurm_reason = None
        self.jobs.extend(submitted)
        return submitted

    # -- following ---------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    @property
    def open_jobs(self) -> list[TrackedJob]:
        return [j for j in self.jobs if not j.ended]

    async def follow(self) -> bool:
        """Until every job has ended: True when all completed."""
        from thas_tui.core.orchestrator import StageStarted

        for job in self.jobs:
            run = self.pipeline[job.stage]
            run.job_id, run.attempt, run.log_path = job.job_id, job.attempt, job.log
            run.argv = job.argv
            if job.running_seen and not job.ended:
                run.state = State.RUNNING
                run.node, run.started = job.node, job.started
                run.queue_note = f"running on {job.node}, job {job.job_id}"
                self._tail(job)
                self.emit(StageStarted(job.stage, job.attempt, job.argv, job.log))
        next_call = 0.0
        while self.open_jobs and not self._stop.is_set():
            now = time.monotonic()
            if now >= next_call:
                next_call = now + self.poll
                await asyncio.to_thread(self._one_call)
            self._read_logs()
            try:
                await asyncio.wait_for(self._stop.wait(), 0.25)
            except asyncio.TimeoutError:
                pass
        self._read_logs(final=True)
        return all(self._completed(j) for j in self.jobs)

    def _completed(self, job: TrackedJob) -> bool:
        return job.ended and self.pipeline[job.stage].state is State.DONE

    def _one_call(self) -> None:
        """One Slurm call through the executor's poll (scontrol for a job that just ended,
        sstat now and then for the memory of running ones, else squeue for all open jobs)."""
        for job in self.executor.poll(self.open_jobs):
            if job.state is JobState.ENDED:
                self._ended(job, None if job.lost else job.info)
            elif job.info is not None:
                self._update(job, job.info)
        for job in self.open_jobs:
            if job.peak_mb:  # shown while it runs; recorded at its end
                self.pipeline[job.stage].peak_rss_mb = job.peak_mb

    def _update(self, job: TrackedJob, info: JobInfo) -> None:
        """A job whose state, reason or node changed (the executor's poll said so)."""
        from thas_tui.core.orchestrator import StageOnNode, StageQueued, StageStarted

        run = self.pipeline[job.stage]
        try:
            self.journal.slurm_state(
                job.stage, job.attempt, job.job_id, info.base_state, info.reason, info.node
            )
        except OSError:
            pass
        if info.finished:
            return  # its end (exit code) from scontrol on the next call
        if info.base_state in ("RUNNING", "COMPLETING"):
            run.node, run.cpus = info.node, info.cpus or run.cpus
            cpus = f"{info.cpus} CPU{'s' if info.cpus != 1 else ''}"
            note = f"running on {info.node} ({cpus}), job {job.job_id}"
            run.slurm_reason = None
            if run.queue_note != note and job.running_seen:
                run.queue_note = note
                self.emit(StageOnNode(job.stage, job.job_id, info.node, info.cpus))
            run.queue_note = note
            if not job.running_seen:
                job.running_seen = True
                if job.stage == "refine":
                    job.argv = shown_argv(job.argv, self.journal.last_choice())
                run.argv = job.argv
                run.state = State.RUNNING
                run.started = time.time()
                self._tail(job)
                self.emit(StageStarted(job.stage, job.attempt, job.argv, job.log))
            return
        text, never = explain_pending(info.reason)
        note = f"queued: {info.reason or 'submitted'}" + (" (will never start)" if never else "")
        run.state = State.PENDING
        run.queue_note = note
        run.slurm_reason = text
        self.emit(StageQueued(job.stage, job.job_id, text, never))
        if never and (info.reason or "").startswith("Dependency") and not job.cancel_sent:
            job.cancel_sent = True
            # A site without kill_invalid_depend leaves it pending forever: end it here.
            try:
                self.journal.cancel_requested(
                    [job.job_id], "thas-tui: its dependency can never be satisfied"
                )
            except OSError:
                pass
            self.executor.cancel([job])

    def _tail(self, job: TrackedJob) -> None:
        job.tailer = LineTailer(job.log, max_bytes=BATCH_BYTES)
        job.tracker = stage_info.progress_tracker(job.stage)

    def _read_logs(self, final: bool = False) -> None:
        from thas_tui.core.orchestrator import StageOutput, StageProgress

        for job in self.jobs:
            if job.tailer is None:
                continue
            lines = job.tailer.read_new(final=final or job.ended)
            while lines:
                self.emit(StageOutput(job.stage, lines))
                if job.tracker is not None:
                    latest = latest_progress(job.tracker, lines)
                    if latest is not None:
                        self.emit(StageProgress(job.stage, latest))
                lines = job.tailer.read_new(final=final or job.ended)
            if job.ended:
                job.tailer = None

    def _ended(self, job: TrackedJob, info: JobInfo | None) -> None:
        """A job is over: its outcome from Slurm (or, when Slurm forgot it, the files)."""
        from thas_tui.core.orchestrator import BravaisChosen, StageFinished

        job.state, job.needs_detail = JobState.ENDED, False
        self._read_logs()
        run = self.pipeline[job.stage]
        run.ended = time.time()
        log_tail = tail_lines(job.log, 40)
        failure: Failure | None
        if info is None:
            failure = self._from_files(job, log_tail)
            state_word, reason = "UNKNOWN", "left squeue (MinJobAge)"
        else:
            job.info = info
            state_word, reason = info.base_state, info.reason
            run.node = info.node or run.node
            failure = self._from_slurm(job, info, log_tail)
        if failure is None and job.stage == "import":
            failure = self._not_a_sweep(job)
        exit_code = exit_code_of(info) if info is not None else (0 if failure is None else 1)
        peak = self.executor.peak_memory(job)
        run.peak_rss_mb = peak
        run.peak_note = None if peak else NO_PEAK[self.executor.accounting]
        # A job cancelled before it ran has no exit code worth showing.
        run.exit_code = None if run.started is None else exit_code
        if failure is None:
            try:
                run.key_result = stage_info.key_result(job.stage, self.workdir)
            except Exception as exc:  # a summary must never fail a stage that DIALS completed
                run.key_result = f"(could not read result: {exc})"
        cancelled = failure is not None and failure.kind == "cancelled"
        run.state = (
            State.DONE if failure is None else State.CANCELLED if cancelled else State.FAILED
        )
        run.error = failure.text() if failure else None
        run.queue_note = ""
        if self.journal_end_missing(job):
            try:
                self.journal.ended(
                    job.stage,
                    job.attempt,
                    exit_code,
                    cancelled,
                    peak,
                    run.key_result,
                    slurm_state=state_word,
                    slurm_reason=reason,
                    job_id=job.job_id,
                )
            except OSError:
                pass
        if run.state is State.DONE:
            from thas_tui.core import warnings as expert

            run.concerns = expert.for_stage(job.stage, self.workdir)
        self.emit(StageFinished(job.stage, run, failure))
        if job.stage == "reindex" and run.state is State.DONE:
            last = self.journal.last_choice()
            if last is not None:
                self.pipeline.bravais_choice, self.pipeline.cb_op = last
                run.argv = shown_argv(job.argv, last)
                self.emit(BravaisChosen(last[0], last[1], True, _lattice(self.workdir, last[0])))

    def journal_end_missing(self, job: TrackedJob) -> bool:
        """No end recorded yet (another dashboard following the same jobs may have written it)."""
        return not any(
            a.stage == job.stage and a.attempt == job.attempt and a.ended is not None
            for a in self.journal.attempts()
        )

    def _from_slurm(self, job: TrackedJob, info: JobInfo, log_tail: list[str]) -> Failure | None:
        state = info.base_state
        program = self.pipeline[job.stage].spec.program
        if state == "COMPLETED":
            missing = [
                o
                for o in self.pipeline[job.stage].spec.outputs[:1]
                if not (self.workdir / o).exists()
            ]
            if missing:
                return missing_output(program, missing, head_lines(job.log, 200), log_tail)
            return None
        by = None
        if state == "CANCELLED":
            by = self.journal.cancelled_by(job.job_id)
            by = f"by {by}" if by else None
        text = explain_end(info, by) or f"Slurm job {job.job_id} {info.state}"
        if state == "CANCELLED":
            return Failure("cancelled", text, [])
        if state == "FAILED" and not info.exit_signal:
            # The program's own failure (a traceback, DIALS's Sorry) says more than "exit 1".
            inner = classify(program, exit_code_of(info), log_tail, None, False)
            if inner is not None:
                return Failure(inner.kind, inner.reason, [*inner.detail, text], inner.hint)
        detail = [ln for ln in log_tail if ln.strip()][-5:]
        return Failure("slurm", text, detail)

    def _not_a_sweep(self, job: TrackedJob) -> Failure | None:
        """Import made no rotation sweep: the check a local run makes, here once the import job
        has ended; the jobs after it are cancelled with the reason (as a local run stops)."""
        from thas_tui.core import warnings as expert

        still = expert.not_a_rotation_sweep(self.workdir)
        if still is None:
            return None
        rest = [j for j in self.open_jobs if j is not job]
        if rest:
            try:
                self.journal.cancel_requested(
                    [j.job_id for j in rest], "thas-tui: import found no rotation sweep"
                )
            except OSError:
                pass
            self.executor.cancel(rest)
        return Failure("input", f"Not a rotation sweep: {still}", [], expert.STILLS_HINT)

    def _from_files(self, job: TrackedJob, log_tail: list[str]) -> Failure | None:
        """Slurm no longer knows the job (it ended more than MinJobAge ago): read the outputs."""
        spec = self.pipeline[job.stage].spec
        note = (
            f"Slurm no longer knows job {job.job_id} (it ended before MinJobAge): "
            "its state is taken from the log and the outputs."
        )
        log_path = Path(job.log)
        failure = log_failure(job.stage, log_path)[1] if log_path.is_file() else "no log"
        if (self.workdir / spec.primary_output).exists() and not failure:
            self.pipeline[job.stage].queue_note = note
            return None
        return Failure("slurm", f"{spec.program} did not finish: {failure}", [note])

    # -- cancelling ----------------------------------------------------------------------------
    def cancel_from(self, stage: str | None = None) -> list[str]:
        """scancel ``stage``'s job and every job after it (all open jobs when None)."""
        names = self.pipeline.names
        first = names.index(stage) if stage in names else 0
        ids = [j.job_id for j in self.open_jobs if names.index(j.stage) >= first]
        if ids:
            who = f"{getpass.getuser()} with thas-tui on {socket.gethostname()}"
            try:
                self.journal.cancel_requested(ids, who)
            except OSError:
                pass
            self.executor.cancel([j for j in self.open_jobs if j.job_id in ids])
        return ids


def _lattice(workdir: Path, solution: int) -> str:
    try:
        for s in stage_info.bravais_solutions(workdir) or []:
            if s.solution == solution:
                return s.bravais
    except ThasError:
        pass
    return ""


def open_chain(workdir: Path, pipeline: Pipeline, emit) -> SlurmChain | None:
    """The directory's Slurm jobs with no end in the journal yet, ready to follow (None: none,
    or no Slurm reachable from here: the files are then all there is to show).

    What a reopened dashboard and ``attach`` (from any node) follow: the live state comes from
    the journal, the logs and one squeue call per second."""
    jobs = tracked_from_journal(Journal(workdir))
    if not jobs:
        return None
    chain = SlurmChain(workdir, pipeline, emit)
    try:
        chain.client.check()
    except SlurmError:
        return None
    chain.jobs = jobs
    return chain

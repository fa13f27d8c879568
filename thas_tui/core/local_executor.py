"""The local executor: a stage's commands as detached processes here, their output in the attempt's log."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from thas_tui.core.commands import split_chain
from thas_tui.core.executor import Job, JobState

# Seconds between SIGTERM and SIGKILL of a cancelled stage's process group.
GRACE_S = 5.0
# Seconds between samples of a running stage's memory in /proc.
RSS_EVERY = 1.0


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids.extend(int(k) for k in fh.read().split())
    except OSError:
        pass
    return kids


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants, in MB (Linux /proc; 0 elsewhere)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _rss_kb(p)
        todo.extend(_children(p))
    return total / 1024.0


def shown_command(argv: list[str]) -> str:
    """A command as the log's ``$`` line shows it (the program's name, not its path)."""
    return " ".join([Path(argv[0]).name, *argv[1:]])


class _Local:
    """What the executor keeps of a started stage: its commands, the running one, its times."""

    def __init__(self, commands: list[list[str]], workdir: Path, env: dict[str, str] | None):
        self.commands = commands
        self.workdir = workdir
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.last_rss = 0.0
        self.term_at: float | None = None
        self.killed = False


class LocalExecutor:
    """Each command in its own session (it runs on when the dashboard exits, is killed or loses
    its terminal), stdout and stderr appended to the log; never a shell.

    Peak memory: the whole process tree's resident memory sampled from /proc each second while
    it runs, and the kernel's own figure at its end (wait4's ru_maxrss: the largest single
    process, KiB on Linux), whichever is higher."""

    name = "local"
    chains = False

    def __init__(self, grace: float = GRACE_S) -> None:
        self.grace = grace

    def check(self) -> None:
        """Nothing to check: the stages' programs are found when each starts."""

    def start(
        self,
        stage: str,
        attempt: int,
        argv: list[str],
        log: Path,
        workdir: Path,
        env: dict[str, str] | None = None,
        after: Job | None = None,
        body: str | None = None,
    ) -> Job:
        """Start the stage's first command. A stage of several commands (Mask) writes a
        ``$ command`` line before each, as a shell session would read."""
        if after is not None or body is not None:
            raise ValueError("the local executor runs one stage at a time, its argv only")
        commands = split_chain(argv)
        log = Path(log)
        log.parent.mkdir(parents=True, exist_ok=True)
        state = _Local(commands, Path(workdir), env)
        job = Job(stage, attempt, "", str(log), argv, handle=state)
        self._spawn(job, state, first=True)
        return job

    def _spawn(self, job: Job, state: _Local, first: bool) -> None:
        argv = state.commands[job.step]
        # 'x': never overwrite an earlier attempt's log.
        with open(job.log, "xb" if first else "ab") as log:
            if len(state.commands) > 1:
                log.write(f"$ {shown_command(argv)}\n".encode())
                log.flush()
            state.proc = subprocess.Popen(
                argv,
                cwd=str(state.workdir),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=state.env,
                start_new_session=True,
            )
        job.job_id = str(state.proc.pid)
        job.state = JobState.RUNNING

    @staticmethod
    def pid(job: Job) -> int:
        return int(job.job_id)

    def poll(self, jobs: list[Job]) -> list[Job]:
        """Reap what ended (wait4, no blocking), start a stage's next command, sample memory."""
        changed = []
        for job in jobs:
            state = job.handle
            if job.state is not JobState.RUNNING or not isinstance(state, _Local):
                continue
            proc = state.proc
            try:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: its exit status is lost
                pid, status, usage = proc.pid, 255 << 8, None
            if pid == 0:
                self._while_running(job, state)
                continue
            code = os.waitstatus_to_exitcode(status)
            proc.returncode = code  # reaped here: Popen must not wait for it again
            if usage is not None:
                job.peak_mb = max(job.peak_mb or 0.0, usage.ru_maxrss / 1024.0) or None
            changed.append(job)
            if code == 0 and job.step + 1 < len(state.commands) and not job.no_more:
                job.step += 1
                self._spawn(job, state, first=False)
                continue
            if code == 0 and job.step + 1 < len(state.commands):
                job.cancelled = True  # stopped between two commands
            job.state = JobState.ENDED
            job.exit_code = code
        return changed

    def _while_running(self, job: Job, state: _Local) -> None:
        now = time.monotonic()
        if now - state.last_rss >= RSS_EVERY:
            state.last_rss = now
            rss = tree_rss_mb(state.proc.pid)
            if rss:
                job.peak_mb = max(job.peak_mb or 0.0, rss)
        if state.term_at is not None and not state.killed and now - state.term_at >= self.grace:
            state.killed = True
            self._signal(state, signal.SIGKILL)

    @staticmethod
    def _signal(state: _Local, sig: int) -> None:
        try:
            os.killpg(state.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def cancel(self, jobs: list[Job], why: str | None = None) -> None:
        """SIGTERM each stage's process group (SIGKILL ``grace`` s later, from ``poll``), and
        start none of its later commands."""
        for job in jobs:
            state = job.handle
            if job.state is JobState.ENDED or not isinstance(state, _Local):
                continue
            job.cancelled = job.no_more = True
            if state.term_at is None:
                state.term_at = time.monotonic()
                self._signal(state, signal.SIGTERM)

    def exit_status(self, job: Job) -> int | None:
        return job.exit_code if job.state is JobState.ENDED else None

    def peak_memory(self, job: Job) -> float | None:
        return job.peak_mb

"""Slurm's command-line tools (sbatch, squeue, scontrol, scancel): calls, parsed output, states explained."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass

from thas_tui.core.errors import ThasError

# One squeue line per job; '|' never appears in the fields asked for (a job name is ours).
SQUEUE_FORMAT = "%i|%T|%r|%N|%M|%l|%C|%j"
FINAL_STATES = frozenset(
    {
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "TIMEOUT",
        "OUT_OF_MEMORY",
        "NODE_FAIL",
        "PREEMPTED",
        "BOOT_FAIL",
        "DEADLINE",
        "REVOKED",
        "SPECIAL_EXIT",
    }
)
# Pending reasons that never clear by waiting (the job needs a change, or will never run).
NEVER_CLEARS = {
    "DependencyNeverSatisfied": "an earlier stage did not succeed, so this job can never start",
    "PartitionConfig": "the request does not fit the partition's limits",
    "PartitionNodeLimit": "the request needs more nodes than the partition allows",
    "PartitionTimeLimit": "the time limit asked for is above the partition's maximum",
    "AssocGrpCpuLimit": "the account's CPU limit is reached",
    "AssocMaxJobsLimit": "the account's job limit is reached",
    "QOSMaxCpuPerJobLimit": "the request is above the QOS's CPUs per job",
    "QOSMaxWallDurationPerJobLimit": "the time limit is above the QOS's maximum",
    "ReqNodeNotAvail": "a requested node is not available",
    "InvalidAccount": "the account is not valid",
    "InvalidQOS": "the QOS is not valid",
    "BadConstraints": "the job's constraints cannot be met",
}
REASON_TEXT = {
    "Resources": "waiting for CPUs or memory to come free",
    "Priority": "other jobs are ahead in the queue",
    "Dependency": "waiting for the stage before it",
    "BeginTime": "waiting for its start time",
    "None": "about to start",
}
SHARED_FS_HINT = (
    "the directory is not on a shared filesystem: the compute node could not enter it "
    "(Slurm exit 0:53, the job could not start). Process in a directory that every node mounts "
    "(e.g. under your home or the facility's project space), or use --executor local."
)
NO_SLURM_HINT = "Run it without Slurm with --executor local (the default)."


class SlurmError(ThasError):
    """Slurm is not usable, or refused a job: Slurm's own message with what to do."""


@dataclass
class JobInfo:
    """One Slurm job as squeue or scontrol describes it; None where the tool did not say."""

    job_id: str
    state: str | None = None
    reason: str | None = None
    node: str | None = None
    elapsed: str | None = None
    time_limit: str | None = None
    cpus: int | None = None
    name: str | None = None
    exit_status: int | None = None
    exit_signal: int | None = None
    dependency: str | None = None
    work_dir: str | None = None
    std_out: str | None = None

    @property
    def finished(self) -> bool:
        return (self.state or "").split()[0] in FINAL_STATES if self.state else False

    @property
    def base_state(self) -> str:
        """The state word without a '+' or ' by UID' suffix ("CANCELLED+" is CANCELLED)."""
        return (self.state or "").split()[0].rstrip("+") if self.state else ""


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


def _none(text: str | None) -> str | None:
    return None if text in (None, "", "(null)", "N/A") else text


def parse_squeue(text: str) -> dict[str, JobInfo]:
    """``squeue -h -o SQUEUE_FORMAT`` output: job id → JobInfo; lines of another shape skipped."""
    jobs: dict[str, JobInfo] = {}
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) < 8 or not parts[0]:
            continue
        job_id, state, reason, node, elapsed, limit, cpus = parts[:7]
        name = "|".join(parts[7:])
        jobs[job_id] = JobInfo(
            job_id=job_id,
            state=_none(state),
            reason=_none(reason),
            node=_none(node),
            elapsed=_none(elapsed),
            time_limit=_none(limit),
            cpus=_int(cpus),
            name=_none(name),
        )
    return jobs


_PAIR = re.compile(r"(\S+?)=(\S*)")


def parse_scontrol(text: str) -> JobInfo | None:
    """``scontrol show job ID`` output (one or many lines); None without a JobId."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        for key, value in _PAIR.findall(line):
            fields.setdefault(key, value)
    job_id = fields.get("JobId")
    if not job_id:
        return None
    status = signal = None
    exit_code = fields.get("ExitCode", "")
    if ":" in exit_code:
        a, b = exit_code.split(":", 1)
        status, signal = _int(a), _int(b)
    return JobInfo(
        job_id=job_id,
        state=_none(fields.get("JobState")),
        reason=_none(fields.get("Reason")),
        node=_none(fields.get("NodeList")),
        elapsed=_none(fields.get("RunTime")),
        time_limit=_none(fields.get("TimeLimit")),
        cpus=_int(fields.get("NumCPUs")),
        name=_none(fields.get("JobName")),
        exit_status=status,
        exit_signal=signal,
        dependency=_none(fields.get("Dependency")),
        work_dir=_none(fields.get("WorkDir")),
        std_out=_none(fields.get("StdOut")),
    )


_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([KMGTP]?)$")
_UNIT_MB = {"": 1 / 1024**2, "K": 1 / 1024, "M": 1.0, "G": 1024.0, "T": 1024.0**2, "P": 1024.0**3}


def parse_size_mb(text: str | None) -> float | None:
    """A Slurm size (``219796K``, ``1.50G``, bytes without a unit) in MB; None if not one."""
    m = _SIZE.match((text or "").strip().upper())
    return float(m.group(1)) * _UNIT_MB[m.group(2)] if m else None


def parse_sstat(text: str) -> dict[str, float]:
    """``sstat -n -P --format=JobID,MaxRSS`` output: job id → MaxRSS in MB, the largest of the
    job's steps (``123.batch``, ``123.0``); lines of another shape skipped."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        step, sep, rss = line.strip().partition("|")
        mb = parse_size_mb(rss.split("|")[0]) if sep else None
        if mb is None or not step:
            continue
        job = step.split(".")[0]
        out[job] = max(out.get(job, 0.0), mb)
    return out


def explain_pending(reason: str | None) -> tuple[str, bool]:
    """(text, never_clears) for a pending job's reason."""
    if reason in NEVER_CLEARS:
        return f"{reason}: {NEVER_CLEARS[reason]}", True
    if reason and reason.startswith("Dependency") and reason != "Dependency":
        return f"{reason}: an earlier stage did not succeed, so this job can never start", True
    text = REASON_TEXT.get(reason or "", "")
    return (f"{reason}: {text}" if text else (reason or "queued")), False


def explain_end(info: JobInfo, cancelled_by: str | None = None) -> str | None:
    """Why a finished job did not succeed, in words (None when it completed with exit 0)."""
    state = info.base_state
    code = f"{info.exit_status}:{info.exit_signal}" if info.exit_status is not None else ""
    if state == "COMPLETED":
        return None
    if state == "FAILED":
        if info.exit_signal == 53 or info.reason == "JobLaunchFailure":
            return f"Slurm job {info.job_id} FAILED 0:53: {SHARED_FS_HINT}"
        if info.exit_signal:
            return f"Slurm job {info.job_id} FAILED: killed by signal {info.exit_signal}"
        return f"Slurm job {info.job_id} FAILED, exit {info.exit_status}"
    if state == "OUT_OF_MEMORY":
        return (
            f"Slurm job {info.job_id} OUT_OF_MEMORY: it used more than the memory it asked for; "
            "ask for more (--mem, or --slurm STAGE:mem=...)"
        )
    if state == "TIMEOUT":
        limit = info.time_limit or "its limit"
        return (
            f"Slurm job {info.job_id} TIMEOUT: stopped at its time limit ({limit}); "
            "ask for more (--time, or --slurm STAGE:time=...)"
        )
    if state == "NODE_FAIL":
        node = f" ({info.node})" if info.node else ""
        return f"Slurm job {info.job_id} NODE_FAIL: its node{node} failed; re-run the stage"
    if state == "CANCELLED":
        if info.reason == "DependencyNeverSatisfied":
            return (
                f"Slurm job {info.job_id} CANCELLED by Slurm: an earlier stage did not succeed "
                "(DependencyNeverSatisfied)"
            )
        who = cancelled_by or "outside thas-tui (scancel, or an administrator)"
        return f"Slurm job {info.job_id} CANCELLED {who}"
    return f"Slurm job {info.job_id} {info.state} {code}".rstrip()


def exit_code_of(info: JobInfo) -> int:
    """A process-style exit code: the status, or minus the signal (as the local runner reports)."""
    if info.exit_signal:
        return -info.exit_signal
    if info.exit_status is not None and info.exit_status != 0:
        return info.exit_status
    return 0 if info.base_state == "COMPLETED" else 1


def _first_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    return "\n".join(lines[-3:]) if lines else "(no message)"


class SlurmClient:
    """The Slurm commands, run as subprocesses; counts its calls (the polling budget)."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.calls = 0
        # Calls per command: the polling budget counts squeue, scontrol and sstat, not sbatch.
        self.by_command: dict[str, int] = {}
        self.started = time.monotonic()

    @property
    def polls(self) -> int:
        """The calls that follow jobs (squeue, scontrol, sstat), for the budget of one a second."""
        return sum(self.by_command.get(c, 0) for c in ("squeue", "scontrol", "sstat"))

    def _run(
        self, argv: list[str], stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        self.calls += 1
        self.by_command[argv[0]] = self.by_command.get(argv[0], 0) + 1
        try:
            return subprocess.run(
                argv,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                env=env,
                stdin=None if stdin is not None else subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise SlurmError(
                f"{argv[0]} is not installed here: this machine is not a Slurm login node.\n"
                + NO_SLURM_HINT
            ) from None
        except subprocess.TimeoutExpired:
            raise SlurmError(
                f"{argv[0]} did not answer within {self.timeout:.0f} s: the Slurm controller "
                "is down or unreachable.\n" + NO_SLURM_HINT
            ) from None

    def check(self) -> None:
        """Slurm's tools are here and the controller answers; SlurmError saying so if not."""
        if shutil.which("sbatch") is None:
            raise SlurmError(
                "sbatch is not installed here: this machine is not a Slurm login node.\n"
                + NO_SLURM_HINT
            )
        res = self._run(["squeue", "-h", "-j", "0", "-o", "%i"])
        text = (res.stderr or "") + (res.stdout or "")
        if "Unable to contact slurm controller" in text or "Connection refused" in text:
            raise SlurmError(
                "The Slurm controller does not answer (squeue: "
                + _first_error(res.stderr)
                + ").\n"
                + NO_SLURM_HINT
            )

    def submit(self, script: str, options: list[str], env: dict[str, str] | None = None) -> str:
        """``sbatch --parsable OPTIONS`` with the script on stdin; the job id."""
        res = self._run(["sbatch", "--parsable", *options], stdin=script, env=env)
        if res.returncode != 0:
            raise SlurmError(submit_rejected(res.stderr, options))
        job_id = res.stdout.strip().split(";")[0]
        if not job_id.isdigit():
            raise SlurmError(f"sbatch printed no job id: {res.stdout.strip() or res.stderr}")
        return job_id

    def queue(self, job_ids: list[str]) -> dict[str, JobInfo]:
        """One ``squeue`` call for every job: those it still knows (finished ones until MinJobAge)."""
        if not job_ids:
            return {}
        res = self._run(["squeue", "-h", "-t", "all", "-j", ",".join(job_ids), "-o", SQUEUE_FORMAT])
        if res.returncode != 0 and "Invalid job id" not in res.stderr:
            raise SlurmError(f"squeue failed: {_first_error(res.stderr)}")
        return parse_squeue(res.stdout)

    def show(self, job_id: str) -> JobInfo | None:
        """``scontrol show job``: the exit code too; None when Slurm no longer knows the job."""
        res = self._run(["scontrol", "show", "job", job_id])
        if res.returncode != 0:
            return None
        return parse_scontrol(res.stdout)

    def max_rss(self, job_ids: list[str]) -> dict[str, float]:
        """``sstat`` of the jobs' batch steps: job id → MaxRSS in MB so far. slurmd gathers it
        (JobAcctGatherType=jobacct_gather/linux), no slurmdbd needed; SlurmError when the
        cluster gathers none, an empty answer when the jobs have just ended."""
        if not job_ids:
            return {}
        steps = ",".join(f"{j}.batch" for j in job_ids)
        res = self._run(["sstat", "-n", "-P", "-j", steps, "--format=JobID,MaxRSS"])
        if res.returncode != 0 and "not found running" not in res.stderr:
            raise SlurmError(f"sstat failed: {_first_error(res.stderr)}")
        return parse_sstat(res.stdout)

    def cancel(self, job_ids: list[str]) -> None:
        if job_ids:
            self._run(["scancel", *job_ids])


def submit_rejected(stderr: str, options: list[str]) -> str:
    """sbatch's refusal, in Slurm's words, with what it means for the request."""
    msg = _first_error(stderr)
    asked = " ".join(o for o in options if o.split("=")[0] in _RESOURCE_OPTS)
    if "More processors requested than permitted" in msg or "node configuration" in msg:
        why = (
            "The job asks for more CPUs or memory than any node of the partition has. Ask for "
            "less (--cpus, --mem, or --slurm STAGE:cpus=...,mem=...); sinfo -N -l lists the nodes."
        )
    elif "Memory specification" in msg:
        why = "The memory asked for is more than a node has. Ask for less (--mem)."
    elif "partition" in msg.lower():
        why = "Choose a partition that exists (sinfo -s lists them) with --partition."
    elif "account" in msg.lower():
        why = "Choose an account you belong to (sacctmgr show assoc user=$USER) with --account."
    elif "time" in msg.lower():
        why = "Give --time as minutes, H:MM:SS or D-HH:MM:SS."
    else:
        why = "Check the Slurm options (--partition, --account, --time, --mem, --cpus)."
    return f"Slurm refused the job ({asked}):\n{msg}\n{why}"


_RESOURCE_OPTS = {
    "--partition",
    "--account",
    "--time",
    "--mem",
    "--cpus-per-task",
}

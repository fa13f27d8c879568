"""Where stages run: one Executor interface, "local" (local_executor.py) or "slurm" (batch jobs), and their settings."""

from __future__ import annotations

import os
import re
import shlex
import time
from dataclasses import dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Protocol

from thas_tui.core.errors import ThasError
from thas_tui.core.journal import thas_dir
from thas_tui.core.slurm import JobInfo, SlurmClient, SlurmError, exit_code_of

EXECUTORS = ("local", "slurm")
CONFIG_NAMES = ("thas-tui.toml", ".thas-tui.toml")
_TIME = re.compile(r"^(\d+-)?\d+(:\d{1,2}){0,2}$")
_MEM = re.compile(r"^\d+[KMGT]?$", re.IGNORECASE)


@dataclass
class Resources:
    """What one batch job asks Slurm for; None: the site's default."""

    partition: str | None = None
    account: str | None = None
    time: str | None = None
    mem: str | None = None
    cpus: int | None = None

    def over(self, base: Resources) -> Resources:
        """These values where set, else ``base``'s."""
        return Resources(
            **{f.name: getattr(self, f.name) or getattr(base, f.name) for f in fields(self)}
        )

    def sbatch_options(self) -> list[str]:
        opts = []
        if self.partition:
            opts.append(f"--partition={self.partition}")
        if self.account:
            opts.append(f"--account={self.account}")
        if self.time:
            opts.append(f"--time={self.time}")
        if self.mem:
            opts.append(f"--mem={self.mem}")
        if self.cpus:
            opts.append(f"--cpus-per-task={self.cpus}")
        return opts


def checked_resources(values: dict, where: str) -> Resources:
    """A Resources from ``{name: value}`` (a config table or --slurm), every value checked."""
    res = Resources()
    known = {f.name for f in fields(Resources)}
    for key, value in values.items():
        if key not in known:
            raise ThasError(
                f"{where}: unknown Slurm setting {key!r}; known: {', '.join(sorted(known))}."
            )
        text = str(value).strip()
        if key == "cpus":
            if not text.isdigit() or int(text) < 1:
                raise ThasError(f"{where}: cpus={text!r} is not a whole number of CPUs (>= 1).")
            res.cpus = int(text)
            continue
        if key == "time" and not _TIME.match(text):
            raise ThasError(
                f"{where}: time={text!r}: give minutes, H:MM:SS or D-HH:MM:SS (e.g. 2:00:00)."
            )
        if key == "mem" and not _MEM.match(text):
            raise ThasError(f"{where}: mem={text!r}: give a size such as 4000M or 32G.")
        if not text or any(c.isspace() or c in "=,;'\"\\" for c in text):
            raise ThasError(f"{where}: {key}={text!r} is not a valid Slurm value.")
        setattr(res, key, text)
    return res


def parse_stage_override(spec: str, stages: list[str]) -> tuple[str, Resources]:
    """``integrate:cpus=16,mem=32G,time=2:00:00`` → ("integrate", Resources(...))."""
    stage, sep, rest = spec.partition(":")
    if not sep or stage not in stages:
        raise ThasError(
            f"--slurm {spec!r}: give it as STAGE:name=value,... with STAGE one of "
            f"{', '.join(stages)}\ne.g. --slurm integrate:cpus=16,mem=32G,time=2:00:00"
        )
    values = {}
    for item in rest.split(","):
        key, eq, value = item.partition("=")
        if not eq:
            raise ThasError(f"--slurm {spec!r}: {item!r} is not name=value.")
        values[key.strip()] = value.strip()
    return stage, checked_resources(values, f"--slurm {spec}")


@dataclass
class ExecutorSettings:
    """The executor of a run and, for Slurm, its resources: site defaults, then per stage."""

    kind: str = "local"
    default: Resources = field(default_factory=Resources)
    stages: dict[str, Resources] = field(default_factory=dict)

    def for_stage(self, stage: str) -> Resources:
        return self.stages.get(stage, Resources()).over(self.default)

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "default": vars(self.default),
            "stages": {k: vars(v) for k, v in self.stages.items()},
        }

    @classmethod
    def from_json(cls, data: dict | None) -> ExecutorSettings:
        if not isinstance(data, dict):
            return cls()
        try:
            return cls(
                str(data.get("kind") or "local"),
                Resources(**(data.get("default") or {})),
                {k: Resources(**v) for k, v in (data.get("stages") or {}).items()},
            )
        except TypeError:
            return cls()


# -- the site's config file -----------------------------------------------------------------
def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "thas-tui" / "config.toml"


def _load_toml(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # pragma: no cover - 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            return _tiny_toml(text)
    return tomllib.loads(text)


def _tiny_toml(text: str) -> dict:
    """The TOML this file needs ([tables], key = "string" | number) where no TOML library is."""
    data: dict = {}
    table = data
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            table = data
            for part in line[1:-1].strip().split("."):
                table = table.setdefault(part.strip().strip('"'), {})
            continue
        key, eq, value = line.partition("=")
        if not eq:
            raise ValueError(f"not key = value: {raw!r}")
        value = value.strip()
        if value[:1] in "\"'":
            table[key.strip()] = value[1:-1]
        else:
            table[key.strip()] = int(value) if value.isdigit() else value
    return data


def config_files(workdir: Path | None) -> list[Path]:
    """The config files that apply, weakest first: the user's, then the processing directory's."""
    found = [user_config_path()]
    if workdir is not None:
        found += [Path(workdir) / n for n in CONFIG_NAMES]
    return [p for p in found if p.is_file()]


def load_settings(workdir: Path | None, stages: list[str]) -> ExecutorSettings:
    """The site's defaults from the config files (``[executor] kind``, ``[slurm]``,
    ``[slurm.stages.NAME]``); a later file overrides an earlier one per value."""
    settings = ExecutorSettings()
    for path in config_files(workdir):
        try:
            data = _load_toml(path)
        except (OSError, ValueError) as exc:
            raise ThasError(f"Cannot read the config file {path}: {exc}") from None
        kind = (data.get("executor") or {}).get("kind")
        if kind is not None:
            if kind not in EXECUTORS:
                raise ThasError(f"{path}: [executor] kind = {kind!r}: use one of {EXECUTORS}.")
            settings.kind = kind
        slurm = dict(data.get("slurm") or {})
        per_stage = slurm.pop("stages", {}) or {}
        settings.default = checked_resources(slurm, str(path)).over(settings.default)
        for stage, values in per_stage.items():
            if stage not in stages:
                raise ThasError(f"{path}: [slurm.stages.{stage}]: not a stage.")
            res = checked_resources(values or {}, f"{path} [slurm.stages.{stage}]")
            settings.stages[stage] = res.over(settings.stages.get(stage, Resources()))
    return settings


def settings_from_args(args, workdir: Path | None, stages: list[str]) -> ExecutorSettings:
    """Config files, then the command line (``--executor``, ``--partition`` ..., ``--slurm``)."""
    settings = load_settings(workdir, stages)
    kind = getattr(args, "executor", None)
    if kind:
        settings.kind = kind
    given = {
        k: getattr(args, k, None)
        for k in ("partition", "account", "time", "mem", "cpus")
        if getattr(args, k, None) is not None
    }
    settings.default = checked_resources(given, "command line").over(settings.default)
    for spec in getattr(args, "slurm", None) or []:
        stage, res = parse_stage_override(spec, stages)
        settings.stages[stage] = res.over(settings.stages.get(stage, Resources()))
    if settings.kind != "slurm" and (given or getattr(args, "slurm", None)):
        raise ThasError(
            "--partition, --account, --time, --mem, --cpus and --slurm are for Slurm jobs: "
            "add --executor slurm (or drop them)."
        )
    return settings


# -- the interface both executors implement ---------------------------------------------------
class JobState(Enum):
    """Where a started stage is, as its executor sees it."""

    QUEUED = "queued"
    RUNNING = "running"
    ENDED = "ended"


@dataclass
class Job:
    """A stage started by an executor: a local process (``job_id`` its pid) or a batch job."""

    stage: str
    attempt: int
    job_id: str
    log: str
    argv: list[str]
    state: JobState = JobState.QUEUED
    exit_code: int | None = None
    peak_mb: float | None = None
    cancelled: bool = False
    # The command of a multi-command stage (Mask) now running, and whether to start no more.
    step: int = 0
    no_more: bool = False
    # Slurm: its last description, an end still to ask scontrol for, squeue calls missing it.
    info: JobInfo | None = None
    needs_detail: bool = False
    missing: int = 0
    lost: bool = False
    script: Path | None = None
    handle: object = field(default=None, repr=False, compare=False)


class Executor(Protocol):
    """Where a stage's argv runs. ``chains``: it can start a stage after another (afterok), so
    the whole remaining pipeline is handed over at once and runs on with no thas-tui process."""

    name: str
    chains: bool

    def check(self) -> None:
        """Usable from here; a ThasError saying why not (and what to do) if not."""
        ...

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
    ) -> Job: ...

    def poll(self, jobs: list[Job]) -> list[Job]:
        """Bring the jobs' states up to date; the jobs whose state or step changed."""
        ...

    def cancel(self, jobs: list[Job], why: str | None = None) -> None: ...

    def exit_status(self, job: Job) -> int | None:
        """A process-style exit code (minus the signal); None while the job has not ended."""
        ...

    def peak_memory(self, job: Job) -> float | None:
        """The highest resident memory seen, in MB; None where not known."""
        ...


def make_executor(settings: ExecutorSettings) -> Executor:
    """The executor a run's settings name."""
    if settings.kind == "slurm":
        return SlurmExecutor(settings)
    from thas_tui.core.local_executor import LocalExecutor

    return LocalExecutor()


# -- the Slurm executor -----------------------------------------------------------------------
# Seconds between sstat calls for the memory of running jobs (within the one call a second).
SSTAT_EVERY = 5.0


class SlurmExecutor:
    """Each stage one batch job: the argv in a kept script, the per-attempt log as its output.

    ``poll`` makes one Slurm call: ``scontrol`` for a job that just ended (its exit code),
    ``sstat`` every few seconds while jobs run (their memory), else one ``squeue`` for all."""

    name = "slurm"
    chains = True

    def __init__(self, settings: ExecutorSettings, client: SlurmClient | None = None) -> None:
        self.settings = settings
        self.client = client or SlurmClient()
        self._last_sstat = 0.0
        # False once sstat has said this cluster gathers no job accounting.
        self.accounting: bool | None = None

    def check(self) -> None:
        self.client.check()

    def script_path(self, workdir: Path, stage: str, attempt: int) -> Path:
        return thas_dir(workdir) / "jobs" / f"{stage}.{attempt}.sh"

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
        """Write the job script (kept) and sbatch it; ``after``: the job it waits for (afterok)."""
        res = self.settings.for_stage(stage)
        script = self.script_path(workdir, stage, attempt)
        script.parent.mkdir(parents=True, exist_ok=True)
        log.parent.mkdir(parents=True, exist_ok=True)
        options = [
            f"--job-name=thas.{stage}",
            f"--chdir={workdir}",
            f"--output={log}",
            "--open-mode=append",
            *res.sbatch_options(),
        ]
        if after is not None:
            options.append(f"--dependency=afterok:{after.job_id}")
        text = job_script(stage, attempt, argv, options, body)
        with open(script, "x", encoding="utf-8") as fh:
            fh.write(text)
        job_id = self.client.submit(text, options, env)
        return Job(stage, attempt, job_id, str(log), argv, script=script)

    def poll(self, jobs: list[Job]) -> list[Job]:
        """One Slurm call (see the class); the jobs whose description changed."""
        open_jobs = [j for j in jobs if j.state is not JobState.ENDED]
        detail = next((j for j in open_jobs if j.needs_detail), None)
        if detail is not None:
            detail.info = self.client.show(detail.job_id) or detail.info
            detail.needs_detail = False
            self._end(detail)
            return [detail]
        running = [j for j in open_jobs if j.state is JobState.RUNNING]
        now = time.monotonic()
        if running and self.accounting is not False and now - self._last_sstat >= SSTAT_EVERY:
            self._last_sstat = now
            self._sample_memory(running)
            return []
        try:
            seen = self.client.queue([j.job_id for j in open_jobs])
        except SlurmError:
            return []  # the controller is busy or restarting: ask again next time
        changed = []
        for job in open_jobs:
            info = seen.get(job.job_id)
            if info is None:
                job.missing += 1
                if job.missing >= 2:  # gone from squeue (MinJobAge): the files must tell
                    job.lost = True
                    self._end(job)
                    changed.append(job)
                continue
            before = job.info
            job.info = info
            if info.finished:
                job.needs_detail = True
            elif info.base_state in ("RUNNING", "COMPLETING"):
                if job.state is not JobState.RUNNING:
                    # Its memory asked soon after it starts, then every SSTAT_EVERY s.
                    self._last_sstat = min(self._last_sstat, now - SSTAT_EVERY + 2 * POLL_GAP)
                job.state = JobState.RUNNING
            if before is None or (before.state, before.reason, before.node) != (
                info.state,
                info.reason,
                info.node,
            ):
                changed.append(job)
        return changed

    def _end(self, job: Job) -> None:
        job.state = JobState.ENDED
        job.exit_code = exit_code_of(job.info) if job.info is not None and not job.lost else None
        job.cancelled = job.info is not None and job.info.base_state == "CANCELLED"

    def _sample_memory(self, running: list[Job]) -> None:
        try:
            peaks = self.client.max_rss([j.job_id for j in running])
        except SlurmError:
            self.accounting = False
            return
        for job in running:
            mb = peaks.get(job.job_id)
            if mb is not None:
                self.accounting = True
                job.peak_mb = max(job.peak_mb or 0.0, mb)

    def cancel(self, jobs: list[Job], why: str | None = None) -> None:
        self.client.cancel([j.job_id for j in jobs])

    def exit_status(self, job: Job) -> int | None:
        return job.exit_code if job.state is JobState.ENDED else None

    def peak_memory(self, job: Job) -> float | None:
        """The largest MaxRSS sstat reported while the job ran (slurmd's jobacct_gather; no
        slurmdbd needed); None when it ended before a sample or the cluster gathers none."""
        return job.peak_mb


# The follower's one call a second (slurm_chain.POLL_S), for the sstat schedule above.
POLL_GAP = 1.0


def job_script(
    stage: str, attempt: int, argv: list[str], options: list[str], body: str | None = None
) -> str:
    """The batch script: the stage's argv quoted by shlex.join (never a shell string from user
    text), or a fixed ``body`` of thas-tui's own (the unattended Bravais choice)."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    head = [
        "#!/bin/sh",
        f"# thas-tui: stage {stage}, attempt {attempt}, written {stamp}; kept for the record.",
        "# Submitted as: " + shlex.join(["sbatch", *options]),
    ]
    if body is None:
        from thas_tui.core.commands import split_chain

        # Mask's two programs, one after the other in the one job, as the local runner does.
        *first, last = split_chain(argv)
        body = "\n".join(
            [*(f"{shlex.join(c)} || exit $?" for c in first), "exec " + shlex.join(last)]
        )
    return "\n".join([*head, body, ""])


def with_nproc(argv: list[str], cpus: int | None) -> list[str]:
    """``nproc=`` follows the job's CPUs (without cgroups DIALS would count the node's)."""
    if not cpus:
        return argv
    return [f"nproc={cpus}" if a.startswith("nproc=") else a for a in argv]

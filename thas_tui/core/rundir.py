"""What a processing directory holds: each stage's state, newest log, outputs and attempts."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from thas_tui.core.errors import ThasError
from thas_tui.core.journal import Attempt, Journal
from thas_tui.core.parsers import registry
from thas_tui.core.parsers.common import find_failure, iter_lines
from thas_tui.core.pipeline import MASK, MASK_INPUT, STAGES, StageSpec, State
from thas_tui.core.procs import pid_alive

# The stages whose outputs each stage reads (the tutorial's command lines), for staleness.
UPSTREAM: dict[str, tuple[str, ...]] = {
    "import": (),
    "mask": ("import",),
    "find_spots": ("import", "mask"),
    "index": ("import", "find_spots"),
    "refine_bravais_settings": ("index",),
    "reindex": ("index", "refine_bravais_settings"),
    "refine": ("refine_bravais_settings", "reindex"),
    "integrate": ("refine",),
    "symmetry": ("integrate",),
    "scale": ("symmetry",),
    "export": ("scale",),
    "merge": ("scale",),
}

# Other log names the tutorial uses for a stage, tried only when the main one is absent:
# dials.sv_refine is the scan-varying refine, dials.scale_cut a second scale.
ALT_LOGS: dict[str, tuple[str, ...]] = {
    "refine": ("dials.sv_refine.log",),
    "scale": ("dials.scale_cut.log",),
    # dials.reindex 3.12 writes no log, but older versions did.
    "reindex": ("dials.reindex.log",),
    # dials.apply_mask 3.12 writes none either; our attempt log holds both commands.
    "mask": ("dials.apply_mask.log",),
}

# Copies (git checkouts, cp -r) write a whole directory within a second in arbitrary order, while
# re-running an upstream DIALS program takes longer than that (start-up alone is ~1 s).
STALE_TOLERANCE_S = 1.0

_LOG_READ_LIMIT = 20_000_000  # a log larger than this is read from its tail only


@dataclass
class StageState:
    """One stage as found on disk."""

    name: str
    state: State = State.PENDING
    outputs: list[str] = field(default_factory=list)  # output file names present
    log: Path | None = None  # newest log of the stage
    attempts: list[Attempt] = field(default_factory=list)  # from the journal, oldest first
    failure: str | None = None  # why it failed, when it did
    note: str | None = None  # anything else worth saying (stale because..., log without output)
    mtime: float | None = None  # of the primary output

    @property
    def last_attempt(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None


@dataclass
class RunDirState:
    """Every stage of a processing directory, and what could not be read."""

    path: Path
    stages: dict[str, StageState]
    kind: str  # "thas-tui", "manual" (tutorial file names), "logs-only" or "empty"
    issues: list[str] = field(default_factory=list)  # "indexed.expt: unreadable (truncated JSON)"
    bravais_choice: tuple[int, str] | None = None

    @property
    def running(self) -> StageState | None:
        return next((s for s in self.stages.values() if s.state is State.RUNNING), None)

    @property
    def all_done(self) -> bool:
        return all(s.state is State.DONE for s in self.stages.values())


def check_directory(path: str | os.PathLike[str]) -> Path:
    """The directory as a Path; ThasError (what, where, what to do) when it cannot be used."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ThasError(
            f"no processing directory at {p}: it does not exist.\n"
            "Give the directory where DIALS or thas-tui ran (it holds dials.*.log or *.expt files)."
        )
    if not p.is_dir():
        raise ThasError(
            f"{p} is a file, not a processing directory.\n"
            f"Give the directory that holds it instead: {p.parent}"
        )
    try:
        next(iter(os.scandir(p)), None)
    except OSError as exc:
        raise ThasError(
            f"cannot read the directory {p} ({exc.strerror}).\n"
            "Check its permissions (ls -ld), or run as a user who can read it."
        ) from exc
    return p


def read_log_text(path: Path) -> str:
    """A log's text (its tail when huge); '' when it cannot be read."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            if size > _LOG_READ_LIMIT:
                fh.seek(size - _LOG_READ_LIMIT)
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def output_issue(path: Path) -> str | None:
    """A cheap check that an output is complete: None when it looks fine, else why not."""
    try:
        size = path.stat().st_size
        if size == 0:
            return f"{path.name}: unreadable (empty file)"
        with open(path, "rb") as fh:
            head = fh.read(64)
            fh.seek(max(0, size - 64))
            tail = fh.read()
    except OSError as exc:
        return f"{path.name}: unreadable ({exc.strerror})"
    suffix = path.suffix
    if suffix in (".expt", ".json"):
        if head.lstrip()[:1] not in (b"{", b"["):
            return f"{path.name}: unreadable (not JSON)"
        if tail.rstrip()[-1:] not in (b"}", b"]"):
            return f"{path.name}: unreadable (truncated JSON)"
    elif suffix == ".refl":
        if b"dials::af::reflection_table" not in head:
            old = (
                head[:1] == b"\x80"
                and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
                or head[:3] == b"(dp"
            )
            why = "old pickle format" if old else "not a DIALS msgpack reflection table"
            return f"{path.name}: unreadable ({why})"
    elif suffix == ".mtz" and head[:4] != b"MTZ ":
        return f"{path.name}: unreadable (not an MTZ file)"
    return None


def _pid_alive(pid: int | None, host: str) -> bool:
    if not pid or (host and host != socket.gethostname()):
        return False
    return pid_alive(pid)


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _stage_logs(workdir: Path, spec: StageSpec, attempts: list[Attempt]) -> Path | None:
    """The newest log: dials.<program>.log (or an alternative name) or a journal attempt log."""
    candidates: list[Path] = []
    names = ([spec.log_name] if spec.log_name else []) + list(ALT_LOGS.get(spec.name, ()))
    for name in names:
        p = workdir / name
        if p.is_file():
            candidates.append(p)
            break  # the main name wins over the alternatives whatever their times
    if attempts and attempts[-1].log:
        p = Path(attempts[-1].log)
        p = p if p.is_absolute() else workdir / p
        if p.is_file():
            candidates.append(p)
    if not candidates:
        return None
    # Newest first; on a tie the DIALS log (listed first) wins, it has the banner and no stdout noise.
    return max(candidates, key=lambda p: (_mtime(p) or 0.0, -candidates.index(p)))


def log_failure(stage: str, path: Path) -> tuple[bool, str | None]:
    """(parsed, failure) of a stage log: did it read as the program's log, and how it failed."""
    text = read_log_text(path)
    if not text.strip():
        return False, "empty log"
    try:
        parsed = registry.parse_log(stage, text)
    except Exception:  # noqa: BLE001 - a parser bug must not stop the summary
        parsed = None
    if parsed is not None:
        return True, getattr(parsed, "failure", None)
    # import, reindex and export have no parser: the generic failure markers still apply.
    return True, find_failure(list(iter_lines(text)))


def uses_mask(workdir: Path, attempts: list[Attempt]) -> bool:
    """The directory has the optional Mask stage: a mask.phil, its outputs, or an attempt."""
    names = (MASK_INPUT, *MASK.outputs)
    return any((workdir / n).is_file() for n in names) or any(
        a.stage == MASK.name for a in attempts
    )


def stage_specs(workdir: Path, attempts: list[Attempt]) -> tuple[StageSpec, ...]:
    """The directory's stages in order: the tutorial's, with Mask after import when used."""
    if not uses_mask(workdir, attempts):
        return STAGES
    return (STAGES[0], MASK, *STAGES[1:])


def read_rundir(path: str | os.PathLike[str]) -> RunDirState:
    """Read a processing directory's state from its files; never raises on corrupt files."""
    workdir = check_directory(path)
    journal = Journal(workdir)
    all_attempts = journal.attempts()
    issues: list[str] = []
    stages: dict[str, StageState] = {}
    any_output = False
    specs = stage_specs(workdir, all_attempts)
    for spec in specs:
        st = StageState(spec.name, attempts=[a for a in all_attempts if a.stage == spec.name])
        for name in spec.outputs:
            if (workdir / name).is_file():
                st.outputs.append(name)
        any_output = any_output or bool(st.outputs)
        st.log = _stage_logs(workdir, spec, st.attempts)
        stages[spec.name] = st

    for spec in specs:
        st = stages[spec.name]
        _decide(workdir, spec, st, any_output, issues)

    if MASK.name in stages:
        _mask_edited(workdir, stages)
    _mark_stale(stages)
    has_journal = journal.path.is_file()
    any_log = any(s.log is not None for s in stages.values())
    kind = (
        "thas-tui"
        if has_journal
        else "manual"
        if any_output
        else "logs-only"
        if any_log
        else "empty"
    )
    return RunDirState(workdir, stages, kind, issues, journal.last_choice())


def _known_failure(workdir: Path, program: str, last) -> str | None:
    """A known DIALS limit (with its fix) from the end of the attempt's own log, which also
    holds what the program printed only to stdout (integrate's "Too few reflections")."""
    from thas_tui.core.failures import classify
    from thas_tui.core.tail import tail_lines

    try:
        tail = tail_lines(workdir / last.log, 60) if last.log else []
    except OSError:
        return None
    failure = classify(program, last.exit_code or 1, tail) if tail else None
    return failure.text() if failure is not None and failure.fix else None


def _decide(
    workdir: Path, spec: StageSpec, st: StageState, any_output: bool, issues: list[str]
) -> None:
    last = st.last_attempt
    primary = workdir / spec.primary_output
    if last is not None and last.ended is None and _pid_alive(last.pid, last.host):
        st.state = State.RUNNING
        return
    for name in st.outputs:
        issue = output_issue(workdir / name)
        if issue:
            issues.append(issue)
            if name == spec.primary_output:
                st.state, st.failure = State.FAILED, issue
    if st.state is State.FAILED:
        return
    if last is not None and last.ended is not None and (last.cancelled or last.exit_code):
        st.state = State.CANCELLED if last.cancelled else State.FAILED
        if not last.cancelled:
            st.failure = f"exit code {last.exit_code}"
            if st.log is not None:
                st.failure = log_failure(spec.name, st.log)[1] or st.failure
            known = _known_failure(workdir, spec.program, last)
            if known:
                st.failure = known
        return
    if spec.primary_output in st.outputs:
        st.state, st.mtime = State.DONE, _mtime(primary)
        return
    if last is not None and last.unobserved and last.exit_code is None:
        st.state, st.failure = State.FAILED, last.unobserved
        return
    if last is not None and last.ended is None and last.job_id:
        # A Slurm job runs on without anyone watching: squeue knows more than the files.
        seen = last.slurm_state or "submitted"
        st.state = State.RUNNING if seen == "RUNNING" else State.PENDING
        st.note = f"Slurm job {last.job_id}: {seen} when last seen"
        return
    if last is not None and last.ended is None:
        st.state, st.failure = (
            State.FAILED,
            "interrupted: the journal has no end and the process is gone",
        )
        return
    if st.log is None:
        return
    parsed, failure = log_failure(spec.name, st.log)
    if failure:
        st.state, st.failure = State.FAILED, failure
    elif not any_output and parsed:
        # A directory of logs only (a documentation run, a copy): the log is all the evidence.
        st.state = State.DONE
    else:
        st.note = f"{st.log.name} present but no {spec.primary_output}: still running elsewhere, or stopped"


def _mask_edited(workdir: Path, stages: dict[str, StageState]) -> None:
    """mask.phil saved after the mask was applied (Mask stale), or after find_spots ran
    without it (find_spots stale; what follows it is marked by _mark_stale)."""
    edited = _mtime(workdir / MASK_INPUT)
    if edited is None:
        return
    mask, spots = stages[MASK.name], stages["find_spots"]
    if mask.state is State.DONE and mask.mtime is not None:
        if edited > mask.mtime + STALE_TOLERANCE_S:
            mask.state = State.STALE
            mask.note = f"{MASK_INPUT} changed since {MASK.primary_output}: run Mask again"
    elif mask.state is State.PENDING and spots.state is State.DONE and spots.mtime is not None:
        if edited > spots.mtime + STALE_TOLERANCE_S:
            spots.state = State.STALE
            spots.note = f"{MASK_INPUT} saved since strong.refl: run Mask, then find_spots"


def _mark_stale(stages: dict[str, StageState]) -> None:
    """A done stage is stale when an upstream output is newer than its own, or upstream is stale."""
    for name, st in stages.items():
        if st.state is not State.DONE or st.mtime is None:
            continue
        for up_name in UPSTREAM.get(name, ()):
            up = stages.get(up_name)
            if up is None:
                continue  # the optional Mask stage, not used here
            if up.state is State.STALE:
                st.state, st.note = State.STALE, f"upstream {up_name} is stale"
                break
            if up.mtime is not None and up.mtime > st.mtime + STALE_TOLERANCE_S:
                st.state = State.STALE
                st.note = f"{up_name} output is newer than {name}'s: re-run {name}"
                break

"""The tutorial's stages, their states and order, and invalidation of downstream stages."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field


class State(str, enum.Enum):
    """Where a stage is in its life."""

    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"  # needs the user (the Bravais choice)
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STALE = "stale"  # done, but an upstream stage ran again since


@dataclass(frozen=True)
class StageSpec:
    """What a stage is: its DIALS program and the tutorial's file names it writes."""

    name: str
    program: str
    title: str
    outputs: tuple[str, ...]
    log_name: str | None
    has_progress: bool = False

    @property
    def primary_output(self) -> str:
        return self.outputs[0]


# Not a DIALS program: the demo's simulated sweep, made under DIALS's Python when not cached.
SIMULATE = StageSpec("simulate", "python", "Simulate demo sweep", (), None, has_progress=True)

STAGES: tuple[StageSpec, ...] = (
    StageSpec("import", "dials.import", "Import", ("imported.expt",), "dials.import.log"),
    StageSpec(
        "find_spots",
        "dials.find_spots",
        "Find spots",
        ("strong.refl",),
        "dials.find_spots.log",
        has_progress=True,
    ),
    StageSpec("index", "dials.index", "Index", ("indexed.expt", "indexed.refl"), "dials.index.log"),
    StageSpec(
        "refine_bravais_settings",
        "dials.refine_bravais_settings",
        "Bravais settings",
        ("bravais_summary.json",),
        "dials.refine_bravais_settings.log",
    ),
    # dials.reindex 3.12 writes no log file: its stdout (our attempt log) is the only record.
    StageSpec("reindex", "dials.reindex", "Reindex", ("reindexed.refl",), None),
    StageSpec(
        "refine",
        "dials.refine",
        "Refine (scan-varying)",
        ("refined.expt", "refined.refl", "refine_history.json"),
        "dials.refine.log",
    ),
    StageSpec(
        "integrate",
        "dials.integrate",
        "Integrate",
        ("integrated.expt", "integrated.refl", "integration_report.json"),
        "dials.integrate.log",
        has_progress=True,
    ),
    StageSpec(
        "symmetry",
        "dials.symmetry",
        "Symmetry",
        ("symmetrized.expt", "symmetrized.refl", "dials.symmetry.json", "dials.symmetry.html"),
        "dials.symmetry.log",
    ),
    StageSpec(
        "scale",
        "dials.scale",
        "Scale",
        ("scaled.expt", "scaled.refl", "dials.scale.json", "dials.scale.html"),
        "dials.scale.log",
    ),
    StageSpec("export", "dials.export", "Export", ("scaled.mtz",), "dials.export.log"),
    StageSpec(
        "merge",
        "dials.merge",
        "Merge",
        ("merged.mtz", "dials.merge.json", "dials.merge.html"),
        "dials.merge.log",
    ),
)

# Optional, between import and find_spots when a mask.phil is used: two DIALS commands,
# dials.generate_mask imported.expt mask.phil then dials.apply_mask imported.expt mask=pixels.mask.
MASK = StageSpec(
    "mask",
    "dials.generate_mask",
    "Mask",
    ("masked.expt", "pixels.mask"),
    "dials.generate_mask.log",
)
MASK_INPUT = "mask.phil"

STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)
SPECS: dict[str, StageSpec] = {s.name: s for s in (SIMULATE, *STAGES, MASK)}
DEMO_STAGE_NAMES: tuple[str, ...] = ("simulate", *STAGE_NAMES)


def with_mask(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The stage names with the Mask stage after import (unchanged when it is there)."""
    names = tuple(names)
    if MASK.name in names:
        return names
    at = names.index("import") + 1
    return (*names[:at], MASK.name, *names[at:])


@dataclass
class StageRun:
    """The mutable state of one stage in this processing directory."""

    spec: StageSpec
    state: State = State.PENDING
    attempt: int = 0
    started: float | None = None
    ended: float | None = None
    exit_code: int | None = None
    signal_name: str | None = None
    key_result: str = ""
    error: str | None = None
    log_path: str | None = None
    pid: int | None = None
    peak_rss_mb: float | None = None
    # Why the peak is not known (a Slurm job whose memory sstat never gave).
    peak_note: str | None = None
    argv: list[str] = field(default_factory=list)
    # A Slurm job: its id, node, CPUs and where it is in the queue ("queued: Priority ...").
    job_id: str | None = None
    node: str | None = None
    cpus: int | None = None
    queue_note: str = ""
    slurm_reason: str | None = None  # a queued job's reason, explained
    # what an expert would distrust in the result (thas_tui.core.warnings.Concern)
    concerns: list = field(default_factory=list)
    # how its end was learnt when it ended while no dashboard watched (journal.Attempt)
    unobserved: str = ""

    @property
    def name(self) -> str:
        return self.spec.name

    def elapsed(self, now: float) -> float | None:
        """Seconds the stage ran (so far, when running)."""
        if self.started is None:
            return None
        end = self.ended if self.ended is not None else now
        return max(0.0, end - self.started)


class Pipeline:
    """The ordered stages of one processing directory."""

    def __init__(self, names: tuple[str, ...] = STAGE_NAMES) -> None:
        self.runs: dict[str, StageRun] = {n: StageRun(SPECS[n]) for n in names}
        self.bravais_choice: int | None = None
        self.cb_op: str | None = None

    @property
    def has_mask(self) -> bool:
        return MASK.name in self.runs

    def mask_changed(self) -> list[str]:
        """A new or edited mask.phil: the Mask stage (added if absent) is to run again, and
        find_spots and every finished stage after it are stale. Returns the stale stages."""
        if not self.has_mask:
            runs = self.runs
            self.runs = {n: runs.get(n) or StageRun(MASK) for n in with_mask(tuple(runs))}
        mask = self.runs[MASK.name]
        if mask.state in (State.DONE, State.FAILED, State.CANCELLED):
            mask.state = State.STALE
        return self.invalidate_downstream(MASK.name)

    def __iter__(self) -> Iterator[StageRun]:
        return iter(self.runs.values())

    def __getitem__(self, name: str) -> StageRun:
        return self.runs[name]

    @property
    def names(self) -> list[str]:
        return list(self.runs)

    def index(self, name: str) -> int:
        return self.names.index(name)

    def downstream(self, name: str) -> list[StageRun]:
        """Stages after ``name``, in order."""
        return list(self.runs.values())[self.index(name) + 1 :]

    def first_unfinished(self) -> StageRun | None:
        """The first stage that is not done (where a resume starts)."""
        for run in self:
            if run.state is not State.DONE:
                return run
        return None

    def invalidate_downstream(self, name: str) -> list[str]:
        """Mark every finished stage after ``name`` stale; return their names."""
        marked = []
        for run in self.downstream(name):
            if run.state in (State.DONE, State.FAILED, State.CANCELLED):
                run.state = State.STALE
                marked.append(run.name)
        return marked

    @property
    def running(self) -> StageRun | None:
        for run in self:
            if run.state in (State.RUNNING, State.WAITING):
                return run
        return None

    @property
    def all_done(self) -> bool:
        return all(run.state is State.DONE for run in self)

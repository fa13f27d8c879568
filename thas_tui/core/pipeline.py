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

STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)
SPECS: dict[str, StageSpec] = {s.name: s for s in (SIMULATE, *STAGES)}
DEMO_STAGE_NAMES: tuple[str, ...] = ("simulate", *STAGE_NAMES)


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
    argv: list[str] = field(default_factory=list)
    # A Slurm job: its id, node, CPUs and where it is in the queue ("queued: Priority ...").
    job_id: str | None = None
    node: str | None = None
    cpus: int | None = None
    queue_note: str = ""
    slurm_reason: str | None = None  # a queued job's reason, explained

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

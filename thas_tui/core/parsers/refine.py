"""dials.refine log: static and scan-varying refinement steps, RMSDs, final crystal model."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .common import (
    LineNormaliser,
    Progress,
    Table,
    after,
    find_failure,
    is_border,
    iter_lines,
    read_table,
    to_float,
    to_int,
    unit_cell,
    version_of,
)

_PARAMS = re.compile(r"There are (\d+) parameters to refine against (\d+) reflections")
_OUTLIERS = re.compile(r"(\d+) reflections have been flagged as outliers")
_SCAN_POINTS = re.compile(r"A sampled at (\d+) scan points")
_SV_PHIL = re.compile(r"scan_varying *= *(True|False|Auto)", re.IGNORECASE)
_MODEL = re.compile(r"model (\d+) \((\d+) reflections\)")


@dataclass
class RefinementStep:
    """One row of a "Refinement steps" table (RMSDs in mm, mm, degrees)."""

    step: int
    nref: int | None
    rmsd_x: float | None
    rmsd_y: float | None
    rmsd_phi: float | None


@dataclass
class ExperimentRmsd:
    """One row of an "RMSDs by experiment" table (RMSDs in pixels, pixels, images)."""

    experiment: int
    nref: int | None
    rmsd_x: float | None
    rmsd_y: float | None
    rmsd_z: float | None


@dataclass
class CrystalModel:
    """A printed crystal model: unit cell (a, b, c, alpha, beta, gamma) and space group."""

    unit_cell: tuple[float, float, float, float, float, float] | None = None
    space_group: str | None = None
    scan_points: int | None = None
    n_reflections: int | None = None


@dataclass
class RefinementRun:
    """One refinement (a static or scan-varying pass, or an indexing macro-cycle)."""

    scan_varying: bool = False
    n_parameters: int | None = None
    n_reflections: int | None = None
    n_outliers: int | None = None
    steps: list[RefinementStep] = field(default_factory=list)
    rmsds: list[ExperimentRmsd] = field(default_factory=list)
    termination: str | None = None

    @property
    def final_step(self) -> RefinementStep | None:
        """The last step of the refinement, if any was printed."""
        return self.steps[-1] if self.steps else None


@dataclass
class RefineLog:
    """What a dials.refine log says."""

    version: str | None = None
    runs: list[RefinementRun] = field(default_factory=list)
    crystal: CrystalModel | None = None
    failure: str | None = None

    @property
    def static(self) -> RefinementRun | None:
        """The last static refinement pass."""
        found = [r for r in self.runs if not r.scan_varying]
        return found[-1] if found else None

    @property
    def scan_varying(self) -> RefinementRun | None:
        """The last scan-varying refinement pass."""
        found = [r for r in self.runs if r.scan_varying]
        return found[-1] if found else None


def steps_from_table(table: Table) -> list[RefinementStep]:
    """Rows of a "Refinement steps" table."""
    out = []
    for row in table.rows:
        step = to_int(table.cell(row, "Step"))
        if step is None:
            continue
        out.append(
            RefinementStep(
                step=step,
                nref=to_int(table.cell(row, "Nref")),
                rmsd_x=to_float(table.cell(row, "RMSD_X")),
                rmsd_y=to_float(table.cell(row, "RMSD_Y")),
                rmsd_phi=to_float(table.cell(row, "RMSD_Phi", "RMSD_Z")),
            )
        )
    return out


def rmsds_from_table(table: Table) -> list[ExperimentRmsd]:
    """Rows of an "RMSDs by experiment" table."""
    out = []
    for row in table.rows:
        exp = to_int(table.cell(row, "Exp id", "Exp"))
        if exp is None:
            continue
        out.append(
            ExperimentRmsd(
                experiment=exp,
                nref=to_int(table.cell(row, "Nref")),
                rmsd_x=to_float(table.cell(row, "RMSD_X")),
                rmsd_y=to_float(table.cell(row, "RMSD_Y")),
                rmsd_z=to_float(table.cell(row, "RMSD_Z")),
            )
        )
    return out


def is_steps_table(table: Table) -> bool:
    """True for a geometric "Refinement steps" table (not dials.scale's RMSD_I one)."""
    return table.index("Step") is not None and table.index("RMSD_X") is not None


def is_rmsd_table(table: Table) -> bool:
    """True for an "RMSDs by experiment" table."""
    return table.index("Exp id", "Exp") is not None and table.index("RMSD_X") is not None


def read_crystal(lines: list[str], i: int) -> tuple[CrystalModel, int]:
    """Read a "Crystal:" block starting at line i (the "Crystal:" line)."""
    model = CrystalModel()
    j = i + 1
    while j < len(lines) and j < i + 16:
        s = lines[j].strip()
        if s.startswith("Unit cell:"):
            model.unit_cell = unit_cell(s[len("Unit cell:") :])
        elif s.startswith("Space group:"):
            model.space_group = s[len("Space group:") :].strip() or None
        elif s.startswith("A sampled at"):
            m = _SCAN_POINTS.search(s)
            if m:
                model.scan_points = int(m[1])
        elif s and not lines[j].startswith(" ") and not s.startswith("{"):
            break
        j += 1
    if i > 0:
        m = _MODEL.search(lines[i - 1])
        if m:
            model.n_reflections = int(m[2])
    return model, j


def parse(text: str) -> RefineLog:
    """Parse a whole dials.refine log or stdout."""
    lines = list(iter_lines(text))
    log = RefineLog(version=version_of(lines), failure=find_failure(lines))
    phil_sv: bool | None = None
    next_sv = False
    run: RefinementRun | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if s.startswith("scan_varying") and run is None:
            m = _SV_PHIL.search(s)
            if m:
                phil_sv = {"true": True, "false": False}.get(m[1].lower())
        elif s.startswith("Scan-varying refinement"):
            next_sv = True
        elif s.startswith("Configuring refiner"):
            run = RefinementRun(scan_varying=next_sv or bool(phil_sv))
            log.runs.append(run)
        elif s.startswith("There are") and "parameters to refine" in s:
            m = _PARAMS.search(s)
            if m:
                if run is None:
                    run = RefinementRun(scan_varying=next_sv or bool(phil_sv))
                    log.runs.append(run)
                run.n_parameters, run.n_reflections = int(m[1]), int(m[2])
        elif "flagged as outliers" in s and run is not None:
            m = _OUTLIERS.search(s)
            if m:
                run.n_outliers = int(m[1])
        elif s.startswith(("RMSD no longer decreasing", "Reached maximum number of")) or (
            "converged" in s.lower() and run is not None and run.steps
        ):
            if run is not None:
                run.termination = s
        elif s.startswith("Crystal:"):
            log.crystal, i = read_crystal(lines, i)
            continue
        elif is_border(line):
            table, nxt = read_table(lines, i)
            if run is not None:
                if is_steps_table(table):
                    run.steps = steps_from_table(table)
                elif is_rmsd_table(table):
                    run.rmsds = rmsds_from_table(table)
            i = max(nxt, i + 1)
            continue
        i += 1
    return log


class RefineProgress:
    """Live progress of dials.refine: which pass is running and how many steps it has printed.

    The step tables appear only when a pass ends, so `total` stays None (indeterminate).
    """

    def __init__(self) -> None:
        self._norm = LineNormaliser()
        self.passes = 0
        self.phase = "Starting"
        self.detail: str | None = None

    def feed(self, line: str) -> Progress | None:
        """Take one raw line; return the new Progress when it changed, else None."""
        s = self._norm(line).strip()
        if s.startswith("Scan-varying refinement"):
            self.phase = "Scan-varying refinement"
            return self.progress()
        if s.startswith("Configuring refiner"):
            self.passes += 1
            if self.phase in ("Starting",):
                self.phase = "Refinement"
            return self.progress()
        text = after(s, "parameters to refine against")
        if text is not None:
            self.detail = s
            return self.progress()
        if s.startswith("RMSD no longer decreasing") or s.startswith("Saving refined"):
            if s.startswith("Saving refined"):
                self.phase = "Done"
            return self.progress()
        return None

    def progress(self) -> Progress:
        """The current state."""
        done = 1 if self.phase == "Done" else 0
        return Progress(
            phase=self.phase,
            done=done,
            total=1 if self.phase == "Done" else None,
            detail=self.detail,
        )

"""dials.index log: macro-cycles (refinement steps, RMSDs), crystal model, % indexed, failure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .common import (
    LineNormaliser,
    Progress,
    Table,
    find_failure,
    is_border,
    iter_lines,
    read_table,
    to_float,
    to_int,
    version_of,
)
from .refine import (
    CrystalModel,
    RefinementRun,
    is_rmsd_table,
    is_steps_table,
    read_crystal,
    rmsds_from_table,
    steps_from_table,
)

_MACRO = re.compile(r"Starting refinement \(macro-cycle (\d+)\)")
_PARAMS = re.compile(r"There are (\d+) parameters to refine against (\d+) reflections")
_OUTLIERS = re.compile(r"(\d+) reflections have been flagged as outliers")
_MAX_CELL = re.compile(r"Found max_cell: ([\d.]+)")
_D_MIN = re.compile(r"(?:Setting d_min:|Increasing resolution to) ([\d.]+)")
_INDEXED_N = re.compile(r"Indexed (\d+) reflections")
_CENTROIDS = re.compile(r"Number of centroids used: (\d+)")


@dataclass
class Macrocycle:
    """One indexing macro-cycle: its refinement and the resolution it was run to."""

    cycle: int
    d_min: float | None = None
    refinement: RefinementRun = field(default_factory=RefinementRun)


@dataclass
class IndexedCount:
    """One row of the "% indexed" table printed after each model."""

    imageset: int
    n_indexed: int | None
    n_unindexed: int | None
    percent_indexed: float | None


@dataclass
class IndexLog:
    """What a dials.index log (or its stdout) says."""

    version: str | None = None
    max_cell: float | None = None
    n_centroids: int | None = None
    n_candidates: int | None = None
    macrocycles: list[Macrocycle] = field(default_factory=list)
    crystals: list[CrystalModel] = field(default_factory=list)
    indexed: list[IndexedCount] = field(default_factory=list)
    failure: str | None = None

    @property
    def crystal(self) -> CrystalModel | None:
        """The last crystal model printed (the final one after a complete run)."""
        return self.crystals[-1] if self.crystals else None

    @property
    def n_indexed(self) -> int | None:
        """Reflections indexed according to the last "% indexed" table (sum over imagesets)."""
        vals = [c.n_indexed for c in self.indexed if c.n_indexed is not None]
        return sum(vals) if vals else None

    @property
    def percent_indexed(self) -> float | None:
        """Percentage indexed from the last "% indexed" table (over all imagesets)."""
        if not self.indexed:
            return None
        if len(self.indexed) == 1:
            return self.indexed[0].percent_indexed
        n = sum(c.n_indexed or 0 for c in self.indexed)
        u = sum(c.n_unindexed or 0 for c in self.indexed)
        return round(100.0 * n / (n + u), 1) if n + u else None


def _indexed_from_table(table: Table) -> list[IndexedCount]:
    out = []
    for row in table.rows:
        imageset = to_int(table.cell(row, "Imageset"))
        if imageset is None:
            continue
        out.append(
            IndexedCount(
                imageset=imageset,
                n_indexed=to_int(table.cell(row, "# indexed")),
                # 3.dev.1460 splits unindexed into "total" and "non-ice": keep the total
                n_unindexed=to_int(table.cell(row, "# unindexed total", "# unindexed")),
                percent_indexed=to_float(table.cell(row, "% indexed")),
            )
        )
    return out


def parse(text: str) -> IndexLog:
    """Parse a whole dials.index log or stdout."""
    lines = list(iter_lines(text))
    log = IndexLog(version=version_of(lines), failure=find_failure(lines))
    cycle: Macrocycle | None = None
    d_min: float | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if s.startswith("Starting refinement"):
            m = _MACRO.search(s)
            if m:
                cycle = Macrocycle(cycle=int(m[1]), d_min=d_min)
                log.macrocycles.append(cycle)
        elif s.startswith(("Setting d_min:", "Increasing resolution to")):
            m = _D_MIN.search(s)
            if m:
                d_min = float(m[1])
        elif s.startswith("Found max_cell:"):
            m = _MAX_CELL.search(s)
            if m:
                log.max_cell = float(m[1])
        elif s.startswith("Number of centroids used:"):
            m = _CENTROIDS.search(s)
            if m:
                log.n_centroids = int(m[1])
        elif s.startswith("There are") and cycle is not None:
            m = _PARAMS.search(s)
            if m:
                cycle.refinement.n_parameters = int(m[1])
                cycle.refinement.n_reflections = int(m[2])
        elif "flagged as outliers" in s and cycle is not None:
            m = _OUTLIERS.search(s)
            if m:
                cycle.refinement.n_outliers = int(m[1])
        elif s.startswith("RMSD no longer decreasing") and cycle is not None:
            cycle.refinement.termination = s
        elif s.startswith("Crystal:"):
            model, i = read_crystal(lines, i)
            log.crystals.append(model)
            continue
        elif s.startswith("Indexed") and "reflections" in s:
            # older builds print "Indexed N reflections" rather than the table
            m = _INDEXED_N.search(s)
            if m and not log.indexed:
                log.indexed = [IndexedCount(0, int(m[1]), None, None)]
        elif is_border(line):
            table, nxt = read_table(lines, i)
            if table.index("Imageset") is not None and table.index("# indexed") is not None:
                log.indexed = _indexed_from_table(table)
            elif table.index("unit_cell") is not None and table.index("volume") is not None:
                log.n_candidates = len(table.rows)
            elif cycle is not None and is_steps_table(table):
                cycle.refinement.steps = steps_from_table(table)
            elif cycle is not None and is_rmsd_table(table):
                cycle.refinement.rmsds = rmsds_from_table(table)
            i = max(nxt, i + 1)
            continue
        i += 1
    return log


class IndexProgress:
    """Live progress of dials.index: the macro-cycle running (the total is not printed)."""

    def __init__(self) -> None:
        self._norm = LineNormaliser()
        self.cycle = 0
        self.phase = "Starting"
        self.detail: str | None = None

    def feed(self, line: str) -> Progress | None:
        """Take one raw line; return the new Progress when it changed, else None."""
        s = self._norm(line).strip()
        if s.startswith("Starting refinement"):
            m = _MACRO.search(s)
            if m:
                self.cycle = int(m[1])
                self.phase = f"Refinement macro-cycle {self.cycle}"
                return self.progress()
        elif s.startswith(("FFT gridding", "Candidate solutions", "Found max_cell")):
            self.phase = "Searching for a lattice"
            return self.progress()
        elif s.startswith(("Setting d_min:", "Increasing resolution to")):
            self.detail = s
            return self.progress()
        elif s.startswith("Saving refined experiments"):
            self.phase = "Done"
            return self.progress()
        return None

    def progress(self) -> Progress:
        """The current state."""
        if self.phase == "Done":
            return Progress(phase="Done", done=1, total=1, detail=self.detail)
        return Progress(phase=self.phase, done=self.cycle, total=None, detail=self.detail)

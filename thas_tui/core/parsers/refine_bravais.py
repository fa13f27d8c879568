"""dials.refine_bravais_settings log: the Bravais solutions table (fallback when no JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .common import LineNormaliser, Progress, find_failure, iter_lines, to_float, to_int, version_of

_LATTICES = {
    "aP",
    "mP",
    "mC",
    "mI",
    "oP",
    "oC",
    "oF",
    "oI",
    "tP",
    "tI",
    "hP",
    "hR",
    "cP",
    "cF",
    "cI",
}


@dataclass
class BravaisSolution:
    """One row of the Bravais settings table."""

    solution: int
    recommended: bool
    metric_fit: float | None
    rmsd: float | None
    min_cc: float | None
    max_cc: float | None
    n_spots: int | None
    lattice: str
    unit_cell: tuple[float, float, float, float, float, float]
    volume: int | None
    cb_op: str


@dataclass
class RefineBravaisLog:
    """What a dials.refine_bravais_settings log says."""

    version: str | None = None
    solutions: list[BravaisSolution] = field(default_factory=list)
    chiral_space_groups: dict[str, list[str]] = field(default_factory=dict)
    failure: str | None = None

    @property
    def recommended(self) -> list[BravaisSolution]:
        """Solutions marked `*`."""
        return [s for s in self.solutions if s.recommended]

    @property
    def best(self) -> BravaisSolution | None:
        """The highest-symmetry recommended solution (highest solution number marked `*`)."""
        rec = self.recommended
        return max(rec, key=lambda s: s.solution) if rec else None


def parse_row(line: str) -> BravaisSolution | None:
    """One table row in either style ('|   *  5 | 0.03 | ...' or '*  5  0.03 ...'), else None."""
    s = line.replace("|", " ").strip()
    recommended = s.startswith("*")
    if recommended:
        s = s[1:]
    tokens = s.split()
    # solution, metric fit, rmsd, cc, #spots, lattice, 6 cell values, volume, cb_op
    if len(tokens) != 14 or tokens[5] not in _LATTICES:
        return None
    solution = to_int(tokens[0])
    cell = [to_float(t) for t in tokens[6:12]]
    if solution is None or any(c is None for c in cell):
        return None
    lo, _, hi = tokens[3].partition("/")
    a, b, c, al, be, ga = (float(x) for x in cell if x is not None)
    return BravaisSolution(
        solution=solution,
        recommended=recommended,
        metric_fit=to_float(tokens[1]),
        rmsd=to_float(tokens[2]),
        min_cc=to_float(lo),
        max_cc=to_float(hi),
        n_spots=to_int(tokens[4]),
        lattice=tokens[5],
        unit_cell=(a, b, c, al, be, ga),
        volume=to_int(tokens[12]),
        cb_op=tokens[13],
    )


def parse(text: str) -> RefineBravaisLog:
    """Parse a whole dials.refine_bravais_settings log or stdout."""
    lines = list(iter_lines(text))
    log = RefineBravaisLog(version=version_of(lines), failure=find_failure(lines))
    for line in lines:
        sol = parse_row(line)
        if sol is not None:
            # a repeated table (re-run appended to the same stream) replaces the earlier one
            if any(x.solution == sol.solution for x in log.solutions):
                log.solutions = []
            log.solutions.append(sol)
            continue
        head, sep, rest = line.partition(":")
        if sep and head.strip() in _LATTICES and rest.strip():
            log.chiral_space_groups[head.strip()] = rest.split()
    return log


class RefineBravaisProgress:
    """Live progress of dials.refine_bravais_settings: solutions saved of solutions found."""

    def __init__(self) -> None:
        self._norm = LineNormaliser()
        self.total: int | None = None
        self.done = 0
        self.phase = "Refining Bravais settings"

    def feed(self, line: str) -> Progress | None:
        """Take one raw line; return the new Progress when it changed, else None."""
        s = self._norm(line)
        sol = parse_row(s)
        if sol is not None:
            self.total = max(self.total or 0, sol.solution)
            return None
        if s.startswith("Saving solution"):
            self.phase = "Saving solutions"
            self.done += 1
            return self.progress()
        if s.startswith("* = recommended"):
            self.phase = "Saving solutions"
            return self.progress()
        return None

    def progress(self) -> Progress:
        """The current state."""
        return Progress(phase=self.phase, done=self.done, total=self.total)

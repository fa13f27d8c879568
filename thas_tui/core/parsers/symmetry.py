"""dials.symmetry log: Laue group scores, screw-axis table, chosen space group."""

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

_SAVED_SG = re.compile(r"Saving reindexed experiments to \S+ in space group (.+)$")


@dataclass
class LaueGroupScore:
    """One row of "Scoring all possible sub-groups"."""

    patterson_group: str
    accepted: bool
    likelihood: float | None
    net_zcc: float | None
    zcc_plus: float | None
    zcc_minus: float | None
    cc: float | None
    cc_minus: float | None
    delta: float | None
    reindex_operator: str | None


@dataclass
class SymmetryElement:
    """One row of "Scoring individual symmetry elements"."""

    likelihood: float | None
    z_cc: float | None
    cc: float | None
    n: int | None
    accepted: bool
    operator: str


@dataclass
class ScrewAxis:
    """One row of the systematic-absences screw-axis table."""

    axis: str
    score: float | None
    n_present: int | None
    n_absent: int | None
    mean_i_present: float | None
    mean_i_absent: float | None
    mean_i_sigma_present: float | None
    mean_i_sigma_absent: float | None


@dataclass
class SymmetryLog:
    """What a dials.symmetry log says (the screw-axis table is only here, not in the JSON)."""

    version: str | None = None
    laue_groups: list[LaueGroupScore] = field(default_factory=list)
    symmetry_elements: list[SymmetryElement] = field(default_factory=list)
    best_laue_group: str | None = None
    best_unit_cell: tuple[float, float, float, float, float, float] | None = None
    reindex_operator: str | None = None
    laue_group_probability: float | None = None
    laue_group_confidence: float | None = None
    patterson_to_mx: dict[str, str] = field(default_factory=dict)
    screw_axes: list[ScrewAxis] = field(default_factory=list)
    space_group_scores: list[tuple[str, float | None]] = field(default_factory=list)
    recommended_space_group: str | None = None
    enantiomorph: str | None = None
    saved_space_group: str | None = None
    absences_checked: bool | None = None
    failure: str | None = None

    @property
    def space_group(self) -> str | None:
        """The space group chosen: recommended, else the one saved, else the MX group."""
        if self.recommended_space_group:
            return self.recommended_space_group
        if self.saved_space_group:
            return self.saved_space_group
        if self.best_laue_group:
            return self.patterson_to_mx.get(self.best_laue_group)
        return None


def screw_axes_from_table(table: Table) -> list[ScrewAxis]:
    """Rows of the screw-axis table (dials.symmetry and dials.merge)."""
    out = []
    for row in table.rows:
        axis = table.cell(row, "Screw axis")
        if not axis:
            continue
        out.append(
            ScrewAxis(
                axis=axis,
                score=to_float(table.cell(row, "Score")),
                n_present=to_int(table.cell(row, "No. present")),
                n_absent=to_int(table.cell(row, "No. absent")),
                mean_i_present=to_float(table.cell(row, "<I> present")),
                mean_i_absent=to_float(table.cell(row, "<I> absent")),
                mean_i_sigma_present=to_float(table.cell(row, "<I/sig> present")),
                mean_i_sigma_absent=to_float(table.cell(row, "<I/sig> absent")),
            )
        )
    return out


def space_group_scores_from_table(table: Table) -> list[tuple[str, float | None]]:
    """Rows of the "Space group | score" table."""
    return [(row[0], to_float(row[1])) for row in table.rows if len(row) >= 2 and row[0]]


def recommended_from_line(s: str) -> str | None:
    """The space group of a "Recommended space group:" / "Space group determined" line."""
    for marker in ("Recommended space group:", "Space group determined:"):
        value = after(s, marker)
        if value:
            return value
    if s.startswith("Space group determined"):
        # other wordings seen in builds: "Space group determined by systematic absences: X"
        _, _, value = s.partition(":")
        return value.strip() or None
    return None


def _laue_groups(table: Table) -> list[LaueGroupScore]:
    out = []
    for row in table.rows:
        if len(row) < 10 or not row[0]:
            continue
        out.append(
            LaueGroupScore(
                patterson_group=row[0],
                accepted=row[1].strip() != "",
                likelihood=to_float(table.cell(row, "Likelihood")),
                net_zcc=to_float(table.cell(row, "NetZcc")),
                zcc_plus=to_float(table.cell(row, "Zcc+")),
                zcc_minus=to_float(table.cell(row, "Zcc-")),
                cc=to_float(table.cell(row, "CC")),
                cc_minus=to_float(table.cell(row, "CC-")),
                delta=to_float(table.cell(row, "delta")),
                reindex_operator=table.cell(row, "Reindex operator"),
            )
        )
    return out


def _elements(table: Table) -> list[SymmetryElement]:
    out = []
    for row in table.rows:
        if len(row) < 6:
            continue
        out.append(
            SymmetryElement(
                likelihood=to_float(row[0]),
                z_cc=to_float(row[1]),
                cc=to_float(row[2]),
                n=to_int(row[3]),
                accepted=row[4].strip() != "",
                operator=row[5],
            )
        )
    return out


def parse(text: str) -> SymmetryLog:
    """Parse a whole dials.symmetry log or stdout."""
    lines = list(iter_lines(text))
    log = SymmetryLog(version=version_of(lines), failure=find_failure(lines))
    in_best = False
    i = 0
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if s.startswith("Best solution:"):
            log.best_laue_group = after(s, "Best solution:") or None
            in_best = True
        elif in_best and s.startswith("Unit cell:"):
            log.best_unit_cell = unit_cell(s[len("Unit cell:") :])
        elif in_best and s.startswith("Reindex operator:"):
            log.reindex_operator = after(s, "Reindex operator:") or None
        elif s.startswith("Laue group probability:"):
            log.laue_group_probability = to_float(after(s, ":"))
        elif s.startswith("Laue group confidence:"):
            log.laue_group_confidence = to_float(after(s, ":"))
            in_best = False
        elif s.startswith(("Recommended space group", "Space group determined")):
            log.recommended_space_group = recommended_from_line(s)
            log.absences_checked = True
        elif s.startswith("Space group with equivalent score"):
            _, _, value = s.rpartition(":")
            log.enantiomorph = value.strip() or None
        elif s.startswith("No absences to check"):
            log.absences_checked = False
        elif s.startswith("Saving reindexed experiments"):
            m = _SAVED_SG.search(s)
            if m:
                log.saved_space_group = m[1].strip()
        elif is_border(line):
            table, nxt = read_table(lines, i)
            if table.index("Screw axis") is not None:
                log.screw_axes = screw_axes_from_table(table)
            elif table.index("Space group") is not None and table.index("score") is not None:
                log.space_group_scores = space_group_scores_from_table(table)
            elif table.index("Patterson group") is not None:
                if table.index("Corresponding MX group") is not None:
                    for row in table.rows:
                        if len(row) >= 2:
                            log.patterson_to_mx[row[0]] = row[1]
                else:
                    log.laue_groups = _laue_groups(table)
            elif table.index("Operator") is not None and table.index("Z-CC") is not None:
                log.symmetry_elements = _elements(table)
            i = max(nxt, i + 1)
            continue
        i += 1
    return log


_PHASES = (
    ("Performing Laue group analysis", "Laue group analysis"),
    ("Normalising intensities", "Normalising intensities"),
    ("Estimation of resolution", "Estimating resolution"),
    ("Scoring individual symmetry elements", "Scoring symmetry elements"),
    ("Scoring all possible sub-groups", "Scoring sub-groups"),
    ("Analysing systematic absences", "Systematic absences"),
    ("Saving reindexed experiments", "Done"),
)


class SymmetryProgress:
    """Live progress of dials.symmetry through its sections (no per-item counts are printed)."""

    def __init__(self) -> None:
        self._norm = LineNormaliser()
        self.done = 0
        self.phase = "Starting"

    def feed(self, line: str) -> Progress | None:
        """Take one raw line; return the new Progress when it changed, else None."""
        s = self._norm(line).strip()
        for n, (marker, label) in enumerate(_PHASES, start=1):
            if s.startswith(marker):
                self.done = max(self.done, n if label != "Done" else len(_PHASES))
                self.phase = label
                return self.progress()
        return None

    def progress(self) -> Progress:
        """The current state."""
        return Progress(phase=self.phase, done=self.done, total=len(_PHASES))

"""dials.merge log: merging statistics (as dials.scale), screw axes, Wilson B, anomalous signal."""

from __future__ import annotations

from dataclasses import dataclass, field

from .common import (
    LineNormaliser,
    Progress,
    after,
    find_failure,
    is_border,
    iter_lines,
    read_table,
    to_float,
    version_of,
)
from .scale import MergingSummary, Shell, parse_merging
from .scale import ScaleLog as _Merging
from .symmetry import (
    ScrewAxis,
    recommended_from_line,
    screw_axes_from_table,
    space_group_scores_from_table,
)


@dataclass
class AnomalousBin:
    """One row of "Size of anomalous differences": <|ΔF|/σ(ΔF)> per resolution bin."""

    d_max: float | None
    d_min: float | None
    mean_df_over_sigma: float | None


@dataclass
class MergeLog:
    """What a dials.merge log says."""

    version: str | None = None
    summary: MergingSummary | None = None
    shells: list[Shell] = field(default_factory=list)
    overall_shell: Shell | None = None
    screw_axes: list[ScrewAxis] = field(default_factory=list)
    space_group_scores: list[tuple[str, float | None]] = field(default_factory=list)
    space_group: str | None = None
    wilson_b: float | None = None
    anomalous_differences: list[AnomalousBin] = field(default_factory=list)
    mtz_file: str | None = None
    failure: str | None = None


def parse(text: str) -> MergeLog:
    """Parse a whole dials.merge log or stdout."""
    lines = list(iter_lines(text))
    log = MergeLog(version=version_of(lines), failure=find_failure(lines))
    i = 0
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if s.startswith(("Recommended space group", "Space group determined")):
            log.space_group = recommended_from_line(s)
        elif s.startswith("ML estimate of overall B value") and i + 1 < len(lines):
            # the value is on the next line: "   12.40 A**2"
            tokens = lines[i + 1].split()
            if tokens:
                log.wilson_b = to_float(tokens[0])
        elif s.startswith("Writing reflections to"):
            log.mtz_file = after(s, "Writing reflections to") or None
        elif is_border(line):
            table, nxt = read_table(lines, i)
            if table.index("Screw axis") is not None:
                log.screw_axes = screw_axes_from_table(table)
            elif table.index("Space group") is not None and table.index("score") is not None:
                log.space_group_scores = space_group_scores_from_table(table)
            elif len(table.header) == 3 and table.index("d_max") is not None:
                log.anomalous_differences = [
                    AnomalousBin(to_float(r[0]), to_float(r[1]), to_float(r[2]))
                    for r in table.rows
                    if len(r) == 3
                ]
            i = max(nxt, i + 1)
            continue
        i += 1
    merging = _Merging()
    parse_merging(lines, merging)
    log.summary, log.shells, log.overall_shell = (
        merging.summary,
        merging.shells,
        merging.overall_shell,
    )
    if log.wilson_b is None and log.summary and log.summary.wilson_b:
        log.wilson_b = log.summary.wilson_b.overall
    return log


_PHASES = (
    ("Merging scaled reflection data", "Merging"),
    ("Running systematic absences check", "Systematic absences"),
    ("Performing French-Wilson", "French-Wilson"),
    ("Absolute scaling and Wilson analysis", "Wilson analysis"),
    ("Merging statistics by resolution bin", "Merging statistics"),
    ("Writing reflections to", "Writing MTZ"),
    ("Writing html report", "Done"),
)


class MergeProgress:
    """Live progress of dials.merge through its sections."""

    def __init__(self) -> None:
        self._norm = LineNormaliser()
        self.done = 0
        self.phase = "Starting"

    def feed(self, line: str) -> Progress | None:
        """Take one raw line; return the new Progress when it changed, else None."""
        s = self._norm(line).strip()
        if not s:
            return None
        for n, (marker, label) in enumerate(_PHASES, start=1):
            if marker in s:
                self.done = max(self.done, n)
                self.phase = label
                return self.progress()
        return None

    def progress(self) -> Progress:
        """The current state."""
        return Progress(phase=self.phase, done=self.done, total=len(_PHASES))

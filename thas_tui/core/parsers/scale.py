"""dials.scale log: summary of merging statistics, resolution shells, anomalous statistics."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .common import (
    LineNormaliser,
    Progress,
    after,
    find_failure,
    iter_lines,
    read_aligned_table,
    to_float,
    to_int,
    version_of,
)

_SPACE_GROUP = re.compile(r"Space group being used during scaling is (.+)$")
_ERROR_MODEL = re.compile(r"a = ([-\d.eE+]+), b = ([-\d.eE+]+)")
_CUTOFF = re.compile(r"based on (.+?) *: *([\d.]+)$")

# Labels of "Summary of merging statistics" mapped to MergingSummary attributes.
_SUMMARY_LABELS = {
    "High resolution limit": "d_min",
    "Low resolution limit": "d_max",
    "Completeness": "completeness",
    "Multiplicity": "multiplicity",
    "I/sigma": "i_over_sigma",
    "Rmerge(I)": "rmerge",
    "Rmerge(I+/-)": "rmerge_anom",
    "Rmeas(I)": "rmeas",
    "Rmeas(I+/-)": "rmeas_anom",
    "Rpim(I)": "rpim",
    "Rpim(I+/-)": "rpim_anom",
    "CC half": "cc_half",
    "Wilson B factor": "wilson_b",
    "Anomalous completeness": "anom_completeness",
    "Anomalous multiplicity": "anom_multiplicity",
    "Anomalous correlation": "anom_correlation",
    "Anomalous slope": "anom_slope",
    "dF/F": "df_f",
    "dI/s(dI)": "di_sigdi",
    "Total observations": "n_observations",
    "Total unique": "n_unique",
}

# 2.x prints a key: value block ("Merging statistics") with overall values only.
_OLD_LABELS = {
    "Observations": "n_observations",
    "Unique reflections": "n_unique",
    "Redundancy": "multiplicity",
    "Completeness": "completeness",
    "Mean I/sigma(I)": "i_over_sigma",
    "R-merge": "rmerge",
    "R-meas": "rmeas",
    "R-pim": "rpim",
}


@dataclass
class Stat:
    """One statistic: overall, lowest-resolution shell and highest-resolution shell.

    `cut` is the same statistic for the data cut at the resolution DIALS suggests (3.1+ prints
    it as the "Suggested", "Low" and "High" columns before "Overall"); `low` and `high` are then
    those of all the data, from the table by resolution bin.
    """

    overall: float | None
    low: float | None = None
    high: float | None = None
    cut: Stat | None = None


@dataclass
class MergingSummary:
    """The "Summary of merging statistics" block (Overall / Low / High columns)."""

    d_min: Stat | None = None
    d_max: Stat | None = None
    completeness: Stat | None = None
    multiplicity: Stat | None = None
    i_over_sigma: Stat | None = None
    rmerge: Stat | None = None
    rmerge_anom: Stat | None = None
    rmeas: Stat | None = None
    rmeas_anom: Stat | None = None
    rpim: Stat | None = None
    rpim_anom: Stat | None = None
    cc_half: Stat | None = None
    wilson_b: Stat | None = None
    anom_completeness: Stat | None = None
    anom_multiplicity: Stat | None = None
    anom_correlation: Stat | None = None
    anom_slope: Stat | None = None
    df_f: Stat | None = None
    di_sigdi: Stat | None = None
    n_observations: Stat | None = None
    n_unique: Stat | None = None
    rows: dict[str, Stat] = field(default_factory=dict)
    # The columns as printed: ("overall", "low", "high"), or ("suggested", "low", "high",
    # "overall") when DIALS suggests a cut; None for the 2.x/3.0 key: value block. A header
    # thas-tui cannot place leaves every value None and its words in `unknown_header`.
    columns: tuple[str, ...] | None = None
    unknown_header: str | None = None


@dataclass
class Shell:
    """One row of "Merging statistics by resolution bin"; the last row is overall.

    `cc_half_significant` / `cc_anom_significant` carry the `*` DIALS prints.
    """

    d_max: float | None
    d_min: float | None
    n_obs: int | None
    n_unique: int | None
    multiplicity: float | None
    completeness: float | None
    mean_i: float | None
    mean_i_over_sigma: float | None
    r_merge: float | None
    r_meas: float | None
    r_pim: float | None
    r_anom: float | None
    cc_half: float | None
    cc_half_significant: bool
    cc_anom: float | None
    cc_anom_significant: bool


@dataclass
class ScaleLog:
    """What a dials.scale log says."""

    version: str | None = None
    space_group: str | None = None
    error_model: tuple[float, float] | None = None
    summary: MergingSummary | None = None
    shells: list[Shell] = field(default_factory=list)
    overall_shell: Shell | None = None
    resolution_cutoffs: dict[str, float] = field(default_factory=dict)
    # "Resolution limit suggested from CC½ fit (limit CC½=0.3): 1.42" (3.1+)
    suggested_d_min: float | None = None
    failure: str | None = None


def _shell(header: list[str], tokens: list[str]) -> Shell | None:
    if len(tokens) == len(header) - 1 and "r_anom" in header:
        # Up to 3.12 a shell without anomalous pairs prints no r_anom at all (3.13 fills in
        # 0.000, "handle null r_anom"): the token missing is that one, never cc1/2 or cc_ano.
        tokens = tokens[:]
        tokens.insert(header.index("r_anom"), "None")
    if len(tokens) != len(header) or len(tokens) < 10:
        return None

    def get(name: str) -> str | None:
        return tokens[header.index(name)] if name in header else None

    cc_half, cc_anom = get("cc1/2"), get("cc_ano")
    d_max = to_float(get("d_max"))
    if d_max is None:
        return None
    return Shell(
        d_max=d_max,
        d_min=to_float(get("d_min")),
        n_obs=to_int(get("#obs")),
        n_unique=to_int(get("#uniq")),
        multiplicity=to_float(get("mult.")),
        completeness=to_float(get("%comp")),
        mean_i=to_float(get("<I>")),
        mean_i_over_sigma=to_float(get("<I/sI>")),
        r_merge=to_float(get("r_mrg")),
        r_meas=to_float(get("r_meas")),
        r_pim=to_float(get("r_pim")),
        r_anom=to_float(get("r_anom")),
        cc_half=to_float(cc_half),
        cc_half_significant=bool(cc_half and cc_half.endswith("*")),
        cc_anom=to_float(cc_anom),
        cc_anom_significant=bool(cc_anom and cc_anom.endswith("*")),
    )


def read_shells(lines: list[str], header_at: int) -> tuple[list[Shell], Shell | None, int]:
    """The per-resolution table whose header line is `lines[header_at]`.

    Returns the shells, the overall row (the last, whose range spans the others) and the
    index after the table.
    """
    header, rows, nxt = read_aligned_table(lines, header_at)
    shells = [s for s in (_shell(header, r) for r in rows) if s is not None]
    overall = None
    if len(shells) >= 2:
        last = shells[-1]
        first = shells[0]
        # The overall row spans all shells: from about the first d_max to the last d_min.
        if last.d_max is not None and first.d_min is not None and last.d_max > first.d_min:
            overall = shells.pop()
    return shells, overall, nxt


# The column layouts of DIALS's format_statistics (dials/report/analysis.py, 3.1 to 3.29).
_LAYOUTS = (("overall", "low", "high"), ("suggested", "low", "high", "overall"))
_NUMBER = re.compile(r"\S+")


def _summary_header(line: str) -> tuple[tuple[str, ...], list[int]] | None:
    """The column names and the column each ends at, if `line` is a summary header.

    DIALS pads the row labels to 44 characters and may print a caption there (xia2 does), so
    only the trailing words are the columns.
    """
    words = [(m.group(), m.end()) for m in _NUMBER.finditer(line)]
    names = [w.lower() for w, _ in words]
    for layout in _LAYOUTS:
        n = len(layout)
        if len(names) >= n and tuple(names[-n:]) == layout:
            return layout, [end for _, end in words[-n:]]
    return None


def _place(ends: list[int], end: int) -> int:
    """The column whose header ends nearest to a value ending at `end` (values right-align)."""
    return min(range(len(ends)), key=lambda k: abs(ends[k] - end))


def read_summary(lines: list[str], start: int) -> tuple[MergingSummary, int]:
    """The "Summary of merging statistics" block; `start` is the title line.

    Each value goes to the column under whose header it ends, so a row with fewer values (Wilson
    B, dF/F: one value, in the leftmost column) or a fourth "Suggested" column is read right.
    """
    summary = MergingSummary()
    i = start + 1
    seen = False
    ends: list[int] | None = None
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if not s:
            if seen:
                break
            i += 1
            continue
        if not seen and ends is None and summary.unknown_header is None:
            header = _summary_header(line)
            tokens = s.split()
            if header is not None:
                summary.columns, ends = header
                i += 1
                continue
            if not any(to_float(t) is not None for t in tokens[-1:]):
                # a header line, but not one of DIALS's layouts: never guess the columns
                summary.unknown_header = s
                i += 1
                continue
        matches = list(_NUMBER.finditer(line))
        values: list[tuple[float, int]] = []
        while matches and to_float(matches[-1].group()) is not None:
            m = matches.pop()
            values.insert(0, (to_float(m.group()), m.end()))  # type: ignore[arg-type]
        label = " ".join(m.group() for m in matches)
        if not label or not (values or s.endswith("(error)")):
            break
        seen = True
        if ends is None or summary.columns is None or len(values) > len(ends):
            if summary.unknown_header is None:
                summary.unknown_header = "(no column header)"
            i += 1
            continue
        cells: dict[str, float] = {}
        for value, end in values:
            cells.setdefault(summary.columns[_place(ends, end)], value)
        if label == "Wilson B factor" and "suggested" in cells:
            # one value, from all the data; DIALS prints such rows in the leftmost column
            cells["overall"] = cells.pop("suggested")
        if "suggested" in summary.columns:
            cut = Stat(cells.get("suggested"), cells.get("low"), cells.get("high"))
            stat = Stat(cells.get("overall"), cut=cut if cells.keys() - {"overall"} else None)
        else:
            stat = Stat(cells.get("overall"), cells.get("low"), cells.get("high"))
        summary.rows[label] = stat
        attr = _SUMMARY_LABELS.get(label)
        if attr:
            setattr(summary, attr, stat)
        i += 1
    if summary.unknown_header is not None:
        summary.rows.clear()
        for attr in _SUMMARY_LABELS.values():
            setattr(summary, attr, None)
    return summary, i


def _read_old_summary(lines: list[str], start: int) -> tuple[MergingSummary, int]:
    summary = MergingSummary()
    i = start + 1
    while i < len(lines):
        s = lines[i].strip()
        if s.startswith("Statistics by resolution bin") or s.startswith("---"):
            break
        key, sep, value = s.partition(":")
        if sep:
            key = key.strip()
            if key == "Resolution":
                lo, _, hi = value.partition(" - ")
                summary.d_max = Stat(to_float(lo))
                summary.d_min = Stat(to_float(hi))
                summary.rows[key] = Stat(to_float(hi))
            else:
                stat = Stat(to_float(value))
                summary.rows[key] = stat
                attr = _OLD_LABELS.get(key)
                if attr:
                    setattr(summary, attr, stat)
        i += 1
    return summary, i


def is_shell_header(line: str) -> bool:
    """True for the header of a per-resolution merging table."""
    tokens = line.split()
    return len(tokens) >= 10 and tokens[0] == "d_max" and tokens[1] == "d_min"


def parse_merging(lines: list[str], log: ScaleLog) -> None:
    """Fill the merging statistics fields of `log` (shared with dials.merge)."""
    fill_from_shells = False
    i = 0
    while i < len(lines):
        s = lines[i].strip()
        if "Summary of merging statistics" in s:
            log.summary, i = read_summary(lines, i)
            # with a Suggested column, all the data's Low/High are only in the table by bin
            fill_from_shells = (
                log.summary.columns is not None and "suggested" in log.summary.columns
            )
            continue
        if s.startswith("----------Merging statistics----------"):
            old, i = _read_old_summary(lines, i)
            if log.summary is None:
                log.summary = old
                fill_from_shells = True
            continue
        if s.startswith("d_max") and is_shell_header(s):
            shells, overall, i = read_shells(lines, i)
            log.shells, log.overall_shell = shells, overall
            continue
        if s.startswith("Resolution limit suggested from"):
            log.suggested_d_min = to_float(s.rsplit(":", 1)[-1].strip())
        if s.startswith("based on"):
            m = _CUTOFF.search(s)
            if m:
                log.resolution_cutoffs[m[1].strip()] = float(m[2])
        i += 1
    if fill_from_shells:
        _fill_from_shells(log)


def _fill_from_shells(log: ScaleLog) -> None:
    # 2.x's overall-only summary lacks CC½ and the low/high shells, and a summary with a
    # Suggested column has them only for the cut data: take all the data's from the table.
    s, shells, overall = log.summary, log.shells, log.overall_shell
    if s is None or not shells or overall is None:
        return
    low, high = shells[0], shells[-1]
    pairs = {
        "completeness": "completeness",
        "multiplicity": "multiplicity",
        "i_over_sigma": "mean_i_over_sigma",
        "rmerge": "r_merge",
        "rmeas": "r_meas",
        "rpim": "r_pim",
        "cc_half": "cc_half",
        "n_observations": "n_obs",
        "n_unique": "n_unique",
    }
    for attr, col in pairs.items():
        stat = getattr(s, attr)
        if stat is None:
            setattr(s, attr, Stat(getattr(overall, col), getattr(low, col), getattr(high, col)))
        elif stat.low is None and stat.high is None:
            stat.low, stat.high = getattr(low, col), getattr(high, col)
    if s.d_min is not None and s.d_min.low is None:
        s.d_min.low, s.d_min.high = low.d_min, high.d_min
    if s.d_max is not None and s.d_max.low is None:
        s.d_max.low, s.d_max.high = low.d_max, high.d_max


def parse(text: str) -> ScaleLog:
    """Parse a whole dials.scale log or stdout."""
    lines = list(iter_lines(text))
    log = ScaleLog(version=version_of(lines), failure=find_failure(lines))
    for line in lines:
        s = line.strip()
        if s.startswith("Space group being used"):
            m = _SPACE_GROUP.search(s)
            if m:
                log.space_group = m[1].strip()
        elif s.startswith("Parameters:") and "a =" in s:
            m = _ERROR_MODEL.search(s)
            if m:
                a, b = to_float(m[1]), to_float(m[2])
                if a is not None and b is not None:
                    log.error_model = (a, b)
        elif s.startswith("resolution of all data"):
            log.resolution_cutoffs["all data"] = to_float(after(s, ":")) or 0.0
    parse_merging(lines, log)
    return log


_PHASES = (
    ("Scaling models have been initialised", "Initialising"),
    ("Performing a round of scaling", "Scaling"),
    ("Performing a round of error model refinement", "Error model"),
    ("Performing profile/summation intensity optimisation", "Intensity combination"),
    ("Merging statistics", "Merging statistics"),
    ("Summary of merging statistics", "Merging statistics"),
    ("Saving the scaled", "Done"),
)


class ScaleProgress:
    """Live progress of dials.scale: rounds of scaling and error-model refinement done.

    DIALS does not say in advance how many rounds it will run, so `total` stays None until the
    run saves its output.
    """

    def __init__(self) -> None:
        self._norm = LineNormaliser()
        self.rounds = 0
        self.phase = "Starting"

    def feed(self, line: str) -> Progress | None:
        """Take one raw line; return the new Progress when it changed, else None."""
        s = self._norm(line).strip()
        if not s:
            return None
        for marker, label in _PHASES:
            if marker in s:
                if label in ("Scaling", "Error model"):
                    self.rounds += 1
                self.phase = label
                return self.progress()
        return None

    def progress(self) -> Progress:
        """The current state."""
        if self.phase == "Done":
            return Progress(phase="Done", done=self.rounds, total=self.rounds)
        return Progress(phase=self.phase, done=self.rounds, total=None)

"""Shared pieces of the log parsers: line normalisation, Progress, table readers, numbers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

# `-v` makes DialsLogfileFormatter prefix "%6.1f: " (elapsed seconds) to the .log file only;
# a record with the same prefix as the one before gets spaces of the same width instead.
_TIMESTAMP = re.compile(r" *\d+\.\d: ")
_TIMESTAMP_MIN_WIDTH = 8
# Warnings are prefixed "WARN: " (right-aligned to the timestamp width when timed); other
# builds and wrappers use the full level names.
_LEVEL = re.compile(r" *(?:WARN|WARNING|DEBUG|INFO|ERROR|CRITICAL): ")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_NUMBER_WITH_ESD = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?:\(\d+\))?")
_BORDER = re.compile(r" *\+-[-+]*\+ *")
_SEPARATOR = re.compile(r" *\|-[-+|]*\| *")
_DASHES = re.compile(r" *-{10,} *")


@dataclass
class Progress:
    """How far a running program has got: `done` of `total` units in the current phase.

    `total` is None while the log has not said how much work there is. `phase_index` and
    `phase_count` place the phase among the program's phases (integrate has two passes).
    """

    phase: str
    done: int = 0
    total: int | None = None
    phase_index: int = 0
    phase_count: int = 1
    detail: str | None = None

    @property
    def fraction(self) -> float | None:
        """Fraction of the current phase done, or None when the total is unknown."""
        if not self.total:
            return None
        return min(1.0, max(0.0, self.done / self.total))

    @property
    def overall_fraction(self) -> float | None:
        """Fraction of the whole program done, counting earlier phases as complete."""
        frac = self.fraction
        if frac is None or self.phase_count <= 0:
            return None
        return min(1.0, (self.phase_index + frac) / self.phase_count)


def feed_each(feed: Callable[[str], Progress | None], lines: Iterable[str]) -> Progress | None:
    """Feed a live-progress tracker's ``feed`` line by line; the last Progress it gave, or None."""
    latest = None
    for line in lines:
        p = feed(line)
        if p is not None:
            latest = p
    return latest


def strip_prefixes(line: str) -> str:
    """Remove line ending, colour codes, an elapsed-time stamp and a level prefix."""
    line = line.rstrip("\r\n")
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    m = _TIMESTAMP.match(line)
    if m and m.end() >= _TIMESTAMP_MIN_WIDTH:
        line = line[m.end() :]
    m = _LEVEL.match(line)
    if m:
        line = line[m.end() :]
    return line.rstrip("\r")


def normalise_line(line: str) -> str:
    """Stateless normalisation of one log line (see LineNormaliser for timed .log files)."""
    return strip_prefixes(line)


class LineNormaliser:
    """Normalises a stream of lines, remembering the width of `-v` timestamps.

    In a timed log, a record whose stamp equals the previous one is indented by the stamp's
    width instead, as are continuation lines of multi-line records; that indentation is removed
    only once a stamp has been seen, so plain stdout keeps its own leading spaces.
    """

    def __init__(self) -> None:
        self.indent = 0

    def __call__(self, line: str) -> str:
        line = line.rstrip("\r\n")
        if "\x1b" in line:
            line = _ANSI.sub("", line)
        m = _TIMESTAMP.match(line)
        if m and m.end() >= _TIMESTAMP_MIN_WIDTH:
            self.indent = m.end()
            line = line[m.end() :]
        elif self.indent and line.startswith(" " * self.indent):
            line = line[self.indent :]
        elif self.indent and not line.strip():
            line = ""
        m = _LEVEL.match(line)
        if m:
            line = line[m.end() :]
        return line.rstrip("\r")


def iter_lines(text: str) -> Iterator[str]:
    """Split log text (any line endings) into normalised lines."""
    norm = LineNormaliser()
    for raw in text.splitlines():
        yield norm(raw)


def lines_of(text_or_lines: str | Iterable[str]) -> list[str]:
    """Normalised lines from text or from an iterable of raw lines."""
    if isinstance(text_or_lines, str):
        return list(iter_lines(text_or_lines))
    norm = LineNormaliser()
    out: list[str] = []
    for raw in text_or_lines:
        # a raw chunk may still hold several lines (e.g. a CRLF file read in binary)
        for piece in str(raw).splitlines() or [""]:
            out.append(norm(piece))
    return out


# ---------------------------------------------------------------------------------------------
# numbers


def to_float(text: str | None) -> float | None:
    """A float from a table cell ('0.999*', '98.7%', '-', 'nan', '40.55(5)'), else None."""
    if text is None:
        return None
    s = text.strip().rstrip("*%").strip()
    paren = s.find("(")
    if paren > 0:
        s = s[:paren]
    if not s or s in {"-", "-/-", "None", "n/a"}:
        return None
    try:
        value = float(s)
    except ValueError:
        return None
    if value != value:  # NaN: treat as missing, the UI cannot draw it
        return None
    return value


def to_int(text: str | None) -> int | None:
    """An int from a table cell, else None (accepts '12.0')."""
    if text is None:
        return None
    s = text.strip().rstrip("*%").strip()
    try:
        return int(s)
    except ValueError:
        value = to_float(s)
        if value is None or value != int(value):
            return None
        return int(value)


def numbers(text: str) -> list[float]:
    """All plain numbers in a string, in order."""
    out: list[float] = []
    for tok in _NUMBER.findall(text):
        try:
            out.append(float(tok))
        except ValueError:
            continue
    return out


def unit_cell(text: str) -> tuple[float, float, float, float, float, float] | None:
    """Six cell parameters from '40.55(5), 40.56(5), ...', '(40.55, ...)' or '40.55 40.56 ...'."""
    values: list[float] = []
    for tok in _NUMBER_WITH_ESD.findall(text):
        v = to_float(tok)
        if v is not None:
            values.append(v)
    if len(values) < 6:
        return None
    a, b, c, al, be, ga = values[:6]
    return (a, b, c, al, be, ga)


def after(line: str, marker: str) -> str | None:
    """The stripped text after `marker` in `line`, or None when the marker is absent."""
    i = line.find(marker)
    if i < 0:
        return None
    return line[i + len(marker) :].strip()


# ---------------------------------------------------------------------------------------------
# tables


@dataclass
class Table:
    """A text table: header cells (multi-line headers joined with spaces) and rows of cells."""

    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    title: str | None = None
    line: int = 0
    complete: bool = False

    def index(self, *names: str) -> int | None:
        """Column index of the first header matching one of `names` (case-insensitive)."""
        lowered = [h.lower() for h in self.header]
        for name in names:
            n = name.lower()
            if n in lowered:
                return lowered.index(n)
        for name in names:
            n = name.lower()
            for i, h in enumerate(lowered):
                if h.startswith(n):
                    return i
        return None

    def cell(self, row: list[str], *names: str) -> str | None:
        """The cell of `row` under the column named by one of `names`."""
        i = self.index(*names)
        if i is None or i >= len(row):
            return None
        return row[i]

    def header_text(self) -> str:
        """Header cells joined, for recognising a table by its columns."""
        return " | ".join(self.header)


def is_border(line: str) -> bool:
    """True for a `+----+----+` table border."""
    return line.startswith(("+", " ")) and _BORDER.fullmatch(line) is not None


def is_dashed(line: str) -> bool:
    """True for a line of dashes (old-style table rules and section rules)."""
    return _DASHES.fullmatch(line) is not None


def _cuts(border: str) -> list[int]:
    return [i for i, ch in enumerate(border) if ch == "+"]


def _split_by_cuts(line: str, cuts: list[int]) -> list[str]:
    # Slicing at the border's '+' positions keeps cells that themselves contain '|'
    # (dials.symmetry prints operators as "1 |(0, 0, 0)").
    cells = []
    for left, right in zip(cuts, cuts[1:], strict=False):
        cells.append(line[left + 1 : right].strip())
    return cells


def _split_by_bars(line: str) -> list[str]:
    parts = line.strip().strip("|").split("|")
    return [p.strip() for p in parts]


def _split_row(line: str, cuts: list[int]) -> list[str]:
    if len(cuts) >= 2 and len(line) > cuts[-1] and line[cuts[-1]] == "|":
        return _split_by_cuts(line, cuts)
    return _split_by_bars(line)


def _join_header(lines: list[list[str]]) -> list[str]:
    if not lines:
        return []
    width = max(len(r) for r in lines)
    out = []
    for i in range(width):
        parts = [r[i] for r in lines if i < len(r) and r[i]]
        out.append(" ".join(parts))
    return out


def _title_before(lines: list[str], start: int) -> str | None:
    for j in range(start - 1, max(-1, start - 4), -1):
        s = lines[j].strip()
        if s and not is_border(lines[j]):
            return s
    return None


def read_table(lines: list[str], start: int) -> tuple[Table, int]:
    """Read a `+---+` (tabulate psql) table whose top border is `lines[start]`.

    Returns the table and the index of the first line after it. A table cut short by the end
    of the text is returned with the rows read so far (`complete` False).
    """
    border = lines[start]
    cuts = _cuts(border)
    table = Table(title=_title_before(lines, start), line=start)
    pending: list[list[str]] = []
    seen_separator = False
    i = start + 1
    n = len(lines)
    while i < n:
        line = lines[i]
        stripped = line.strip()
        if not stripped.startswith("|"):
            if is_border(line):
                i += 1
                # a border after the header rows but before any separator closes a headerless table
                table.complete = True
                break
            break
        if _SEPARATOR.fullmatch(line):
            table.header = _join_header(pending)
            pending = []
            seen_separator = True
        else:
            pending.append(_split_row(line, cuts))
        i += 1
    table.rows = pending if (seen_separator or pending) else []
    if not seen_separator:
        table.header = []
    return table, i


def read_tables(lines: list[str]) -> list[Table]:
    """Every `+---+` table in the lines, in order."""
    tables: list[Table] = []
    i = 0
    n = len(lines)
    while i < n:
        if lines[i][:1] in ("+", " ") and is_border(lines[i]):
            table, nxt = read_table(lines, i)
            tables.append(table)
            i = max(nxt, i + 1)
        else:
            i += 1
    return tables


def read_aligned_table(lines: list[str], header_at: int) -> tuple[list[str], list[list[str]], int]:
    """A space-aligned table: whitespace-separated header at `header_at`, rows until a blank line.

    Returns header tokens, row tokens and the index of the first line after the table.
    """
    header = lines[header_at].split()
    rows: list[list[str]] = []
    i = header_at + 1
    while i < len(lines):
        s = lines[i].strip()
        if not s or is_dashed(lines[i]) or is_border(lines[i]):
            break
        rows.append(s.split())
        i += 1
    return header, rows, i


def read_dashed_table(lines: list[str], start: int) -> tuple[list[str], list[list[str]], int]:
    """An old-style table: a rule of dashes, header line(s), a rule, rows, optional rule.

    `start` is the first rule. Header lines are joined token-wise by whitespace.
    """
    i = start + 1
    header_lines: list[str] = []
    while i < len(lines) and not is_dashed(lines[i]):
        if not lines[i].strip():
            return [], [], i
        header_lines.append(lines[i])
        i += 1
    header = " ".join(header_lines).split()
    if i >= len(lines):
        return header, [], i
    header_end, rows, j = read_aligned_table(lines, i)
    # read_aligned_table used the rule as a header; its tokens are dashes, so drop them
    del header_end
    if j < len(lines) and is_dashed(lines[j]):
        j += 1
    return header, rows, j


# ---------------------------------------------------------------------------------------------
# failures

# Messages DIALS ends a failed run with; first match wins, the line is returned whole.
_FAILURE_MARKERS = (
    "Sorry:",
    "No suitable lattice could be found",
    "No suitable indexing solution found",
    "Too few spots",
    "Too few reflections",
    "No reflections left to index",
    "RMSD too high",
    "Please report this error",
    "dials.util.Sorry",
    "DialsIndexError",
    "MemoryError",
    "Killed",
    "No strong spots",
    "No reflections found",
)
_EXCEPTION_LINE = re.compile(r"(?:[A-Za-z_][\w.]*)?(?:Error|Exception|Sorry): .*")


def find_failure(lines: list[str], tail: int = 15) -> str | None:
    """The message a failed run ended with (Sorry:, a traceback's last line, known errors).

    Known messages count only among the last `tail` non-blank lines: DIALS prints some of them
    (e.g. "Too few reflections to estimate sd(CC).") as information in runs that succeed.
    """
    last_exception: str | None = None
    in_traceback = False
    for line in lines:
        if line.startswith("Traceback (most recent call last)"):
            in_traceback = True
        elif in_traceback and line[:1] not in (" ", "") and _EXCEPTION_LINE.match(line):
            last_exception = line.strip()
            in_traceback = False
    if last_exception:
        return last_exception
    recent = [s for s in (ln.strip() for ln in lines[-(tail * 4) :]) if s][-tail:]
    for s in recent:
        if s.startswith("Sorry:"):
            return s[len("Sorry:") :].strip()
    for s in recent:
        for marker in _FAILURE_MARKERS:
            if marker in s:
                return s
    return None


def version_of(lines: list[str]) -> str | None:
    """The DIALS version from the banner line near the top ('3.12', '3.dev.1460-g…')."""
    for line in lines[:20]:
        s = line.strip()
        if s.startswith("DIALS ") and "Acta" not in s:
            rest = s[6:].strip()
            if rest[:1].isdigit():
                return rest.split()[0]
    return None

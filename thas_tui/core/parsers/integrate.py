"""dials.integrate log: blocks and frames of both passes, sigma b/m, summaries, memory."""

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

_FRAMES = re.compile(r"Frames: (-?\d+) -> (-?\d+)")
_SIGMA = re.compile(r"sigma ([bm]): ([-\d.eE+]+)")
_MEMORY = re.compile(r"([A-Za-z][^:]*):\s*([\d.]+)\s*(GB|MB|KB|B)\b")
_SAVING = re.compile(r"Saving (\d+) reflections to (\S+)")
_REMOVING = re.compile(r"Removing (\d+) unintegrated reflections of (\d+) total")
_PREDICTED = re.compile(r"Predicted (\d+) reflections")
_NPROC = re.compile(r"Using multiprocessing with (\d+) parallel job")
_BLOCK_SIZE = re.compile(r"block_size: *(.+)")
_SUMMARY_EXP = re.compile(r"Summary for experiment (\d+)")

MODELLING = "Modelling reflection profiles"
INTEGRATING = "Integrating reflections"


@dataclass
class Block:
    """One row of the "blocks of images" table."""

    index: int
    group: int | None
    frame_from: int | None
    frame_to: int | None
    angle_from: float | None
    angle_to: float | None
    n_reflections: int | None


@dataclass
class MemoryReport:
    """A "Memory situation report", every value converted to GB (older builds print GB,
    newer ones MB)."""

    values_gb: dict[str, float] = field(default_factory=dict)
    unit: str | None = None

    @property
    def available_gb(self) -> float | None:
        """Available system memory (excluding swap where both are printed)."""
        for key, value in self.values_gb.items():
            if key.startswith("Available system memory") and "including" not in key:
                return value
        return None

    @property
    def max_for_processing_gb(self) -> float | None:
        """Maximum memory for processing (excluding swap where both are printed)."""
        for key, value in self.values_gb.items():
            if key.startswith("Maximum memory for processing") and "including" not in key:
                return value
        return None

    @property
    def required_per_process_gb(self) -> float | None:
        """Memory required per process."""
        return self.values_gb.get("Memory required per process")


@dataclass
class IntegrationPass:
    """A pass over the images: profile modelling or integration."""

    name: str
    blocks: list[Block] = field(default_factory=list)
    frames_done: list[tuple[int, int]] = field(default_factory=list)
    block_size: str | None = None
    nproc: int | None = None
    memory: MemoryReport | None = None


@dataclass
class ResolutionBin:
    """One row of "Summary vs resolution"."""

    d_min: float | None
    n_full: int | None
    n_part: int | None
    n_sum: int | None
    n_prf: int | None
    ibg: float | None
    i_sigi_sum: float | None
    i_sigi_prf: float | None
    cc_prf: float | None
    rmsd_xy: float | None


@dataclass
class IntegrateLog:
    """What a dials.integrate log says."""

    version: str | None = None
    sigma_b: float | None = None
    sigma_m: float | None = None
    n_predicted: int | None = None
    passes: list[IntegrationPass] = field(default_factory=list)
    resolution_bins: list[ResolutionBin] = field(default_factory=list)
    # "Summary for experiment N": item -> (overall, low, high)
    summaries: dict[int, dict[str, tuple[float | None, float | None, float | None]]] = field(
        default_factory=dict
    )
    n_integrated: int | None = None
    n_removed: int | None = None
    failure: str | None = None

    @property
    def modelling(self) -> IntegrationPass | None:
        """The profile-modelling pass."""
        return next((p for p in self.passes if p.name == MODELLING), None)

    @property
    def integration(self) -> IntegrationPass | None:
        """The integration pass."""
        return next((p for p in self.passes if p.name == INTEGRATING), None)

    def overall(self, item: str, experiment: int = 0) -> float | None:
        """An "Overall" value of the summary table, e.g. overall("i/sigi (profile fitting)")."""
        row = self.summaries.get(experiment, {}).get(item)
        return row[0] if row else None


def _blocks(table: Table) -> list[Block]:
    out = []
    for row in table.rows:
        idx = to_int(table.cell(row, "#"))
        if idx is None:
            continue
        out.append(
            Block(
                index=idx,
                group=to_int(table.cell(row, "Group")),
                frame_from=to_int(table.cell(row, "Frame From")),
                frame_to=to_int(table.cell(row, "Frame To")),
                angle_from=to_float(table.cell(row, "Angle From")),
                angle_to=to_float(table.cell(row, "Angle To")),
                n_reflections=to_int(table.cell(row, "# Reflections")),
            )
        )
    return out


def _resolution_bins(table: Table) -> list[ResolutionBin]:
    out = []
    i_sum = table.index("I/sigI (sum)")
    i_prf = table.index("I/sigI (prf)")
    for row in table.rows:

        def cell(i: int | None, r: list[str] = row) -> str | None:
            return r[i] if i is not None and i < len(r) else None

        out.append(
            ResolutionBin(
                d_min=to_float(table.cell(row, "d min")),
                n_full=to_int(table.cell(row, "# full")),
                n_part=to_int(table.cell(row, "# part")),
                n_sum=to_int(table.cell(row, "# sum")),
                n_prf=to_int(table.cell(row, "# prf")),
                ibg=to_float(table.cell(row, "Ibg")),
                i_sigi_sum=to_float(cell(i_sum)),
                i_sigi_prf=to_float(cell(i_prf)),
                cc_prf=to_float(table.cell(row, "CC prf")),
                rmsd_xy=to_float(table.cell(row, "RMSD XY")),
            )
        )
    return out


def _summary(table: Table) -> dict[str, tuple[float | None, float | None, float | None]]:
    out = {}
    for row in table.rows:
        if len(row) < 4:
            continue
        out[row[0]] = (to_float(row[1]), to_float(row[2]), to_float(row[3]))
    return out


def _to_gb(value: float, unit: str) -> float:
    # DIALS divides bytes by 1e9 (GB) or 1e6 (MB): decimal units
    factor = {"GB": 1.0, "MB": 1e-3, "KB": 1e-6, "B": 1e-9}[unit]
    return value * factor


def parse(text: str) -> IntegrateLog:
    """Parse a whole dials.integrate log or stdout."""
    lines = list(iter_lines(text))
    log = IntegrateLog(version=version_of(lines), failure=find_failure(lines))
    current: IntegrationPass | None = None
    in_memory = False
    summary_exp = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if in_memory:
            m = _MEMORY.match(s)
            if m and current is not None and current.memory is not None:
                current.memory.values_gb[m[1].strip()] = _to_gb(float(m[2]), m[3])
                current.memory.unit = m[3]
                i += 1
                continue
            if s.startswith("no memory ulimit") or "ulimit" in s:
                i += 1
                continue
            in_memory = False
        if s in (MODELLING, INTEGRATING):
            current = IntegrationPass(name=s)
            log.passes.append(current)
        elif s.startswith("sigma ") and "degrees" in s:
            m = _SIGMA.search(s)
            if m:
                setattr(log, "sigma_" + m[1], to_float(m[2]))
        elif s.startswith("Memory situation report"):
            if current is None:
                current = IntegrationPass(name=INTEGRATING)
                log.passes.append(current)
            current.memory = MemoryReport()
            in_memory = True
        elif s.startswith("Frames:") and current is not None:
            m = _FRAMES.search(s)
            if m:
                current.frames_done.append((int(m[1]), int(m[2])))
        elif s.startswith("block_size:") and current is not None:
            m = _BLOCK_SIZE.search(s)
            if m:
                current.block_size = m[1].strip()
        elif s.startswith("Using multiprocessing") and current is not None:
            m = _NPROC.search(s)
            if m:
                current.nproc = int(m[1])
        elif s.startswith("Predicted") and log.n_predicted is None:
            m = _PREDICTED.search(s)
            if m:
                log.n_predicted = int(m[1])
        elif s.startswith("Summary for experiment"):
            m = _SUMMARY_EXP.search(s)
            summary_exp = int(m[1]) if m else 0
        elif s.startswith("Saving") and "reflections to" in s:
            m = _SAVING.search(s)
            if m:
                log.n_integrated = int(m[1])
        elif s.startswith("Removing") and "unintegrated" in s:
            m = _REMOVING.search(s)
            if m:
                log.n_removed = int(m[1])
        elif is_border(line):
            table, nxt = read_table(lines, i)
            if table.index("Frame From") is not None and current is not None:
                current.blocks = _blocks(table)
            elif table.index("d min") is not None and table.index("CC prf") is not None:
                log.resolution_bins = _resolution_bins(table)
            elif table.index("Item") is not None and table.index("Overall") is not None:
                log.summaries[summary_exp] = _summary(table)
            i = max(nxt, i + 1)
            continue
        i += 1
    return log


class IntegrateProgress:
    """Live progress of dials.integrate: blocks finished of the blocks table, per pass.

    Phase 0 is profile modelling, phase 1 integration; each prints its blocks table, then a
    " Frames: a -> b" line as each block is processed.
    """

    def __init__(self) -> None:
        self._norm = LineNormaliser()
        self._table: list[str] | None = None
        self.phase = "Starting"
        self.phase_index = 0
        self.total: int | None = None
        self.done = 0
        # Images the pass's blocks read in all (overlaps counted twice) and the opens seen
        # since its blocks table: progress between "Frames:" lines (core.image_reads).
        self._frames: int | None = None
        self._reads = 0

    def feed(self, line: str) -> Progress | None:
        """Take one raw line; return the new Progress when it changed, else None."""
        s = self._norm(line)
        st = s.strip()
        if self._table is not None:
            if st.startswith("|") or is_border(s):
                self._table.append(s)
                if is_border(s) and len(self._table) > 3:
                    return self._close_table()
                return None
            closed = self._close_table()
            # the line that ended the table may itself matter (a Frames line)
            return self._handle(st) or closed
        if is_border(s):
            self._table = [s]
            return None
        return self._handle(st)

    def _close_table(self) -> Progress | None:
        lines = self._table or []
        self._table = None
        if not lines:
            return None
        table, _ = read_table(lines, 0)
        first, last = table.index("Frame From"), table.index("Frame To")
        if first is None:
            return None
        self.total = len(table.rows)
        self.done = 0
        self._reads = 0
        self._frames = None
        if last is not None:
            try:
                # Frame From and Frame To are inclusive (1-20 is the 20 images of 0-40 degrees).
                self._frames = sum(int(r[last]) - int(r[first]) + 1 for r in table.rows) or None
            except (ValueError, IndexError):
                self._frames = None
        return self.progress()

    def images_read(self, n: int) -> Progress | None:
        """``n`` more image files opened by the program: the new Progress, or None when the
        reads cannot be placed (before a pass's blocks table) or change nothing."""
        if n <= 0 or self._frames is None or self.total is None or self.phase == "Done":
            return None
        before = self.progress()
        self._reads += n
        after = self.progress()
        return after if after != before else None

    def _handle(self, st: str) -> Progress | None:
        if st == MODELLING:
            self.phase, self.phase_index = "Modelling profiles", 0
            self.done, self.total, self._frames = 0, None, None
            return self.progress()
        if st == INTEGRATING:
            self.phase, self.phase_index = "Integrating", 1
            self.done, self.total, self._frames = 0, None, None
            return self.progress()
        if st.startswith("Frames:") and _FRAMES.search(st):
            self.done += 1
            if self.total is not None and self.done > self.total:
                self.total = self.done
            return self.progress()
        if st.startswith("Saving") and "reflections to" in st:
            self.phase, self.phase_index = "Done", 1
            self.total = self.total or 1
            self.done = self.total
            self._frames = None
            return self.progress()
        return None

    def progress(self) -> Progress:
        """The current state: in images read of the pass's blocks when reads are counted
        (a block's images count as read once its "Frames:" line is out), else in blocks."""
        if self._frames is not None and self.total and self._reads:
            by_blocks = self._frames * self.done // self.total
            done = max(by_blocks, min(self._reads, self._frames))
            if self.done < self.total:
                # The last block's results are not in until its line says so.
                done = min(done, self._frames - 1)
            return Progress(
                phase=f"{self.phase}, images read",
                done=done,
                total=self._frames,
                phase_index=self.phase_index,
                phase_count=2,
                detail=f"block {self.done}/{self.total} done",
            )
        return Progress(
            phase=self.phase,
            done=self.done,
            total=self.total,
            phase_index=self.phase_index,
            phase_count=2,
        )

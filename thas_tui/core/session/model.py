"""A session's datasets: images present and complete, live spot counts, state and results."""

from __future__ import annotations

import enum
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from thas_tui.core.session.discovery import SweepFiles, cbf_complete
from thas_tui.core.session.spot_server import ImageStats


class DState(str, enum.Enum):
    """Where a dataset is in the session."""

    COLLECTING = "collecting"  # images still arriving
    WAITING = "waiting"  # complete but held: images missing in the middle
    QUEUED = "queued"  # complete, its processing waits for a free slot
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


# Stages of an unattended run (thas-tui run --auto-bravais), for "processing stage N/12".
RUN_STAGES = 11


@dataclass
class Dataset:
    """One sweep of the session and everything known of it."""

    files: SweepFiles
    proc_dir: Path
    first_seen: float
    last_new: float  # wall time the newest image became complete
    ready: set[int] = field(default_factory=set)  # image numbers complete on disk
    master_ready: bool = False
    # NeXus: the images the master file says the sweep has, and the data files complete on
    # disk (their frames are the images in ``ready``, as the master file's check reads them).
    n_expected: int | None = None
    data_complete: set[str] = field(default_factory=set)
    nexus_check: bool = False  # a master or data file has completed since the last check
    problem: str = ""  # what the master file's check says stops DIALS reading it
    spots: dict[int, ImageStats] = field(default_factory=dict)
    state: DState = DState.COLLECTING
    reason: str = ""  # why failed / waiting / skipped, one line
    force: bool = False  # process despite missing images (the user asked)
    skipped: bool = False
    pid: int | None = None
    stage: str | None = None  # the processing stage running now
    stage_n: int = 0  # its place among the run's stages (1-based)
    results: dict = field(default_factory=dict)  # space_group, unit_cell, d_min, cc_half, ...
    rev: int = 0  # grows with every change of this dataset: a view redraws only changed rows

    @property
    def name(self) -> str:
        return self.files.name

    @property
    def is_nexus(self) -> bool:
        return self.files.master is not None

    @property
    def n_present(self) -> int:
        return len(self.ready)

    @property
    def expected(self) -> int | None:
        """Images the sweep will have, where something says so: a NeXus master file's scan. A
        PILATUS mini-CBF header describes its own image only (no image count of the sweep)."""
        return self.n_expected

    def gaps(self) -> list[int]:
        """Complete images missing between the first and last complete one."""
        if not self.ready:
            return []
        lo, hi = min(self.ready), max(self.ready)
        if hi - lo + 1 == len(self.ready):
            return []  # the common case, without walking a thousand image numbers
        return [n for n in range(lo, hi + 1) if n not in self.ready]

    def unreadable(self) -> str | None:
        """DIALS's error when every image analysed so far failed (not diffraction images?)."""
        if len(self.spots) < 3 or any(s.error is None for s in self.spots.values()):
            return None
        return next(iter(self.spots.values())).error

    def image_paths(self) -> list[str]:
        """The complete images, in order, as ``thas-tui run`` takes them."""
        if self.is_nexus:
            return [self.files.master] if self.files.master else []
        assert self.files.template is not None
        return [self.files.template.path(n) for n in sorted(self.ready)]

    def spot_series(self) -> list[tuple[int, int]]:
        """(image number, spots) of the images analysed so far, in image order."""
        return sorted((n, s.n_spots) for n, s in self.spots.items() if s.n_spots is not None)

    def d_min_estimate(self) -> float | None:
        """The median of DIALS's per-image resolution estimates so far."""
        values = sorted(s.d_min for s in self.spots.values() if s.d_min)
        return values[len(values) // 2] if values else None

    def mean_spots(self) -> float | None:
        series = self.spot_series()
        return sum(v for _, v in series) / len(series) if series else None


def describe_gaps(gaps: list[int]) -> str:
    """``[5, 6, 7, 12]`` → ``"5–7, 12"``."""
    parts: list[str] = []
    start = prev = None
    for n in gaps:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            parts.append(f"{start}" if start == prev else f"{start}–{prev}")
            start = prev = n
    if start is not None:
        parts.append(f"{start}" if start == prev else f"{start}–{prev}")
    return ", ".join(parts)


CBF_SETTLE = 0.1  # s; a CBF also shows its own end


@dataclass
class Pending:
    """A file seen but not yet complete: its size and since when it has had that size."""

    size: int
    since: float


def file_complete(path: str, pending: dict[str, Pending], settle: float, now: float) -> bool:
    """Whether ``path`` is complete: its size unchanged for ``settle`` seconds or, for a CBF,
    its binary section closed and its size unchanged a moment later. Updates ``pending``; never
    reads a file still growing."""
    try:
        size = os.stat(path).st_size
    except OSError:
        pending.pop(path, None)
        return False
    p = pending.get(path)
    if p is None or p.size != size:
        pending[path] = Pending(size, now)
        return False
    if size == 0:
        return False
    if path.lower().endswith(".cbf"):
        # A closed binary section proves the write is over: two equal sizes a moment apart
        # are enough, which keeps a new image's spot count within ~2 s of its last byte.
        if now - p.since < min(settle, CBF_SETTLE) or not cbf_complete(path):
            return False
    elif now - p.since < settle:
        return False
    pending.pop(path, None)
    return True


def decide(ds: Dataset, now: float, idle: float) -> None:
    """Move a dataset between collecting, waiting and queued from what is on disk and the clock.

    A sweep is complete when all the images its master file lists are complete, or when no new
    image has come for ``idle`` seconds (a mini-CBF does not say how many images its sweep will
    have); a gap in the middle holds it until the gap fills
    or the user asks for it to be processed anyway.
    """
    if ds.skipped:
        ds.state, ds.reason = DState.SKIPPED, "skipped by the user"
        return
    if ds.state in (DState.PROCESSING, DState.DONE, DState.FAILED):
        return
    if ds.n_present == 0:
        if ds.problem:
            ds.state, ds.reason = DState.WAITING, ds.problem
        else:
            ds.state, ds.reason = DState.COLLECTING, "no complete image yet"
        return
    expected = ds.expected
    if (expected is None or ds.n_present < expected) and now - ds.last_new < idle:
        ds.state, ds.reason = DState.COLLECTING, ""
        return
    if expected is not None and ds.n_present < expected and not ds.force:
        ds.state = DState.WAITING
        ds.reason = (
            f"{ds.n_present} of the {expected} images the master file lists are written, none "
            f"new for {idle:g} s: waiting (P to process anyway)"
        )
        return
    gaps = ds.gaps()
    if gaps and not ds.force:
        ds.state = DState.WAITING
        ds.reason = f"images {describe_gaps(gaps)} missing: waiting (press P to process anyway)"
        return
    bad = ds.unreadable()
    if bad and not ds.force:
        ds.state = DState.WAITING
        ds.reason = f"DIALS cannot read these images ({bad}): not processed (P to try anyway)"
        return
    if ds.n_present < 2 and not ds.is_nexus:
        ds.state = DState.WAITING
        ds.reason = "one image is not a rotation sweep: not processed"
        return
    ds.state, ds.reason = DState.QUEUED, ""


def pick_next(datasets: list[Dataset]) -> Dataset | None:
    """The queued dataset to process next: the newest first (a beamline user's current crystal)."""
    queued = [d for d in datasets if d.state is DState.QUEUED]
    return max(queued, key=lambda d: d.last_new) if queued else None


def now() -> float:
    return time.time()

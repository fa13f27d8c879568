"""dials.find_spots log: strong pixels per image, spot histogram, saved spots; live progress."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .common import LineNormaliser, Progress, feed_each, find_failure, iter_lines, version_of

_FOUND = re.compile(r"Found (\d+) strong pixels on image (\d+)")


def strong_pixels_on_image(line: str) -> tuple[int, int] | None:
    """(image, strong pixels) from a "Found N strong pixels on image M" line, else None."""
    if "strong pixels" not in line:
        return None
    m = _FOUND.search(line)
    return (int(m[2]), int(m[1])) if m else None


def strong_pixels_by_image(lines: list[str]) -> dict[int, int]:
    """{image: strong pixels} of every "Found N strong pixels on image M" line (the last, when
    an image appears twice). One search over the whole batch: find_spots can write thousands
    of these a second, and a search per line cost the dashboard 1.3 ms per batch."""
    text = "\n".join(lines)
    if "strong pixels" not in text:
        return {}
    return {int(image): int(count) for count, image in _FOUND.findall(text)}


_RANGE = re.compile(r"Finding spots in image (\d+) to (\d+)")
_NPROC = re.compile(r"Using multiprocessing with (\d+) parallel job")
_CHUNK = re.compile(r"Setting chunksize=(\d+)")
_EXTRACTED = re.compile(r"Extracted (\d+) spots")
_FILTERED = re.compile(r"Filtered (\d+) of (\d+) spots")
_SAVED = re.compile(r"Saved (\d+) reflections to (\S+)")
# The lines FindSpotsProgress.feed reads that change the phase or the total, as one pattern
# to run over a whole batch (between them, the per-image counts are only counted).
_PHASES = re.compile("|".join(p.pattern for p in (_RANGE, _EXTRACTED, _SAVED)))
_HIST_HEAD = re.compile(r"(\d+) spots found on (\d+) images \(max (\d+) / bin\)")
_HIST_AXIS = re.compile(r"(\d+) +image +(\d+)")
_HIST_IMAGESET = re.compile(r"Histogram of per-image spot count for imageset (\d+)")


@dataclass
class SpotHistogram:
    """The ASCII per-image spot-count histogram printed at the end of find_spots.

    `heights[i]` is the number of stars (0..`rows`) in column i; a column covers an equal
    share of the images `first_image..last_image`, and `rows` stars stand for `max_per_bin`.
    """

    imageset: int | None
    n_spots: int
    n_images: int
    max_per_bin: int
    first_image: int | None = None
    last_image: int | None = None
    rows: int = 0
    heights: list[int] = field(default_factory=list)

    def bins(self) -> list[tuple[float, float, float]]:
        """(first image, last image, approximate spot count) per column."""
        if not self.heights or self.first_image is None or self.last_image is None:
            return []
        n = len(self.heights)
        span = (self.last_image - self.first_image + 1) / n
        out = []
        for i, h in enumerate(self.heights):
            lo = self.first_image + i * span
            count = self.max_per_bin * h / self.rows if self.rows else 0.0
            out.append((lo, lo + span - 1, count))
        return out


@dataclass
class FindSpotsLog:
    """What a dials.find_spots log says."""

    version: str | None = None
    image_ranges: list[tuple[int, int]] = field(default_factory=list)
    nproc: int | None = None
    chunksize: int | None = None
    strong_pixels: dict[int, int] = field(default_factory=dict)
    n_extracted: int | None = None
    n_filtered: int | None = None
    histograms: list[SpotHistogram] = field(default_factory=list)
    n_saved: int | None = None
    saved_to: str | None = None
    failure: str | None = None

    @property
    def n_images(self) -> int | None:
        """Images the run set out to process (sum over image ranges)."""
        if not self.image_ranges:
            return None
        return sum(b - a + 1 for a, b in self.image_ranges)


def _read_histogram(lines: list[str], i: int, imageset: int | None) -> tuple[SpotHistogram, int]:
    m = _HIST_HEAD.search(lines[i])
    assert m is not None
    hist = SpotHistogram(
        imageset=imageset, n_spots=int(m[1]), n_images=int(m[2]), max_per_bin=int(m[3])
    )
    star_rows: list[str] = []
    j = i + 1
    while j < len(lines):
        line = lines[j]
        axis = _HIST_AXIS.fullmatch(line.strip())
        if axis:
            hist.first_image, hist.last_image = int(axis[1]), int(axis[2])
            j += 1
            break
        if not line.strip(" *") and line.strip():
            star_rows.append(line.rstrip())
            j += 1
            continue
        if not line.strip():
            # an all-zero row is printed as spaces; only blank lines end the chart
            if j + 1 < len(lines) and ("*" in lines[j + 1] or _HIST_AXIS.search(lines[j + 1])):
                star_rows.append("")
                j += 1
                continue
        break
    width = max((len(r) for r in star_rows), default=0)
    if hist.first_image is not None and j - 1 < len(lines):
        width = max(width, len(lines[j - 1].rstrip()))
    hist.rows = len(star_rows)
    hist.heights = [sum(1 for r in star_rows if c < len(r) and r[c] == "*") for c in range(width)]
    return hist, j


def parse(text: str) -> FindSpotsLog:
    """Parse a whole dials.find_spots log or stdout."""
    lines = list(iter_lines(text))
    log = FindSpotsLog(version=version_of(lines), failure=find_failure(lines))
    imageset: int | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        found = strong_pixels_on_image(line)
        if found:
            log.strong_pixels[found[0]] = found[1]
            i += 1
            continue
        if "Histogram" in line:
            m = _HIST_IMAGESET.search(line)
            if m:
                imageset = int(m[1])
        if "spots found on" in line and _HIST_HEAD.search(line):
            hist, i = _read_histogram(lines, i, imageset)
            log.histograms.append(hist)
            continue
        for rx, attr in ((_NPROC, "nproc"), (_CHUNK, "chunksize"), (_EXTRACTED, "n_extracted")):
            m = rx.search(line)
            if m:
                setattr(log, attr, int(m[1]))
        m = _RANGE.search(line)
        if m:
            log.image_ranges.append((int(m[1]), int(m[2])))
        m = _FILTERED.search(line)
        if m:
            log.n_filtered = int(m[1])
        m = _SAVED.search(line)
        if m:
            log.n_saved, log.saved_to = int(m[1]), m[2]
        i += 1
    return log


class FindSpotsProgress:
    """Live progress of dials.find_spots from its lines: images done of images to process."""

    def __init__(self) -> None:
        self._norm = LineNormaliser()
        self.total: int | None = None
        self.done = 0
        self.phase = "Starting"

    def feed(self, line: str) -> Progress | None:
        """Take one raw line; return the new Progress when it changed, else None."""
        # Every pattern below is searched for anywhere in the line, so only colour codes need
        # removing first; the full normaliser costs more than the rest on a flood of lines.
        s = self._norm(line) if "\x1b" in line else line
        if "strong pixels" in s and _FOUND.search(s):
            return self._count(1)
        m = _RANGE.search(s)
        if m:
            a, b = int(m[1]), int(m[2])
            self.total = (self.total or 0) + max(0, b - a + 1)
            self.phase = "Finding spots"
            return self.progress()
        if _EXTRACTED.search(s):
            self.phase = "Filtering spots"
            if self.total is not None:
                self.done = self.total
            return self.progress()
        if _SAVED.search(s):
            self.phase = "Done"
            if self.total is None:
                self.total = self.done
            self.done = self.total
            return self.progress()
        return None

    def feed_lines(self, lines: list[str]) -> Progress | None:
        """As feed() on each line in turn, returning the last change, in one search of the
        batch: find_spots can write thousands of lines a second, and a search and a Progress
        per line (2.1 ms per 1,200 lines) was the dashboard's largest cost in such a flood."""
        text = "\n".join(lines)
        if "\x1b" in text:
            return feed_each(self.feed, lines)
        latest = None
        pos = 0
        for m in _PHASES.finditer(text):  # a handful per run: each goes through feed()
            images = len(_FOUND.findall(text, pos, m.start()))
            if images:
                latest = self._count(images)
            latest = self.feed(m[0]) or latest
            pos = m.end()
        images = len(_FOUND.findall(text, pos))
        if images:
            latest = self._count(images)
        return latest

    def _count(self, images: int) -> Progress:
        self.done += images
        self.phase = "Finding spots"
        if self.total is not None and self.done > self.total:
            self.total = self.done
        return self.progress()

    def progress(self) -> Progress:
        """The current state."""
        return Progress(phase=self.phase, done=self.done, total=self.total)

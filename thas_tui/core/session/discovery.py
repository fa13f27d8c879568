"""Rotation sweeps under a data directory: image series grouped by template, NeXus masters."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

# A numbered image: prefix, the image number, and the extension (compressed CBFs included).
_NUMBERED = re.compile(
    r"^(?P<prefix>.*?)(?P<number>\d+)(?P<ext>\.(?:cbf|img|mccd|smv|tif|tiff)(?:\.gz|\.bz2)?)$",
    re.IGNORECASE,
)
_MASTER = re.compile(r"^(?P<stem>.+)_master\.(?:h5|nxs)$", re.IGNORECASE)
# The end of a mini-CBF's binary section: a file without it is still being written.
CBF_END = b"--CIF-BINARY-FORMAT-SECTION----"


@dataclass(frozen=True)
class Template:
    """One series: its folder, the file name around the image number, and the number's width."""

    directory: str
    prefix: str
    width: int
    ext: str

    @property
    def pattern(self) -> str:
        """As DIALS writes templates: ``/data/x_1_#####.cbf``."""
        return os.path.join(self.directory, f"{self.prefix}{'#' * self.width}{self.ext}")

    def path(self, number: int) -> str:
        return os.path.join(self.directory, f"{self.prefix}{number:0{self.width}d}{self.ext}")


@dataclass
class SweepFiles:
    """What is on disk of one sweep: its image numbers (CBF-like) or its master file (NeXus)."""

    key: str
    name: str
    template: Template | None = None
    master: str | None = None
    numbers: set[int] = field(default_factory=set)

    @property
    def first(self) -> int | None:
        return min(self.numbers) if self.numbers else None

    @property
    def last(self) -> int | None:
        return max(self.numbers) if self.numbers else None

    def gaps(self) -> list[int]:
        """Image numbers missing between the first and the last present."""
        if not self.numbers:
            return []
        return [n for n in range(self.first, self.last + 1) if n not in self.numbers]


def classify(path: str) -> tuple[str, Template | None, int | None, str | None]:
    """``(key, template, number, master)`` of a file, or ``("", None, None, None)`` if not an image."""
    directory, name = os.path.split(path)
    m = _MASTER.match(name)
    if m:
        return (path, None, None, path)
    m = _NUMBERED.match(name)
    if not m:
        return ("", None, None, None)
    t = Template(directory, m["prefix"], len(m["number"]), m["ext"])
    return (t.pattern, t, int(m["number"]), None)


def dataset_name(template: Template | None, master: str | None, data_root: str) -> str:
    """A short unique-enough name: the folder under the data root and the series' stem."""
    if master is not None:
        directory, base = os.path.split(master)
        stem = _MASTER.match(base)["stem"]  # type: ignore[index]
    else:
        assert template is not None
        directory = template.directory
        stem = template.prefix.rstrip("_.-") or "images"
    rel = os.path.relpath(directory, data_root)
    name = stem if rel in (".", "") else f"{rel.replace(os.sep, '_')}_{stem}"
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", name)


def scan(data_root: str | os.PathLike[str]) -> dict[str, SweepFiles]:
    """Every sweep under ``data_root`` now (a walk: used once at start, then watchfiles)."""
    root = str(data_root)
    sweeps: dict[str, SweepFiles] = {}
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            add(sweeps, os.path.join(directory, name), root)
    return sweeps


def add(sweeps: dict[str, SweepFiles], path: str, data_root: str) -> SweepFiles | None:
    """Record one file; return its sweep (None when the file is no image)."""
    key, template, number, master = classify(path)
    if not key:
        return None
    sweep = sweeps.get(key)
    if sweep is None:
        # A name is kept for the sweep's life (it names the processing directory): a second
        # series with the same stem (x.cbf and x.img in one folder) gets a suffix.
        base = dataset_name(template, master, data_root)
        taken = {s.name for s in sweeps.values()}
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        sweep = SweepFiles(key, name, template, master)
        sweeps[key] = sweep
    if number is not None:
        sweep.numbers.add(number)
    return sweep


def remove(sweeps: dict[str, SweepFiles], path: str) -> SweepFiles | None:
    """Forget one deleted file; return its sweep."""
    key, _, number, _ = classify(path)
    sweep = sweeps.get(key)
    if sweep is not None and number is not None:
        sweep.numbers.discard(number)
    return sweep


def cbf_complete(path: str) -> bool:
    """A CBF whose binary section has been closed (a plain read of its last bytes).

    A detector writing the file leaves it shorter than its header's X-Binary-Size says; the
    closing boundary line is written last. Compressed files are judged by size stability alone.
    """
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 256))
            return CBF_END in fh.read()
    except OSError:
        return False

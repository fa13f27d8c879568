"""Rotation sweeps under a data directory: image series grouped by template, NeXus masters."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field

# A numbered image: prefix, the image number, and the extension (compressed CBFs included).
_NUMBERED = re.compile(
    r"^(?P<prefix>.*?)(?P<number>\d+)(?P<ext>\.(?:cbf|img|mccd|smv|tif|tiff)(?:\.gz|\.bz2)?)$",
    re.IGNORECASE,
)
_MASTER = re.compile(r"^(?P<stem>.+)_master\.(?:h5|nxs)$", re.IGNORECASE)
# An EIGER data file, linked from STEM_master.h5 beside it (the DECTRIS file writer's names).
_DATA = re.compile(r"^(?P<stem>.+)_data_\d{6}\.(?:h5|nxs)$", re.IGNORECASE)
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

    # Image number (0 for a master file) -> mtime, of files the start-up scan looked at.
    found: dict[int, float] = field(default_factory=dict)


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


def master_of(path: str) -> str | None:
    """The master file a data file ``X_data_000001.h5`` belongs to (``X_master.h5``), or None."""
    directory, name = os.path.split(path)
    m = _DATA.match(name)
    return os.path.join(directory, f"{m['stem']}_master.h5") if m else None


def data_files(master: str) -> list[str]:
    """The data files beside ``master`` now (``X_data_NNNNNN.h5`` for ``X_master.h5``)."""
    directory, name = os.path.split(master)
    m = _MASTER.match(name)
    if m is None:
        return []
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return []
    out = []
    for n in names:
        d = _DATA.match(n)
        if d is not None and d["stem"] == m["stem"]:
            out.append(os.path.join(directory, n))
    return sorted(out)


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


def scan(
    data_root: str | os.PathLike[str], now: float | None = None, old_s: float = 120.0
) -> tuple[dict[str, SweepFiles], list[str]]:
    """Every sweep under ``data_root`` now, and every folder walked.

    Once, at start (watchfiles reports what comes later), and a visit can hold 100,000 images:
    one ``scandir`` per folder, one match per name, and a ``stat`` only where a sweep's newest
    image was written less than ``old_s`` seconds ago (a sweep being collected: each file's
    mtime is then in ``found``). A sweep whose newest image is older is complete on disk: its
    newest mtime stands for all (``found`` holds just that image).
    """
    now = time.time() if now is None else now
    root = str(data_root)
    sweeps: dict[str, SweepFiles] = {}
    folders: list[str] = []
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = [(e.name, e.is_dir(follow_symlinks=False), e.path) for e in it]
        except OSError:
            continue
        folders.append(directory)
        groups: dict[tuple[str, int, str], set[int]] = {}
        masters: list[str] = []
        for name, is_dir, path in entries:
            if is_dir:
                if not name.startswith("."):
                    stack.append(path)
                continue
            m = _NUMBERED.match(name)
            if m is not None:
                groups.setdefault((m["prefix"], len(m["number"]), m["ext"]), set()).add(
                    int(m["number"])
                )
            elif _MASTER.match(name):
                masters.append(path)
        for master in sorted(masters):
            sweep = _new_sweep(sweeps, None, master, root)
            sweep.found[0] = _mtime(master)
        for k in sorted(groups, key=lambda k: (k[0], k[2], k[1])):
            sweep = _new_sweep(sweeps, Template(directory, *k), None, root)
            sweep.numbers.update(groups[k])
            top = max(groups[k])
            newest = _mtime(sweep.template.path(top))  # type: ignore[union-attr]
            if now - newest >= old_s:
                sweep.found[top] = newest
            else:
                for n in groups[k]:
                    sweep.found[n] = _mtime(sweep.template.path(n))  # type: ignore[union-attr]
        stack.sort(reverse=True)  # folders in name order
    return sweeps, folders


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def _new_sweep(
    sweeps: dict[str, SweepFiles], template: Template | None, master: str | None, data_root: str
) -> SweepFiles:
    key = master if master is not None else template.pattern  # type: ignore[union-attr]
    sweep = sweeps.get(key)
    if sweep is not None:
        return sweep
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
    return sweep


def add(sweeps: dict[str, SweepFiles], path: str, data_root: str) -> SweepFiles | None:
    """Record one file; return its sweep (None when the file is no image)."""
    key, template, number, master = classify(path)
    if not key:
        return None
    sweep = _new_sweep(sweeps, template, master, data_root)
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

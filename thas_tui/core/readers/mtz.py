"""Reader of an MTZ file's header (pure Python): symmetry, cell, wavelength, columns, batches."""

from __future__ import annotations

import math
import re
import shlex
import struct
from dataclasses import dataclass
from pathlib import Path

from thas_tui.core.errors import UnreadableFile

_RECORD = 80
_HEADER_LIMIT = 64 * 1024 * 1024  # batch headers of ~10,000 images fit many times over


@dataclass(frozen=True)
class MtzColumn:
    label: str
    type: str  # H (index), J (intensity), Q (sigma), B (batch), Y (M/ISYM), ...
    min: float | None
    max: float | None
    dataset: int | None


@dataclass(frozen=True)
class MtzHeader:
    """The header records of an MTZ file."""

    path: Path
    version: str | None = None
    title: str | None = None
    n_columns: int | None = None
    n_reflections: int | None = None
    n_batches: int | None = None
    space_group: str | None = None  # "P 21 21 21"
    space_group_number: int | None = None
    point_group: str | None = None
    unit_cell: tuple[float, ...] | None = None  # CELL (the global cell)
    dataset_cells: dict[int, tuple[float, ...]] | None = None
    wavelengths: dict[int, float] | None = None  # dataset id -> Å
    datasets: dict[int, str] | None = None  # dataset id -> "project/crystal/dataset"
    columns: tuple[MtzColumn, ...] = ()
    batches: tuple[int, ...] = ()
    d_max: float | None = None
    d_min: float | None = None
    complete: bool = False  # the END record was reached

    @property
    def merged(self) -> bool | None:
        """False for unmerged data (a BATCH column), True without one; None when unknown."""
        if not self.columns:
            return None
        return not any(c.type == "B" for c in self.columns)

    @property
    def wavelength(self) -> float | None:
        """The first non-zero dataset wavelength (dataset 0, HKL_base, has none)."""
        for _, wl in sorted((self.wavelengths or {}).items()):
            if wl > 0:
                return wl
        return None


def _floats(tokens: list[str]) -> list[float | None]:
    out: list[float | None] = []
    for t in tokens:
        try:
            v = float(t)
        except ValueError:
            v = None
        out.append(v if v is None or math.isfinite(v) else None)
    return out


def _header_offset(path: Path, head: bytes, size: int) -> int:
    if len(head) < 20 or head[:4] != b"MTZ ":
        raise UnreadableFile(
            f"{path}: not an MTZ file (it does not start with 'MTZ '). "
            "Pass a reflection file in MTZ format (e.g. dials.export's scaled.mtz)."
        )
    # The machine stamp's first nibble: 1 = big-endian, 4 = little-endian IEEE.
    endian = ">" if (head[8] >> 4) == 1 else "<"
    (word,) = struct.unpack(endian + "i", head[4:8])
    if word == -1:  # files over 2 GiB: a 64-bit header position at byte 16
        (word,) = struct.unpack(endian + "q", head[16:24])
    offset = (word - 1) * 4
    if word < 1 or offset >= size:
        raise UnreadableFile(
            f"{path}: the MTZ file is truncated (its header should start at byte {offset}, "
            f"the file has {size} bytes). Export the data again."
        )
    return offset


def read_mtz_header(path: str | Path) -> MtzHeader:
    """Read the header of an MTZ file (the reflection data are not read).

    Raises UnreadableFile when the file is not MTZ or is cut before its header.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(24)
            size = fh.seek(0, 2)
            offset = _header_offset(path, head, size)
            fh.seek(offset)
            raw = fh.read(_HEADER_LIMIT)
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot read the MTZ file ({exc.strerror}).") from exc
    fields: dict = {
        "dataset_cells": {},
        "wavelengths": {},
        "datasets": {},
    }
    projects: dict[int, str] = {}
    crystals: dict[int, str] = {}
    columns: list[MtzColumn] = []
    batches: list[int] = []  # iotbx writes the list twice when it rewrites a file
    complete = False
    for i in range(0, len(raw) - _RECORD + 1, _RECORD):
        rec = raw[i : i + _RECORD].decode("ascii", errors="replace").rstrip()
        key = rec[:4].upper()
        rest = rec.split(None, 1)[1] if " " in rec.strip() else ""
        if key == "END " or rec.strip().upper() == "END":
            complete = True
            break
        if key == "VERS":
            fields["version"] = rest.strip()
        elif key == "TITL":
            fields["title"] = rest.strip()
        elif key == "NCOL":
            n = [int(t) for t in rest.split() if t.lstrip("-").isdigit()]
            if len(n) >= 2:
                fields["n_columns"], fields["n_reflections"] = n[0], n[1]
            if len(n) >= 3:
                fields["n_batches"] = n[2]
        elif key == "CELL":
            c = _floats(rest.split())
            if len(c) == 6 and None not in c:
                fields["unit_cell"] = tuple(c)
        elif key == "SYMI":
            try:
                toks = shlex.split(rest)
            except ValueError:
                toks = rest.split()
            if len(toks) >= 5:
                if toks[3].isdigit():
                    fields["space_group_number"] = int(toks[3])
                fields["space_group"] = toks[4]
                if len(toks) >= 6:
                    fields["point_group"] = toks[5]
        elif key == "RESO":
            r = _floats(rest.split())
            if len(r) == 2 and None not in r and r[0] > 0 and r[1] > 0:
                fields["d_max"] = 1 / math.sqrt(r[0])
                fields["d_min"] = 1 / math.sqrt(r[1])
        elif key == "COLU" or key == "COL ":
            t = rest.split()
            if len(t) >= 2:
                mm = _floats(t[2:4]) + [None, None]
                ds = int(t[4]) if len(t) >= 5 and t[4].isdigit() else None
                columns.append(MtzColumn(t[0], t[1], mm[0], mm[1], ds))
        elif key == "PROJ":
            _named(rest, projects)
        elif key == "CRYS":
            _named(rest, crystals)
        elif key == "DATA":
            _named(rest, fields["datasets"])
        elif key == "DCEL":
            t = rest.split()
            c = _floats(t[1:7])
            if t and t[0].isdigit() and len(c) == 6 and None not in c:
                fields["dataset_cells"][int(t[0])] = tuple(c)
        elif key == "DWAV":
            t = rest.split()
            w = _floats(t[1:2])
            if t and t[0].isdigit() and w and w[0] is not None:
                fields["wavelengths"][int(t[0])] = w[0]
        elif key == "BATC":
            batches += [int(t) for t in rest.split() if t.isdigit()]
    for ds, name in fields["datasets"].items():
        if ds in crystals or ds in projects:
            fields["datasets"][ds] = f"{projects.get(ds, '')}/{crystals.get(ds, '')}/{name}"
    if fields.get("space_group") is not None:
        fields["space_group"] = re.sub(r"\s+", " ", fields["space_group"]).strip()
    return MtzHeader(
        path=path,
        columns=tuple(columns),
        batches=tuple(dict.fromkeys(batches)),
        complete=complete,
        **fields,
    )


def _named(rest: str, into: dict[int, str]) -> None:
    t = rest.split(None, 1)
    if len(t) == 2 and t[0].isdigit():
        into[int(t[0])] = t[1].strip()

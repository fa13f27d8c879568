"""Selective, zero-parse reader of DIALS msgpack reflection tables (`*.refl`) into numpy arrays."""

from __future__ import annotations

import mmap
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from thas_tui.core.errors import UnreadableFile

# The header string DIALS writes as the first element of the top-level msgpack array
# (dials/array_family/boost_python/reflection_table_msgpack_ext.cc).
MSGPACK_HEADER = "dials::af::reflection_table"

# Columns the dashboard uses; read_refl() reads these when no columns are named.
DEFAULT_COLUMNS: tuple[str, ...] = (
    "xyzobs.px.value",
    "xyzcal.px",
    "id",
    "flags",
    "miller_index",
    "intensity.sum.value",
    "intensity.sum.variance",
    "intensity.prf.value",
    "intensity.prf.variance",
    "d",
    "bbox",
    "partiality",
    "panel",
)

# Flag bits of dials.array_family.flex.reflection_table.flags (values printed by DIALS 3.12's
# own `flex.reflection_table.flags`); only the ones the dashboard reasons about.
FLAG_PREDICTED = 1 << 0
FLAG_OBSERVED = 1 << 1
FLAG_INDEXED = 1 << 2
FLAG_USED_IN_REFINEMENT = 1 << 3
FLAG_STRONG = 1 << 5
FLAG_INTEGRATED_SUM = 1 << 8
FLAG_INTEGRATED_PRF = 1 << 9
FLAG_INTEGRATED = FLAG_INTEGRATED_SUM | FLAG_INTEGRATED_PRF
FLAG_OVERLOADED = 1 << 10
FLAG_BAD_FOR_SCALING = 29360128
FLAG_SCALED = 1 << 26

# DIALS column type name -> (little-endian numpy dtype, items per row). The msgpack writer
# dumps each flex array's memory as one binary blob, so these map straight onto np.frombuffer.
COLUMN_TYPES: dict[str, tuple[str, int]] = {
    "bool": ("u1", 1),
    "int": ("<i4", 1),
    "std::size_t": ("<u8", 1),
    "double": ("<f8", 1),
    "int6": ("<i4", 6),
    "vec2<double>": ("<f8", 2),
    "vec3<double>": ("<f8", 3),
    "mat3<double>": ("<f8", 9),
    "cctbx::miller::index<>": ("<i4", 3),
}

_PICKLE_PREFIXES = (
    b"\x80\x02",
    b"\x80\x03",
    b"\x80\x04",
    b"\x80\x05",
    b"(dp",
    b"(lp",
    b"ccopy_reg",
)


@dataclass(frozen=True)
class ColumnInfo:
    """Name, DIALS type and byte size of one column as found in the file."""

    name: str
    dials_type: str
    nbytes: int


@dataclass(frozen=True)
class ReflectionTable:
    """The requested columns of a reflection table, as numpy arrays (one row per reflection)."""

    path: Path
    nrows: int
    identifiers: dict[int, str]
    columns: dict[str, np.ndarray]
    available: tuple[ColumnInfo, ...] = field(default=())
    # Requested columns that are absent from the file or of a type this reader cannot decode.
    missing: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return self.nrows

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def get(self, name: str) -> np.ndarray | None:
        """The column `name`, or None when it was not read."""
        return self.columns.get(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        """Every column present in the file (read or not)."""
        return tuple(c.name for c in self.available)


# --- a minimal msgpack walker ---------------------------------------------------------------
# Only the table header, the column names and the blob offsets are parsed; the blobs themselves
# (the shoebox column alone is ~90 % of a strong.refl) are never touched unless requested.


class _Malformed(Exception):
    """Internal: the byte stream is not the msgpack DIALS writes."""


class _Walker:
    """Cursor over a bytes-like buffer that decodes just the msgpack pieces the table needs."""

    __slots__ = ("buf", "pos", "end")

    def __init__(self, buf: bytes | mmap.mmap | memoryview) -> None:
        self.buf = buf
        self.pos = 0
        self.end = len(buf)

    def _take(self, n: int) -> int:
        start = self.pos
        if n < 0 or start + n > self.end:
            raise _Malformed(f"truncated at byte {start} (needed {n} more bytes)")
        self.pos = start + n
        return start

    def _uint(self, size: int) -> int:
        start = self._take(size)
        return int.from_bytes(self.buf[start : start + size], "big")

    def _byte(self) -> int:
        start = self._take(1)
        return self.buf[start]

    def array_len(self) -> int:
        b = self._byte()
        if 0x90 <= b <= 0x9F:
            return b & 0x0F
        if b == 0xDC:
            return self._uint(2)
        if b == 0xDD:
            return self._uint(4)
        raise _Malformed(f"expected an array at byte {self.pos - 1}")

    def map_len(self) -> int:
        b = self._byte()
        if 0x80 <= b <= 0x8F:
            return b & 0x0F
        if b == 0xDE:
            return self._uint(2)
        if b == 0xDF:
            return self._uint(4)
        raise _Malformed(f"expected a map at byte {self.pos - 1}")

    def _str_len(self, b: int) -> int | None:
        if 0xA0 <= b <= 0xBF:
            return b & 0x1F
        if b == 0xD9:
            return self._uint(1)
        if b == 0xDA:
            return self._uint(2)
        if b == 0xDB:
            return self._uint(4)
        return None

    def _bin_len(self, b: int) -> int | None:
        if b == 0xC4:
            return self._uint(1)
        if b == 0xC5:
            return self._uint(2)
        if b == 0xC6:
            return self._uint(4)
        return None

    def string(self) -> str:
        b = self._byte()
        n = self._str_len(b)
        if n is None:
            n = self._bin_len(b)  # old msgpack writers stored strings as raw bytes
        if n is None:
            raise _Malformed(f"expected a string at byte {self.pos - 1}")
        start = self._take(n)
        return bytes(self.buf[start : start + n]).decode("utf-8", errors="replace")

    def integer(self) -> int:
        b = self._byte()
        if b <= 0x7F:
            return b
        if b >= 0xE0:
            return b - 0x100
        sizes = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
        if b in sizes:
            return self._uint(sizes[b])
        ssizes = {0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}
        if b in ssizes:
            n = ssizes[b]
            start = self._take(n)
            return int.from_bytes(self.buf[start : start + n], "big", signed=True)
        raise _Malformed(f"expected an integer at byte {self.pos - 1}")

    def blob(self) -> tuple[int, int]:
        """Offset and length of a bin (or str) payload, without copying it."""
        b = self._byte()
        n = self._bin_len(b)
        if n is None:
            n = self._str_len(b)
        if n is None:
            raise _Malformed(f"expected binary data at byte {self.pos - 1}")
        return self._take(n), n

    def skip(self) -> None:
        """Skip one value of any type (iteratively: garbage must not exhaust the stack)."""
        pending = 1
        while pending:
            pending -= 1
            b = self._byte()
            if b <= 0x7F or b >= 0xE0 or b in (0xC0, 0xC2, 0xC3):
                continue
            if 0x80 <= b <= 0x8F:
                pending += 2 * (b & 0x0F)
            elif 0x90 <= b <= 0x9F:
                pending += b & 0x0F
            elif (n := self._str_len(b)) is not None or (n := self._bin_len(b)) is not None:
                self._take(n)
            elif b in (0xCC, 0xD0):
                self._take(1)
            elif b in (0xCD, 0xD1):
                self._take(2)
            elif b in (0xCE, 0xD2, 0xCA):
                self._take(4)
            elif b in (0xCF, 0xD3, 0xCB):
                self._take(8)
            elif b == 0xDC:
                pending += self._uint(2)
            elif b == 0xDD:
                pending += self._uint(4)
            elif b == 0xDE:
                pending += 2 * self._uint(2)
            elif b == 0xDF:
                pending += 2 * self._uint(4)
            elif b in (0xD4, 0xD5, 0xD6, 0xD7, 0xD8):
                self._take(1 + {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}[b])
            elif b in (0xC7, 0xC8, 0xC9):
                n = self._uint({0xC7: 1, 0xC8: 2, 0xC9: 4}[b])
                self._take(1 + n)
            else:
                raise _Malformed(f"invalid msgpack byte 0x{b:02x} at {self.pos - 1}")
            if pending > self.end:
                raise _Malformed("element count larger than the file")


def _unreadable(path: Path, what: str, todo: str) -> UnreadableFile:
    return UnreadableFile(f"{path}: {what}. {todo}")


def _open_buffer(path: Path) -> tuple[bytes | mmap.mmap, object | None]:
    """The file's bytes, memory-mapped when possible so unread columns never leave the disk."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the caller via the returned handle
    except OSError as exc:
        raise _unreadable(
            path,
            f"cannot open the reflection file ({exc.strerror})",
            "Check the path and permissions",
        ) from exc
    try:
        buf: bytes | mmap.mmap = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (ValueError, OSError):
        # Empty files cannot be mapped, and some filesystems refuse mmap: fall back to a read.
        buf = fh.read()
        fh.close()
        return buf, None
    return buf, fh


def read_refl(
    path: str | Path,
    columns: Iterable[str] | None = None,
) -> ReflectionTable:
    """Read the named columns (default: DEFAULT_COLUMNS) of a DIALS msgpack `.refl` file.

    Columns absent from the file are listed in `missing`, not raised. Raises UnreadableFile when
    the file is not a DIALS msgpack reflection table at all (pickle, truncated header, garbage).
    """
    path = Path(path)
    wanted = set(DEFAULT_COLUMNS if columns is None else columns)
    buf, handle = _open_buffer(path)
    try:
        return _parse(path, buf, wanted)
    finally:
        if isinstance(buf, mmap.mmap):
            buf.close()
        if handle is not None:
            handle.close()  # type: ignore[attr-defined]


def _parse(path: Path, buf: bytes | mmap.mmap, wanted: set[str]) -> ReflectionTable:
    head = bytes(buf[:16])
    if not head:
        raise _unreadable(
            path, "the reflection file is empty (0 bytes)", "Re-run the DIALS step that wrote it"
        )
    if head.startswith(_PICKLE_PREFIXES):
        raise _unreadable(
            path,
            "unsupported (pickle) reflection format written by an old DIALS",
            'Convert it with a current DIALS (e.g. `dials.python -c "from dials.array_family '
            "import flex; flex.reflection_table.from_file('in.refl').as_file('out.refl')\"`)",
        )
    w = _Walker(buf)
    try:
        if w.array_len() < 3:
            raise _Malformed("top-level array too short")
        header = w.string()
        if header != MSGPACK_HEADER:
            raise _Malformed(f"header is {header[:40]!r}, not {MSGPACK_HEADER!r}")
        version = w.integer()
        if version != 1:
            raise _Malformed(f"unknown table format version {version}")
        identifiers: dict[int, str] = {}
        nrows: int | None = None
        column_index: dict[str, tuple[str, int, int, int]] = {}
        available: list[ColumnInfo] = []
        for _ in range(w.map_len()):
            key = w.string()
            if key == "identifiers":
                for _ in range(w.map_len()):
                    exp_id = w.integer()  # before the value: `d[f()] = g()` calls g first
                    identifiers[exp_id] = w.string()
            elif key == "nrows":
                nrows = w.integer()
            elif key == "data":
                for _ in range(w.map_len()):
                    name = w.string()
                    start_of_value = w.pos
                    try:
                        # Every column DIALS writes is [type, [n, blob]].
                        if w.array_len() != 2:
                            raise _Malformed("column is not [type, payload]")
                        dials_type = w.string()
                        if w.array_len() != 2:
                            raise _Malformed("payload is not [n, blob]")
                        n = w.integer()
                        offset, nbytes = w.blob()
                    except _Malformed:
                        # A column of an unexpected shape (e.g. strings): skip it, keep the rest.
                        w.pos = start_of_value
                        w.skip()
                        available.append(ColumnInfo(name, "?", 0))
                        continue
                    column_index[name] = (dials_type, n, offset, nbytes)
                    available.append(ColumnInfo(name, dials_type, nbytes))
            else:
                w.skip()
    except _Malformed as exc:
        raise _unreadable(
            path,
            f"not a readable DIALS msgpack reflection table ({exc})",
            "The file may be truncated or still being written; re-run the DIALS step that wrote it",
        ) from exc

    if nrows is None:
        nrows = max((n for _, n, _, _ in column_index.values()), default=0)
    out: dict[str, np.ndarray] = {}
    missing: list[str] = []
    for name in sorted(wanted):
        entry = column_index.get(name)
        if entry is None or entry[0] not in COLUMN_TYPES:
            missing.append(name)
            continue
        dials_type, n, offset, nbytes = entry
        dtype, width = COLUMN_TYPES[dials_type]
        itemsize = np.dtype(dtype).itemsize * width
        if n != nrows or nbytes != n * itemsize:
            # Inconsistent sizes mean a damaged column; the others may still be fine.
            missing.append(name)
            continue
        arr = np.frombuffer(buf, dtype=dtype, count=n * width, offset=offset).copy()
        if width > 1:
            arr = arr.reshape(n, width)
        if dials_type == "bool":
            arr = arr.astype(bool)
        out[name] = arr
    return ReflectionTable(
        path=path,
        nrows=nrows,
        identifiers=identifiers,
        columns=out,
        available=tuple(available),
        missing=tuple(missing),
    )


# --- helpers the dashboard plots from ---------------------------------------------------------


def spots_per_image(
    table: ReflectionTable,
    image_range: tuple[int, int],
    experiment_id: int | None = None,
) -> np.ndarray:
    """Number of spots per image, counted from the z centroid of `xyzobs.px.value`.

    DIALS's z is in array (0-based frame) coordinates: frame k spans [k, k+1) and is image
    `image_range[0] + k` (as dials.find_spots' per-image table does). Returns one count per
    image of the inclusive `image_range`; spots outside it are not counted.
    """
    first, last = image_range
    n_images = max(last - first + 1, 0)
    xyz = table.get("xyzobs.px.value")
    if xyz is None or n_images == 0 or len(xyz) == 0:
        return np.zeros(n_images, dtype=np.int64)
    z = xyz[:, 2]
    if experiment_id is not None:
        ids = table.get("id")
        if ids is not None:
            z = z[ids == experiment_id]
    frame = np.floor(z).astype(np.int64)
    # The array range starts at image first - 1 when a scan does not start at image 1.
    frame -= first - 1
    frame = frame[(frame >= 0) & (frame < n_images)]
    return np.bincount(frame, minlength=n_images)


def indexed_fraction(table: ReflectionTable, experiment_id: int | None = None) -> float | None:
    """Fraction of reflections with the `indexed` flag; None without flags or reflections."""
    flags = table.get("flags")
    if flags is None:
        return None
    if experiment_id is not None:
        ids = table.get("id")
        if ids is not None:
            flags = flags[ids == experiment_id]
    if len(flags) == 0:
        return None  # undefined, and the dashboard shows "—" rather than a misleading 0 %
    return float(np.count_nonzero(flags & FLAG_INDEXED)) / len(flags)


def count_flag(table: ReflectionTable, flag: int) -> int | None:
    """Number of rows with every bit of `flag` set; None when no flags column was read."""
    flags = table.get("flags")
    if flags is None:
        return None
    return int(np.count_nonzero((flags & flag) == flag))


def count(path: str | Path) -> int:
    """Number of rows of a `.refl` file, reading only its header."""
    return read_refl(path, columns=()).nrows


__all__ = [
    "COLUMN_TYPES",
    "DEFAULT_COLUMNS",
    "FLAG_INDEXED",
    "ColumnInfo",
    "ReflectionTable",
    "count",
    "count_flag",
    "indexed_fraction",
    "read_refl",
    "spots_per_image",
]

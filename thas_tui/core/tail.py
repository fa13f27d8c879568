"""Follow a growing text file by byte offset, returning only whole new lines."""

from __future__ import annotations

import os
from pathlib import Path

# What a live follower reads, parses and hands on in one go (~1,000 DIALS lines): a flood then
# arrives as several batches with the event loop free in between, not as one long stall.
BATCH_BYTES = 64 << 10


class LineTailer:
    """Reads what was appended to a file since the last call; survives truncation and rotation."""

    def __init__(self, path: str | os.PathLike[str], max_bytes: int = 4 << 20) -> None:
        self.path = Path(path)
        self.offset = 0
        self.max_bytes = max_bytes
        self._partial = b""
        self._inode: int | None = None

    def read_new(self, final: bool = False) -> list[str]:
        """New complete lines (at most ``max_bytes`` read); with ``final`` also a last partial line."""
        try:
            st = os.stat(self.path)
        except OSError:
            return self._flush() if final else []
        if self._inode is not None and st.st_ino != self._inode or st.st_size < self.offset:
            # The file was replaced or truncated (e.g. DIALS rewrote its log): start again.
            self.offset = 0
            self._partial = b""
        self._inode = st.st_ino
        if st.st_size == self.offset:
            return self._flush() if final else []
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read(self.max_bytes)
        except OSError:
            return []
        self.offset += len(data)
        data = self._partial + data
        parts = data.split(b"\n")
        self._partial = parts.pop()
        lines = [p.rstrip(b"\r").decode("utf-8", "replace") for p in parts]
        if final and self.offset >= st.st_size:
            lines.extend(self._flush())
        return lines

    @property
    def caught_up(self) -> bool:
        try:
            return os.stat(self.path).st_size <= self.offset
        except OSError:
            return True

    def _flush(self) -> list[str]:
        if not self._partial:
            return []
        line = self._partial.rstrip(b"\r").decode("utf-8", "replace")
        self._partial = b""
        return [line]


def tail_lines(path: str | os.PathLike[str], n: int = 20, block: int = 65536) -> list[str]:
    """The last ``n`` lines of a file, read from its end (cheap on huge logs)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            data = b""
            pos = size
            while pos > 0 and data.count(b"\n") <= n:
                step = min(block, pos)
                pos -= step
                fh.seek(pos)
                data = fh.read(step) + data
    except OSError:
        return []
    lines = data.decode("utf-8", "replace").splitlines()
    return lines[-n:]


def count_lines(path: str | os.PathLike[str], block: int = 1 << 20) -> int:
    """Lines in a file (a last line without a newline counts), read in blocks: memory stays flat."""
    n = 0
    last = b"\n"
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(block):
                n += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError:
        return 0
    return n + (last != b"\n")


def head_lines(path: str | os.PathLike[str], n: int = 50, limit: int = 1 << 16) -> list[str]:
    """The first ``n`` lines of a file (reading at most ``limit`` bytes); [] when unreadable."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit)
    except OSError:
        return []
    return data.decode("utf-8", "replace").splitlines()[:n]

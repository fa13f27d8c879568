"""Which image files a running DIALS program opens (Linux inotify), for progress between its log lines."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
from collections.abc import Iterable
from pathlib import Path

_IN_OPEN = 0x00000020
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
_EVENT = struct.Struct("iIII")
_CONTAINERS = {".h5", ".hdf5", ".nxs", ".nx5"}


def _libc():
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        libc.inotify_init1  # noqa: B018 - absent outside Linux
    except (OSError, AttributeError):
        return None
    return libc


class ImageReads:
    """Counts opens of the given image files while a stage runs.

    dials.integrate prints nothing between the start and the end of a block of images (with
    2 processes a pass is two blocks), but it reads the block's images one by one: the opens
    are the progress in between. Where inotify is missing (not Linux, no watches left) the
    watcher is inactive and :meth:`poll` returns 0.
    """

    def __init__(self, images: Iterable[str | os.PathLike[str]]) -> None:
        self.names: set[str] = set()
        self._any_name = False
        dirs: set[str] = set()
        for p in images:
            path = Path(p)
            if path.suffix.lower() in _CONTAINERS:
                # One file holds every frame (NeXus/HDF5): its opens say nothing of progress.
                continue
            if path.is_dir():
                # A directory given to dials.import: any file opened in it is an image.
                dirs.add(str(path.resolve()))
                self._any_name = True
            else:
                self.names.add(path.name)
                dirs.add(str(path.resolve().parent))
        self._fd: int | None = None
        libc = _libc()
        if libc is None or not dirs:
            return
        fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            return
        watched = 0
        for d in dirs:
            if libc.inotify_add_watch(fd, d.encode(), _IN_OPEN) >= 0:
                watched += 1
        if not watched:
            os.close(fd)
            return
        self._fd = fd

    @property
    def active(self) -> bool:
        return self._fd is not None

    def poll(self) -> int:
        """Opens of the images since the last poll."""
        if self._fd is None:
            return 0
        opened = 0
        while True:
            try:
                buf = os.read(self._fd, 65536)
            except BlockingIOError:
                return opened
            except OSError:
                self.close()
                return opened
            if not buf:
                return opened
            i = 0
            while i + _EVENT.size <= len(buf):
                _wd, _mask, _cookie, length = _EVENT.unpack_from(buf, i)
                raw = buf[i + _EVENT.size : i + _EVENT.size + length]
                i += _EVENT.size + length
                name = raw.split(b"\0", 1)[0].decode(errors="replace")
                if name in self.names or (self._any_name and name and not name.startswith(".")):
                    opened += 1

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

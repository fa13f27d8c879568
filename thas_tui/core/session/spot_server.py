"""DIALS's per-image analysis server (``dials.find_spots_server``) run on loopback, and its client.

Beamlines use this DIALS program for quick feedback during collections: one persistent process,
so each image costs its spot finding only, not a DIALS start-up (~1.5 s on a 6M here).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from thas_tui.core.errors import ThasError


@dataclass(frozen=True)
class ImageStats:
    """What DIALS's per-image analysis says of one image (``None`` where it said nothing)."""

    path: str
    n_spots: int | None
    n_spots_no_ice: int | None
    d_min: float | None  # DIALS's estimated_d_min, Å
    error: str | None = None


def parse_response(path: str, payload: bytes | str) -> ImageStats:
    """The server's JSON answer as ImageStats; garbage gives an error, never an exception."""
    try:
        data = json.loads(payload)
    except (ValueError, TypeError):
        return ImageStats(path, None, None, None, "unreadable answer from dials.find_spots_server")
    if not isinstance(data, dict):
        return ImageStats(path, None, None, None, "unreadable answer from dials.find_spots_server")

    def num(key: str, kind: type) -> int | float | None:
        v = data.get(key)
        return kind(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    error = data.get("error")
    return ImageStats(
        path,
        num("n_spots_total", int),
        num("n_spots_no_ice", int),
        num("estimated_d_min", float),
        str(error) if error else None,
    )


def request_path(path: str) -> str:
    """The URL path the server reads back as ``path``.

    The server takes the URL path as the file name, unquoting it only when it holds a quoted
    ``://``; a plain path with characters a URL cannot carry goes as a ``file://`` URL.
    """
    path = os.path.abspath(path)
    if all(c.isalnum() or c in "/._-+=,@~" for c in path):
        return path
    return "/" + urllib.parse.quote("file://" + path, safe="/").replace(":", "%3A")


def request_url(port: int, path: str, image: int | None = None) -> str:
    """The server's URL for ``path``, or for image ``image`` of the sweep of a master file.

    The server passes what follows ';' to find_spots' PHIL: a scan range of one image
    spot-finds that image of the sweep alone, and its statistics are that image's.
    """
    url = f"http://127.0.0.1:{port}{request_path(path)}"
    return url if image is None else f"{url};scan_range={image},{image}"


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SpotServer:
    """One ``dials.find_spots_server`` on a free loopback port, started on first use."""

    def __init__(self, bin_dir: Path, nproc: int = 1, log: Path | None = None) -> None:
        self.bin_dir = Path(bin_dir)
        self.nproc = max(1, nproc)
        self.log = log
        self.port: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def program(self) -> Path:
        return self.bin_dir / "dials.find_spots_server"

    def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until it answers; ThasError saying why if it cannot."""
        if not self.program.exists():
            raise ThasError(
                f"{self.program} not found: this DIALS has no per-image analysis server.\n"
                "Live spot counts need dials.find_spots_server (DIALS 2.0 or later)."
            )
        self.port = free_port()
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                [str(self.program), f"port={self.port}", f"nproc={self.nproc}"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ThasError(
                    f"dials.find_spots_server exited at start (code {self.proc.returncode})"
                    + (f": see {self.log}" if self.log else "")
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise ThasError(f"dials.find_spots_server did not answer within {timeout:.0f} s")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def analyse(self, path: str, image: int | None = None, timeout: float = 300.0) -> ImageStats:
        """Spot-find one complete image (blocking: call from a thread): ``path`` itself, or
        image ``image`` (1-based) of the sweep a NeXus master file ``path`` describes."""
        if not self.running:
            if self.proc is not None:
                # Died under us (killed, out of memory): one restart, then say so.
                if self.restarts >= 1:
                    return ImageStats(path, None, None, None, "dials.find_spots_server died twice")
                self.restarts += 1
            self.start()
        url = request_url(self.port or 0, path, image)
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback
                return parse_response(path, resp.read())
        except urllib.error.HTTPError as exc:
            # The server answers 500 with a JSON body naming DIALS's error (not an image, ...).
            return parse_response(path, exc.read())
        except (OSError, urllib.error.URLError) as exc:
            return ImageStats(path, None, None, None, f"dials.find_spots_server: {exc}")

    def stop(self) -> None:
        """End the server (its whole process group: it forks one worker per extra core)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, 15)
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, 9)
            except OSError:
                pass
            self.proc.wait()

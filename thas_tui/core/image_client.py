"""Client of the image helper (``thas_tui/dxtbx_server``): one request at a time, arrays back."""

from __future__ import annotations

import asyncio
import io
import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from thas_tui.core.errors import ThasError

SERVER = Path(__file__).resolve().parent.parent / "dxtbx_server" / "image_server.py"
# The largest answer header believed: anything bigger is a corrupted stream, not an answer.
MAX_HEADER = 1 << 20


class ImageError(ThasError):
    """The image helper could not answer; ``kind``: missing, unreadable, request, crashed, nodials."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Answer:
    """One answer of the helper: its JSON header and the arrays it sent."""

    header: dict
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


class ImageClient:
    """Starts the helper under DIALS's Python on first use; restarts it once if it dies."""

    def __init__(self, python: str, expt: Path) -> None:
        self.python = python
        self.expt = Path(expt)
        self.proc: asyncio.subprocess.Process | None = None
        self.meta: dict | None = None
        self.restarts = 0
        self._lock = asyncio.Lock()
        self._stderr_tail: list[str] = []
        self._pending: asyncio.Future | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    async def _start(self) -> None:
        if not (os.path.isfile(self.python) or "/" not in self.python):
            raise ImageError(
                "nodials",
                f"DIALS's Python ({self.python}) is missing: the images cannot be read.\n"
                "Install DIALS (apt-get install -y dials), or pass --dials-dir.",
            )
        try:
            self.proc = await asyncio.create_subprocess_exec(
                self.python,
                str(SERVER),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=1 << 26,
            )
        except OSError as exc:
            raise ImageError(
                "nodials", f"cannot start DIALS's Python {self.python}: {exc}"
            ) from exc
        self._stderr_tail = []
        self.meta = None  # a new helper opens the experiment list again
        asyncio.get_running_loop().create_task(self._drain_stderr(self.proc))
        await self._read()  # the helper's "ready"

    async def _drain_stderr(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        while line := await proc.stderr.readline():
            self._stderr_tail = [*self._stderr_tail[-19:], line.decode("utf-8", "replace")]

    async def _read(self) -> Answer:
        assert self.proc is not None and self.proc.stdout is not None
        out = self.proc.stdout
        (n,) = struct.unpack(">I", await out.readexactly(4))
        if n > MAX_HEADER:
            raise ImageError("crashed", "the image helper's answer is garbled")
        header = json.loads(await out.readexactly(n))
        arrays = {}
        for name, size in zip(header.get("arrays", []), header.get("sizes", []), strict=True):
            arrays[name] = np.load(io.BytesIO(await out.readexactly(size)), allow_pickle=False)
        return Answer(header, arrays)

    async def _ask(self, req: dict) -> Answer:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(req).encode() + b"\n")
        await self.proc.stdin.drain()
        answer = await self._read()
        if not answer.header.get("ok"):
            raise ImageError(answer.header.get("kind", "internal"), answer.header.get("error", ""))
        return answer

    async def request(self, req: dict) -> Answer:
        """Send ``req`` and wait for its answer; ImageError says why there is none.

        A caller cancelled while waiting leaves the exchange to finish (shielded): a half-read
        answer would garble every later one."""
        self._pending = asyncio.ensure_future(self._request(req))
        return await asyncio.shield(self._pending)

    def reopen(self, expt: Path) -> None:
        """Show another experiment list (masked.expt after a mask) from the next request."""
        if Path(expt) != self.expt:
            self.expt = Path(expt)
            self.meta = None

    async def _request(self, req: dict) -> Answer:
        async with self._lock:
            for attempt in (0, 1):
                try:
                    if self.proc is None or self.proc.returncode is not None:
                        await self._start()
                    if self.meta is None:
                        # Asked again after a failure: the images may have come back since.
                        self.meta = (await self._ask({"op": "open", "expt": str(self.expt)})).header
                    return await self._ask(req)
                except (asyncio.IncompleteReadError, ConnectionError, BrokenPipeError) as exc:
                    why = await self._death(exc)
                    if attempt == 1 or self.restarts >= 1:
                        raise ImageError("crashed", why) from exc
                    self.restarts += 1
            raise AssertionError("unreachable")

    async def _death(self, exc: BaseException) -> str:
        proc, self.proc = self.proc, None
        code = None
        if proc is not None:
            try:
                code = await asyncio.wait_for(proc.wait(), 5)
            except asyncio.TimeoutError:
                proc.kill()
        await asyncio.sleep(0)
        tail = "".join(self._stderr_tail[-3:]).strip()
        how = f"exited with code {code}" if code is not None and code >= 0 else "was killed"
        if code is not None and code < 0:
            import signal

            how = f"was killed by {signal.Signals(-code).name}"
        return f"the image helper {how}" + (f": {tail}" if tail else "")

    def close_input(self) -> None:
        """Tell the helper to exit (end of its input) without waiting for it."""
        proc = self.proc
        if proc is not None and proc.stdin is not None and proc.returncode is None:
            proc.stdin.close()

    async def close(self, timeout: float = 3.0) -> None:
        """Stop the helper (closing its stdin is enough; it exits at end of input), after the
        exchange in flight (a helper still starting would be left behind otherwise)."""
        pending = self._pending
        if pending is not None and not pending.done():
            try:
                await asyncio.wait_for(asyncio.shield(pending), timeout)
            except (asyncio.TimeoutError, ImageError, OSError, asyncio.CancelledError):
                pass  # stopped below all the same
        proc, self.proc = self.proc, None
        if proc is None or proc.returncode is not None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except asyncio.TimeoutError:
            try:
                proc.kill()
            except ProcessLookupError:
                pass  # it exited meanwhile
            await proc.wait()

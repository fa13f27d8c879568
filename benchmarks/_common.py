"""Shared helpers for the dashboard benchmarks: machine description, memory, repaint probe."""

from __future__ import annotations

import asyncio
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FIXTURES = ROOT / "tests" / "data" / "dials-logs"
# Real DIALS logs: the documentation build's 720-image run, then a small 3.12 run of our own.
INTEGRATE_LOGS = [
    FIXTURES / "dials-2.2.11_betalactamase" / "dials.integrate.log",
    ROOT / "tests" / "data" / "dials-3.12_l_cysteine_logs" / "dials.integrate.log",
]
FIND_SPOTS_LOGS = [
    FIXTURES / "dials-2.2.11_betalactamase" / "dials.find_spots.log",
    ROOT / "tests" / "data" / "dials-3.12_l_cysteine_logs" / "dials.find_spots.log",
]


def first_existing(paths: list[Path]) -> Path:
    for p in paths:
        if p.exists():
            return p
    raise SystemExit(f"none of these logs exists: {', '.join(map(str, paths))}")


def machine() -> str:
    """One line: CPU model, cores, RAM, Python, Textual, date."""
    model = platform.processor() or "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    ram = "?"
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
            ram = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        from textual import __version__ as tv
    except ImportError:  # pragma: no cover
        tv = "?"
    return (
        f"{model}, {os.cpu_count()} cores, {ram} RAM, Python {platform.python_version()}, "
        f"Textual {tv}, {platform.system()} {platform.release()}, "
        f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}"
    )


def proc_mem_mb(pid: int | str = "self") -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB, from /proc."""
    rss = hwm = 0.0
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    return rss, hwm


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class PaintProbe:
    """Timestamps every screen update the app hands to its driver.

    Wraps ``App._display``, which the screen calls once per compositor refresh with the update to
    write to the terminal. The headless driver skips the write, so the probe renders the update to
    the terminal byte string itself (``render_segments``): a probed paint costs what a real one
    costs up to the write(2). Waiters resolve on the first paint at which their predicate holds.
    """

    def __init__(self, app, render_output: bool = True) -> None:
        self.app = app
        self.render_output = render_output
        self.paints = 0
        self.bytes = 0
        # perf_counter() of the first and of the latest paint.
        self.first = self.last = float("nan")
        self._orig = app._display
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[float]]] = []
        app._display = self._display

    def _display(self, screen, renderable) -> None:
        if renderable is not None and self.render_output and hasattr(renderable, "render_segments"):
            self.bytes += len(renderable.render_segments(self.app.console))
        self._orig(screen, renderable)
        if renderable is None:
            return
        now = time.perf_counter()
        self.paints += 1
        if self.paints == 1:
            self.first = now
        self.last = now
        for item in list(self._waiters):
            pred, fut = item
            if fut.done():
                self._waiters.remove(item)
            elif pred():
                fut.set_result(now)
                self._waiters.remove(item)

    async def wait_for(self, pred: Callable[[], bool], timeout: float = 30.0) -> float:
        """perf_counter() of the first paint from now on at which ``pred()`` is true."""
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters.append((pred, fut))
        return await asyncio.wait_for(fut, timeout)


def make_app(workdir: Path, pipeline, autostart: bool = False, dials=None, config=None):
    """The real ThasApp, built as tests/ui/test_dashboard.py's make_app builds it, with the
    garbage collector held until it settles as ``launch`` does for every dashboard."""
    from thas_tui.launch import hold_garbage

    hold_garbage()
    from thas_tui.app import ThasApp
    from thas_tui.core.commands import RunConfig
    from thas_tui.core.dials_env import DialsEnv

    dials = dials or DialsEnv(bin_dir=Path("/nonexistent"), version="3.12", python="python3")
    config = config or RunConfig(images=["/data/x.cbf"])
    return ThasApp(workdir, config, dials, pipeline, autostart=autostart)


def send_key(app, key: str) -> None:
    """Post a key press the way a terminal driver does (no waiting, unlike Pilot.press)."""
    from textual import events

    ev = events.Key(key, key if len(key) == 1 else None)
    ev.set_sender(app)
    app._driver.send_message(ev)


def proc_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of one process (its own threads only), from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


class PtyDashboard:
    """``thas-tui ARGS`` on a pseudo-terminal, as over SSH: its screen output read and dropped."""

    def __init__(self, args: list[str], cols: int = 160, rows: int = 50) -> None:
        import fcntl
        import pty
        import struct
        import termios
        import threading

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.started = time.time()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "thas_tui", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=dict(os.environ, TERM="xterm-256color"),
            start_new_session=True,
        )
        os.close(slave)
        self.bytes_out = 0
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 1 << 16)
            except OSError:
                break
            if not data:
                break
            self.bytes_out += len(data)

    def rss_mb(self) -> tuple[float, float]:
        """(current, peak) resident memory of the dashboard process itself, in MB."""
        now = peak = 0.0
        try:
            with open(f"/proc/{self.proc.pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        now = int(line.split()[1]) / 1024
                    elif line.startswith("VmHWM:"):
                        peak = int(line.split()[1]) / 1024
        except OSError:
            pass
        return now, peak

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the dashboard process itself has used (not its children)."""
        cpu = proc_cpu_seconds(self.proc.pid)
        return float("nan") if cpu is None else cpu

    def wait_run_end(self, workdir: Path, poll: float = 0.5, on_poll=None) -> dict:
        """Until the journal records the end of the pipeline run; its run_end record."""
        import json

        journal = workdir / "thas-tui" / "journal.jsonl"
        while True:
            time.sleep(poll)
            if on_poll is not None:
                on_poll()
            if self.proc.poll() is not None:
                raise RuntimeError(f"the dashboard exited early ({self.proc.returncode})")
            if not journal.exists():
                continue
            for line in journal.read_text().splitlines():
                rec = json.loads(line)
                if rec.get("event") == "run_end":
                    return rec

    def quit(self) -> None:
        os.write(self.master, b"q")
        try:
            self.proc.wait(30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            os.close(self.master)

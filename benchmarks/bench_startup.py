"""Benchmark: `thas-tui --help` wall time, and the first paint of `thas-tui attach` in tmux."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, median  # noqa: E402

SOCKET = "thas-bench"  # a tmux server of our own (-L), killed at the end


def thas_tui() -> str:
    exe = Path(sys.executable).parent / "thas-tui"
    if not exe.exists():
        raise SystemExit(f"{exe} not found: install the project into this venv (./run setup)")
    return str(exe)


def time_help(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([thas_tui(), "--help"], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return times


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", SOCKET, *args], check=True, capture_output=True, text=True
    ).stdout


def time_attach(runs: int, timeout: float = 20.0) -> list[float]:
    """Start `thas-tui attach EMPTY` in a 120x40 tmux pane; poll until the header is drawn.

    The clock starts just before tmux is asked to start the command (the tmux server is already
    running) and stops at the first capture showing the header, the stage tree and the footer: polling every
    ~5 ms adds up to one capture's latency (a few ms) to the figure.
    """
    tmux("new-session", "-d", "-s", "warm", "-x", "80", "-y", "24", "sleep 600")
    times = []
    try:
        for i in range(runs):
            empty = Path(tempfile.mkdtemp(prefix="thas-bench-empty-"))
            name = f"attach{i}"
            t0 = time.perf_counter()
            tmux(
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                "120",
                "-y",
                "40",
                f"{thas_tui()} attach {empty}",
            )
            shown = None
            while time.perf_counter() - t0 < timeout:
                screen = tmux("capture-pane", "-p", "-t", name)
                if "thas-tui  DIALS" in screen and "Import" in screen and "Quit" in screen:
                    shown = time.perf_counter() - t0
                    break
                time.sleep(0.005)
            tmux("kill-session", "-t", name)
            shutil.rmtree(empty, ignore_errors=True)
            if shown is None:
                raise SystemExit(f"no first paint within {timeout} s; last screen:\n{screen}")
            times.append(shown)
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="2 runs each (smoke test)")
    ap.add_argument("--runs", type=int, default=None, help="runs of each (default 10)")
    args = ap.parse_args()
    runs = args.runs or (2 if args.quick else 10)
    print(f"machine: {machine()}")
    helps = time_help(runs)
    print(
        f"thas-tui --help: median {median(helps) * 1000:.0f} ms over {runs} runs "
        f"(min {min(helps) * 1000:.0f}, max {max(helps) * 1000:.0f})"
    )
    if shutil.which("tmux") is None:
        print("thas-tui attach first paint: skipped (tmux not installed)")
        return 0
    attach = time_attach(runs)
    print(
        f"thas-tui attach (empty dir) first paint: median {median(attach) * 1000:.0f} ms over "
        f"{runs} runs (min {min(attach) * 1000:.0f}, max {max(attach) * 1000:.0f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

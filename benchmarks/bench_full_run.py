"""The 800-image demo (`thas-tui demo --full`) with the dashboard on a pty: CPU ratio, key latency, RSS."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PtyDashboard, machine, percentile  # noqa: E402

# Tab keys (dashboard BINDINGS): each switch repaints the results pane.
KEYS = b"lsrpiym"


class TimedPty(PtyDashboard):
    """A PtyDashboard that notes when the dashboard last wrote to its terminal."""

    def __init__(self, args: list[str], cols: int = 160, rows: int = 50) -> None:
        self.wrote = threading.Event()
        self.last_write = 0.0
        super().__init__(args, cols, rows)

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 1 << 16)
            except OSError:
                break
            if not data:
                break
            self.last_write = time.monotonic()
            self.bytes_out += len(data)
            self.wrote.set()

    def key_latency(self, key: bytes, timeout: float = 5.0) -> float | None:
        """Seconds from writing ``key`` to the dashboard's next write to the terminal."""
        self.wrote.clear()
        t0 = time.monotonic()
        os.write(self.master, key)
        if not self.wrote.wait(timeout):
            return None
        return self.last_write - t0

    def children_cpu_seconds(self) -> float:
        """CPU (user + system) of the processes the dashboard started: DIALS's, those it has
        waited for and those still running (with their own finished children)."""
        return descendants_cpu_seconds(self.proc.pid)


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def descendants_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid``'s reaped children (cutime + cstime) plus, for every live
    descendant, its own CPU and its reaped children's: everything below ``pid`` so far."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None:
                parents.setdefault(int(fields[1]), []).append(int(entry))
    tick = os.sysconf("SC_CLK_TCK")
    root = _stat(pid)
    if root is None:
        return float("nan")
    total = int(root[13]) + int(root[14])
    stack = list(parents.get(pid, []))
    while stack:
        child = stack.pop()
        fields = _stat(child)
        if fields is None:
            continue
        total += sum(int(fields[i]) for i in (11, 12, 13, 14))
        # Its children's CPU is in its cutime once reaped; live ones are walked here.
        stack.extend(parents.get(child, []))
    return total / tick


def _running_stage(journal: Path) -> str:
    stage = "-"
    try:
        for line in journal.read_text().splitlines():
            rec = json.loads(line)
            if rec.get("event") == "start":
                stage = rec.get("stage", stage)
    except (OSError, ValueError):
        pass
    return stage


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="full", help="demo preset (full: 800 images)")
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=None, help="processing directory")
    parser.add_argument("--key-every", type=float, default=2.0, help="seconds between key presses")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args()
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="thas-bench-full-")) / "proc"
    dash = TimedPty(
        ["demo", "--preset", args.preset, "--dir", str(workdir), "--auto-bravais"]
        + ["--nproc", str(args.nproc)]
    )
    journal = workdir / "thas-tui" / "journal.jsonl"
    rss: list[float] = []
    keys: dict[str, list[float]] = {}
    slow: list[list] = []  # [seconds into the run, stage, key, ms] of presses over 50 ms
    lost = 0
    last_key = last_report = time.monotonic()
    print(machine(), flush=True)
    print(f"dashboard pid {dash.proc.pid}, processing in {workdir}", flush=True)

    def results(outcome: str) -> dict:
        every = [v for vs in keys.values() for v in vs]
        return {
            "outcome": outcome,
            "seconds": round(time.time() - dash.started, 1),
            "dashboard_cpu_s": round(dash.cpu_seconds(), 1),
            "dials_cpu_s": round(dash.children_cpu_seconds(), 1),
            "rss_median_mb": round(sorted(rss)[len(rss) // 2], 1) if rss else None,
            "rss_peak_mb": round(dash.rss_mb()[1], 1),
            "keys": len(every),
            "keys_without_answer": lost,
            "key_p50_ms": round(percentile(every, 50) * 1000, 1) if every else None,
            "key_p99_ms": round(percentile(every, 99) * 1000, 1) if every else None,
            "key_p99_ms_by_stage": {
                s: round(percentile(v, 99) * 1000, 1) for s, v in keys.items() if v
            },
            "terminal_mb": round(dash.bytes_out / 1e6, 2),
            "slow_keys": slow,
        }

    def report(outcome: str) -> dict:
        r = results(outcome)
        cpu, dials = r["dashboard_cpu_s"], r["dials_cpu_s"]
        ratio = f"{100 * cpu / dials:.2f} %" if dials else "n/a"
        print(
            f"[{time.strftime('%H:%M:%S')}] {outcome}: {r['seconds']:.0f} s, stage "
            f"{_running_stage(journal)}, dashboard CPU {cpu} s / DIALS CPU {dials} s = {ratio}, "
            f"RSS median {r['rss_median_mb']} peak {r['rss_peak_mb']} MB, keys {r['keys']} "
            f"p99 {r['key_p99_ms']} ms (no answer {lost})",
            flush=True,
        )
        if args.out:
            args.out.write_text(json.dumps(r, indent=2) + "\n")
        return r

    def sample() -> None:
        nonlocal last_key, last_report, lost
        now_mb, _ = dash.rss_mb()
        if now_mb:
            rss.append(now_mb)
        now = time.monotonic()
        if now - last_key >= args.key_every:
            last_key = now
            key = KEYS[len(rss) % len(KEYS) : len(rss) % len(KEYS) + 1]
            latency = dash.key_latency(key)
            if latency is None:
                lost += 1
            else:
                stage = _running_stage(journal)
                keys.setdefault(stage, []).append(latency)
                if latency > 0.05:
                    at = round(time.time() - dash.started, 1)
                    slow.append([at, stage, key.decode(), round(latency * 1000, 1)])
        if now - last_report >= 60:
            last_report = now
            report("running")

    end = dash.wait_run_end(workdir, poll=0.25, on_poll=sample)
    r = report(str(end.get("outcome")))
    dash.quit()
    ratio = r["dashboard_cpu_s"] / r["dials_cpu_s"] if r["dials_cpu_s"] else float("nan")
    print(f"dashboard CPU / DIALS CPU = {100 * ratio:.2f} % (target <= 2 %)")
    print(
        f"key p99 {r['key_p99_ms']} ms (target <= 50 ms); RSS peak {r['rss_peak_mb']} MB (<= 200)"
    )
    return 0 if end.get("outcome") == "finished" else 1


if __name__ == "__main__":
    sys.exit(main())

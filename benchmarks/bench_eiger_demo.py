"""Whole-pipeline time of the EIGER demo (`thas-tui demo --detector eiger`), stage by stage."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, machine


def stage_times(workdir: Path) -> tuple[dict[str, float], float | None]:
    """Seconds per stage (its last attempt) and from the first start to the last end, from
    the run's journal."""
    starts: dict[str, float] = {}
    took: dict[str, float] = {}
    first = last = None
    for line in (workdir / "thas-tui" / "journal.jsonl").read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        t = rec.get("time")
        if rec.get("event") == "start":
            starts[rec["stage"]] = t
            first = t if first is None else first
        elif rec.get("event") == "end" and rec.get("stage") in starts:
            took[rec["stage"]] = t - starts[rec["stage"]]
            last = t
    return took, (last - first) if first is not None and last is not None else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/thas-bench-eiger"))
    parser.add_argument("--preset", default="demo", choices=("demo", "small"))
    parser.add_argument(
        "--report-only", action="store_true", help="read the times of a run already in --dir"
    )
    args = parser.parse_args()
    print(machine(), flush=True)
    if not args.report_only:
        if args.dir.exists() and any(args.dir.iterdir()):
            raise SystemExit(f"{args.dir} is not empty: give a new --dir")
        load = os.getloadavg()[0]
        t0 = time.monotonic()
        res = subprocess.run(
            [sys.executable, "-m", "thas_tui", "demo", "--detector", "eiger"]
            + ["--preset", args.preset, "--no-tui", "--auto-bravais", "--dir", str(args.dir)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
        )
        wall = time.monotonic() - t0
        # Every process of the run (thas-tui, each DIALS program and its workers) was waited
        # for, so their CPU time is ours: a figure that a busy machine inflates far less.
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(
            f"exit {res.returncode}; wall {wall:.0f} s, CPU {usage.ru_utime + usage.ru_stime:.0f} s"
            f" (load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)",
            flush=True,
        )
    took, total = stage_times(args.dir)
    print(", ".join(f"{k} {v:.0f} s" for k, v in took.items()))
    if total is not None:
        print(f"first stage start to last stage end: {total:.0f} s ({total / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

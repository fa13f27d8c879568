"""Benchmark: `thas-tui compare --json --no-recompute` of two finished runs and a xia2 directory."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, machine, median  # noqa: E402

DATA = ROOT / "tests" / "data"
# Two finished DIALS 3.12 runs (the demo sweep, L-cysteine) and xia2 0.3.6.3's BAZ2B run
# (xia2.txt, ispyb.xml, xia2-summary.dat and a 500 kB aimless log).
DEFAULT_INPUTS = [
    DATA / "dials-3.12_thas_demo",
    DATA / "dials-3.12_l_cysteine",
    DATA / "xia2-outputs" / "xia2-0.3.6.3_3daii-run",
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("inputs", nargs="*", type=Path, help="inputs (default: two runs and xia2)")
    ap.add_argument("--runs", type=int, default=7, help="timed runs (median reported)")
    ap.add_argument("--quick", action="store_true", help="two runs (smoke test)")
    args = ap.parse_args()
    inputs = [str(p) for p in (args.inputs or DEFAULT_INPUTS)]
    runs = 2 if args.quick else args.runs
    print(machine())
    print("inputs:", *inputs, sep="\n  ")
    argv = [sys.executable, "-m", "thas_tui", "compare", *inputs, "--json", "--no-recompute"]
    times, cpu = [], []
    doc = None
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        res = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT)
        times.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU time too: on a shared machine the wall time waits for the other processes.
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        if res.returncode not in (0, 1):
            print(res.stdout + res.stderr)
            return 1
        doc = json.loads(res.stdout)
    kinds = [i["kind"] for i in doc["inputs"]] if doc else []
    print(f"kinds: {', '.join(kinds)}")
    print("runs (s): " + ", ".join(f"{t:.3f}" for t in times))
    print("CPU (s): " + ", ".join(f"{t:.3f}" for t in cpu))
    print(
        f"compare --json --no-recompute, whole process: median {median(times):.3f} s wall, "
        f"{median(cpu):.3f} s CPU (target 1 s); load average {os.getloadavg()[0]:.1f}"
    )
    # In-process, without the interpreter's start-up: the readers and the comparison alone.
    from thas_tui.core.compare import compare, dumps

    inner = []
    for _ in range(runs):
        t0 = time.perf_counter()
        dumps(compare(inputs, recompute=False))
        inner.append(time.perf_counter() - t0)
    print(f"in-process (readers + comparison + JSON): median {median(inner):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

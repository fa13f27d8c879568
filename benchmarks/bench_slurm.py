"""Slurm executor: the whole demo pipeline through the single-node cluster ÷ the local executor,
and the Slurm calls per second of following it."""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, machine  # noqa: E402

from thas_tui.cli import build_parser  # noqa: E402
from thas_tui.core.orchestrator import Orchestrator  # noqa: E402
from thas_tui.headless import LinePrinter  # noqa: E402
from thas_tui.launch import build_run  # noqa: E402


def one_run(workdir: Path, preset: str, executor: str) -> tuple[float, int, float]:
    """(seconds, Slurm polling calls, seconds followed) of ``thas-tui demo --auto-bravais``
    in-process."""
    argv = ["demo", "--preset", preset, "--auto-bravais", "--nproc", "2", "--dir", str(workdir)]
    args = build_parser().parse_args([*argv, "--executor", executor])
    _, config, pipeline, dials, wd = build_run(args)
    out = io.StringIO()
    orch = Orchestrator(
        wd, config, dials, LinePrinter(out, err=out), None, pipeline, args.executor_settings
    )
    t0 = time.monotonic()
    ok = asyncio.run(orch.run())
    seconds = time.monotonic() - t0
    if not ok:
        raise SystemExit(f"{executor} run failed:\n{out.getvalue()[-3000:]}")
    from thas_tui.core.journal import Journal

    peaks = {a.stage: a.peak_rss_mb for a in Journal(wd).attempts() if a.ended is not None}
    shown = ", ".join(f"{k} {v:.0f}" if v else f"{k} ?" for k, v in peaks.items())
    print(f"  {executor}: peak memory per stage (MB): {shown}", flush=True)
    if orch.chain is None:
        return seconds, 0, seconds
    client = orch.chain.client
    print(f"  slurm: calls by command: {dict(sorted(client.by_command.items()))}", flush=True)
    # The polling budget: squeue, scontrol and sstat (one sbatch per stage is not polling).
    return seconds, client.polls, time.monotonic() - client.started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--preset", default="small", choices=("small", "demo"))
    ap.add_argument("--pairs", type=int, default=1, help="local/slurm pairs, alternated")
    a = ap.parse_args()
    up = subprocess.run(["bash", str(ROOT / "scripts" / "slurm-test-cluster.sh")])
    if up.returncode != 0:
        raise SystemExit("the test cluster did not start (run as root on Debian)")
    print(machine())
    ratios, rates = [], []
    with tempfile.TemporaryDirectory(prefix="bench-slurm-") as tmp:
        for i in range(a.pairs):
            load = os.getloadavg()[0]
            local, _, _ = one_run(Path(tmp) / f"local{i}", a.preset, "local")
            slurm, calls, followed = one_run(Path(tmp) / f"slurm{i}", a.preset, "slurm")
            ratios.append(slurm / local)
            rates.append(calls / followed)
            print(
                f"pair {i + 1}: local {local:.1f} s, slurm {slurm:.1f} s, ratio {slurm / local:.3f}; "
                f"{calls} polling calls in {followed:.1f} s = {calls / followed:.2f}/s; "
                f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after",
                flush=True,
            )
    print(
        f"median ratio slurm/local {statistics.median(ratios):.3f} (target <= 1.10); "
        f"Slurm polling calls per second {max(rates):.2f} at most (target <= 1)"
    )


if __name__ == "__main__":
    main()

"""Pipeline overhead: `thas-tui run --no-tui --auto-bravais` (and the TUI) vs the same dials.* commands from a shell script."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from thas_tui.core import demo  # noqa: E402
from thas_tui.core.commands import RunConfig, stage_argv
from thas_tui.core.dials_env import find_dials
from thas_tui.core.pipeline import STAGE_NAMES
from thas_tui.core.stage_info import bravais_solutions, recommended_solution


def shell_script(images: list[str], nproc: int, choice: int, cb_op: str, dials) -> str:
    """The same argv thas-tui runs, one after another, in a plain shell script."""
    config = RunConfig(images=images, nproc=nproc)
    lines = ["#!/bin/sh", "set -e"]
    for stage in STAGE_NAMES:
        argv = stage_argv(stage, config, dials.program(f"dials.{stage}"), choice, cb_op)
        lines.append(" ".join(shlex.quote(a) for a in argv) + " > /dev/null")
    return "\n".join(lines) + "\n"


def run_shell(script: Path, workdir: Path) -> float:
    workdir.mkdir(parents=True)
    t0 = time.monotonic()
    subprocess.run(["sh", str(script)], cwd=workdir, check=True, stdin=subprocess.DEVNULL)
    return time.monotonic() - t0


def run_headless(images: list[str], workdir: Path, nproc: int) -> float:
    from _common import proc_cpu_seconds

    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "thas_tui", "run", *images, "--dir", str(workdir)]
        + ["--no-tui", "--auto-bravais", "--nproc", str(nproc)],
        stdout=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    cpu = 0.0
    while proc.poll() is None:
        cpu = proc_cpu_seconds(proc.pid) or cpu  # its own CPU, not its DIALS children's
        time.sleep(0.2)
    if proc.returncode != 0:
        raise RuntimeError(f"thas-tui run --no-tui exited {proc.returncode}")
    print(f"  headless run: thas-tui process CPU {cpu:.1f} s", flush=True)
    return time.monotonic() - t0


def run_tui(images: list[str], workdir: Path, nproc: int) -> tuple[float, float]:
    """The real dashboard on a pseudo-terminal (160×50), timed to the journal's run_end:
    (wall seconds, the dashboard process's CPU seconds)."""
    from _common import PtyDashboard

    dash = PtyDashboard(
        ["run", *images, "--dir", str(workdir), "--auto-bravais", "--nproc", str(nproc)]
    )
    end = dash.wait_run_end(workdir)
    cpu = dash.cpu_seconds()
    dash.quit()
    print(
        f"  tui run: dashboard process CPU {cpu:.1f} s, {dash.bytes_out / 1e6:.1f} MB to the terminal",
        flush=True,
    )
    if end.get("outcome") != "finished":
        raise RuntimeError(f"the TUI run did not finish: {end}")
    return end["time"] - dash.started, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="small", choices=demo.PRESETS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--no-tui-run", action="store_true", help="skip the TUI measurement")
    parser.add_argument(
        "--no-headless-run", action="store_true", help="skip the run --no-tui measurement"
    )
    args = parser.parse_args()
    dials = find_dials()
    if not demo.is_cached(args.preset):
        subprocess.run(
            demo.generation_argv(dials.python, args.preset), check=True, stdout=subprocess.DEVNULL
        )
    images = [str(p) for p in demo.image_paths(args.preset)]
    base = Path(tempfile.mkdtemp(prefix="thas-bench-overhead-"))
    # One headless run first: it tells which Bravais solution the shell script must use.
    first = base / "probe"
    run_headless(images, first, args.nproc)
    rec = recommended_solution(bravais_solutions(first))
    script = base / "pipeline.sh"
    script.write_text(shell_script(images, args.nproc, rec.solution, rec.cb_op, dials))
    times: dict[str, list[float]] = {"shell": [], "headless": [], "tui": []}
    cpus: list[float] = []  # the dashboard process's own CPU time per run
    for i in range(args.runs):
        # Interleaved, so that slow phases of a noisy machine hit every variant alike.
        times["shell"].append(run_shell(script, base / f"shell{i}"))
        if not args.no_headless_run:
            times["headless"].append(run_headless(images, base / f"headless{i}", args.nproc))
        if not args.no_tui_run:
            wall, cpu = run_tui(images, base / f"tui{i}", args.nproc)
            times["tui"].append(wall)
            cpus.append(cpu)
        print(json.dumps({k: [round(x, 1) for x in v] for k, v in times.items()}), flush=True)
    med = {k: statistics.median(v) for k, v in times.items() if v}
    print(f"preset {args.preset}, {len(images)} images, {args.runs} runs, nproc {args.nproc}")
    for k, v in med.items():
        print(f"  {k:<9} median {v:7.1f} s   runs {', '.join(f'{x:.1f}' for x in times[k])}")
    if "headless" in med:
        print(f"  headless / shell = {med['headless'] / med['shell']:.3f}  (target <= 1.02)")
    if "tui" in med:
        print(f"  tui / shell      = {med['tui'] / med['shell']:.3f}  (target <= 1.03)")
        # On one shared core every CPU-second of the dashboard is a second DIALS waits: this is
        # the overhead without the run-to-run noise of DIALS itself (±5 % on a shared VM).
        cpu = statistics.median(cpus)
        print(
            f"  (shell + dashboard CPU) / shell = {(med['shell'] + cpu) / med['shell']:.3f}"
            f"  (dashboard CPU median {cpu:.2f} s, runs {', '.join(f'{c:.2f}' for c in cpus)})"
        )
    shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())

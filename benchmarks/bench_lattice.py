"""Benchmark the Lattice view: mapping a run's spots to reciprocal space, redraw per key, memory.

On the large run of make_large_run.py (`--until index` is enough: strong.refl and indexed.refl of
~300k spots): the mapping (read + map + the cloud's sort) once per geometry, then in the real
dashboard at 200×60 the time of each key's work (the action and the frame's projection,
binning and strips) and of the whole press → idle, and the dashboard's RSS growth.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import machine, percentile, proc_mem_mb  # noqa: E402
from thas_tui.core import reciprocal  # noqa: E402
from thas_tui.core.readers import refl  # noqa: E402
from thas_tui.core.readers.expt import read_expt  # noqa: E402

# A user's session: turns coarse and fine, rolls, zooms, the named views, Max Z, resolution.
KEYS = (
    ["right"] * 6
    + ["shift+up"] * 4
    + ["comma", "full_stop", "plus", "plus", "minus", "0", "1", "2", "5", "3", "4"]
    + ["left_square_bracket"] * 4
    + ["left_curly_bracket", "right_curly_bracket", "d", "d", "D", "D", "x", "x", "o", "o", "o"]
    + ["left"] * 6
)


def time_mapping(workdir: Path, source: str, runs: int) -> dict[str, float]:
    """Median seconds of each step of the mapping done once per geometry."""
    from thas_tui.widgets.lattice_view import make_scene

    expt_name, refl_name, _ = reciprocal.SOURCES[source]
    steps: dict[str, list[float]] = {"read": [], "map": [], "scene": [], "total": [], "cpu": []}
    n = 0
    for _ in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        table = refl.read_refl(workdir / refl_name, columns=reciprocal.REFL_COLUMNS)
        expts = read_expt(workdir / expt_name)
        t1 = time.perf_counter()
        lat = reciprocal.lattice_from(table, expts, source)
        t2 = time.perf_counter()
        make_scene(lat)
        t3 = time.perf_counter()
        steps["cpu"].append(time.process_time() - c0)
        steps["read"].append(t1 - t0)
        steps["map"].append(t2 - t1)
        steps["scene"].append(t3 - t2)
        steps["total"].append(t3 - t0)
        n = len(lat.rlp)
    out = {k: statistics.median(v) for k, v in steps.items()}
    out["spots"] = n
    return out


async def in_dashboard(
    workdir: Path, size: tuple[int, int], rounds: int, keys: list[str] = KEYS
) -> dict:
    from thas_tui.app import ThasApp
    from thas_tui.core.commands import RunConfig
    from thas_tui.core.dials_env import find_dials
    from thas_tui.core.watcher import pipeline_from_dir
    from thas_tui.widgets.lattice_view import LatticeView

    pipeline, _ = pipeline_from_dir(workdir)
    app = ThasApp(workdir, RunConfig(), find_dials(), pipeline, autostart=False, watch=False)
    work: list[float] = []
    cpu: list[float] = []
    press: list[float] = []
    async with app.run_test(size=size) as pilot:
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        gc.collect()
        rss0, _ = proc_mem_mb()
        view = app.dashboard.query_one(LatticeView)
        draw = view._draw
        drawn: list[float] = []
        drawn_cpu: list[float] = []

        def timed_draw(width: int, height: int):
            t, c = time.perf_counter(), time.process_time()
            lines = draw(width, height)
            drawn.append(time.perf_counter() - t)
            drawn_cpu.append(time.process_time() - c)
            return lines

        view._draw = timed_draw  # type: ignore[method-assign]
        t0 = time.perf_counter()
        await pilot.press("L")
        while view.scene is None:
            if time.perf_counter() - t0 > 300:
                raise SystemExit(f"the lattice was not drawn: {view.message}")
            await pilot.pause(0.01)
        await pilot.pause()
        opened = time.perf_counter() - t0
        rss1, _ = proc_mem_mb()
        for _ in range(rounds):
            for key in keys:
                drawn.clear()
                binding = next(b for b in view.BINDINGS if key in b.key.split(","))
                drawn_cpu.clear()
                t, c = time.perf_counter(), time.process_time()
                await view.run_action(binding.action)
                acted, acted_cpu = time.perf_counter() - t, time.process_time() - c
                await pilot.pause()
                press_t = time.perf_counter() - t
                if drawn:  # every key here changes the frame
                    work.append(acted + sum(drawn))
                    cpu.append(acted_cpu + sum(drawn_cpu))
                    press.append(press_t)
        gc.collect()
        rss2, _ = proc_mem_mb()
        n = len(view.scene.lattice.rlp)
        kept = len(view.scene.cloud.kept)
        cols, rows = view._plot_size()
    return {
        "spots": n,
        "kept": kept,
        "plot": (cols, rows),
        "open": opened,
        "work": work,
        "cpu": cpu,
        "press": press,
        "rss": (rss0, rss1, rss2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dir", type=Path, help="a processing directory with strong.refl etc.")
    parser.add_argument("--runs", type=int, default=5, help="mapping runs (median)")
    parser.add_argument("--rounds", type=int, default=3, help="times through the key sequence")
    parser.add_argument("--size", default="200x60")
    parser.add_argument("--quick", action="store_true", help="one run, one round")
    args = parser.parse_args()
    runs, rounds = (1, 1) if args.quick else (args.runs, args.rounds)
    size = tuple(int(x) for x in args.size.split("x"))
    print(machine())
    for source in ("strong", "indexed"):
        if not (args.dir / reciprocal.SOURCES[source][1]).exists():
            continue
        m = time_mapping(args.dir, source, runs)
        print(
            f"mapping {source}.refl ({m['spots']:,} spots), median of {runs}: "
            f"read {m['read'] * 1000:.0f} ms, map {m['map'] * 1000:.0f} ms, "
            f"cloud {m['scene'] * 1000:.0f} ms, total {m['total'] * 1000:.0f} ms "
            f"(CPU {m['cpu'] * 1000:.0f} ms)"
        )
    keys = KEYS[:8] if args.quick else KEYS
    d = asyncio.run(in_dashboard(args.dir, size, rounds, keys))  # type: ignore[arg-type]
    work, press = d["work"], d["press"]
    print(
        f"dashboard {size[0]}x{size[1]}, plot {d['plot'][0]}x{d['plot'][1]} cells, "
        f"{d['spots']:,} spots ({d['kept']:,} kept after decimation at the end)"
    )
    print(f"L → lattice drawn (read + map in a worker): {d['open']:.2f} s")
    print(
        f"per key, action + frame ({len(work)} keys): median {statistics.median(work) * 1000:.1f}"
        f" ms, p99 {percentile(work, 99) * 1000:.1f} ms, max {max(work) * 1000:.1f} ms"
    )
    print(
        f"per key, action + frame, CPU time: median {statistics.median(d['cpu']) * 1000:.1f} ms,"
        f" p99 {percentile(d['cpu'], 99) * 1000:.1f} ms"
    )
    print(
        f"per key, press → idle (Textual's paint included): median "
        f"{statistics.median(press) * 1000:.1f} ms, p99 {percentile(press, 99) * 1000:.1f} ms"
    )
    rss0, rss1, rss2 = d["rss"]
    print(
        f"RSS: dashboard open {rss0:.0f} MB, lattice drawn {rss1:.0f} MB, after the keys "
        f"{rss2:.0f} MB: growth {rss2 - rss0:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

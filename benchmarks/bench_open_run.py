"""Open a finished run: `thas-tui attach DIR` to every panel drawn, versus `dials.report` on the same files."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _common import PaintProbe, machine, send_key  # noqa: E402

from thas_tui.core.dials_env import find_dials  # noqa: E402
from thas_tui.core.watcher import pipeline_from_dir  # noqa: E402

# Each panel's tab and the key that shows it.
TABS = {"spots": "s", "rmsd": "r", "cell": "p", "integration": "i", "symmetry": "y", "merging": "m"}
# A fast user's pause between two keys: the dashboard is idle when the next one comes, as it is
# for a person (keys pressed the instant the last paint lands wait up to two more frames for
# Textual's screen-update timer, which no one can see).
KEY_GAP = 0.1


def load_only(workdir: Path) -> float:
    """Seconds to read what every panel shows (the core's readers, no drawing)."""
    from thas_tui.core import panel_data

    t0 = time.perf_counter()
    pipeline_from_dir(workdir)
    for read in (
        panel_data.spots,
        panel_data.rmsds,
        panel_data.cell_model,
        panel_data.integration,
        panel_data.symmetry,
        panel_data.merging,
    ):
        read(workdir)
    return time.perf_counter() - t0


async def open_and_draw(workdir: Path) -> tuple[float, float, list[float]]:
    """perf_counter() at the first paint and at the paint with every panel's data loaded, and
    each tab's key-press-to-paint time in seconds."""
    from thas_tui.launch import attach_app

    app = attach_app(workdir, None, watch=False)  # what `thas-tui attach DIR` builds
    probe = PaintProbe(app)  # before the app runs: every paint is timed
    switches: list[float] = []
    async with app.run_test(size=(160, 50)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()  # the paint of the loaded panels, if it had not come yet
        loaded = probe.last
        from thas_tui.widgets.results_tabs import ResultsTabs

        tabs = app.dashboard.query_one(ResultsTabs)
        for tab, key in TABS.items():
            await asyncio.sleep(KEY_GAP)
            pressed = time.perf_counter()
            send_key(app, key)
            painted = await probe.wait_for(lambda tab=tab: tabs.active == tab)
            switches.append(painted - pressed)
        _check_drawn(app)
    return probe.first, loaded, switches


def _check_drawn(app) -> None:
    from thas_tui.widgets.cell_plots import CellPlots
    from thas_tui.widgets.histogram import SpotHistogram
    from thas_tui.widgets.merging_plots import MergingPlots
    from thas_tui.widgets.rmsd_table import RmsdTable
    from thas_tui.widgets.table_one import TableOne

    screen = app.dashboard
    assert screen.query_one(SpotHistogram).counts, "no spot histogram"
    assert screen.query_one(RmsdTable)._rows, "no RMSD rows"  # noqa: SLF001
    assert screen.query_one(CellPlots)._cells, "no scan-varying cell"  # noqa: SLF001
    assert screen.query_one(TableOne)._rows, "no Table 1"  # noqa: SLF001
    assert screen.query_one(MergingPlots)._d_min, "no merging statistics"  # noqa: SLF001


async def bare_textual() -> float:
    """perf_counter() at the first paint of an empty Textual app: the floor under any dashboard."""
    from textual.app import App
    from textual.widgets import Static

    class Bare(App):
        def compose(self):
            yield Static("thas-tui")

    app = Bare()
    probe = PaintProbe(app)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
    return probe.first


def dials_report(workdir: Path) -> float:
    out = Path(tempfile.mkdtemp(prefix="thas-bench-report-"))
    t0 = time.perf_counter()
    subprocess.run(
        [
            find_dials().program("dials.report"),
            str(workdir / "integrated.expt"),
            str(workdir / "integrated.refl"),
        ],
        cwd=out,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)
    return elapsed


def child(*args: str) -> list[float]:
    """A fresh interpreter, imports and all, as when typing ``thas-tui attach DIR``; the times
    it prints are taken from the ``time.time()`` before it was started."""
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, __file__, *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return [float(x) - t0 if i < 2 else float(x) for i, x in enumerate(out)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "dir", type=Path, help="a finished processing directory (integrated, scaled)"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one run each")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child or args.bare:
        # Wall-clock times for the parent; perf_counter() has no common origin across processes.
        to_wall = time.time() - time.perf_counter()
        if args.bare:
            print(asyncio.run(bare_textual()) + to_wall, 0.0)
            return 0
        first, loaded, switches = asyncio.run(open_and_draw(args.dir))
        print(first + to_wall, loaded + to_wall, *switches)
        return 0
    runs = 1 if args.quick else args.runs
    loads = [load_only(args.dir) for _ in range(runs)]
    draws = [child("--child", str(args.dir)) for _ in range(runs)]
    bares = [child("--bare", str(args.dir))[0] for _ in range(runs)]
    theirs = [dials_report(args.dir) for _ in range(runs)]
    load = statistics.median(loads)
    first = statistics.median(d[0] for d in draws)
    loaded = statistics.median(d[1] for d in draws)
    per_tab = {tab: statistics.median(d[2 + i] for d in draws) for i, tab in enumerate(TABS)}
    every_runs = [d[1] + sum(d[2:]) for d in draws]
    every = statistics.median(every_runs)
    bare = statistics.median(bares)
    report = statistics.median(theirs)
    print(machine())
    print(f"directory {args.dir}, {runs} runs, medians")
    print(f"  read every panel's data (core readers):            {load:.3f} s")
    print(f"  process start -> first paint:                      {first:.2f} s")
    print(f"  process start -> every panel's data loaded, painted: {loaded:.2f} s")
    print(
        "  key -> tab drawn: " + ", ".join(f"{tab} {1000 * t:.0f} ms" for tab, t in per_tab.items())
    )
    print(
        f"  every panel drawn (loaded + the six tabs' key-to-paint times): {every:.2f} s"
        f"  (runs: {', '.join(f'{e:.2f}' for e in every_runs)})"
    )
    print(f"  floor: an empty Textual app, process start -> first paint: {bare:.2f} s")
    print(f"  dials.report integrated.expt integrated.refl: {report:.2f} s")
    print(
        f"  dials.report / every panel drawn = {report / every:.1f}x;"
        f"  / empty Textual app = {report / bare:.0f}x;  / data read = {report / load:.0f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

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

from _common import machine  # noqa: E402

from thas_tui.core.dials_env import find_dials  # noqa: E402
from thas_tui.core.watcher import pipeline_from_dir  # noqa: E402
from thas_tui.widgets.cell_plots import CellPlots  # noqa: E402
from thas_tui.widgets.histogram import SpotHistogram  # noqa: E402
from thas_tui.widgets.merging_plots import MergingPlots  # noqa: E402
from thas_tui.widgets.rmsd_table import RmsdTable  # noqa: E402
from thas_tui.widgets.table_one import TableOne  # noqa: E402

TABS = ("spots", "rmsd", "cell", "integration", "symmetry", "merging")


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


async def open_and_draw(workdir: Path) -> tuple[float, float]:
    """(first paint with every panel loaded, then every panel drawn once), in seconds."""
    from thas_tui.launch import attach_app

    t0 = time.perf_counter()
    app = attach_app(workdir, None, watch=False)  # what `thas-tui attach DIR` builds
    async with app.run_test(size=(160, 50)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        first = time.perf_counter() - t0
        screen = app.dashboard
        for tab in TABS:  # each panel drawn, not only loaded
            screen.action_show_tab(tab)
            await pilot.pause()
        every = time.perf_counter() - t0
        assert screen.query_one(SpotHistogram).counts, "no spot histogram"
        assert screen.query_one(RmsdTable)._rows, "no RMSD rows"  # noqa: SLF001
        assert screen.query_one(CellPlots)._cells, "no scan-varying cell"  # noqa: SLF001
        assert screen.query_one(TableOne)._rows, "no Table 1"  # noqa: SLF001
        assert screen.query_one(MergingPlots) is not None
    return first, every


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


def attach_to_every_panel(workdir: Path) -> tuple[float, float]:
    """Like typing ``thas-tui attach DIR``: a fresh interpreter, imports and all, timed from
    before it starts to (first paint with panels loaded, every panel drawn)."""
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(workdir)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[-2]) - t0, float(out[-1]) - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "dir", type=Path, help="a finished processing directory (integrated, scaled)"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one run each")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        first, every = asyncio.run(open_and_draw(args.dir))
        end = time.time()
        print(end - (every - first), end)
        return 0
    runs = 1 if args.quick else args.runs
    loads = [load_only(args.dir) for _ in range(runs)]
    draws = [attach_to_every_panel(args.dir) for _ in range(runs)]
    theirs = [dials_report(args.dir) for _ in range(runs)]
    load = statistics.median(loads)
    first = statistics.median(d[0] for d in draws)
    every = statistics.median(d[1] for d in draws)
    report = statistics.median(theirs)
    print(machine())
    print(f"directory {args.dir}, {runs} runs, medians")
    print(f"  read every panel's data (core readers):       {load:.3f} s")
    print(f"  process start -> first paint, all panels loaded:  {first:.2f} s")
    print(f"  process start -> every panel drawn once (6 tab switches): {every:.2f} s")
    print(f"  dials.report integrated.expt integrated.refl: {report:.2f} s")
    print(
        f"  dials.report / every panel drawn = {report / every:.1f}x;  / data read = {report / load:.0f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

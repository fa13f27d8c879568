"""Benchmark: open a 1,000,000-line DIALS log in the log pane; first screen, jump to end, memory."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    INTEGRATE_LOGS,
    PaintProbe,
    first_existing,
    machine,
    make_app,
    median,
    proc_mem_mb,
    send_key,
)


def make_log(path: Path, n_lines: int, source: Path) -> int:
    """Repeat a real DIALS log until the file holds exactly ``n_lines`` lines; return its size."""
    lines = source.read_bytes().splitlines(keepends=True)
    lines = [ln if ln.endswith(b"\n") else ln + b"\n" for ln in lines]
    whole, rest = divmod(n_lines, len(lines))
    block = b"".join(lines)
    with open(path, "wb") as fh:
        for _ in range(whole):
            fh.write(block)
        fh.write(b"".join(lines[:rest]))
    return path.stat().st_size


async def one_run(log_path: Path, n_lines: int) -> dict:
    """In this process: the real app, select the stage whose log is ``log_path``, time the paints."""
    from thas_tui.core.pipeline import Pipeline, State
    from thas_tui.core.tail import tail_lines
    from thas_tui.widgets.log_pane import LogPane
    from thas_tui.widgets.stage_tree import StageTree

    last_line = tail_lines(log_path, 1)[0]
    workdir = Path(tempfile.mkdtemp(prefix="thas-bench-huge-"))
    pipeline = Pipeline()
    run = pipeline["integrate"]
    run.state, run.log_path, run.attempt = State.DONE, str(log_path), 1
    app = make_app(workdir, pipeline)
    out: dict = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await asyncio.sleep(0.3)  # let start-up work (panel loading) settle
        await pilot.pause()
        out["rss_before_mb"] = proc_mem_mb()[0]
        probe = PaintProbe(app)
        screen = app.dashboard
        log = screen.query_one(LogPane)
        tree = screen.query_one(StageTree)

        # The dashboard opens on the latest stage's log (integrate here): first move the stage
        # tree's cursor to the stage above it, then time ↓ onto integrate, as a user does.
        tree.focus()
        tree.select_stage("integrate")
        await pilot.pause()
        send_key(app, "up")
        await probe.wait_for(lambda: log.stage not in (None, "integrate"))
        await pilot.pause()

        # 1. ↓ onto the stage: the log pane's first screen of its 1,000,000-line log.
        t0 = time.perf_counter()
        send_key(app, "down")
        t1 = await probe.wait_for(lambda: log.stage == "integrate" and log.line_count > 1)
        out["first_screen_s"] = t1 - t0
        out["pane_lines"] = log.line_count
        out["pane_last_line_is_file_end"] = log.lines[-1] == last_line
        out["at_end_after_open"] = log.scroll_y == log.max_scroll_y
        out["title"] = str(log.border_title)

        # 2. Home then End in the focused log pane (keys as the terminal sends them).
        log.focus()
        await pilot.pause()
        t0 = time.perf_counter()
        send_key(app, "home")
        t1 = await probe.wait_for(lambda: log.scroll_y == 0)
        out["home_s"] = t1 - t0
        await pilot.pause()
        t0 = time.perf_counter()
        send_key(app, "end")
        t1 = await probe.wait_for(lambda: log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y)
        out["end_s"] = t1 - t0
        # The title says how much of the file is shown; the count may arrive after the first paint.
        deadline = time.perf_counter() + 10
        while f"{n_lines:,}" not in str(log.border_title) and time.perf_counter() < deadline:
            await asyncio.sleep(0.02)
        out["title"] = str(log.border_title)
        out["title_has_count_s"] = (
            time.perf_counter() - t1 if f"{n_lines:,}" in out["title"] else None
        )
        await pilot.pause()
        out["rss_mb"], out["hwm_mb"] = proc_mem_mb()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="20,000 lines, 1 run (smoke test)")
    ap.add_argument("--lines", type=int, default=None, help="lines in the log (default 1,000,000)")
    ap.add_argument("--runs", type=int, default=None, help="fresh processes to time (default 5)")
    ap.add_argument("--source", type=Path, default=None, help="real DIALS log to repeat")
    ap.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    n_lines = args.lines or (20_000 if args.quick else 1_000_000)
    if args.child:
        print(json.dumps(asyncio.run(one_run(args.child, n_lines))))
        return 0
    runs = args.runs or (1 if args.quick else 5)
    source = args.source or first_existing(INTEGRATE_LOGS)
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="thas-bench-huge-") as tmp:
        log_path = Path(tmp) / "integrate.1.log"
        size = make_log(log_path, n_lines, source)
        print(f"log: {n_lines:,} lines, {size / 1e6:.1f} MB (repeated {source})")
        results = []
        for i in range(runs):
            # A fresh process per run: its memory is the app's alone.
            proc = subprocess.run(
                [sys.executable, __file__, "--child", str(log_path), "--lines", str(n_lines)],
                capture_output=True,
                text=True,
                env={
                    **os.environ,
                    "TEXTUAL_ANIMATIONS": os.environ.get("TEXTUAL_ANIMATIONS", "full"),
                },
            )
            if proc.returncode != 0:
                print(proc.stdout, proc.stderr, file=sys.stderr)
                return 1
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            results.append(r)
            print(
                f"run {i + 1}: first screen {r['first_screen_s'] * 1000:.0f} ms, "
                f"Home {r['home_s'] * 1000:.0f} ms, End {r['end_s'] * 1000:.0f} ms, "
                f"RSS {r['rss_mb']:.0f} MB (peak {r['hwm_mb']:.0f} MB, before opening {r['rss_before_mb']:.0f} MB)"
            )
    r0 = results[-1]
    print(
        f"pane: {r0['pane_lines']} lines, last line is the file's last: {r0['pane_last_line_is_file_end']}"
    )
    print(f"pane title: {r0['title']!r}")
    ok_title = all(f"{n_lines:,}" in r["title"] for r in results)
    print(f"title states the file's line count: {ok_title}")
    print(f"median first screen: {median([r['first_screen_s'] for r in results]) * 1000:.0f} ms")
    print(f"median jump to start (Home): {median([r['home_s'] for r in results]) * 1000:.0f} ms")
    print(f"median jump to end (End): {median([r['end_s'] for r in results]) * 1000:.0f} ms")
    print(f"median RSS after: {median([r['rss_mb'] for r in results]):.0f} MB")
    print(f"median peak RSS (VmHWM): {median([r['hwm_mb'] for r in results]):.0f} MB")
    return 0 if ok_title and all(r["pane_last_line_is_file_end"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

"""The image view on the demo's PILATUS 6M sweep: first image, next image, remaps, threshold, memory.

Usage: .venv/bin/python benchmarks/bench_image_view.py [--changes 500]
Needs the demo sweep cached (``thas-tui demo`` once) and DIALS. Imports it with dials.import in
a temporary directory, opens the dashboard headless (Textual's Pilot, 160x50) and times, from the
key press to the image drawn: "frame" is the key press to the last screen update it caused,
encoded to the terminal's bytes as Textual does on a terminal (the headless driver skips that
step; the benchmark does it), "press" Pilot's press-and-settle (its own waits included):
first image after opening, with the helper started when the view opens
(THAS_IMAGE_PREFETCH=0) and started by the idle dashboard beforehand (the default), next
image, brightness, zoom, pan; the
threshold of a whole 6M image and of a zoomed viewport (the helper's answer); the helper's RSS,
the dashboard's growth, and its RSS over many image changes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine
from textual._compositor import CompositorUpdate

from thas_tui.core import demo
from thas_tui.launch import attach_app
from thas_tui.widgets.image_view import ImageView


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def drawn(pilot, view: ImageView) -> None:
    while view._fetching or (view.answer is None and view.error is None):
        await asyncio.sleep(0.002)
    await pilot.pause()


FRAMES: list[float] = []


def record_frames(app) -> None:
    """Note when each screen update is written, after encoding it as a terminal would get it."""
    display = app._display

    def timed_display(screen, renderable) -> None:
        if isinstance(renderable, CompositorUpdate):
            renderable.render_segments(app.console)
            FRAMES.append(time.perf_counter())
        display(screen, renderable)

    app._display = timed_display


async def timed(pilot, view: ImageView, *keys: str, out: list | None = None) -> float:
    """Press to the last frame it caused (ms); Pilot's press-and-settle time into ``out``."""
    t0 = time.perf_counter()
    n = len(FRAMES)
    await pilot.press(*keys)
    await drawn(pilot, view)
    await asyncio.sleep(0.02)  # a frame due on Textual's update timer lands
    if out is not None:
        out.append((time.perf_counter() - t0 - 0.02) * 1000)
    return (FRAMES[-1] - t0) * 1000 if len(FRAMES) > n else float("nan")


async def first_image(workdir: Path, prefetch: bool, after: float = 1.5) -> float:
    os.environ["THAS_IMAGE_PREFETCH"] = "1" if prefetch else "0"
    app = attach_app(workdir, None, watch=False)
    record_frames(app)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            view = app.dashboard.query_one(ImageView)
            await pilot.pause(after)
            if prefetch:
                while view.answer is None and view.error is None:
                    await asyncio.sleep(0.05)
                await pilot.pause(0.5)
            ms = await timed(pilot, view, "v")
            assert view.error is None, view.error
            return ms
    finally:
        os.environ.pop("THAS_IMAGE_PREFETCH", None)


async def bench(workdir: Path, changes: int) -> dict:
    out: dict = {"press": {}}
    out["first_cold"] = await first_image(workdir, prefetch=False)
    # 5 s in: the dashboard's own start-up work (dials.version, a DIALS start-up) is over.
    out["first_cold_late"] = await first_image(workdir, prefetch=False, after=5.0)
    out["first_prefetched"] = await first_image(workdir, prefetch=True)
    os.environ["THAS_IMAGE_PREFETCH"] = "0"
    app = attach_app(workdir, None, watch=False)
    record_frames(app)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause(1.5)
        view = app.dashboard.query_one(ImageView)
        base = rss_mb()
        out["first"] = await timed(pilot, view, "v")
        assert view.error is None, view.error
        out["helper_pid"] = view.client.pid
        press = out["press"]
        for name in ("next", "brightness", "zoom_in", "zoom_out", "pan", "cursor"):
            out[name], press[name] = [], []
        for _ in range(10):
            out["next"].append(await timed(pilot, view, "n", out=press["next"]))
        for k in "bBbBbBbBbB":
            out["brightness"].append(await timed(pilot, view, k, out=press["brightness"]))
        for _ in range(3):
            for key, name in (("plus", "zoom_in"), ("plus", "zoom_in")):
                out[name].append(await timed(pilot, view, key, out=press[name]))
            for key in ("minus", "0"):
                out["zoom_out"].append(await timed(pilot, view, key, out=press["zoom_out"]))
        await timed(pilot, view, "plus", "plus")
        for k in ["shift+right", "shift+left"] * 5:
            out["pan"].append(await timed(pilot, view, k, out=press["pan"]))
        for k in ["right", "down", "left", "up"] * 3:
            out["cursor"].append(await timed(pilot, view, k, out=press["cursor"]))
        await timed(pilot, view, "0")
        # Threshold: the helper's own answer, each on an image not computed before.
        client = view.client
        params = dict(view.state.params)
        whole, viewport = [], []
        for i in range(12, 17):
            t0 = time.perf_counter()
            await client.request({"op": "image", "index": i, "bin": 16, "threshold": params})
            whole.append((time.perf_counter() - t0) * 1000)
        for i in range(17, 22):
            await client.request({"op": "image", "index": i, "bin": 16})  # the frame read first
            t0 = time.perf_counter()
            await client.request(
                {
                    "op": "image",
                    "index": i,
                    "bin": 2,
                    "region": [1000, 1000, 1320, 1192],
                    "threshold": params,
                }
            )
            viewport.append((time.perf_counter() - t0) * 1000)
        out["threshold_whole"], out["threshold_view"] = whole, viewport
        # Threshold toggled from the keyboard on a fit view (the whole image) and zoomed.
        await timed(pilot, view, "home")
        out["t_key_whole"] = await timed(pilot, view, "t")
        await timed(pilot, view, "t")
        await timed(pilot, view, "plus", "plus", "plus")
        out["t_key_view"] = await timed(pilot, view, "t")
        await timed(pilot, view, "t", "0")
        # The threshold panel: a parameter stepped (image 1 recomputed at once).
        await timed(pilot, view, "T")
        await timed(pilot, view, "down", "down", "down")
        out["panel_step"] = [await timed(pilot, view, k) for k in ("minus", "plus") * 3]
        await timed(pilot, view, "escape", "t")
        out["helper_rss"] = rss_mb(out["helper_pid"])
        out["after_open"] = rss_mb() - base
        samples = []
        for k in range(changes):
            await timed(pilot, view, "n" if (k // 35) % 2 == 0 else "N")
            if k % 100 == 99:
                samples.append(rss_mb())
        out["rss_series"] = samples
        out["growth"] = rss_mb() - base
        out["helper_rss_end"] = rss_mb(out["helper_pid"])
    os.environ.pop("THAS_IMAGE_PREFETCH", None)
    out["maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=500)
    ap.add_argument("--dir", type=Path, help="a directory already holding the demo's imported.expt")
    args = ap.parse_args()
    if args.dir is not None:
        r = asyncio.run(bench(args.dir, args.changes))
        report(r)
        return 0
    images = demo.image_paths("demo")
    if not images:
        raise SystemExit("the demo sweep is not cached: run `thas-tui demo` once first")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run(
            ["dials.import", *map(str, images)], cwd=work, check=True, capture_output=True
        )
        r = asyncio.run(bench(work, args.changes))
    report(r)
    return 0


def report(r: dict) -> None:
    med = statistics.median
    print(machine())
    print(f"load average at the end: {os.getloadavg()}")
    print(
        f"first image drawn after opening: helper started then {r['first_cold']:.0f} ms "
        f"(opened 1.5 s after start-up), {r['first_cold_late']:.0f} ms (opened 5 s after); "
        f"helper prefetched by the idle dashboard {r['first_prefetched']:.0f} ms "
        f"(main run, helper started then: {r['first']:.0f} ms)"
    )
    for name in ("next", "brightness", "zoom_in", "zoom_out", "pan", "cursor"):
        v, p = r[name], r["press"][name]
        print(
            f"{name}: key to frame median {med(v):.0f} ms, max {max(v):.0f} ({len(v)} runs); "
            f"Pilot press-and-settle median {med(p):.0f} ms"
        )
    print(
        f"threshold whole 6M image (helper): median {med(r['threshold_whole']):.0f} ms {[round(v) for v in r['threshold_whole']]}"
    )
    print(
        f"threshold zoomed viewport (helper): median {med(r['threshold_view']):.0f} ms {[round(v) for v in r['threshold_view']]}"
    )
    print(f"threshold key, fit view: {r['t_key_whole']:.0f} ms; zoomed: {r['t_key_view']:.0f} ms")
    print(f"threshold panel +/- (whole image recomputed): {[round(v) for v in r['panel_step']]} ms")
    print(
        f"helper RSS: {r['helper_rss']:.0f} MB after the timings, {r['helper_rss_end']:.0f} MB at the end"
    )
    print(f"dashboard growth with the viewer open: {r['after_open']:.0f} MB after the timings")
    print(
        f"dashboard RSS every 100 image changes: {[round(v) for v in r['rss_series']]} MB; growth {r['growth']:.0f} MB"
    )


if __name__ == "__main__":
    sys.exit(main())

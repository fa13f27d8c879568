"""Benchmark: the session screen. A new image's spot count (real DIALS), and 100 datasets of
100,000 images opened and used while images arrive at 100 Hz."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import PaintProbe, machine, median, percentile, proc_mem_mb, send_key  # noqa: E402

# A closed mini-CBF in a few bytes: what discovery and completeness look at. The table's
# scale test needs 100,000 files, not 100,000 diffraction images.
TINY_CBF = b"###CBF: VERSION 1.5\r\n\r\n--CIF-BINARY-FORMAT-SECTION----\r\n;\r\n"


async def spot_latency(images: list[Path], n: int, gap: float) -> list[float]:
    """Seconds from an image's last byte to its spot count in the session (real DIALS)."""
    from thas_tui.core.dials_env import find_dials
    from thas_tui.core.session.engine import SessionConfig, SessionEngine

    tmp = Path(tempfile.mkdtemp(prefix="thas-bench-session-"))
    data = tmp / "data"
    data.mkdir()
    config = SessionConfig(data, tmp / "proc", idle=3600, autoprocess=False)
    engine = SessionEngine(config, find_dials())
    task = asyncio.create_task(engine.run())
    out: list[float] = []
    try:
        # The server's start (a DIALS start-up) is paid once, before the first image.
        await asyncio.sleep(1.0)
        for i, src in enumerate(images[: n + 1], start=1):
            dest = data / f"bench_1_{i:05d}.cbf"
            await asyncio.to_thread(shutil.copyfile, src, dest)
            done = time.perf_counter()
            while True:
                ds = next(iter(engine.datasets.values()), None)
                if ds is not None and i in ds.spots:
                    break
                await asyncio.sleep(0.01)
            if i > 1:  # the first pays the server's start
                out.append(time.perf_counter() - done)
            print(
                f"  image {i}: {ds.spots[i].n_spots} spots, {out[-1] if i > 1 else float('nan'):.2f} s",
                flush=True,
            )
            await asyncio.sleep(gap)
    finally:
        engine.stop()
        await task
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def make_visit(root: Path, n_datasets: int, per: int) -> None:
    old = time.time() - 3600
    for d in range(n_datasets):
        folder = root / f"sample{d // 10:02d}"
        folder.mkdir(exist_ok=True)
        for i in range(1, per + 1):
            p = folder / f"xtal{d:03d}_1_{i:05d}.cbf"
            p.write_bytes(TINY_CBF)
            os.utime(p, (old, old))


async def big_table(root: Path, seconds: float, rate: float, key_ms: float) -> dict:
    from textual.widgets import DataTable

    from thas_tui.core.dials_env import NO_DIALS
    from thas_tui.core.session.engine import SessionConfig
    from thas_tui.session_app import SessionApp

    config = SessionConfig(root, root.parent / "proc", idle=5, live_spots=False, autoprocess=False)
    t0 = time.perf_counter()
    app = SessionApp(config, NO_DIALS)
    out: dict = {}
    async with app.run_test(size=(160, 50)) as pilot:
        probe = PaintProbe(app)
        table = app.screen.query_one(DataTable)
        n = len(list(root.rglob("*.cbf")))  # outside the timing: how many the table must show
        t_rows = await probe.wait_for(
            lambda: (
                table.row_count == 100
                and sum(d.n_present for d in app.engine.datasets.values()) == n
            ),
            timeout=60,
        )
        out["open_s"] = t_rows - t0
        out["images"] = n
        # Images arrive at `rate` into two new datasets, from another thread (as a detector).
        stop = threading.Event()
        written = [0]

        def writer() -> None:
            k = 0
            t_next = time.perf_counter()
            while not stop.is_set():
                k += 1
                ds = 900 + (k // 2000)
                (root / f"live{ds}_1_{k:05d}.cbf").write_bytes(TINY_CBF)
                written[0] += 1
                t_next += 1 / rate
                time.sleep(max(0.0, t_next - time.perf_counter()))

        th = threading.Thread(target=writer, daemon=True)
        th.start()
        lat: list[float] = []
        rss: list[float] = []
        t_end = time.perf_counter() + seconds
        k = 0
        while time.perf_counter() < t_end:
            key = "j" if k % 2 == 0 else "k"
            before = table.cursor_row
            want = before + 1 if key == "j" else max(0, before - 1)
            t_press = time.perf_counter()
            send_key(app, key)
            t_paint = await probe.wait_for(lambda w=want: table.cursor_row == w, timeout=10)
            lat.append(t_paint - t_press)
            rss.append(proc_mem_mb()[0])
            k += 1
            await asyncio.sleep(key_ms / 1000)
        stop.set()
        th.join()
        await pilot.pause(1.0)
        live = [d for d in app.engine.datasets.values() if d.name.startswith("live")]
        out.update(
            latencies=lat,
            rss=rss,
            written=written[0],
            seen=sum(d.n_present for d in live),
            rows=table.row_count,
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--images",
        type=Path,
        default=None,
        help="folder of 6M CBF images (default: the demo cache)",
    )
    ap.add_argument("--n", type=int, default=10, help="images for the spot-count latency")
    ap.add_argument("--seconds", type=float, default=20.0, help="how long images arrive at 100 Hz")
    ap.add_argument("--skip-dials", action="store_true", help="only the 100-dataset table")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    if not args.skip_dials:
        from thas_tui.core import demo

        folder = args.images or demo.demo_cache_dir("demo")
        images = sorted(Path(folder).glob("*.cbf"))
        if not images:
            print(f"no images in {folder}: run thas-tui demo once, or pass --images")
            return 2
        print(f"spot count of a new image (dials.find_spots_server), {args.n} images of {folder}:")
        lat = asyncio.run(spot_latency(images, args.n, gap=2.0))
        print(
            f"last byte written -> spot count in the session: median {median(lat):.2f} s, "
            f"max {max(lat):.2f} s over {len(lat)} images (target <= 2 s)"
        )
    tmp = Path(tempfile.mkdtemp(prefix="thas-bench-visit-"))
    try:
        root = tmp / "visit"
        root.mkdir()
        t = time.perf_counter()
        make_visit(root, 100, 1000)
        print(f"made 100 datasets x 1,000 images in {time.perf_counter() - t:.1f} s")
        r = asyncio.run(big_table(root, args.seconds, 100.0, 100.0))
        lat = [x * 1000 for x in r["latencies"]]
        print(
            f"session screen with 100 rows and {r['images']:,} images: open to full table {r['open_s']:.2f} s (target <= 1.5 s)"
        )
        print(
            f"while {r['written']:,} images arrived at 100 Hz ({r['seen']:,} counted complete): "
            f"key-to-repaint over {len(lat)} presses p50 {median(lat):.1f} ms, "
            f"p90 {percentile(lat, 90):.1f} ms, p99 {percentile(lat, 99):.1f} ms, max {max(lat):.1f} ms "
            "(target p99 <= 50 ms)"
        )
        print(f"RSS: median {median(r['rss']):.0f} MB, max {max(r['rss']):.0f} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

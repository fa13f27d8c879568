"""Benchmark: the session screen. A new image's spot count (real DIALS), and 100 datasets of
100,000 images opened and used while images arrive at 100 Hz."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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


@contextlib.asynccontextmanager
async def live_session(prefix: str):
    """A session engine (real DIALS, no processing) on an empty data directory, and the
    directory, removed afterwards."""
    from thas_tui.core.dials_env import find_dials
    from thas_tui.core.session.engine import SessionConfig, SessionEngine

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    data = tmp / "data"
    data.mkdir()
    config = SessionConfig(data, tmp / "proc", idle=3600, autoprocess=False)
    engine = SessionEngine(config, find_dials())
    task = asyncio.create_task(engine.run())
    try:
        yield engine, data
    finally:
        engine.stop()
        await task
        shutil.rmtree(tmp, ignore_errors=True)


async def spot_latency(images: list[Path], n: int, gap: float) -> list[float]:
    """Seconds from an image's last byte to its spot count in the session (real DIALS)."""
    out: list[float] = []
    async with live_session("thas-bench-session-") as (engine, data):
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
    return out


async def nexus_latency(src: Path, gap: float) -> list[tuple[str, int, float, float, float]]:
    """An EIGER collection: the master file, then each data file written whole; per data file,
    seconds from its last byte to the first and to the last of its frames' spot counts."""
    import json

    info = json.loads((src / "sweep_info.json").read_text())
    names = info["data_files"]
    master = Path(info["master"]).name
    out = []
    async with live_session("thas-bench-nexus-") as (engine, data):
        await asyncio.sleep(1.0)
        await asyncio.to_thread(shutil.copyfile, src / master, data / master)
        await asyncio.sleep(gap)  # the master file settles and is checked before any frame
        seen: set[int] = set()
        for name in names:
            await asyncio.to_thread(shutil.copyfile, src / name, data / name)
            done = time.perf_counter()
            first = last = ready_at = None
            while last is None:
                ds = next(iter(engine.datasets.values()), None)
                counted = set(ds.spots) if ds is not None else set()
                fresh = counted - seen
                if fresh and first is None:
                    first = time.perf_counter() - done
                # The file's frames are those made ready since the last file, all counted.
                ready = set(ds.ready) - seen if ds is not None else set()
                if ready and ready_at is None:
                    # Complete on disk and its frames listed by the master file's check.
                    ready_at = time.perf_counter() - done
                if ready and ready <= counted:
                    last = time.perf_counter() - done
                    seen |= ready
                    out.append((name, len(ready), first, last, ready_at))
                    break
                if time.perf_counter() - done > 120:
                    raise RuntimeError(f"{name}: no spot counts after 120 s")
                await asyncio.sleep(0.01)
            print(
                f"  {name}: {len(ready)} frames, ready {ready_at:.2f} s, "
                f"first count {first:.2f} s, all {last:.2f} s",
                flush=True,
            )
            await asyncio.sleep(gap)
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


class StackSampler:
    """Samples the event loop thread's stack every ``period`` s (a thread): what ran during a
    slow key press, by function, without the overhead of a profiler on every call."""

    def __init__(self, period: float = 0.002) -> None:
        self.period = period
        self.samples: list[tuple[float, tuple[str, ...]]] = []
        self.gc: list[tuple[float, float, int]] = []  # (start, end, generation)
        self._target = threading.get_ident()
        self._stop = threading.Event()
        self._gc_start = 0.0

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gc.append((self._gc_start, time.perf_counter(), info["generation"]))

    def start(self) -> None:
        import gc

        gc.callbacks.append(self._on_gc)
        threading.Thread(target=self._run, daemon=True).start()

    def stop(self) -> None:
        import gc

        self._stop.set()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def _run(self) -> None:
        while not self._stop.is_set():
            frame = sys._current_frames().get(self._target)
            stack = []
            while frame is not None:
                code = frame.f_code
                stack.append(f"{Path(code.co_filename).name}:{code.co_name}")
                frame = frame.f_back
            self.samples.append((time.perf_counter(), tuple(reversed(stack))))
            time.sleep(self.period)

    def report(self, t0: float, t1: float, top: int = 12) -> list[str]:
        """The deepest interesting frames sampled between t0 and t1, most frequent first."""
        from collections import Counter

        leaf: Counter[str] = Counter()
        for t, stack in self.samples:
            if t0 <= t <= t1:
                # Where our code or Textual's spent it: the innermost non-stdlib frames.
                keep = [f for f in stack if not f.startswith(("selectors.py", "base_events.py"))]
                leaf[" > ".join(keep[-4:])] += 1
        lines = [
            f"    {n * self.period * 1000:5.0f} ms  {where}" for where, n in leaf.most_common(top)
        ]
        for g0, g1, gen in self.gc:
            if g1 >= t0 and g0 <= t1:
                lines.append(f"    gc gen{gen}: {(g1 - g0) * 1000:.1f} ms")
        return lines


async def big_table(
    root: Path, seconds: float, rate: float, key_ms: float, trace: bool = False
) -> dict:
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

        sampler = StackSampler() if trace else None
        if sampler:
            sampler.start()
        import gc

        full: list[float] = []  # full collections' pauses while keys are pressed
        started: list[float] = [0.0]

        def on_gc(phase: str, info: dict) -> None:
            if info["generation"] != 2:
                return
            if phase == "start":
                started[0] = time.perf_counter()
            else:
                full.append(time.perf_counter() - started[0])

        gc.callbacks.append(on_gc)
        out["frozen"] = gc.get_freeze_count()
        presses: list[tuple[float, float]] = []
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
            presses.append((t_press, t_paint))
            rss.append(proc_mem_mb()[0])
            k += 1
            await asyncio.sleep(key_ms / 1000)
        stop.set()
        th.join()
        gc.callbacks.remove(on_gc)
        out["full_gc"] = full
        if sampler:
            sampler.stop()
            worst = sorted(presses, key=lambda p: p[0] - p[1])[:6]
            for t_press, t_paint in sorted(worst):
                print(
                    f"  slow press at {t_press - t_rows:6.2f} s: {1000 * (t_paint - t_press):.1f} ms"
                )
                print("\n".join(sampler.report(t_press - 0.1, t_paint)))
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
    ap.add_argument(
        "--nexus",
        action="store_true",
        help="only the spot-count latency of an EIGER collection (master, then data files)",
    )
    ap.add_argument(
        "--trace",
        action="store_true",
        help="sample the event loop's stack: what ran during the slowest key presses",
    )
    args = ap.parse_args()
    print(f"machine: {machine()}")
    if args.nexus:
        from thas_tui.collect_demo import eiger_sweep_dir
        from thas_tui.core import demo
        from thas_tui.core.dials_env import find_dials

        src = eiger_sweep_dir(find_dials().python, demo.preset_for("eiger", "small"), 1, "xtal1_1")
        print(f"spot counts of new EIGER data files (dials.find_spots_server), {src}:")
        rows = asyncio.run(nexus_latency(src, gap=3.0))
        firsts = [r[2] for r in rows]
        per_frame = [r[3] / r[1] for r in rows]
        print(
            f"last byte of a data file -> its first frame's spot count: median {median(firsts):.2f} s, "
            f"max {max(firsts):.2f} s over {len(rows)} files (target <= 2 s); all its frames: "
            + ", ".join(f"{r[3]:.2f} s for {r[1]}" for r in rows)
            + f" ({median(per_frame):.2f} s a frame, median)"
        )
        return 0
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
        r = asyncio.run(big_table(root, args.seconds, 100.0, 100.0, args.trace))
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
        g = [x * 1000 for x in r["full_gc"]]
        print(
            f"garbage collector: {r['frozen']:,} objects frozen at the first press; "
            f"{len(g)} full collections while keys were pressed"
            + (f", longest {max(g):.1f} ms" if g else "")
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: a stage floods its log (50,000 lines/s) while keys are pressed; latency, loss, memory."""

from __future__ import annotations

import argparse
import asyncio
import os
import stat
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    FIND_SPOTS_LOGS,
    INTEGRATE_LOGS,
    PaintProbe,
    first_existing,
    machine,
    make_app,
    median,
    percentile,
    proc_mem_mb,
    send_key,
)

# The fake DIALS program: appends numbered lines of a real DIALS log at a fixed rate to its
# stdout, which the runner has pointed at the stage's log file (exactly as for dials.*).
WRITER = r"""#!{python}
import os, sys, time
template = open(os.environ["FLOOD_TEMPLATE"], "rb").read().decode("utf-8", "replace").splitlines()
rate = float(os.environ["FLOOD_RATE"])
total = int(rate * float(os.environ["FLOOD_SECONDS"]))
t0 = time.monotonic()
i = 0
while i < total:
    due = min(total, int((time.monotonic() - t0) * rate) + 1)
    if due > i:
        os.write(1, "".join(f"{{template[j % len(template)]}} #{{j}}\n" for j in range(i, due)).encode())
        i = due
    time.sleep(0.002)
"""


class Receiver:
    """Counts and checks the lines the log pane's ``append`` is handed, in order."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.count = 0
        self.next = 0
        self.errors: list[str] = []
        self.batches = 0

    def check(self, stage: str, lines: list[str]) -> None:
        if stage != self.stage:
            return
        self.batches += 1
        try:
            nums = [int(line[line.rindex(" #") + 2 :]) for line in lines]
        except ValueError:
            self.errors.append("an unnumbered line")
            return
        if nums != list(range(self.next, self.next + len(nums))) and len(self.errors) < 5:
            self.errors.append(
                f"batch {self.batches}: expected #{self.next}.., got #{nums[0]}..#{nums[-1]}"
            )
        self.next = nums[-1] + 1 if nums else self.next
        self.count += len(nums)


async def flood(rate: float, seconds: float, stage: str, template: Path, key_ms: float) -> dict:
    from thas_tui.core.commands import RunConfig
    from thas_tui.core.dials_env import DialsEnv
    from thas_tui.core.pipeline import Pipeline, State
    from thas_tui.widgets.log_pane import LogPane
    from thas_tui.widgets.results_tabs import ResultsTabs

    tmp = Path(tempfile.mkdtemp(prefix="thas-bench-flood-"))
    bindir, workdir = tmp / "bin", tmp / "proc"
    bindir.mkdir()
    workdir.mkdir()
    for prog in ("dials.find_spots", "dials.integrate"):
        exe = bindir / prog
        exe.write_text(WRITER.format(python=sys.executable))
        exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    os.environ.update(
        FLOOD_TEMPLATE=str(template), FLOOD_RATE=str(rate), FLOOD_SECONDS=str(seconds)
    )
    total = int(rate * seconds)

    pipeline = Pipeline()
    for name in pipeline.names[: pipeline.names.index(stage)]:
        pipeline[name].state = State.DONE
    pipeline.bravais_choice, pipeline.cb_op = 5, "a,b,c"
    config = RunConfig(images=["/data/x.cbf"], nproc=1, until=stage)
    dials = DialsEnv(bin_dir=bindir, version="3.12", python=sys.executable)

    receiver = Receiver(stage)
    original_append = LogPane.append

    def counting_append(self, stage_: str, lines: list[str]) -> None:
        receiver.check(stage_, lines)
        original_append(self, stage_, lines)

    LogPane.append = counting_append  # type: ignore[method-assign]
    app = make_app(workdir, pipeline, autostart=True, dials=dials, config=config)
    latencies: list[float] = []
    rss: list[float] = []
    out: dict = {"total": total}
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            probe = PaintProbe(app)
            screen = app.dashboard
            log = screen.query_one(LogPane)
            tabs = screen.query_one(ResultsTabs)
            t_start = time.perf_counter()
            cpu_start = time.process_time()
            while log.stage != stage:
                await asyncio.sleep(0.01)
            keys = ["s", "l"]
            k = 0
            next_press = time.perf_counter()
            deadline = time.perf_counter() + seconds * 3 + 30
            while screen.finished is None:
                if time.perf_counter() > deadline:
                    out["timeout"] = (
                        screen.pipeline[stage].state.name,
                        receiver.count,
                        str(app.return_code),
                    )
                    break
                target = {"s": "spots", "l": "log"}[keys[k % 2]]
                t0 = time.perf_counter()
                send_key(app, keys[k % 2])
                t1 = await probe.wait_for(lambda target=target: tabs.active == target, timeout=30)
                latencies.append(t1 - t0)
                rss.append(proc_mem_mb()[0])
                k += 1
                next_press += key_ms / 1000
                await asyncio.sleep(max(0.0, next_press - time.perf_counter()))
            out["elapsed_s"] = time.perf_counter() - t_start
            out["cpu_s"] = time.process_time() - cpu_start
            await pilot.pause()
            out["pane_lines"] = log.line_count
            out["pane_last"] = log.lines[-1] if log.line_count else ""
            out["paints"] = probe.paints
    finally:
        LogPane.append = original_append  # type: ignore[method-assign]
    out.update(
        latencies=latencies,
        rss=rss,
        received=receiver.count,
        batches=receiver.batches,
        errors=receiver.errors,
        hwm_mb=proc_mem_mb()[1],
    )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="2 s instead of 20 s (smoke test)")
    ap.add_argument("--rate", type=float, default=50_000, help="lines per second (default 50,000)")
    ap.add_argument("--seconds", type=float, default=None, help="how long (default 20, quick 2)")
    ap.add_argument("--stage", default="find_spots", choices=("find_spots", "integrate"))
    ap.add_argument("--key-ms", type=float, default=100, help="key press interval (default 100 ms)")
    ap.add_argument(
        "--baseline", action="store_true", help="also measure the same key presses at 100 lines/s"
    )
    ap.add_argument("--profile", type=Path, default=None, help="write a pyinstrument HTML profile")
    args = ap.parse_args()
    seconds = args.seconds or (2.0 if args.quick else 20.0)
    template = first_existing(FIND_SPOTS_LOGS if args.stage == "find_spots" else INTEGRATE_LOGS)
    print(f"machine: {machine()}")
    print(
        f"flood: {args.rate:,.0f} lines/s for {seconds:g} s into the {args.stage} log "
        f"(lines of {template}), keys s/l every {args.key_ms:g} ms"
    )
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled")
        profiler.start()
    r = asyncio.run(flood(args.rate, seconds, args.stage, template, args.key_ms))
    if profiler:
        profiler.stop()
        args.profile.write_text(profiler.output_html())
        print(profiler.output_text(unicode=False, color=False, show_all=False)[:6000])
    lat = [x * 1000 for x in r["latencies"]]
    ok = r["received"] == r["total"] and not r["errors"] and "timeout" not in r
    if "timeout" in r:
        print(f"timed out: stage state, lines received, app return code = {r['timeout']}")
    print(
        f"lines written {r['total']:,}, received by the log pane {r['received']:,} in {r['batches']} batches"
    )
    print(f"in order, none lost: {ok}" + (f" ({'; '.join(r['errors'])})" if r["errors"] else ""))
    print(f"pane holds {r['pane_lines']} lines; last: {r['pane_last'][-60:]!r}")
    print(
        f"run took {r['elapsed_s']:.1f} s for {seconds:g} s of output; {r['paints']} paints; "
        f"dashboard CPU {r['cpu_s']:.1f} s ({100 * r['cpu_s'] / r['elapsed_s']:.0f} % of one core)"
    )
    print(
        f"key-press-to-repaint latency over {len(lat)} presses: "
        f"p50 {median(lat):.1f} ms, p90 {percentile(lat, 90):.1f} ms, p99 {percentile(lat, 99):.1f} ms, "
        f"max {max(lat):.1f} ms"
    )
    print(
        f"RSS during the flood: median {median(r['rss']):.0f} MB, max {max(r['rss']):.0f} MB; peak (VmHWM) {r['hwm_mb']:.0f} MB"
    )
    if args.baseline:
        b = asyncio.run(flood(100, seconds, args.stage, template, args.key_ms))
        bl = [x * 1000 for x in b["latencies"]]
        print(
            f"baseline at 100 lines/s, same keys: p50 {median(bl):.1f} ms, p90 {percentile(bl, 90):.1f} ms, "
            f"p99 {percentile(bl, 99):.1f} ms, max {max(bl):.1f} ms; dashboard CPU "
            f"{100 * b['cpu_s'] / b['elapsed_s']:.0f} % of one core"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""`thas-tui session DATA_DIR`: checked arguments, then the session screen, headless lines or a summary."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from thas_tui.core.errors import ThasError

if TYPE_CHECKING:  # the parser is built at every start: the engine is imported when used
    from thas_tui.core.session.engine import SessionConfig, SessionEngine


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "session",
        help="every sweep of a beamline session: found as images arrive, spot-checked, processed",
    )
    p.add_argument("data_dir", help="the visit's data directory (watched, never written to)")
    p.add_argument(
        "--proc",
        default="thas-session",
        metavar="PROC_ROOT",
        help="where each dataset is processed, PROC_ROOT/<dataset>/ (default: ./thas-session)",
    )
    p.add_argument("--summary", action="store_true", help="print one row a dataset and exit")
    p.add_argument("--json", action="store_true", help="with --summary: one JSON object")
    p.add_argument("--no-tui", action="store_true", help="run headless, printing lines")
    p.add_argument(
        "--idle",
        type=float,
        default=60.0,
        metavar="S",
        help="a sweep is complete after S seconds without a new image (default 60)",
    )
    p.add_argument(
        "--settle",
        type=float,
        default=1.0,
        metavar="S",
        help="an image is read once its size has held for S seconds (default 1)",
    )
    p.add_argument("--jobs", type=int, default=1, help="datasets processed at once (default 1)")
    p.add_argument("--nproc", type=int, default=None, help="processes per DIALS program")
    p.add_argument(
        "--no-live-spots", action="store_true", help="no per-image spot finding while collecting"
    )
    p.add_argument(
        "--no-process", action="store_true", help="watch and spot-check only, never process"
    )
    p.add_argument(
        "--exit-when-done",
        action="store_true",
        help="headless: exit once every dataset is done, failed, skipped or held",
    )
    p.add_argument(
        "--run-arg",
        action="append",
        default=[],
        metavar="OPTION",
        help="an option for each dataset's `thas-tui run` (repeatable), e.g. --run-arg=--until=index",
    )
    p.add_argument("--dials-dir", default=None, help="bin/ folder of a DIALS installation")


def _config(args: argparse.Namespace) -> SessionConfig:
    from thas_tui.core.session.engine import SessionConfig

    data = Path(args.data_dir).expanduser()
    if not data.is_dir():
        what = "is not a directory" if data.exists() else "does not exist"
        raise ThasError(
            f"data directory {data} {what}.\n"
            "Give the folder where the detector writes this visit's images (it may be empty)."
        )
    if not os.access(data, os.R_OK | os.X_OK):
        raise ThasError(f"cannot read the data directory {data}: permission denied.")
    proc = Path(args.proc).expanduser().resolve()
    data = data.resolve()
    if proc == data or data in proc.parents:
        raise ThasError(
            f"--proc {proc} is inside the data directory {data}.\n"
            "Process elsewhere: the data directory is watched for images and never written to."
        )
    if args.jobs < 1:
        raise ThasError(f"--jobs must be at least 1 (got {args.jobs}).")
    for name in ("idle", "settle"):
        if getattr(args, name) < 0:
            raise ThasError(f"--{name} must not be negative.")
    return SessionConfig(
        data_dir=data,
        proc_root=proc,
        idle=args.idle,
        settle=args.settle,
        jobs=args.jobs,
        nproc=args.nproc,
        live_spots=not args.no_live_spots,
        autoprocess=not args.no_process,
        run_args=list(args.run_arg),
    )


def summary(config: SessionConfig, as_json: bool, dials_dir: str | None = None) -> int:
    """Rows from what is on disk now: images present, processing directories' results."""
    from thas_tui.core.dials_env import NO_DIALS, find_dials
    from thas_tui.core.pipeline import STAGE_NAMES
    from thas_tui.core.session import discovery, report
    from thas_tui.core.session.engine import SessionEngine

    try:
        dials = find_dials(dials_dir)  # its Python reads NeXus master files' image counts
    except ThasError:
        dials = NO_DIALS
    engine = SessionEngine(config, dials)
    engine.initial_scan()
    for ds in engine.datasets.values():
        ds.ready = set(ds.files.numbers)
        ds.master_ready = ds.files.master is not None
        if ds.files.master:
            ds.data_complete = {os.path.basename(p) for p in discovery.data_files(ds.files.master)}

    async def read_all() -> None:
        for ds in engine.datasets.values():
            if ds.files.master:
                await engine.check_nexus(ds)
        while engine._to_read:
            key = engine._to_read.pop()
            await engine._finish(engine.datasets[key])

    asyncio.run(read_all())
    now = time.time()
    from thas_tui.core.session.model import decide

    for ds in engine.datasets.values():
        decide(ds, now, config.idle)
    rows = [report.row(d, len(STAGE_NAMES)) for d in sorted_datasets(engine)]
    if as_json:
        print(report.render_json(rows, config.data_dir, config.proc_root))
    else:
        print(report.render_text(rows))
    for note in engine.notes:
        print(f"thas-tui: {note}", file=sys.stderr)
    return 0


def sorted_datasets(engine: SessionEngine) -> list:
    return sorted(engine.datasets.values(), key=lambda d: (d.first_seen, d.name))


def session(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.summary:
        return summary(config, args.json, args.dials_dir)
    from thas_tui.core.dials_env import find_dials

    dials = find_dials(args.dials_dir)
    if args.no_tui or not sys.stdout.isatty():
        return headless(config, dials, args.exit_when_done)
    from thas_tui.session_app import SessionApp

    app = SessionApp(config, dials)
    app.run()
    return app.return_code or 0


def headless(config: SessionConfig, dials, exit_when_done: bool) -> int:
    """Lines on stdout, one per event; until interrupted (or all done with --exit-when-done)."""
    from thas_tui.core.pipeline import STAGE_NAMES
    from thas_tui.core.session import report
    from thas_tui.core.session.engine import SessionEngine

    def say(text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)

    engine = SessionEngine(config, dials, say)
    say(f"session: watching {config.data_dir}; processing in {config.proc_root}")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, engine.stop)
        task = asyncio.create_task(engine.run())
        while not task.done():
            await asyncio.sleep(1.0)
            if exit_when_done and engine.all_settled():
                engine.stop()
        await task

    asyncio.run(main())
    rows = [report.row(d, len(STAGE_NAMES)) for d in sorted_datasets(engine)]
    print(report.render_text(rows), flush=True)
    failed = any(r["state"] == "failed" for r in rows)
    return 1 if failed else 0

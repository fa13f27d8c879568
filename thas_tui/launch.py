"""Turn parsed arguments into a checked run: DIALS found, inputs and directory valid, UI or headless."""

from __future__ import annotations

import argparse
import asyncio
import gc
import glob
import os
import sys
from pathlib import Path

from thas_tui.core.commands import RunConfig
from thas_tui.core.dials_env import NO_DIALS, DialsEnv, find_dials, locate_dials
from thas_tui.core.errors import ThasError
from thas_tui.core.orchestrator import Orchestrator
from thas_tui.core.pipeline import DEMO_STAGE_NAMES, STAGE_NAMES, Pipeline, State, with_mask
from thas_tui.core.readers.bravais import BravaisSolution

_GLOB_CHARS = set("*?[")


def resolve_images(specs: list[str]) -> list[str]:
    """Check each image argument exists (expanding a quoted glob); raise a clear error if not."""
    found: list[str] = []
    for spec in specs:
        path = Path(spec).expanduser()
        if path.exists():
            if path.is_file() and not os.access(path, os.R_OK):
                raise ThasError(
                    f"Cannot read {path}: permission denied.\nCheck the file's permissions."
                )
            found.append(str(path.resolve()))
            continue
        if _GLOB_CHARS & set(spec):
            matches = sorted(glob.glob(os.path.expanduser(spec)))
            if not matches:
                raise ThasError(
                    f"No image matches {spec!r}.\nCheck the path and pattern (e.g. /data/thas1/*.cbf)."
                )
            found.extend(str(Path(m).resolve()) for m in matches)
            continue
        raise ThasError(
            f"Image file or directory not found: {spec}\n"
            "Give image files (a shell glob works), a directory of images, or an HDF5/NeXus master file."
        )
    return found


def prepare_workdir(path: str) -> Path:
    """Create the processing directory if needed; refuse one that is not a writable directory."""
    workdir = Path(path).expanduser().resolve()
    if workdir.exists() and not workdir.is_dir():
        raise ThasError(
            f"Processing directory {workdir} exists but is not a directory.\nChoose another --dir."
        )
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ThasError(
            f"Cannot create the processing directory {workdir}: {exc.strerror or exc}.\n"
            "Choose a --dir where you can write."
        ) from None
    if not os.access(workdir, os.W_OK | os.X_OK):
        raise ThasError(
            f"The processing directory {workdir} is not writable.\nChoose a --dir where you can write."
        )
    return workdir


def demo_config(dials: DialsEnv, preset: str, config: RunConfig, pipeline: Pipeline) -> None:
    """Point a demo run at the cached sweep of ``preset``, or at its generator when not cached."""
    from thas_tui.core import demo

    config.demo_preset = preset
    d_min = demo.crystal_d_min(preset)
    if d_min is not None:
        # Predicting past the crystal's limit would integrate empty shoeboxes to the corners and
        # report the merged data as incomplete there: tell integrate, as a user would.
        config.set_extra("integrate", [f"prediction.d_min={d_min:g}"])
    if demo.is_cached(preset):
        config.images = [str(p) for p in demo.image_paths(preset)]
        sim = pipeline["simulate"]
        sim.state = State.DONE
        # An EIGER sweep is one master file: count the images its generator wrote.
        n = (demo.read_info(preset) or {}).get("n_images", len(config.images))
        sim.key_result = f"cached: {n} images"
    else:
        config.simulate_argv = demo.generation_argv(dials.python, preset)


def build_run(
    args: argparse.Namespace,
) -> tuple[Orchestrator | None, RunConfig, Pipeline, DialsEnv, Path]:
    """Everything a run needs, checked; the orchestrator is made by the caller (its emit differs).
    The executor's settings are left in ``args.executor_settings``."""
    dials = find_dials(getattr(args, "dials_dir", None))
    nproc = args.nproc if args.nproc is not None else (os.cpu_count() or 1)
    if nproc < 1:
        raise ThasError(f"--nproc must be at least 1 (got {nproc}).")
    config = RunConfig(nproc=nproc)
    mask_file = getattr(args, "mask", None)
    mask_text = read_mask_file(mask_file) if mask_file else None
    names = DEMO_STAGE_NAMES if args.command == "demo" else STAGE_NAMES
    if mask_text is not None:
        names = with_mask(names)
    pipeline = Pipeline(names)
    if args.command == "demo":
        from thas_tui.core.demo import PRESETS, is_eiger, preset_for

        preset = preset_for(getattr(args, "detector", "pilatus"), args.preset)
        if preset not in PRESETS and not is_eiger(preset):
            raise ThasError(
                f"There is no {args.preset!r} EIGER demo: --full is the 800-image PILATUS sweep.\n"
                "Use thas-tui demo --full, or thas-tui demo --detector eiger [--preset small]."
            )
        demo_config(dials, preset, config, pipeline)
    else:
        config.images = resolve_images(args.images)
    _apply_phil(config, pipeline, getattr(args, "phil", []))
    until = getattr(args, "until", None)
    if until is not None and until not in pipeline.names:
        raise ThasError(f"--until {until!r} is not a stage. Stages: {', '.join(pipeline.names)}.")
    config.until = until
    config.mask = pipeline.has_mask
    workdir = prepare_workdir(args.dir)
    if mask_text is not None:
        install_mask(workdir, mask_text)
    from thas_tui.core.executor import settings_from_args

    stages = [n for n in pipeline.names if n != "simulate"]
    args.executor_settings = settings_from_args(args, workdir, stages)
    if args.executor_settings.kind == "slurm":
        from thas_tui.core.slurm import SlurmClient

        SlurmClient().check()
    return None, config, pipeline, dials, workdir


def read_mask_file(path: str) -> str:
    """The text of ``--mask FILE``, checked as far as it can be before import: readable, and a
    mask.phil (DIALS's own generate_mask judges the geometry and says what it refuses)."""
    from thas_tui.core.mask_spec import MaskSpec

    p = Path(path).expanduser()
    if not p.is_file():
        raise ThasError(
            f"--mask {path}: no such file.\n"
            "Give a mask.phil as the image viewer's mask tool saves it (untrusted { rectangle = "
            "x0 x1 y0 y1 }, border = N, d_min = ...)."
        )
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ThasError(f"--mask {p}: cannot read it ({exc.strerror}).") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ThasError(
            f"--mask {p}: not a text file: give a mask.phil (PHIL text, as dials.generate_mask "
            "reads)."
        ) from None
    if not text.strip():
        raise ThasError(f"--mask {p}: the file is empty: it would mask nothing.")
    spec = MaskSpec.from_phil(text)
    if spec.is_empty() and not spec.errors:
        raise ThasError(f"--mask {p}: it masks nothing (only comments or defaults).")
    return text


def install_mask(workdir: Path, text: str) -> Path:
    """Put the given mask into the processing directory as mask.phil, the Mask stage's input;
    a different mask.phil already there is archived to thas-tui/masks/, never overwritten."""
    from thas_tui.core.mask_spec import MASK_PHIL, archive_mask_phil

    path = workdir / MASK_PHIL
    try:
        if path.exists() and path.read_text(errors="replace") == text:
            return path
        archive_mask_phil(workdir)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ThasError(
            f"Cannot write {path}: {exc.strerror or exc}.\nChoose a --dir where you can write."
        ) from None
    return path


def _apply_phil(
    config: RunConfig, pipeline: Pipeline, specs: list[str], replace: bool = False
) -> None:
    """``STAGE:NAME=VALUE`` options → validated PHIL tokens per stage (``replace``: a name
    given replaces the stage's token of that name, as a resume's fix must)."""
    from thas_tui.core.failures import with_fix

    by_stage: dict[str, list[str]] = {}
    for spec in specs:
        stage, sep, token = spec.partition(":")
        if not sep or stage not in pipeline.names or stage == "simulate":
            names = ", ".join(n for n in pipeline.names if n != "simulate")
            raise ThasError(
                f"--phil {spec!r}: give it as STAGE:NAME=VALUE with STAGE one of {names}\n"
                "e.g. --phil integrate:profile.gaussian_rs.min_spots.overall=20"
            )
        by_stage.setdefault(stage, []).append(token)
    for stage, tokens in by_stage.items():
        old = config.extra.get(stage, [])
        config.set_extra(stage, with_fix(old, tuple(tokens)) if replace else old + tokens)


async def _ask_on_terminal(solutions: list[BravaisSolution]) -> int | None:
    """Headless Bravais choice: print the table and read a number from the terminal."""
    from thas_tui.core.stage_info import format_bravais_table, recommended_solution

    rec = recommended_solution(solutions)
    print(format_bravais_table(solutions), flush=True)
    valid = {s.solution for s in solutions}
    while True:
        answer = await asyncio.to_thread(
            input, f"Bravais solution [{rec.solution}] (Enter = recommended, q = stop): "
        )
        answer = answer.strip()
        if not answer:
            return rec.solution
        if answer.lower() in ("q", "quit"):
            return None
        if answer.isdigit() and int(answer) in valid:
            return int(answer)
        print(f"Not a solution number: {answer!r}. Choose one of {sorted(valid)}.", flush=True)


def launch_run(args: argparse.Namespace) -> int:
    """``thas-tui demo`` and ``thas-tui run``."""
    _, config, pipeline, dials, workdir = build_run(args)
    lock = _take_lock(workdir)
    try:
        return _launch(args, config, pipeline, dials, workdir)
    finally:
        lock.release()


def _take_lock(workdir: Path):
    """Become the directory's controller, or explain who is."""
    from thas_tui.core.lock import DirectoryLock

    lock = DirectoryLock(workdir)
    res = lock.acquire()
    if not res.acquired:
        h = res.holder
        who = f"thas-tui (pid {h.pid} on {h.host})" if h else "another thas-tui"
        raise ThasError(
            f"{workdir} is being processed by {who}.\n"
            f"Watch it with: thas-tui attach {workdir}\nor choose another --dir."
        )
    if res.took_over is not None:
        print(
            f"thas-tui: took over a stale lock of pid {res.took_over.pid} on {res.took_over.host} "
            "(no longer running)",
            file=sys.stderr,
        )
    return lock


def _launch(args, config: RunConfig, pipeline: Pipeline, dials: DialsEnv, workdir: Path) -> int:
    headless = args.no_tui or not sys.stdout.isatty()
    if headless:
        from thas_tui.headless import LinePrinter, run_headless

        if not args.no_tui:
            print("thas-tui: not a terminal: running headless (--no-tui)", file=sys.stderr)
        chooser = None
        names = pipeline.names
        needs_choice = config.until is None or names.index(config.until) > names.index(
            "refine_bravais_settings"
        )
        if not args.auto_bravais and needs_choice:
            if not sys.stdin.isatty():
                raise ThasError(
                    "A headless run without a terminal cannot ask for the Bravais solution.\n"
                    "Add --auto-bravais to take the recommended one."
                )
            chooser = _ask_on_terminal
        print(
            f"thas-tui: DIALS {dials.version} ({dials.bin_dir}); processing in {workdir}",
            flush=True,
        )
        executor = args.executor_settings
        orch = Orchestrator(workdir, config, dials, LinePrinter(), chooser, pipeline, executor)
        from thas_tui.core.run_control import keep_going

        keep_going(workdir, dials, executor)
        return run_headless(orch, config.until)
    hold_garbage()
    from thas_tui.app import ThasApp

    app = ThasApp(
        workdir=workdir,
        config=config,
        dials=dials,
        pipeline=pipeline,
        auto_bravais=args.auto_bravais,
        keeper=args.executor_settings.kind == "local",
        executor=args.executor_settings,
    )
    app.run()
    return app.return_code or 0


def attach(args: argparse.Namespace) -> int:
    """``thas-tui attach DIR``: show a processing directory as it is, live."""
    from thas_tui.core.lock import DirectoryLock
    from thas_tui.core.rundir import check_directory

    workdir = check_directory(args.dir)
    if not sys.stdout.isatty():
        raise ThasError(
            "attach needs a terminal to draw the dashboard.\n"
            f"For a plain-text report use: thas-tui summary {workdir}"
        )
    lock = DirectoryLock(workdir)
    res = lock.acquire()
    read_only = None
    if not res.acquired:
        h = res.holder
        read_only = f"read-only: controlled by pid {h.pid} on {h.host}" if h else "read-only"
    else:
        from thas_tui.core.unobserved import close_unobserved

        close_unobserved(workdir)  # a stage that ended while no one watched gets its end
    try:
        app = attach_app(workdir, getattr(args, "dials_dir", None), read_only)
        if res.took_over is not None:
            app.startup_notes.append(
                f"Took over a stale lock of pid {res.took_over.pid} on {res.took_over.host} "
                "(no longer running)."
            )
        app.run()
    finally:
        lock.release()
    return app.return_code or 0


def attach_app(workdir: Path, dials_dir: str | None, read_only: str | None = None, watch=True):
    """The dashboard of an existing directory, its state read from the files and the journal.
    DIALS's version is asked once the dashboard shows (``dials.version`` is a DIALS start-up)."""
    from thas_tui.core.watcher import pipeline_from_dir

    hold_garbage()
    dials = _dials_or_none(dials_dir)
    pipeline, _ = pipeline_from_dir(workdir)
    from thas_tui.app import ThasApp

    config = RunConfig(nproc=os.cpu_count() or 1)
    settings = _apply_settings(config, workdir, pipeline)
    from thas_tui.core.executor import ExecutorSettings

    # Resume (R) and re-run (e) go on with the executor the run was started with.
    executor = ExecutorSettings.from_json(settings.get("executor"))
    return ThasApp(
        workdir,
        config,
        dials,
        pipeline,
        autostart=False,
        watch=watch,
        read_only=read_only,
        keeper=executor.kind == "local",
        executor=executor,
    )


def hold_garbage() -> None:
    """No garbage collection until the dashboard has settled (``app.settle_garbage``).

    Building the dashboard makes ~200,000 objects, and Python's collector walked them all three
    times in its first second (12, 33 and 50 ms, the last in the middle of drawing a panel).
    """
    gc.disable()


def _apply_settings(config: RunConfig, workdir: Path, pipeline: Pipeline) -> dict:
    """The latest run's extra PHIL per stage, from the journal, so a resume keeps them."""
    from thas_tui.core.journal import Journal

    settings = Journal(workdir).last_settings() or {}
    for stage, tokens in (settings.get("extra") or {}).items():
        if stage in pipeline.names and isinstance(tokens, list):
            try:
                config.set_extra(stage, [str(t) for t in tokens])
            except ThasError:
                pass  # a journal edited by hand: run that stage with defaults
    return settings


def _dials_or_none(dials_dir: str | None) -> DialsEnv:
    """DIALS if found, its version still to ask; else a placeholder: watching needs no DIALS,
    only resuming does (and says so)."""
    try:
        return locate_dials(dials_dir)
    except ThasError:
        return NO_DIALS


def resume(args: argparse.Namespace) -> int:
    """``thas-tui resume DIR``: run the remaining stages headless (also what 'leave running' starts)."""
    from thas_tui.core.rundir import check_directory

    workdir = check_directory(args.dir)
    executor = None
    if getattr(args, "executor", None) is not None:
        from thas_tui.core.executor import settings_from_args

        executor = settings_from_args(args, workdir, list(STAGE_NAMES))
    return resume_dir(
        workdir,
        args.dials_dir,
        after_pid=args.after_pid,
        auto_bravais=args.auto_bravais,
        nproc=args.nproc,
        continue_run=args.continue_run,
        phil=getattr(args, "phil", []),
        executor=executor,
        until=getattr(args, "until", None),
    )


def resume_dir(
    workdir: Path,
    dials_dir: str | None,
    after_pid: int | None = None,
    auto_bravais: bool = False,
    nproc: int | None = None,
    continue_run: bool = False,
    phil: list[str] | None = None,
    executor=None,
    until: str | None = None,
) -> int:
    """Continue ``workdir`` from its first unfinished stage, with the run's PHIL settings
    and executor (``executor``, from --executor, wins over the run's; ``phil``:
    ``STAGE:NAME=VALUE`` options added to them, a name given replacing the run's).

    ``continue_run`` (the keeper and 'leave running') also keeps the interrupted run's
    ``--until``, ``--auto-bravais`` and ``--nproc``; a resume typed by hand goes to the end.
    """
    import time

    from thas_tui.core.lock import DirectoryLock
    from thas_tui.core.run_control import running_attempt_pid, wait_for_pid
    from thas_tui.core.watcher import pipeline_from_dir
    from thas_tui.headless import LinePrinter, run_headless

    dials = find_dials(dials_dir)
    after_pid = after_pid or running_attempt_pid(workdir)
    if after_pid:
        print(f"thas-tui: waiting for pid {after_pid} to finish its stage", flush=True)
        wait_for_pid(after_pid)
    lock = DirectoryLock(workdir)
    # The dashboard that started us releases the lock as it exits: give it a moment.
    for _ in range(20):
        res = lock.acquire()
        if res.acquired:
            break
        time.sleep(0.5)
    else:
        h = res.holder
        raise ThasError(f"{workdir} is controlled by pid {h.pid} on {h.host}: not resuming.")
    try:
        from thas_tui.core.unobserved import close_unobserved

        closed = close_unobserved(workdir)
        if closed is not None:
            print(f"thas-tui: {closed.stage}: {closed.unobserved}", flush=True)
        pipeline, _ = pipeline_from_dir(workdir)
        first = pipeline.first_unfinished()
        if first is None:
            print("thas-tui: every stage is done", flush=True)
            return 0
        if first.name == "import":
            raise ThasError(
                f"Nothing was imported in {workdir}: start with thas-tui run IMAGES --dir {workdir}"
            )
        config = RunConfig()
        settings = _apply_settings(config, workdir, pipeline)
        _apply_phil(config, pipeline, phil or [], replace=True)
        if continue_run:
            until = until or settings.get("until")
            auto_bravais = auto_bravais or bool(settings.get("auto_bravais"))
            nproc = nproc or settings.get("nproc")
        if until is not None and until in pipeline.names:
            if pipeline.index(first.name) > pipeline.index(until):
                print(
                    f"thas-tui: the run stopped after {until} as asked: nothing to do", flush=True
                )
                return 0
        config.nproc = int(nproc or os.cpu_count() or 1)
        chooser = None if auto_bravais else _stop_at_choice
        from thas_tui.core.executor import ExecutorSettings

        if executor is None:
            executor = ExecutorSettings.from_json(settings.get("executor"))
        print(
            f"thas-tui: resuming {workdir} at {first.name} (DIALS {dials.version}, "
            f"{executor.kind} executor)",
            flush=True,
        )
        orch = Orchestrator(workdir, config, dials, LinePrinter(), chooser, pipeline, executor)
        return run_headless(orch, until)
    finally:
        lock.release()


async def _stop_at_choice(solutions: list[BravaisSolution]) -> int | None:
    """Unattended and not --auto-bravais: leave the choice to the user (attach, then R)."""
    print(
        "thas-tui: waiting for your Bravais choice: open the directory with thas-tui attach DIR "
        "and press R to choose and continue",
        flush=True,
    )
    return None

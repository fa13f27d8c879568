"""Start, continue and keep a run going (either executor): resume, the keeper, a stage left running."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from thas_tui.core.commands import RunConfig
from thas_tui.core.dials_env import DialsEnv, find_dials
from thas_tui.core.errors import ThasError
from thas_tui.core.executor import ExecutorSettings
from thas_tui.core.journal import Journal, thas_dir
from thas_tui.core.lock import read_lock
from thas_tui.core.procs import pid_alive

_spawned: set[Path] = set()


def needs_keeper(executor: ExecutorSettings | None) -> bool:
    """Local stages are their controller's children: a detached keeper continues the run should
    it die. A chaining executor's run (Slurm) needs none: it goes on with no thas-tui process."""
    from thas_tui.core.executor import make_executor

    return not make_executor(executor or ExecutorSettings()).chains


def keep_going(workdir: Path, dials: DialsEnv, executor: ExecutorSettings | None = None) -> None:
    """What keeps a run going should its controller die (a keeper, where one is needed)."""
    if needs_keeper(executor):
        spawn_keeper(workdir, dials)


def wait_for_exit(pid: int, poll: float = 0.5) -> None:
    """Block until ``pid`` has ended (a pidfd where Linux has one: no polling delay)."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        try:
            select.select([fd], [], [])
        finally:
            os.close(fd)
        return
    while pid_alive(pid):
        time.sleep(poll)


def orphaned_run(workdir: Path, pid: int) -> dict | None:
    """The settings of the run ``pid`` was controlling when it died, if it left one unfinished.

    A dashboard that exits normally releases its lock and records the run's end (finished,
    failed, or stopped by the user); only a dashboard that died leaves both behind.
    """
    holder = read_lock(workdir)
    if holder is None or holder.pid != pid or holder.host != socket.gethostname():
        return None
    return Journal(workdir).open_run()


def spawn_keeper(workdir: Path, dials: DialsEnv) -> int | None:
    """Start the keeper for this process's run in ``workdir`` (once), detached from the terminal."""
    workdir = Path(workdir)
    if workdir in _spawned:
        return None
    _spawned.add(workdir)
    argv = [
        sys.executable,
        "-m",
        "thas_tui",
        "keep",
        str(workdir),
        "--pid",
        str(os.getpid()),
        "--dials-dir",
        str(dials.bin_dir),
    ]
    try:
        return spawn_detached(workdir, argv)
    except OSError:
        return None  # without a keeper the run still works; it just cannot outlive a SIGKILL


def spawn_detached(workdir: Path, argv: list[str]) -> int:
    """Start ``argv`` in its own session (no terminal to lose), output to thas-tui/driver.log."""
    log = thas_dir(workdir) / "driver.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=str(workdir),
        )
    return proc.pid


def spawn_resume(workdir: Path, after_pid: int | None, auto_bravais: bool, dials: DialsEnv) -> int:
    """Start ``thas-tui resume`` detached (own session, output to thas-tui/driver.log)."""
    argv = [
        sys.executable,
        "-m",
        "thas_tui",
        "resume",
        str(workdir),
        "--dials-dir",
        str(dials.bin_dir),
    ]
    if after_pid:
        argv += ["--after-pid", str(after_pid), "--continue-run"]
    if auto_bravais:
        argv.append("--auto-bravais")
    return spawn_detached(workdir, argv)


def wait_for_pid(pid: int, poll: float = 1.0) -> None:
    while pid_alive(pid):
        time.sleep(poll)


def running_attempt_pid(workdir: Path) -> int | None:
    """The pid of a stage started here and still running (a dashboard left or lost it)."""
    attempt = Journal(workdir).unfinished_attempt()
    if attempt is None or not attempt.pid:
        return None
    if attempt.host and attempt.host != socket.gethostname():
        try:
            recent = time.time() - os.stat(attempt.log).st_mtime < 300
        except OSError:
            recent = False
        if recent:
            raise ThasError(
                f"{attempt.stage} was started on {attempt.host} and has not ended: "
                f"resume it there, or watch it with thas-tui attach {workdir}"
            )
        return None
    return attempt.pid if pid_alive(attempt.pid) else None


# -- continuing a run ------------------------------------------------------------------------
def apply_saved_settings(config: RunConfig, workdir: Path, pipeline) -> dict:
    """The latest run's extra PHIL per stage, from the journal, so a resume keeps them; the
    run's settings (until, auto_bravais, nproc, executor) are returned."""
    settings = Journal(workdir).last_settings() or {}
    for stage, tokens in (settings.get("extra") or {}).items():
        if stage in pipeline.names and isinstance(tokens, list):
            try:
                config.set_extra(stage, [str(t) for t in tokens])
            except ThasError:
                pass  # a journal edited by hand: run that stage with defaults
    return settings


def apply_phil(config: RunConfig, pipeline, specs: list[str], replace: bool = False) -> None:
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


def continue_run(
    workdir: Path,
    dials_dir: str | None,
    emit,
    run: Callable[..., int],
    say: Callable[[str], None],
    after_pid: int | None = None,
    auto_bravais: bool = False,
    nproc: int | None = None,
    continue_run: bool = False,
    phil: list[str] | None = None,
    executor: ExecutorSettings | None = None,
    until: str | None = None,
) -> int:
    """Continue ``workdir`` from its first unfinished stage, with the run's PHIL settings and
    executor (``executor``, from --executor, wins over the run's; ``phil``: ``STAGE:NAME=VALUE``
    options added to them, a name given replacing the run's), as this directory's controller.

    ``continue_run`` (the keeper and 'leave running') also keeps the interrupted run's
    ``--until``, ``--auto-bravais`` and ``--nproc``; a resume typed by hand goes to the end.
    ``emit`` receives the run's events, ``run(orchestrator, until)`` drives it (the headless
    printer) and ``say`` prints a line; the exit code is ``run``'s, or 0 with nothing to do."""
    from thas_tui.core.lock import DirectoryLock
    from thas_tui.core.orchestrator import Orchestrator
    from thas_tui.core.unobserved import close_unobserved
    from thas_tui.core.watcher import pipeline_from_dir

    dials = find_dials(dials_dir)
    after_pid = after_pid or running_attempt_pid(workdir)
    if after_pid:
        say(f"thas-tui: waiting for pid {after_pid} to finish its stage")
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
        closed = close_unobserved(workdir)
        if closed is not None:
            say(f"thas-tui: {closed.stage}: {closed.unobserved}")
        pipeline, _ = pipeline_from_dir(workdir)
        first = pipeline.first_unfinished()
        if first is None:
            say("thas-tui: every stage is done")
            return 0
        if first.name == "import":
            raise ThasError(
                f"Nothing was imported in {workdir}: start with thas-tui run IMAGES --dir {workdir}"
            )
        config = RunConfig()
        settings = apply_saved_settings(config, workdir, pipeline)
        apply_phil(config, pipeline, phil or [], replace=True)
        if continue_run:
            until = until or settings.get("until")
            auto_bravais = auto_bravais or bool(settings.get("auto_bravais"))
            nproc = nproc or settings.get("nproc")
        if until is not None and until in pipeline.names:
            if pipeline.index(first.name) > pipeline.index(until):
                say(f"thas-tui: the run stopped after {until} as asked: nothing to do")
                return 0
        config.nproc = int(nproc or os.cpu_count() or 1)
        if executor is None:
            executor = ExecutorSettings.from_json(settings.get("executor"))

        async def stop_at_choice(solutions) -> int | None:
            """Unattended and not --auto-bravais: leave the choice to the user (attach, R)."""
            say(
                "thas-tui: waiting for your Bravais choice: open the directory with thas-tui "
                "attach DIR and press R to choose and continue"
            )
            return None

        say(
            f"thas-tui: resuming {workdir} at {first.name} (DIALS {dials.version}, "
            f"{executor.kind} executor)"
        )
        chooser = None if auto_bravais else stop_at_choice
        orch = Orchestrator(workdir, config, dials, emit, chooser, pipeline, executor)
        return run(orch, until)
    finally:
        lock.release()

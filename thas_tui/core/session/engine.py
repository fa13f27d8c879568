"""The session's engine: watches the data directory, spot-checks new images, queues processing."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from thas_tui.core import master_check
from thas_tui.core.dials_env import DialsEnv
from thas_tui.core.errors import ThasError
from thas_tui.core.pipeline import STAGE_NAMES
from thas_tui.core.procs import pid_alive
from thas_tui.core.session import discovery
from thas_tui.core.session.model import (
    CBF_SETTLE,
    Dataset,
    DState,
    Pending,
    decide,
    file_complete,
    pick_next,
)
from thas_tui.core.session.spot_server import ImageStats, SpotServer

STATE_DIR = ".thas-session"  # under the processing root: the session's own memory
TICK = 0.5  # s between completeness checks of files seen growing
OLD_S = 120.0  # s since its last write after which a file found at start is complete
# What a master file's check may say that stops DIALS reading its images at all (a file still
# being written is "locked", "truncated" or "missing" for a while: that is collecting).
NEXUS_BLOCKING = {
    "filter",
    "not_hdf5",
    "not_nexus",
    "data_file",
    "no_data",
    "no_dataset",
    "unreadable",
    "unopenable",
}
NEXUS_RETRY = 2.0  # s before a master file still open for writing is checked again


@dataclass
class SessionConfig:
    """What the user asked of a session."""

    data_dir: Path
    proc_root: Path
    idle: float = 60.0  # s without a new image before a sweep counts as complete
    settle: float = 1.0  # s a file's size must hold before it is read
    jobs: int = 1  # datasets processed at once
    nproc: int | None = None  # per DIALS program of a processing run
    live_spots: bool = True
    spot_nproc: int = 1  # images analysed at once by dials.find_spots_server
    autoprocess: bool = True
    run_args: list[str] = field(default_factory=list)  # extra `thas-tui run` options


class SessionEngine:
    """Everything a session knows; ``version`` grows with every change a view should show."""

    def __init__(
        self, config: SessionConfig, dials: DialsEnv, say: Callable[[str], None] | None = None
    ) -> None:
        self.config = config
        self.dials = dials
        self.say = say or (lambda text: None)
        self.sweeps: dict[str, discovery.SweepFiles] = {}
        self.datasets: dict[str, Dataset] = {}
        self.pending: dict[str, Pending] = {}
        self.paused = False
        self.notes: list[str] = []  # session-wide trouble (data directory unreadable, ...)
        self.version = 0
        self._to_analyse: list[tuple[str, int]] = []  # (dataset key, image number), newest last
        self._server: SpotServer | None = None
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._memory = self.config.proc_root / STATE_DIR / "state.json"
        self._dirty = False
        self._last_save = 0.0
        self._remembered: dict = {}
        self.folders: list[str] = []  # watched, one by one
        self.scanning = False
        # Processing directories whose results are still to be read (off the event loop).
        self._to_read: list[str] = []

    # ----- commands (from a view or the keyboard) -----
    def changed(self, ds: Dataset | None = None) -> None:
        self.version += 1
        self._dirty = True
        if ds is not None:
            ds.rev += 1

    def skip(self, key: str) -> None:
        ds = self.datasets[key]
        ds.skipped = not ds.skipped
        if not ds.skipped and ds.state is DState.SKIPPED:
            ds.state = DState.COLLECTING
        decide(ds, time.time(), self.config.idle)
        self.say(f"{ds.name}: {'skipped' if ds.skipped else 'no longer skipped'}")
        self.changed(ds)

    def force(self, key: str) -> None:
        """Process a held dataset anyway (images missing in the middle), or again if it failed."""
        ds = self.datasets[key]
        if ds.state is DState.FAILED:
            ds.state, ds.reason = DState.QUEUED, ""
        ds.force = True
        decide(ds, time.time(), 0.0)
        self.changed(ds)
        self._wake.set()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.say("queue paused" if paused else "queue resumed")
        self.changed()
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def shutdown(self) -> None:
        """Stop the spot-finding server now (also when ``run`` was cancelled, not stopped)."""
        if self._server is not None:
            self._server.stop()

    # ----- discovery -----
    def _dataset_for(self, sweep: discovery.SweepFiles, now: float) -> Dataset:
        ds = self.datasets.get(sweep.key)
        if ds is None:
            ds = Dataset(sweep, self.config.proc_root / sweep.name, now, 0.0)
            self.datasets[sweep.key] = ds
            self.say(f"new dataset {sweep.name}: {sweep.master or sweep.template.pattern}")
            self._adopt_existing(ds)
            self.changed(ds)
        return ds

    def _adopt_existing(self, ds: Dataset) -> None:
        """A processing directory left by an earlier session: its run's state, not a new run."""
        remembered = self._remembered.get(ds.name, {})
        ds.skipped = bool(remembered.get("skipped"))
        for num, stats in (remembered.get("spots") or {}).items():
            try:
                ds.spots[int(num)] = ImageStats("", stats[0], stats[1], stats[2])
            except (TypeError, ValueError, IndexError):
                continue
        journal = ds.proc_dir / "thas-tui" / "journal.jsonl"
        if not journal.is_file():
            return
        from thas_tui.core.lock import read_lock

        holder = read_lock(ds.proc_dir)
        if holder is not None and pid_alive(holder.pid):
            ds.state, ds.pid = DState.PROCESSING, holder.pid
            return
        # Processed by an earlier session: its results are read off the event loop.
        ds.state, ds.reason = DState.PROCESSING, "reading earlier results"
        self._to_read.append(ds.files.key)

    def _add_path(self, path: str, now: float) -> None:
        master = discovery.master_of(path)
        if master is not None:
            # An EIGER data file: its frames are counted once it is complete. One that comes
            # before its master file is taken when the master file is (_master_ready).
            if master in self.datasets:
                self.pending.setdefault(path, Pending(-1, now))
            return
        sweep = discovery.add(self.sweeps, path, str(self.config.data_dir))
        if sweep is None:
            return
        self._dataset_for(sweep, now)
        self.pending.setdefault(path, Pending(-1, now))

    def _remove_path(self, path: str) -> None:
        sweep = discovery.remove(self.sweeps, path)
        self.pending.pop(path, None)
        if sweep is None or sweep.key not in self.datasets:
            return
        ds = self.datasets[sweep.key]
        key, _, number, _ = discovery.classify(path)
        if number is not None and number in ds.ready:
            ds.ready.discard(number)
            self.changed(ds)

    def initial_scan(self) -> None:
        """Every image present at start (one walk); the folders to watch."""
        self._remembered = self._load_memory()
        now = time.time()
        self._adopt_scan(discovery.scan(self.config.data_dir, now, OLD_S), now)

    def _adopt_scan(self, scanned: tuple[dict, list[str]], now: float) -> None:
        found, self.folders = scanned
        for sweep in found.values():
            self.sweeps[sweep.key] = sweep
            ds = self._dataset_for(sweep, now)
            recent = {n: t for n, t in sweep.found.items() if now - t < OLD_S}
            for number in recent:
                self.pending[sweep.master or sweep.template.path(number)] = Pending(-1, now)
            # Untouched for minutes: written long ago, no detector is writing them now.
            old = [t for t in sweep.found.values() if now - t >= OLD_S]
            if old:
                ds.last_new = max(old)
                if sweep.master:
                    self._master_ready(ds, now)
                else:
                    ds.ready.update(n for n in sweep.numbers if n not in recent)
            if self.config.live_spots:
                self._to_analyse.extend(
                    (sweep.key, n) for n in sorted(ds.ready) if n not in ds.spots
                )
            sweep.found = {}

    # ----- completeness -----
    def check_pending(self, now: float) -> None:
        """Files seen growing: those that have settled become images to use."""
        done = [
            p for p in list(self.pending) if file_complete(p, self.pending, self.config.settle, now)
        ]
        for path in done:
            key, _, number, master = discovery.classify(path)
            data_of = discovery.master_of(path)
            ds = self.datasets.get(data_of or key)
            if ds is None:
                continue
            if data_of is not None:
                ds.data_complete.add(os.path.basename(path))
                ds.nexus_check = True
            elif master is not None:
                self._master_ready(ds, now)
            elif number is not None and number not in ds.ready:
                ds.ready.add(number)
                if self.config.live_spots and number not in ds.spots:
                    self._to_analyse.append((key, number))
            # When it was written, not when we noticed: a sweep already complete at start
            # needs no idle wait; an image that turns up late starts the clock again.
            try:
                ds.last_new = max(ds.last_new, os.stat(path).st_mtime)
            except OSError:
                ds.last_new = max(ds.last_new, now)
            self.changed(ds)
        for ds in self.datasets.values():
            before = (ds.state, ds.reason)
            decide(ds, now, self.config.idle)
            if (ds.state, ds.reason) != before:
                if ds.state is DState.WAITING or ds.state is DState.QUEUED:
                    self.say(
                        f"{ds.name}: {ds.state.value}" + (f": {ds.reason}" if ds.reason else "")
                    )
                self.changed(ds)

    # ----- NeXus: frames of complete data files -----
    def _master_ready(self, ds: Dataset, now: float) -> None:
        """A complete master file: checked, and its data files on disk watched to completion."""
        ds.master_ready = True
        ds.nexus_check = True
        for path in discovery.data_files(ds.files.master or ""):
            if os.path.basename(path) not in ds.data_complete:
                self.pending.setdefault(path, Pending(-1, now))

    async def _nexus_loop(self) -> None:
        """Master files checked (under DIALS's Python) as their data files complete."""
        while not self._stop.is_set():
            todo = [d for d in self.datasets.values() if d.nexus_check]
            if not todo:
                await asyncio.sleep(0.2)
                continue
            for ds in todo:
                ds.nexus_check = False
                await self.check_nexus(ds)

    async def check_nexus(self, ds: Dataset) -> None:
        """The master file's image count, and the images of its complete data files made ready
        (queued for live spot finding): no frame is read before its data file is complete."""
        master = ds.files.master
        if master is None or not self.dials.python:
            return
        reports = await master_check.run_check(self.dials.python, [master])
        if not reports:
            ds.problem = f"{os.path.basename(master)} could not be checked with h5py"
            self.changed(ds)
            return
        r = reports[0]
        if any(p.get("kind") == "locked" and p.get("file") == master for p in r.problems):
            # The detector still has the master file open: looked at again shortly.
            asyncio.get_running_loop().call_later(NEXUS_RETRY, setattr, ds, "nexus_check", True)
        complete = set(ds.data_complete)
        if ds.master_ready:
            complete.add(os.path.basename(master))
        # A data file still being written can look like anything: only complete files count.
        blocking = [
            p
            for p in r.problems
            if p.get("kind") in NEXUS_BLOCKING
            and (not p.get("file") or os.path.basename(str(p["file"])) in complete)
        ]
        problem = ""
        if blocking:
            text = master_check.problem_text(master_check.MasterReport(master, problems=blocking))
            problem = (text or "").replace("\n", " ")
        new: set[int] = set()
        for name, (lo, hi) in r.frame_ranges.items():
            if os.path.basename(name) in complete:
                new.update(range(lo, hi + 1))
        new -= ds.ready
        if r.n_images == ds.n_expected and problem == ds.problem and not new:
            return
        ds.n_expected, ds.problem = r.n_images, problem
        if new:
            ds.ready.update(new)
            if self.config.live_spots:
                self._to_analyse.extend((ds.files.key, n) for n in sorted(new))
            of = f" of {ds.n_expected}" if ds.n_expected else ""
            self.say(f"{ds.name}: images {min(new)}–{max(new)} complete ({ds.n_present}{of})")
        if problem:
            self.say(f"{ds.name}: {problem}")
        self.changed(ds)

    # ----- live spot finding -----
    async def _analyse_loop(self) -> None:
        """Newest image first: a dying crystal shows at once; older images fill in when idle."""
        if not self.config.live_spots:
            return
        while not self._stop.is_set():
            if not self._to_analyse:
                # A sweep is being collected: the server starts now, so that its first
                # complete image (an EIGER's first data file comes seconds after the master
                # file) does not wait for a DIALS start-up too.
                if self._server is None and any(
                    d.state is DState.COLLECTING for d in self.datasets.values()
                ):
                    if not await self._start_server():
                        return
                await self._sleep(0.2)
                continue
            key, number = self._to_analyse.pop()
            ds = self.datasets.get(key)
            if ds is None or number in ds.spots:
                continue
            if ds.state in (DState.DONE, DState.FAILED, DState.SKIPPED) or ds.reason.startswith(
                "reading"
            ):
                continue  # processed already: its spots are in its strong.refl
            if self._server is None and not await self._start_server():
                return
            if ds.files.master is not None:
                stats = await asyncio.to_thread(self._server.analyse, ds.files.master, number)
            elif ds.files.template is not None:
                stats = await asyncio.to_thread(
                    self._server.analyse, ds.files.template.path(number)
                )
            else:
                continue
            ds.spots[number] = stats
            if stats.error:
                self.say(f"{ds.name}: image {number}: {stats.error}")
            self.changed(ds)

    async def _start_server(self) -> bool:
        """dials.find_spots_server started; False (live counts off, said) when it cannot be."""
        log = self.config.proc_root / STATE_DIR / "find_spots_server.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        self._server = SpotServer(self.dials.bin_dir, self.config.spot_nproc, log)
        try:
            await asyncio.to_thread(self._server.start)
        except ThasError as exc:
            self._note(f"live spot counts off: {exc}")
            self.config.live_spots = False
            return False
        return True

    # ----- processing -----
    def _run_argv(self, ds: Dataset) -> list[str]:
        argv = [sys.executable, "-m", "thas_tui", "run", *ds.image_paths()]
        argv += ["--dir", str(ds.proc_dir), "--no-tui", "--auto-bravais"]
        argv += ["--dials-dir", str(self.dials.bin_dir)]
        if self.config.nproc:
            argv += ["--nproc", str(self.config.nproc)]
        return argv + list(self.config.run_args)

    def start_processing(self, ds: Dataset) -> None:
        from thas_tui.core.run_control import spawn_detached

        ds.proc_dir.mkdir(parents=True, exist_ok=True)
        ds.pid = spawn_detached(ds.proc_dir, self._run_argv(ds))
        ds.state, ds.reason, ds.stage, ds.stage_n = DState.PROCESSING, "", None, 0
        self.say(f"{ds.name}: processing {ds.n_present} images in {ds.proc_dir}")
        self.changed(ds)

    async def _follow(self, ds: Dataset) -> None:
        """A processing dataset: which stage it is at, and whether its run has ended."""
        from thas_tui.core.journal import Journal

        j = Journal(ds.proc_dir)
        attempt = j.unfinished_attempt()
        stage = attempt.stage if attempt is not None else None
        if stage and stage != ds.stage:
            ds.stage = stage
            ds.stage_n = STAGE_NAMES.index(stage) + 1 if stage in STAGE_NAMES else 0
            self.changed(ds)
        if ds.pid and not pid_alive(ds.pid):
            await self._finish(ds)

    async def _finish(self, ds: Dataset) -> None:
        """Read a finished (or stopped) run's results from its processing directory."""
        from thas_tui.core.summary import collect

        ds.pid, ds.stage = None, None
        try:
            facts = await asyncio.to_thread(collect, ds.proc_dir)
        except (ThasError, OSError) as exc:
            ds.state, ds.reason = DState.FAILED, str(exc).splitlines()[0]
            self.changed(ds)
            return
        ds.results.update(result_fields(facts))
        failed = next(
            ((n, s) for n, s in facts.get("stages", {}).items() if s.get("state") == "failed"),
            None,
        )
        if failed is not None:
            name, st = failed
            ds.state = DState.FAILED
            ds.reason = f"{name} failed: " + (st.get("failure") or "see its log").splitlines()[0]
        elif all(s.get("state") == "done" for s in facts.get("stages", {}).values()):
            ds.state, ds.reason = DState.DONE, ""
        else:
            unfinished = next(
                (n for n, s in facts.get("stages", {}).items() if s.get("state") != "done"), "?"
            )
            ds.state, ds.reason = DState.FAILED, f"stopped before {unfinished}"
        self.say(f"{ds.name}: {ds.state.value}" + (f": {ds.reason}" if ds.reason else ""))
        self.changed(ds)

    def schedule(self) -> None:
        """Start the newest queued datasets while slots are free and the queue runs."""
        if self.paused or not self.config.autoprocess:
            return
        running = sum(1 for d in self.datasets.values() if d.state is DState.PROCESSING)
        while running < self.config.jobs:
            ds = pick_next(list(self.datasets.values()))
            if ds is None:
                return
            try:
                self.start_processing(ds)
            except OSError as exc:
                ds.state, ds.reason = DState.FAILED, f"could not start: {exc.strerror or exc}"
                self.changed(ds)
                continue
            running += 1

    # ----- loops -----
    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except asyncio.TimeoutError:
            pass
        self._wake.clear()

    async def _watch_loop(self) -> None:
        """New and deleted files, batched by watchfiles (no polling of thousands of files).

        Each folder is watched on its own, not recursively: a recursive watch walks every file
        under the root at its start (seconds for a visit of 100,000 images, in the event loop).
        A new folder restarts the watch with it.
        """
        import watchfiles

        root = str(self.config.data_dir)
        while not self._stop.is_set():
            if not os.path.isdir(root):
                self._note(f"data directory {root} is not reachable: retrying every 5 s")
                await self._sleep(5.0)
                continue
            restart = asyncio.Event()
            folders = [f for f in self.folders if os.path.isdir(f)] or [root]
            try:
                async for changes in watchfiles.awatch(
                    *folders,
                    stop_event=_Either(self._stop, restart),
                    debounce=200,
                    step=50,
                    recursive=False,
                ):
                    now = time.time()
                    for change, path in changes:
                        if change == watchfiles.Change.deleted:
                            self._remove_path(path)
                        elif os.path.isdir(path):
                            if path not in self.folders and not os.path.basename(path).startswith(
                                "."
                            ):
                                self._new_folder(path, now)
                                restart.set()
                        else:
                            self._add_path(path, now)
                    self._wake.set()
            except (OSError, RuntimeError) as exc:
                self._note(f"watching {root} failed ({exc}): retrying in 5 s")
                await self._sleep(5.0)
                self._rescan()

    def _new_folder(self, path: str, now: float) -> None:
        """A folder made during the session (a new sample): watched from now, and what it holds
        already is taken, since files written before its watch starts send no event."""
        found, folders = discovery.scan(path, now, OLD_S)
        for folder in folders:
            if folder not in self.folders:
                self.folders.append(folder)
        for sweep in found.values():
            for n in sweep.numbers:
                self._add_path(sweep.template.path(n), now)
            if sweep.master:
                self._add_path(sweep.master, now)

    def _rescan(self) -> None:
        """After a lost watch: files that came while nobody watched."""
        now = time.time()
        found, self.folders = discovery.scan(self.config.data_dir, now, OLD_S)
        for sweep in found.values():
            for n in sweep.numbers:
                path = sweep.template.path(n)
                if n not in self.datasets.get(sweep.key, _NO_DATASET).ready:
                    self._add_path(path, now)

    async def _tick_loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self._tick()
            except Exception as exc:  # noqa: BLE001 - one bad tick must not stop the session
                self._note(f"session error ({type(exc).__name__}: {exc}): retrying")
                await self._sleep(5.0)

    async def _guarded(self, loop) -> None:
        """Run ``loop`` until the session stops; an error is said and the loop started again
        (a loop that died in silence left a session that looked alive and did nothing)."""
        while not self._stop.is_set():
            try:
                await loop()
                return
            except Exception as exc:  # noqa: BLE001
                self._note(f"session error ({type(exc).__name__}: {exc}): retrying in 5 s")
                await self._sleep(5.0)

    async def _tick(self) -> None:
        """One round: files settled, results read, runs followed, the queue served."""
        now = time.time()
        self.check_pending(now)
        while self._to_read:
            ds = self.datasets.get(self._to_read.pop())
            if ds is not None:
                await self._finish(ds)
        for ds in list(self.datasets.values()):
            if ds.state is DState.PROCESSING and ds.pid:
                await self._follow(ds)
        self.schedule()
        self._save_memory(now)
        # Files just seen are checked again soon: their second look makes them usable.
        await self._sleep(CBF_SETTLE + 0.05 if self.pending else TICK)

    async def run(self) -> None:
        """Until ``stop()``: discovery, completeness, live spots and the processing queue."""
        self.config.proc_root.mkdir(parents=True, exist_ok=True)
        self._remembered = self._load_memory()
        now = time.time()
        # The walk of a large visit takes a while: off the event loop, so the screen shows.
        self.scanning = True
        self._adopt_scan(
            await asyncio.to_thread(discovery.scan, self.config.data_dir, now, OLD_S), now
        )
        self.scanning = False
        self.changed()
        tasks = [
            asyncio.create_task(self._guarded(self._watch_loop)),
            asyncio.create_task(self._tick_loop()),
            asyncio.create_task(self._guarded(self._analyse_loop)),
            asyncio.create_task(self._guarded(self._nexus_loop)),
        ]
        try:
            await self._stop.wait()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._server is not None:
                await asyncio.to_thread(self._server.stop)
            self._save_memory(time.time(), force=True)

    def all_settled(self) -> bool:
        """Every dataset done, failed, skipped or held, and nothing left to analyse."""
        final = (DState.DONE, DState.FAILED, DState.SKIPPED, DState.WAITING)
        return (
            bool(self.datasets)
            and all(d.state in final for d in self.datasets.values())
            and not self._to_analyse
        )

    # ----- memory across sessions -----
    def _note(self, text: str) -> None:
        if not self.notes or self.notes[-1] != text:
            self.notes.append(text)
            self.say(text)
            self.changed()

    def _load_memory(self) -> dict:
        try:
            data = json.loads(self._memory.read_text())
        except (OSError, ValueError):
            return {}
        return data.get("datasets", {}) if isinstance(data, dict) else {}

    def _save_memory(self, now: float, force: bool = False) -> None:
        """Skips and spot counts, so a restarted session neither re-analyses nor forgets."""
        if not self._dirty or (not force and now - self._last_save < 5.0):
            return
        data = {
            "data_dir": str(self.config.data_dir),
            "datasets": {
                ds.name: {
                    "skipped": ds.skipped,
                    "spots": {
                        n: [s.n_spots, s.n_spots_no_ice, s.d_min] for n, s in ds.spots.items()
                    },
                }
                for ds in self.datasets.values()
            },
        }
        try:
            self._memory.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._memory.with_suffix(".tmp")
            tmp.write_text(json.dumps(data))
            os.replace(tmp, self._memory)
        except OSError as exc:
            self._note(f"cannot save the session's state in {self._memory}: {exc.strerror or exc}")
        self._dirty = False
        self._last_save = now


def result_fields(facts: dict) -> dict:
    """What a session row shows of a processing directory's ``summary --json``."""
    out: dict = {}
    sym = facts.get("symmetry") or {}
    ref = facts.get("refine") or facts.get("index") or {}
    if sym.get("space_group"):
        out["space_group"] = sym["space_group"]
    elif ref.get("space_group"):
        out["space_group"] = ref["space_group"]
    if ref.get("unit_cell"):
        out["unit_cell"] = [round(float(v), 2) for v in ref["unit_cell"]]
    overall = (facts.get("scale") or {}).get("overall") or {}
    for key in ("d_min", "cc_half", "completeness", "multiplicity", "i_over_sigma"):
        if overall.get(key) is not None:
            out[key] = overall[key]
    fs = facts.get("find_spots") or {}
    if fs.get("n_spots") is not None:
        out["n_spots"] = fs["n_spots"]
    return out


class _Either:
    """Set when either event is: stops watchfiles on a stop or on a new folder to watch."""

    def __init__(self, a: asyncio.Event, b: asyncio.Event) -> None:
        self.a, self.b = a, b

    def is_set(self) -> bool:
        return self.a.is_set() or self.b.is_set()

    def set(self) -> None:  # watchfiles sets its stop event when it is cancelled
        self.b.set()


class _NoDataset:
    ready: frozenset[int] = frozenset()


_NO_DATASET = _NoDataset()

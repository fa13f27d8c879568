"""The main dashboard: stage tree, progress, log and panels; runs the pipeline in a worker."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Label

from thas_tui.core import stage_info
from thas_tui.core.commands import BadParameter, RunConfig
from thas_tui.core.dials_env import NO_DIALS, VERSION_PENDING, DialsEnv, with_version
from thas_tui.core.errors import ThasError
from thas_tui.core.executor import ExecutorSettings
from thas_tui.core.orchestrator import (
    BravaisChosen,
    Event,
    Orchestrator,
    PipelineFinished,
    StageFinished,
    StageOnNode,
    StageOutput,
    StageProgress,
    StageQueued,
    StagesChanged,
    StageStarted,
)
from thas_tui.core.pipeline import Pipeline, State
from thas_tui.core.readers.bravais import BravaisSolution
from thas_tui.core.watcher import DirectoryWatcher
from thas_tui.screens.bravais_picker import BravaisPicker
from thas_tui.screens.quit_dialog import QuitDialog
from thas_tui.widgets.frame import FRAME, until_next
from thas_tui.widgets.image_view import ImageView
from thas_tui.widgets.log_pane import LogPane
from thas_tui.widgets.results_tabs import PANELS_OF_STAGE, ResultsTabs
from thas_tui.widgets.run_header import RunHeader
from thas_tui.widgets.stage_detail import StageDetail
from thas_tui.widgets.stage_progress import StageProgress as ProgressWidget
from thas_tui.widgets.stage_tree import StageTree


class PipelineEvent(Message):
    """A core pipeline event, carried up from the worker to the screen."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


TREE_TICK = 5
# Seconds after the dashboard is up (start-up settled, SETTLE_AFTER in app.py) or DIALS has said
# its version, to start the image helper, so that the image view opens at once;
# THAS_IMAGE_PREFETCH=0 waits for the view.
PREFETCH_AFTER = 1.0


class DashboardScreen(Screen):
    """Everything about one processing directory, live."""

    BINDINGS = [
        Binding("q", "request_quit", "Quit"),
        Binding("l", "show_tab('log')", "Log"),
        Binding("s", "show_tab('spots')", "Spots"),
        Binding("r", "show_tab('rmsd')", "RMSD"),
        Binding("p", "show_tab('cell')", "Cell plots"),
        Binding("i", "show_tab('integration')", "Integration", show=False),
        Binding("y", "show_tab('symmetry')", "Symmetry", show=False),
        Binding("m", "show_tab('merging')", "Merging"),
        Binding("L", "show_tab('lattice')", "Lattice", show=False),
        Binding("c", "cancel_stage", "Cancel stage"),
        Binding("question_mark", "help", "Help"),
        Binding("R", "resume", "Resume"),
        Binding("f", "follow", "Follow running"),
        Binding("e", "edit_rerun", "Edit & re-run"),
        Binding("F", "fix_rerun", "Fix & re-run", show=False),
        # j/k move in the stage tree (what e, a and Enter act on) from wherever the focus is
        # (the image view keeps its own k); the arrows move in the focused part. S (no pane
        # uses it) takes the focus back to the tree.
        Binding("S", "focus_tree", "Stages"),
        Binding("j", "tree_move('down')", "Next stage", show=False),
        Binding("k", "tree_move('up')", "Previous stage", show=False),
        Binding("a", "attempts", "Attempts"),
        Binding("v", "show_tab('image')", "Image"),
        Binding("z", "full_screen", "Full screen"),
        Binding("C", "compare", "Compare", show=False),
    ]

    def __init__(
        self,
        workdir: Path,
        config: RunConfig,
        dials: DialsEnv,
        pipeline: Pipeline,
        auto_bravais: bool = False,
        ascii_only: bool = False,
        autostart: bool = True,
        watch: bool = False,
        read_only: str | None = None,
        keeper: bool = False,
        executor: ExecutorSettings | None = None,
    ) -> None:
        super().__init__()
        self.read_only = read_only
        self.executor = executor or ExecutorSettings()
        # A detached keeper finishes the run should this dashboard be killed (launch sets it).
        self.keeper = keeper
        self.autostart = autostart
        self.watch = watch
        self.watcher: DirectoryWatcher | None = None
        self.workdir = workdir
        self.config = config
        self.dials = dials
        self.pipeline = pipeline
        self.auto_bravais = auto_bravais
        self.ascii_only = ascii_only
        self.orchestrator: Orchestrator | None = None
        self.follow = True
        # The tabs follow the running stage (spots during find_spots) until the user picks one.
        self.auto_tabs = True
        self.finished: PipelineFinished | None = None
        # What the app exits with: 0 when every stage succeeded, 1 after a failure.
        self.exit_code = 0

    def compose(self) -> ComposeResult:
        yield RunHeader(id="run-header")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield StageTree(self.pipeline, ascii_only=self.ascii_only, id="stage-tree")
                yield Label("", id="status")
                yield StageDetail(id="stage-detail")
            # The progress sits under the log, not under the tree: a screen update renders
            # every widget in the box around what changed, and the log and progress change
            # together every second; side by side with the log, that box held the stage tree.
            with Vertical(id="right"):
                yield ResultsTabs(ascii_only=self.ascii_only, id="panels")
                yield ProgressWidget(id="stage-progress")
        yield Footer()

    def on_mount(self) -> None:
        header = self.query_one(RunHeader)
        header.dials_version = self.dials.version
        if self.dials.version == VERSION_PENDING:
            self._ask_dials_version()
        header.workdir = str(self.workdir)
        header.dataset = stage_info.dataset_label(self.workdir) or _dataset_label(self.config)
        if self.read_only:
            header.running = self.read_only
        self.query_one(ProgressWidget).set_class(True, "-idle")
        self.query_one("#status", Label).display = False
        self.query_one(StageTree).focus()
        self._schedule_tick()
        self.load_panels()
        if self.dials.version != VERSION_PENDING:
            self._schedule_prefetch()  # else once DIALS has said its version (_set_dials)
        if self.autostart:
            self.run_pipeline()
        else:
            self._show_latest_log()
            if self.watch:
                self.watch_directory()

    @work(thread=True, exclusive=True, group="dials-version")
    def _ask_dials_version(self) -> None:
        try:
            dials = with_version(self.dials)
        except ThasError as exc:
            self.app.call_from_thread(self._no_usable_dials, str(exc))
        else:
            self.app.call_from_thread(self._set_dials, dials)

    def _set_dials(self, dials: DialsEnv) -> None:
        self.dials = dials
        self.query_one(RunHeader).dials_version = dials.version
        self._schedule_prefetch()

    def _schedule_prefetch(self) -> None:
        # After start-up and after dials.version (a DIALS start-up too): not competing with them.
        if os.environ.get("THAS_IMAGE_PREFETCH", "1") != "0":
            self.set_timer(PREFETCH_AFTER, self.prefetch_images)

    def _no_usable_dials(self, why: str) -> None:
        self._set_dials(NO_DIALS)
        self.notify(why, title="DIALS", severity="warning", timeout=10)

    def on_resize(self, event) -> None:
        self.set_class(self.size.width < 120, "-narrow")

    def _show_latest_log(self) -> None:
        """Opening a directory: show the running stage, else the last one that ran."""
        run = self.pipeline.running or next(
            (r for r in reversed(list(self.pipeline)) if r.state is not State.PENDING), None
        )
        if run is None:
            return
        self.query_one(StageTree).select_stage(run.name)
        self.query_one(StageDetail).show(run)
        self.query_one(LogPane).show_stage(run.name, run.log_path or _dials_log(self.workdir, run))

    def _refresh_detail(self, stage: str) -> None:
        if self.query_one(StageTree).selected_stage == stage:
            self.query_one(StageDetail).show(self.pipeline[stage])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Resume belongs to a watched directory; a run in progress has nothing to resume.
        if action == "resume":
            return self.watch and not self.read_only
        return True

    def _schedule_tick(self) -> None:
        # On the live panes' beat (widgets/frame.py), so that the clock lands in their update.
        self.set_timer(until_next(FRAME), self._tick)

    def _tick(self) -> None:
        self._schedule_tick()
        self._ticks += 1
        # A screen update renders every widget inside the box around all that changed, and
        # an update of the top or left of the screen is a box around the whole of it (the
        # stage tree, a DataTable, re-renders every row for any cell). So the clock that
        # ticks every second is the progress row's, under the log; the tree, the detail and
        # the header tick every TREE_TICK s.
        self.query_one(ProgressWidget).tick()
        if self._ticks % TREE_TICK == 0:
            self.query_one(StageTree).refresh_running()
            selected = self.query_one(StageTree).selected_stage
            if selected and self.pipeline[selected].state is State.RUNNING:
                self.query_one(StageDetail).show(self.pipeline[selected])
            self.query_one(RunHeader).tick()

    _ticks = 0

    # -- the worker ----------------------------------------------------------------------------
    @work(exclusive=True, group="pipeline")
    async def run_pipeline(self, start: str | None = None) -> None:
        self.query_one(RunHeader).started = time.time()
        if self.keeper and not self.read_only:
            from thas_tui.core.run_control import keep_going

            keep_going(self.workdir, self.dials, self.executor)
        self.orchestrator = Orchestrator(
            self.workdir,
            self.config,
            self.dials,
            self._emit,
            None if self.auto_bravais else self._choose_bravais,
            self.pipeline,
            self.executor,
        )
        try:
            await self.orchestrator.run(start=start, stop_after=self.config.until)
        except ThasError as exc:  # Slurm down, or a job refused at submit: Slurm's own words
            self._status(f"[b]Not submitted[/b]: {exc}")
            self.notify(str(exc), title="Slurm", severity="error", timeout=15)
            self.exit_code = 1
        if self.watch:
            # Back to watching: later changes (a stage re-run by hand) still show up.
            self.watch_directory()

    @work(group="panels")
    async def load_panels(self, panels: tuple[str, ...] | None = None) -> None:
        tabs = self.query_one(ResultsTabs)
        problems = await (
            tabs.load(self.workdir) if panels is None else tabs.load(self.workdir, panels)
        )
        for problem in problems:
            self.notify(problem, title="Could not read a result", severity="warning")

    @work(exclusive=True, group="watch")
    async def watch_directory(self) -> None:
        """Follow a directory processed by someone else (a shell, a cluster node, a detached run)."""
        from thas_tui.core.slurm_chain import open_chain

        # Slurm jobs of this directory still queued or running: their state from squeue.
        self.slurm = await asyncio.to_thread(open_chain, self.workdir, self.pipeline, self._emit)
        if self.slurm is not None:
            await self.slurm.follow()
            self.slurm = None
        self.watcher = DirectoryWatcher(self.workdir, self.pipeline, self._emit)
        await self.watcher.run()

    slurm = None

    def action_resume(self) -> None:
        """Continue a watched directory from its first unfinished stage, as its controller."""
        if self.read_only:
            self.notify(f"This dashboard is {self.read_only}.", severity="warning")
            return
        running = self.pipeline.running
        if running is not None:
            self.notify(f"{running.spec.title} is running: wait for it, or cancel it first.")
            return
        first = self.pipeline.first_unfinished()
        if first is None:
            self.notify("Every stage is done.")
            return
        if first.name == "import" and not self.config.images:
            self.notify(
                "Nothing has been imported here: start with thas-tui run IMAGES --dir "
                f"{self.workdir}",
                severity="warning",
            )
            return
        if self.dials.version == "not found":
            self.notify("DIALS is not installed: cannot run stages.", severity="error")
            return
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        self.run_pipeline()

    def on_unmount(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()

    def _emit(self, event: Event) -> None:
        self.post_message(PipelineEvent(event))

    async def _choose_bravais(self, solutions: list[BravaisSolution]) -> int | None:
        sweeps = stage_info.bravais_sweep_count(self.workdir)
        return await self.app.push_screen_wait(BravaisPicker(solutions, sweeps))

    # -- events up from the worker -----------------------------------------------------------
    def on_pipeline_event(self, message: PipelineEvent) -> None:
        event = message.event
        tree = self.query_one(StageTree)
        log = self.query_one(LogPane)
        if isinstance(event, StageOutput):
            log.append(event.stage, event.lines)
            if event.stage == "find_spots":
                self.query_one(ResultsTabs).feed_live_spots(event.lines)
        elif isinstance(event, StageProgress):
            self.query_one(ProgressWidget).update_progress(event.stage, event.progress)
        elif isinstance(event, StageOnNode):
            tree.refresh_stage(event.stage)
            self._refresh_detail(event.stage)
        elif isinstance(event, StageQueued):
            tree.refresh_stage(event.stage)
            self._refresh_detail(event.stage)
            if event.never_clears:
                self.notify(
                    f"Slurm job {event.job_id} will never start: {event.reason}. "
                    "Press c to cancel it.",
                    title=f"{event.stage} queued",
                    severity="warning",
                    timeout=10,
                )
        elif isinstance(event, StageStarted):
            tree.refresh_stage(event.stage)
            self._refresh_detail(event.stage)
            self.query_one(RunHeader).running = self.pipeline[event.stage].spec.title
            self.query_one(ProgressWidget).start(event.stage, self.pipeline[event.stage].started)
            if event.stage == "find_spots":
                self.query_one(ResultsTabs).start_live_spots(self.workdir)
            if self.auto_tabs and self.follow:
                self.query_one(ResultsTabs).active = (
                    "spots" if event.stage == "find_spots" else "log"
                )
            if self.follow:
                tree.select_stage(event.stage)
                self.query_one(StageDetail).show(self.pipeline[event.stage])
                log.stage = event.stage
                log.clear()
                log.border_title = f"log · {event.stage} (live)"
                log.border_subtitle = event.log_path
        elif isinstance(event, StageFinished):
            tree.refresh_stage(event.stage)
            self._refresh_detail(event.stage)
            self.query_one(ProgressWidget).finish()
            self.query_one(RunHeader).running = ""
            if event.failure is not None and event.run.state in (State.FAILED, State.CANCELLED):
                self._fix = (event.stage, event.failure.fix) if event.failure.fix else None
                word = "failed" if event.run.state is State.FAILED else "cancelled"
                self._status(f"[b]{event.stage} {word}[/b]: {event.failure.text()}")
                self.notify(
                    event.failure.reason,
                    title=f"{event.stage} {word}",
                    severity="error",
                    timeout=10,
                )
            if log.stage == event.stage:
                log.border_title = f"log · {event.stage}"
            if event.stage == "import" and event.run.state is State.DONE:
                label = stage_info.dataset_label(self.workdir)
                if label:
                    self.query_one(RunHeader).dataset = label
            if event.run.state is State.DONE and event.stage in PANELS_OF_STAGE:
                self.load_panels(PANELS_OF_STAGE[event.stage])
            if event.run.state is State.DONE:
                self.query_one(ImageView).files_changed(event.stage)
                if event.stage == "import":
                    self._schedule_prefetch()
        elif isinstance(event, StagesChanged):
            tree.sync_rows()
        elif isinstance(event, BravaisChosen):
            how = "recommended, chosen automatically" if event.auto else "chosen"
            self.notify(
                f"{event.lattice}: Bravais solution {event.solution} ({how}), cb_op {event.cb_op}"
            )
        elif isinstance(event, PipelineFinished):
            self.finished = event
            self.query_one(RunHeader).finished = time.time()
            self.exit_code = 0 if event.ok else 1
            if event.ok:
                self._status("[b]Pipeline finished[/b]: merged.mtz written.")

    def _status(self, markup: str) -> None:
        status = self.query_one("#status", Label)
        status.update(markup)
        status.display = bool(markup)

    # -- the user ------------------------------------------------------------------------------
    def on_stage_tree_stage_selected(self, message: StageTree.StageSelected) -> None:
        running = self.pipeline.running
        run = self.pipeline[message.stage]
        if running is not None and message.stage == running.name:
            self.follow = True
        elif running is not None:
            self.follow = False
        self.query_one(StageDetail).show(run)
        log = self.query_one(LogPane)
        if log.stage != message.stage:
            log.show_stage(message.stage, run.log_path or _dials_log(self.workdir, run))
        if message.opened:
            panels = PANELS_OF_STAGE.get(message.stage)
            self.action_show_tab(panels[-1] if panels and run.state is State.DONE else "log")

    def action_focus_tree(self) -> None:
        self.query_one(StageTree).focus()

    def action_tree_move(self, direction: str) -> None:
        tree = self.query_one(StageTree)
        if direction == "down":
            tree.action_cursor_down()
        else:
            tree.action_cursor_up()

    def action_show_tab(self, tab: str) -> None:
        self.auto_tabs = False
        tabs = self.query_one(ResultsTabs)
        if tab == "cell" and tabs.active == "cell":
            tabs.next_cell_experiment()  # several sweeps: p again shows the next experiment
        tabs.active = tab
        if tab == "image":
            self.open_image_view()

    def prefetch_images(self) -> None:
        """The image helper started, and the first image drawn, before the view is opened."""
        if self.dials.python and (self.workdir / "imported.expt").is_file():
            view = self.query_one(ImageView)
            if view.client is None:
                view.set_source(self.dials.python, self.workdir, self.read_only)
            view.prefetch()

    def open_image_view(self) -> None:
        """Show the images (the helper starts on first use) and give them the keys."""
        view = self.query_one(ImageView)
        view.set_source(self.dials.python, self.workdir, self.read_only)
        view.open()
        view.focus()

    def action_full_screen(self) -> None:
        """The shown pane takes the whole terminal, and back."""
        self.toggle_class("-full")

    def action_image_toggle(self, what: str) -> None:
        """A palette command of the image view: show it, then toggle ``what`` there."""
        if self.query_one(ResultsTabs).active != "image":
            self.action_show_tab("image")
        view = self.query_one(ImageView)
        if what == "threshold":
            view.action_threshold()
        elif what == "mask":
            view.action_mask()

    def on_image_view_threshold_to_find_spots(
        self, message: ImageView.ThresholdToFindSpots
    ) -> None:
        from thas_tui.screens.image_dialogs import Confirm, find_spots_tokens, merge_tokens

        tokens = merge_tokens(
            self.config.extra.get("find_spots", []), find_spots_tokens(message.params)
        )
        try:
            self.config.set_extra("find_spots", tokens)
        except BadParameter as exc:
            self.notify(str(exc), title="Not copied", severity="error")
            return
        self.notify("find_spots will run with: " + " ".join(find_spots_tokens(message.params)))

        def decided(yes: bool | None) -> None:
            if yes:
                self.rerun_from("find_spots")

        why = self._why_not_rerun("find_spots")
        if why is None:
            self.app.push_screen(
                Confirm(
                    "Re-run Find spots with these parameters now? The stages after it become stale.",
                    "Re-run",
                ),
                decided,
            )

    def on_image_view_mask_saved(self, message: ImageView.MaskSaved) -> None:
        """The mask editor wrote mask.phil: the Mask stage joins the run; offer to run it."""
        from thas_tui.screens.image_dialogs import Confirm

        stale = self.mask_saved()
        if stale:
            self.notify(f"Stale with the new mask: {', '.join(stale)}.", title="Mask")

        def decided(yes: bool | None) -> None:
            if yes:
                self.rerun_from("mask")

        if self._why_not_rerun("mask") is None:
            self.app.push_screen(
                Confirm(
                    "Run Mask now (dials.generate_mask, dials.apply_mask), then Find spots on "
                    "masked.expt and the stages after it?",
                    "Run",
                ),
                decided,
            )

    def leave_running(self) -> None:
        """The running stage goes on; a detached `thas-tui resume` runs the stages after it."""
        from thas_tui.core.run_control import spawn_resume

        running = self.pipeline.running
        if running is None or running.pid is None or self.read_only:
            return
        spawn_resume(self.workdir, running.pid, self.auto_bravais, self.dials)

    def action_help(self) -> None:
        from thas_tui.screens.help_screen import HelpScreen

        self.app.push_screen(HelpScreen())

    def action_follow(self) -> None:
        self.follow = True
        running = self.pipeline.running
        if running is not None:
            self.query_one(StageTree).select_stage(running.name)

    async def action_cancel_stage(self) -> None:
        running = self.pipeline.running
        chain = self.orchestrator.chain if self.orchestrator is not None else self.slurm
        if chain is not None and chain.open_jobs:
            # scancel of the running (or first queued) stage's job and every job after it.
            if self.read_only:
                self.notify(f"This dashboard is {self.read_only}.", severity="warning")
                return
            stage = running.name if running else chain.open_jobs[0].stage
            ids = await asyncio.to_thread(chain.cancel_from, stage)
            self.notify(f"scancel {' '.join(ids)}: {stage} and the stages after it.")
            return
        if running is None or self.orchestrator is None:
            self.notify("No stage is running.")
            return
        await self.orchestrator.cancel()

    def action_request_quit(self) -> None:
        running = self.pipeline.running
        # A stage we only watch (started elsewhere) is not ours to stop: just close.
        ours = self.orchestrator is not None and self.orchestrator.busy
        if running is None or running.state is State.WAITING or not ours:
            self.app.exit(return_code=self.exit_code)
            return

        async def decided(choice: str | None) -> None:
            if choice == "stop" and self.orchestrator is not None:
                await self.orchestrator.cancel()
                self.app.exit(return_code=130)
            elif choice == "leave":
                self.leave_running()
                self.app.exit(return_code=0)

        self.app.push_screen(QuitDialog(running.spec.title), decided)

    # -- re-running a stage with other parameters, and its earlier attempts ------------------
    def _why_not_rerun(self, stage: str | None) -> str | None:
        """Why ``stage`` cannot be re-run now (None: it can)."""
        if stage is None:
            return "Select a stage first."
        if self.read_only:
            return f"This dashboard is {self.read_only}."
        running = self.pipeline.running
        if running is not None:
            return f"{running.spec.title} is running: wait for it, or cancel it first."
        if stage == "simulate":
            return "The demo sweep has no DIALS parameters to change."
        if self.dials.version == "not found":
            return "DIALS is not installed: cannot run stages."
        for run in self.pipeline:
            if run.name == stage:
                break
            if run.state is not State.DONE and run.name != "simulate":
                return f"{run.spec.title} has not finished: run the stages before {stage} first."
        if stage == "mask" and not (self.workdir / "mask.phil").is_file():
            return "No mask.phil here: draw a mask in the image view and save it, or use --mask."
        if stage == "import" and not self.config.images:
            return "The images imported here are not known: start with thas-tui run IMAGES."
        return None

    _fix: tuple[str, tuple[str, ...]] | None = None

    def action_fix_rerun(self) -> None:
        """Re-run the stage that failed on a known DIALS limit with the parameters it names."""
        from thas_tui.core.failures import with_fix

        found = self._fix or self._fix_from_log()
        if found is None:
            self.notify("No failed stage with a known fix.", severity="warning")
            return
        stage, fix = found
        why = self._why_not_rerun(stage)
        if why:
            self.notify(why, severity="warning")
            return
        try:
            self.config.set_extra(stage, with_fix(self.config.extra.get(stage, []), fix))
        except BadParameter as exc:
            self.notify(str(exc), title="Not re-run", severity="error")
            return
        self._fix = None
        self.notify(f"re-running {stage} with {' '.join(fix)}")
        self.rerun_from(stage)

    def _fix_from_log(self) -> tuple[str, tuple[str, ...]] | None:
        """The known fix for a failed stage of an attached run, from the end of its log."""
        from thas_tui.core.failures import classify
        from thas_tui.core.journal import thas_dir
        from thas_tui.core.tail import tail_lines

        for run in self.pipeline:
            if run.state is not State.FAILED:
                continue
            # The attempt's own log first: it holds what DIALS printed only to stdout.
            own = thas_dir(self.workdir) / "logs" / f"{run.name}.{run.attempt}.log"
            for path in (own, run.log_path):
                try:
                    tail = tail_lines(path, 60) if path else []
                except OSError:
                    continue
                failure = classify(run.spec.program, run.exit_code or 1, tail) if tail else None
                if failure is not None and failure.fix:
                    return run.name, failure.fix
            return None
        return None

    def action_edit_rerun(self) -> None:
        """Edit the selected stage's extra PHIL parameters, then re-run it and what follows."""
        from thas_tui.core.journal import thas_dir
        from thas_tui.core.phil_params import list_params
        from thas_tui.screens.phil_editor import PhilEditor

        stage = self.query_one(StageTree).selected_stage
        why = self._why_not_rerun(stage)
        if why:
            self.notify(why, severity="warning")
            return
        assert stage is not None
        program = self.pipeline[stage].spec.program
        cache_dir = thas_dir(self.workdir) / "phil"

        def confirmed(tokens: list[str] | None) -> None:
            if tokens is None:
                return
            try:
                self.config.set_extra(stage, tokens)
            except BadParameter as exc:
                self.notify(str(exc), title="Not re-run", severity="error")
                return
            self.rerun_from(stage)

        self.app.push_screen(
            PhilEditor(
                stage,
                program,
                self.config.extra.get(stage, []),
                loader=lambda: list_params(program, self.dials, cache_dir),
            ),
            confirmed,
        )

    def rerun_from(self, stage: str) -> None:
        """Mark ``stage`` and everything after it stale, then run the pipeline from ``stage``."""
        why = self._why_not_rerun(stage)
        if why:
            self.notify(why, severity="warning")
            return
        self.pipeline[stage].state = State.STALE
        marked = [stage, *self.pipeline.invalidate_downstream(stage)]
        if self.pipeline.index(stage) <= self.pipeline.index("refine_bravais_settings"):
            # New Bravais settings: the earlier choice (and its cb_op) no longer applies.
            self.pipeline.bravais_choice = None
            self.pipeline.cb_op = None
        tree = self.query_one(StageTree)
        for name in marked:
            tree.refresh_stage(name)
        self.finished = None
        self._status("")
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        self.run_pipeline(start=stage)

    def mask_saved(self) -> list[str]:
        """A mask.phil was saved here (the mask editor): the Mask stage joins the pipeline (or
        is to run again), and find_spots and what follows are stale. Returns those stages;
        the caller offers to run (``rerun_from("mask")``)."""
        marked = self.pipeline.mask_changed()
        self.config.mask = True
        tree = self.query_one(StageTree)
        tree.sync_rows()
        for name in ["mask", *marked]:
            tree.refresh_stage(name)
        return marked

    def action_compare(self) -> None:
        """This directory and its earlier scale attempts side by side (screens/compare.py)."""
        from thas_tui.core.compare_inputs import directory_inputs
        from thas_tui.screens.compare import CompareScreen

        self.app.push_screen(
            CompareScreen(
                directory_inputs(self.workdir), workdir=self.workdir, ascii_only=self.ascii_only
            )
        )

    def action_attempts(self) -> None:
        """The selected stage's attempts from the journal; Enter shows one's log."""
        from thas_tui.core.journal import Journal
        from thas_tui.screens.attempts import AttemptsScreen

        stage = self.query_one(StageTree).selected_stage
        if stage is None:
            self.notify("Select a stage first.")
            return
        attempts = [a for a in Journal(self.workdir).attempts() if a.stage == stage]

        def chosen(attempt) -> None:
            if attempt is None:
                return
            self.follow = False
            self.action_show_tab("log")
            log = self.query_one(LogPane)
            log.show_stage(stage, attempt.log)
            log.border_title = f"log · {stage} · attempt {attempt.attempt}"

        self.app.push_screen(AttemptsScreen(stage, attempts, self.workdir), chosen)


def _dials_log(workdir: Path, run) -> str | None:
    if run.spec.log_name and (workdir / run.spec.log_name).exists():
        return str(workdir / run.spec.log_name)
    return None


def _dataset_label(config: RunConfig) -> str:
    if config.demo_preset:
        return f"demo sweep ({config.demo_preset})"
    if len(config.images) == 1:
        return Path(config.images[0]).name
    if config.images:
        return f"{Path(config.images[0]).name} … ({len(config.images)} files)"
    return ""

"""The Textual App: stylesheet, global bindings, and the dashboard screen."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
from collections.abc import Iterable
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from thas_tui.core.commands import RunConfig
from thas_tui.core.dials_env import DialsEnv
from thas_tui.core.pipeline import Pipeline
from thas_tui.screens.dashboard import DashboardScreen


def unicode_ok() -> bool:
    """Whether the terminal's encoding can show box and block glyphs."""
    if os.environ.get("THAS_ASCII"):
        return False
    enc = (
        os.environ.get("LC_ALL") or os.environ.get("LC_CTYPE") or os.environ.get("LANG") or ""
    ).upper()
    return not enc or "UTF-8" in enc or "UTF8" in enc


# Seconds after start-up (the first paint done, the screen built) to settle the garbage collector.
SETTLE_AFTER = 1.0


def settle_garbage() -> None:
    """Collect once, then exempt what is left from later full collections (``gc.freeze``), and
    collect again from then on (``launch.hold_garbage`` stops it while the dashboard is built).

    Python's full collection walks every object alive, and a Textual screen holds ~90,000
    after start-up: while DIALS floods the log, such 50-80 ms pauses were the tail of the
    key-press latency (benchmarks/README.md, *Live flood*). Walking only what was made since
    takes ~10 ms."""
    gc.collect()
    gc.freeze()
    gc.enable()


class ThasApp(App[int]):
    """thas-tui."""

    CSS_PATH = "thas.tcss"
    TITLE = "thas-tui"
    BINDINGS = [Binding("ctrl+c", "request_quit", "Quit", show=False, priority=True)]

    def __init__(
        self,
        workdir: Path,
        config: RunConfig,
        dials: DialsEnv,
        pipeline: Pipeline,
        auto_bravais: bool = False,
        autostart: bool = True,
        watch: bool = False,
        read_only: str | None = None,
        keeper: bool = False,
        executor=None,
    ) -> None:
        super().__init__()
        from thas_tui.widgets.image_graphics import answered

        answered()  # the terminal's answer read before Textual reads stdin
        # Over SSH every animation frame is bytes on the wire and a delay before the next key;
        # TEXTUAL_ANIMATIONS=full brings them back.
        if "TEXTUAL_ANIMATIONS" not in os.environ:
            self.animation_level = "none"
        self.startup_notes: list[str] = []
        self.dashboard = DashboardScreen(
            workdir,
            config,
            dials,
            pipeline,
            auto_bravais,
            ascii_only=not unicode_ok(),
            autostart=autostart,
            watch=watch,
            read_only=read_only,
            keeper=keeper,
            executor=executor,
        )

    def on_mount(self) -> None:
        if os.environ.get("THAS_ESCAPE_BACK"):
            # Opened from a session's table: Esc goes back to it, as q does.
            self.bind("escape", "request_quit", description="Back to the session")
        self.push_screen(self.dashboard)
        self._handle_hangup()
        for note in self.startup_notes:
            self.notify(note, severity="warning", timeout=10)
        self.set_timer(SETTLE_AFTER, settle_garbage)

    def action_request_quit(self) -> None:
        self.dashboard.action_request_quit()

    def _handle_hangup(self) -> None:
        """A dropped SSH connection: the processing goes on unattended, then we exit."""

        def on_hangup() -> None:
            self.dashboard.leave_running()
            self.exit(return_code=0)

        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, on_hangup)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not on the main thread (tests) or no SIGHUP on this platform

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        d = self.dashboard
        for tab, title in (
            ("log", "Log"),
            ("spots", "Spots per image"),
            ("rmsd", "RMSD tables"),
            ("cell", "Scan-varying cell plots"),
            ("integration", "Integration: sigma b, sigma m"),
            ("symmetry", "Symmetry: Laue groups, screw axes"),
            ("merging", "Merging statistics and Table 1"),
            ("lattice", "Lattice: spots in reciprocal space"),
        ):
            yield SystemCommand(
                f"Show {title}", f"Switch to the {title} panel", lambda t=tab: d.action_show_tab(t)
            )
        yield SystemCommand(
            "Image", "Show the diffraction images", lambda: d.action_show_tab("image")
        )
        yield SystemCommand(
            "Threshold pixels",
            "Toggle the strong pixels find_spots would find on the shown image",
            lambda: d.action_image_toggle("threshold"),
        )
        yield SystemCommand(
            "Mask", "Toggle the mask editor on the image", lambda: d.action_image_toggle("mask")
        )
        yield SystemCommand(
            "Full screen", "The shown pane takes the whole terminal, and back", d.action_full_screen
        )
        yield SystemCommand(
            "Follow running stage", "Show the running stage's log live", d.action_follow
        )
        yield SystemCommand(
            "Cancel running stage",
            "Stop the running DIALS process group",
            lambda: self.run_worker(d.action_cancel_stage()),
        )
        yield SystemCommand(
            "Edit & re-run stage",
            "Change the selected stage's DIALS parameters and run it again",
            d.action_edit_rerun,
        )
        yield SystemCommand(
            "Attempts of stage",
            "Earlier runs of the selected stage, and their logs",
            d.action_attempts,
        )
        yield SystemCommand(
            "Compare",
            "This directory's attempts, other runs, xia2 or aimless results side by side",
            d.action_compare,
        )
        yield SystemCommand("Help", "Every key binding", d.action_help)
        yield SystemCommand("Quit", "Quit thas-tui", d.action_request_quit)
        yield from super().get_system_commands(screen)

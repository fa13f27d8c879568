"""The session's Textual App: the session screen over a running session engine."""

from __future__ import annotations

import asyncio
import gc
import signal
import time

from textual import work
from textual.app import App

from thas_tui.app import settle_garbage, unicode_ok
from thas_tui.core.dials_env import DialsEnv
from thas_tui.core.session.engine import SessionConfig, SessionEngine
from thas_tui.screens.session import SessionScreen


class SessionApp(App[int]):
    """thas-tui session."""

    CSS_PATH = "thas.tcss"
    TITLE = "thas-tui session"

    # Longest the collector is held while the visit's first walk runs.
    HOLD_GARBAGE_S = 10.0

    def __init__(self, config: SessionConfig, dials: DialsEnv) -> None:
        # As the dashboard (launch.hold_garbage): no collection while the screen is built and
        # the visit walked; then one, and what is left frozen (settle_garbage). Unfrozen, each
        # full collection walked the screen's ~90,000 objects for 100-350 ms while images
        # arrived: the slowest key presses (benchmarks/README.md, Session).
        gc.disable()
        self._held = time.monotonic()
        super().__init__()
        self.animation_level = "none"
        self.engine = SessionEngine(config, dials)
        self.session_screen = SessionScreen(self.engine, ascii_only=not unicode_ok())

    def on_mount(self) -> None:
        self.push_screen(self.session_screen)
        self.run_engine()
        self._settle = self.set_interval(0.5, self._settle_when_walked)
        try:
            # A dropped SSH connection: the server stopped, not left running with no one to ask
            # (it runs in its own process group, so the hangup does not reach it).
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hangup)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not on the main thread (tests) or no SIGHUP on this platform

    def _hangup(self) -> None:
        self.engine.stop()
        self.exit(0)

    def _settle_when_walked(self) -> None:
        walked = not self.engine.scanning and self.engine.version > 0
        if walked or time.monotonic() - self._held > self.HOLD_GARBAGE_S:
            self._settle.stop()
            # After the next paint: the table of the walk's datasets is drawn first.
            self.call_after_refresh(settle_garbage)

    @work(exclusive=True, group="session")
    async def run_engine(self) -> None:
        await self.engine.run()

    async def action_quit(self) -> None:
        self.engine.stop()
        self.exit(0)

    def on_unmount(self) -> None:
        # The server runs in its own process group: it must not outlive the session.
        self.engine.shutdown()

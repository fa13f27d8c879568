"""The session's Textual App: the session screen over a running session engine."""

from __future__ import annotations

from textual import work
from textual.app import App

from thas_tui.app import unicode_ok
from thas_tui.core.dials_env import DialsEnv
from thas_tui.core.session.engine import SessionConfig, SessionEngine
from thas_tui.screens.session import SessionScreen


class SessionApp(App[int]):
    """thas-tui session."""

    CSS_PATH = "thas.tcss"
    TITLE = "thas-tui session"

    def __init__(self, config: SessionConfig, dials: DialsEnv) -> None:
        super().__init__()
        self.animation_level = "none"
        self.engine = SessionEngine(config, dials)
        self.session_screen = SessionScreen(self.engine, ascii_only=not unicode_ok())

    def on_mount(self) -> None:
        self.push_screen(self.session_screen)
        self.run_engine()

    @work(exclusive=True, group="session")
    async def run_engine(self) -> None:
        await self.engine.run()

    async def action_quit(self) -> None:
        self.engine.stop()
        self.exit(0)

    def on_unmount(self) -> None:
        # The server runs in its own process group: it must not outlive the session.
        self.engine.shutdown()

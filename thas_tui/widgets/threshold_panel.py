"""The image view's threshold side panel: find_spots' parameters chosen, stepped or typed in place."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from thas_tui.core import threshold_params as tp

WIDTH = 34
PANEL_STYLE = Style(color="#e0e0e0", bgcolor="#202838")
TITLE_STYLE = Style(color="#ffffff", bgcolor="#304060", bold=True)
CHOSEN_STYLE = Style(color="#000000", bgcolor="#80c0ff", bold=True)
TYPING_STYLE = Style(color="#000000", bgcolor="#ffd060", bold=True)
PROBLEM_STYLE = Style(color="#ffffff", bgcolor="#902020")
HINT_STYLE = Style(color="#a0a8b8", bgcolor="#202838")
HINTS = (
    "↑↓ choose  +/- or ←→ change",
    "enter type a value  esc close",
    "F use in find_spots",
)


@dataclass
class ThresholdPanel:
    """Which parameter is chosen and what is being typed; the parameters live in the view."""

    open: bool = False
    chosen: int = 0
    typing: str | None = None
    problem: str | None = None

    @property
    def name(self) -> str:
        return tp.NAMES[self.chosen]

    def choose(self, delta: int) -> None:
        self.chosen = (self.chosen + delta) % len(tp.NAMES)
        self.typing = None
        self.problem = None

    def problem_lines(self) -> list[str]:
        return textwrap.wrap(self.problem, WIDTH - 2) if self.problem else []

    def height(self) -> int:
        return 2 + len(tp.NAMES) + 1 + len(HINTS) + len(self.problem_lines())

    def line(self, row: int, params: dict, strong: str) -> Strip:
        """Row ``row`` of the panel (0 = its title)."""
        if row == 0:
            return _cells(" Threshold pixels", TITLE_STYLE)
        if row == 1:
            return _cells(f" {strong}", PANEL_STYLE)
        i = row - 2
        if i < len(tp.NAMES):
            name = tp.NAMES[i]
            if i == self.chosen and self.typing is not None:
                return _cells(f"▸{name:<17}{self.typing}▏", TYPING_STYLE)
            value = tp.text(name, params[name])
            if name == "algorithm":
                value = "extended" if value == "dispersion_extended" else value
            # The chosen one marked by a character too: NO_COLOR terminals drop the colours.
            if i == self.chosen:
                return _cells(f"▸{name:<17}{value}", CHOSEN_STYLE)
            return _cells(f" {name:<17}{value}", PANEL_STYLE)
        i -= len(tp.NAMES)
        if i == 0:
            return _cells("", PANEL_STYLE)
        i -= 1
        problem = self.problem_lines()
        if i < len(problem):
            return _cells(f" {problem[i]}", PROBLEM_STYLE)
        i -= len(problem)
        if i < len(HINTS):
            return _cells(f" {HINTS[i]}", HINT_STYLE)
        return _cells("", PANEL_STYLE)


def _cells(text: str, style: Style) -> Strip:
    text = text[:WIDTH].ljust(WIDTH)
    return Strip([Segment(text, style)], WIDTH)

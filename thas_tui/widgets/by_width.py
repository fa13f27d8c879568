"""A Rich renderable built for, and rendered once at, the width Textual gives it."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment


class ByWidth:
    """Renders ``build(width)`` once per width, however often it is asked.

    A widget of ``height: auto`` is rendered twice when it is laid out, once for its height and
    once to draw it: a table of Laue groups cost 16 ms each time. And ``build`` receives the
    width, so the widget need not ask for its own size during a layout (``Widget.size`` then
    computes the whole screen's map, 23 ms here).
    """

    def __init__(self, build: Callable[[int], RenderableType]) -> None:
        self._build = build
        self._lines: dict[int, list[list[Segment]]] = {}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        lines = self._lines.get(width)
        if lines is None:
            lines = console.render_lines(self._build(width), options.reset_height(), pad=False)
            self._lines[width] = lines
        newline = Segment.line()
        for line in lines:
            yield from line
            yield newline

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self._build(options.max_width))

"""Terminal-coloured text (plotext's output) straight to Textual strips, one style per escape run."""

from __future__ import annotations

import re

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

# plotext writes every run of cells as escape codes then text, and resets after each run.
_RUNS = re.compile(r"((?:\x1b\[[0-9;]*m)+)|([^\x1b]+)")
_RESET = "\x1b[0m"


class AnsiStrips:
    """Decodes SGR-coloured lines to strips, each distinct escape sequence parsed once.

    ``Text.from_ansi`` decodes every code of every run in Python, and Textual then converts the
    Text to its own content and back to segments: two thirds of a plot's drawing time. A plot
    uses a handful of colours, so the styles are parsed once (by Rich, so they mean what they
    meant before) and the rest is slicing.
    """

    def __init__(self) -> None:
        self._styles: dict[str, Style] = {"": Style()}

    def style(self, codes: str) -> Style:
        """The style the escape codes ``codes`` set from a reset state."""
        style = self._styles.get(codes)
        if style is None:
            text = Text.from_ansi(codes + "x")
            style = Style.combine(
                span.style for span in text.spans if isinstance(span.style, Style)
            )
            self._styles[codes] = style
        return style

    def strips(self, ansi: str, width: int, height: int, blank: Style | None = None) -> list[Strip]:
        """``height`` strips of ``width`` cells: the lines of ``ansi``, cropped or padded."""
        strips: list[Strip] = []
        style_of = self.style
        for line in ansi.split("\n")[:height]:
            segments: list[Segment] = []
            state = ""
            for codes, text in _RUNS.findall(line):
                if codes:
                    reset = codes.rfind(_RESET)
                    state = codes[reset + len(_RESET) :] if reset >= 0 else state + codes
                else:
                    segments.append(Segment(text, style_of(state)))
            strips.append(Strip(segments).adjust_cell_length(width, blank))
        while len(strips) < height:
            strips.append(Strip.blank(width, blank))
        return strips

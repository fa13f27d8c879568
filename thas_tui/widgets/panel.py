"""The base of the result panels: an ``ascii_only`` switch for terminals without Unicode."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widget import Widget


class Panel(Widget):
    """A result panel; the screen sets its data, it never reads files."""

    ascii_only: reactive[bool] = reactive(False)

    def __init__(
        self,
        *,
        ascii_only: bool = False,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's keyword
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.set_reactive(Panel.ascii_only, ascii_only)

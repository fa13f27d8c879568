"""Table of refinement RMSDs per macrocycle or step, with the trend between rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from thas_tui.widgets.by_width import ByWidth

EMPTY_MESSAGE = "no data yet — appears when index or refine finishes a cycle"
# Changes smaller than this (relative, averaged over x, y, z) read as "no change": DIALS stops
# refining when the RMSDs stop moving by about this much.
TREND_TOLERANCE = 0.005


@dataclass(frozen=True)
class RmsdRow:
    """One line of a refinement RMSD table (pixels for x/y, images for z)."""

    label: str
    nref: int | None
    rmsd_x: float | None
    rmsd_y: float | None
    rmsd_z: float | None


def trend(previous: RmsdRow, current: RmsdRow) -> str:
    """ "down", "up" or "same": the mean relative change of the RMSDs between two rows."""
    changes = [
        (new - old) / old
        for old, new in (
            (previous.rmsd_x, current.rmsd_x),
            (previous.rmsd_y, current.rmsd_y),
            (previous.rmsd_z, current.rmsd_z),
        )
        if old is not None and new is not None and old > 0
    ]
    if not changes:
        return "same"
    mean = sum(changes) / len(changes)
    if mean < -TREND_TOLERANCE:
        return "down"
    if mean > TREND_TOLERANCE:
        return "up"
    return "same"


GLYPHS = {"down": "↓", "up": "↑", "same": "="}
ASCII_GLYPHS = {"down": "v", "up": "^", "same": "="}


class RmsdTable(Widget):
    """RMSD x/y (px) and z (images) per refinement step, with ↓/↑/= between consecutive rows."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "rmsd-table--title",
        "rmsd-table--down",
        "rmsd-table--up",
        "rmsd-table--same",
        "rmsd-table--last",
        "rmsd-table--empty",
    }

    DEFAULT_CSS = """
    RmsdTable { height: auto; min-height: 3; }
    RmsdTable > .rmsd-table--title { text-style: bold; }
    RmsdTable > .rmsd-table--down { color: $success; }
    RmsdTable > .rmsd-table--up { color: $warning; }
    RmsdTable > .rmsd-table--same { color: $text-muted; }
    RmsdTable > .rmsd-table--last { text-style: bold; }
    RmsdTable > .rmsd-table--empty { color: $text-muted; text-style: italic; }
    """

    ascii_only: reactive[bool] = reactive(False)

    def __init__(
        self,
        title: str = "Refinement RMSDs",
        *,
        ascii_only: bool = False,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's keyword
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.set_reactive(RmsdTable.ascii_only, ascii_only)
        self._title = title
        self._rows: list[RmsdRow] = []

    def set_rows(self, rows: Iterable[RmsdRow | Sequence[object]]) -> None:
        """Show these rows; a tuple is (label, nref, rmsd_x px, rmsd_y px, rmsd_z images)."""
        self._rows = [row if isinstance(row, RmsdRow) else RmsdRow(*row) for row in rows]  # type: ignore[arg-type]
        # Height follows the number of rows.
        self.clear_cached_dimensions()
        self.refresh(layout=True)

    def _style(self, part: str):
        return self.get_component_rich_style(f"rmsd-table--{part}")

    def render(self) -> RenderableType:
        if not self._rows:
            return Text(EMPTY_MESSAGE, style=self._style("empty"))
        # Built at the width Textual lays it out at, and rendered once for that width.
        return ByWidth(self._build)

    def _build(self, width: int) -> RenderableType:
        glyphs = ASCII_GLYPHS if self.ascii_only else GLYPHS
        last = self._rows[-1]
        # Several experiments: the last step's rows ("refine … · expt N") add up.
        step = last.label.split(" · ")[0]
        final = [r for r in self._rows if r.label.split(" · ")[0] == step and r.nref is not None]
        total = sum(r.nref for r in final) if " · " in last.label else last.nref
        nref = f"{total:,} reflections" if total is not None else "reflections: –"
        title = Text(f"{self._title} — {nref}", style=self._style("title"), no_wrap=True)

        narrow = width < 60
        table = Table(
            box=box.ASCII2 if self.ascii_only else box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            padding=(0, 1),
            expand=False,
        )
        table.add_column(
            "step", no_wrap=True, overflow="ellipsis", max_width=18 if narrow else None
        )
        table.add_column("nref", justify="right")
        table.add_column("x (px)" if narrow else "RMSD x (px)", justify="right")
        table.add_column("y (px)" if narrow else "RMSD y (px)", justify="right")
        table.add_column("z (img)" if narrow else "RMSD z (images)", justify="right")
        table.add_column("", justify="center", width=1)
        # Trends compare a step with the one before it for the same experiment.
        previous_of: dict[str, RmsdRow] = {}
        for row in self._rows:
            key = row.label.split(" · ")[1] if " · " in row.label else ""
            previous = previous_of.get(key)
            if previous is None:
                mark = Text("")
            else:
                direction = trend(previous, row)
                mark = Text(glyphs[direction], style=self._style(direction))
            table.add_row(
                row.label,
                _fmt_int(row.nref),
                _fmt(row.rmsd_x),
                _fmt(row.rmsd_y),
                _fmt(row.rmsd_z),
                mark,
                style=self._style("last") if row is last else None,
            )
            previous_of[key] = row
        return Group(title, table)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _fmt_int(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"

"""dials.symmetry results: Laue group scores, screw-axis tests and the chosen space group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from thas_tui.widgets.by_width import ByWidth
from thas_tui.widgets.panel import Panel

EMPTY_MESSAGE = "no data yet — appears when symmetry finishes"
# dials.symmetry calls a screw axis present when its score exceeds this.
SCREW_PRESENT_SCORE = 0.95


@dataclass(frozen=True)
class LaueGroupScore:
    """One row of "Scoring all possible sub-groups"."""

    laue_group: str
    likelihood: float | None = None
    z_cc: float | None = None
    cc: float | None = None
    net_z: float | None = None
    delta: float | None = None
    reindex: str | None = None


@dataclass(frozen=True)
class ScrewAxisScore:
    """One row of the screw-axis table of "Analysing systematic absences"."""

    axis: str
    score: float | None = None
    n_present: int | None = None
    n_absent: int | None = None
    i_present: float | None = None
    i_absent: float | None = None
    i_sigma_present: float | None = None
    i_sigma_absent: float | None = None


# dials.symmetry.json's subgroup_scores use these names.
_LAUE_KEYS = {
    "patterson_group": "laue_group",
    "z_cc_for": "z_cc",
    "cc_for": "cc",
    "z_cc_net": "net_z",
    "max_angular_difference": "delta",
    "cb_op": "reindex",
}


def _coerce(cls: type, item: Any, aliases: Mapping[str, str] | None = None) -> Any:
    if isinstance(item, cls):
        return item
    if isinstance(item, Mapping):
        names = {f.name for f in fields(cls)}
        kwargs = {}
        for key, value in item.items():
            key = (aliases or {}).get(key, key)
            if key in names:
                kwargs[key] = value
        return cls(**kwargs)
    return cls(*item)


class SymmetryPanel(Panel):
    """Laue group likelihoods and screw-axis scores, the chosen group highlighted."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "symmetry-panel--title",
        "symmetry-panel--chosen",
        "symmetry-panel--present",
        "symmetry-panel--header",
        "symmetry-panel--empty",
    }

    DEFAULT_CSS = """
    SymmetryPanel { height: auto; min-height: 3; }
    SymmetryPanel > .symmetry-panel--title { text-style: bold; }
    SymmetryPanel > .symmetry-panel--chosen { color: $success; text-style: bold; }
    SymmetryPanel > .symmetry-panel--present { color: $success; }
    SymmetryPanel > .symmetry-panel--header { text-style: bold; color: $text-muted; }
    SymmetryPanel > .symmetry-panel--empty { color: $text-muted; text-style: italic; }
    """

    def __init__(
        self,
        *,
        ascii_only: bool = False,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's keyword
        classes: str | None = None,
    ) -> None:
        super().__init__(ascii_only=ascii_only, name=name, id=id, classes=classes)
        self._laue: list[LaueGroupScore] = []
        self._screw: list[ScrewAxisScore] | None = None
        self._space_group: str | None = None
        self._chosen: str | None = None

    def set_results(
        self,
        laue_groups: Sequence[LaueGroupScore | Mapping[str, Any] | Sequence[Any]],
        screw_axes: Sequence[ScrewAxisScore | Mapping[str, Any] | Sequence[Any]] | None = None,
        space_group: str | None = None,
        chosen_laue_group: str | None = None,
    ) -> None:
        """Laue group rows (dataclass, dict with dials.symmetry.json or field names, or tuple in
        field order), screw-axis rows (None: not tested), the final space group, and the chosen
        Laue group (default: the most likely)."""
        self._laue = [_coerce(LaueGroupScore, row, _LAUE_KEYS) for row in laue_groups]
        self._screw = (
            None if screw_axes is None else [_coerce(ScrewAxisScore, r) for r in screw_axes]
        )
        self._space_group = space_group
        if chosen_laue_group is None and self._laue:
            best = max(self._laue, key=lambda r: r.likelihood if r.likelihood is not None else -1)
            chosen_laue_group = best.laue_group
        self._chosen = chosen_laue_group
        # Height follows the number of rows.
        self.clear_cached_dimensions()
        self.refresh(layout=True)

    def _style(self, part: str):
        return self.get_component_rich_style(f"symmetry-panel--{part}")

    def _table(self) -> Table:
        return Table(
            box=box.ASCII2 if self.ascii_only else box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            padding=(0, 1),
            header_style=self._style("header"),
        )

    def render(self) -> RenderableType:
        if not self._laue and not self._space_group:
            return Text(EMPTY_MESSAGE, style=self._style("empty"))
        # Built at the width Textual lays it out at, and rendered once for that width.
        return ByWidth(self._build)

    def _build(self, width: int) -> RenderableType:
        ascii_only = self.ascii_only
        narrow = width < 70
        parts: list[RenderableType] = []
        if self._space_group:
            line = Text("Space group: ", style=self._style("title"))
            line.append(self._space_group, style=self._style("chosen"))
            if self._chosen:
                line.append(f"   (Laue group {self._chosen})")
            parts.append(line)
        if self._laue:
            table = self._table()
            table.add_column("", width=1)
            table.add_column("Laue group", no_wrap=True)
            for header in ("likelihood", "Z-CC", "CC", "net Z", "delta"):
                table.add_column(header, justify="right", no_wrap=True)
            if not narrow:
                table.add_column("reindex", no_wrap=True)
            for row in self._laue:
                chosen = row.laue_group == self._chosen
                cells = [
                    ("*" if ascii_only else "▶") if chosen else "",
                    row.laue_group,
                    _f(row.likelihood, 3),
                    _f(row.z_cc, 2),
                    _f(row.cc, 2),
                    _f(row.net_z, 2),
                    _f(row.delta, 1),
                ]
                if not narrow:
                    cells.append(row.reindex or "")
                table.add_row(*cells, style=self._style("chosen") if chosen else None)
            parts.append(Text("Laue group scores", style=self._style("title")))
            parts.append(table)
        if self._screw is not None:
            parts.append(Text("Screw axes", style=self._style("title")))
            if not self._screw:
                parts.append(Text("no absences to check for this Laue group"))
            else:
                sigma = "I/sig" if ascii_only else "I/σ"
                table = self._table()
                table.add_column("axis", no_wrap=True)
                table.add_column("score", justify="right")
                table.add_column("n pres" if narrow else "n present", justify="right")
                table.add_column("n abs" if narrow else "n absent", justify="right")
                open_, close = ("<", ">") if ascii_only else ("⟨", "⟩")
                table.add_column(f"{open_}I{close} pres/abs", justify="right", no_wrap=True)
                table.add_column(f"{open_}{sigma}{close} pres/abs", justify="right", no_wrap=True)
                for axis in self._screw:
                    present = axis.score is not None and axis.score > SCREW_PRESENT_SCORE
                    table.add_row(
                        axis.axis,
                        _f(axis.score, 2),
                        _i(axis.n_present),
                        _i(axis.n_absent),
                        f"{_g(axis.i_present)} / {_g(axis.i_absent)}",
                        f"{_f(axis.i_sigma_present, 1)} / {_f(axis.i_sigma_absent, 2)}",
                        style=self._style("present") if present else None,
                    )
                parts.append(table)
        return Group(*parts)


def _f(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _i(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def _g(value: float | None) -> str:
    # ⟨I⟩ spans 0.1 (absent) to thousands (present): keep 3–4 significant figures.
    if value is None:
        return "–"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"

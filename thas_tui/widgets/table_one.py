"""The crystallographer's "Table 1": overall, low- and high-resolution merging statistics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from thas_tui.widgets.by_width import ByWidth
from thas_tui.widgets.panel import Panel

EMPTY_MESSAGE = "no data yet — appears when scale finishes"

Triple = Sequence[object]

# (key, label, format, accepted spellings): the order and labels of dials.scale's
# "Summary of merging statistics", which is what people copy into their paper's Table 1.
ROWS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("completeness", "Completeness (%)", "{:.1f}", ("completeness",)),
    ("multiplicity", "Multiplicity", "{:.1f}", ("multiplicity", "redundancy")),
    ("i_over_sigma", "⟨I/σ(I)⟩", "{:.1f}", ("i_over_sigma", "i/sigma", "i_over_sigma_mean")),
    ("r_merge", "Rmerge(I)", "{:.3f}", ("r_merge", "rmerge(i)", "rmerge")),
    ("r_meas", "Rmeas(I)", "{:.3f}", ("r_meas", "rmeas(i)", "rmeas")),
    ("r_pim", "Rpim(I)", "{:.3f}", ("r_pim", "rpim(i)", "rpim")),
    ("cc_half", "CC½", "{:.3f}", ("cc_half", "cc half", "cc_one_half", "cc1/2")),
    (
        "anom_completeness",
        "Anomalous completeness (%)",
        "{:.1f}",
        ("anom_completeness", "anomalous completeness"),
    ),
    (
        "anom_multiplicity",
        "Anomalous multiplicity",
        "{:.1f}",
        ("anom_multiplicity", "anomalous multiplicity"),
    ),
    ("cc_anom", "CC anom", "{:.3f}", ("cc_anom", "anomalous correlation", "cc anom")),
    ("n_obs", "Total observations", "{:,.0f}", ("n_obs", "total observations")),
    ("n_unique", "Total unique", "{:,.0f}", ("n_unique", "n_uniq", "total unique")),
)
D_MAX_KEYS = ("d_max", "low resolution limit", "low_resolution_limit")
D_MIN_KEYS = ("d_min", "high resolution limit", "high_resolution_limit")
RANGE_KEYS = ("resolution", "resolution range", "resolution_range")

ASCII_LABELS = {"⟨I/σ(I)⟩": "<I/sigma(I)>", "CC½": "CC1/2"}


def _key(name: str) -> str:
    return name.strip().lower()


class TableOne(Panel):
    """Summary of merging statistics in Overall / Low / High columns."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "table-one--title",
        "table-one--header",
        "table-one--empty",
    }

    DEFAULT_CSS = """
    TableOne { height: auto; min-height: 3; }
    TableOne > .table-one--title { text-style: bold; }
    TableOne > .table-one--header { text-style: bold; color: $text-muted; }
    TableOne > .table-one--empty { color: $text-muted; text-style: italic; }
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
        self._rows: list[tuple[str, tuple[str, str, str]]] = []

    def set_table(self, rows: Mapping[str, Triple]) -> None:
        """Row name → (overall, low, high); names as in dials.scale's summary or snake_case.

        The resolution row comes from "d_max"/"Low resolution limit" and
        "d_min"/"High resolution limit" (or a ready "resolution" row); unknown rows are shown
        after the known ones, and None shows as a dash.
        """
        given = {_key(k): tuple(v) for k, v in rows.items()}
        used: set[str] = set()
        out: list[tuple[str, tuple[str, str, str]]] = []

        d_max = next((given[k] for k in D_MAX_KEYS if k in given), None)
        d_min = next((given[k] for k in D_MIN_KEYS if k in given), None)
        ready = next((given[k] for k in RANGE_KEYS if k in given), None)
        used.update(k for k in (*D_MAX_KEYS, *D_MIN_KEYS, *RANGE_KEYS) if k in given)
        if ready is not None:
            out.append(("Resolution range (Å)", _three(ready, "{}")))
        elif d_max is not None or d_min is not None:
            lows = d_max or (None, None, None)
            highs = d_min or (None, None, None)
            out.append(
                (
                    "Resolution range (Å)",
                    tuple(_range(lo, hi) for lo, hi in zip(lows, highs, strict=False)),  # type: ignore[misc]
                )
            )
        for _key_name, label, fmt, aliases in ROWS:
            match = next((a for a in aliases if a in given), None)
            if match is None:
                continue
            used.add(match)
            out.append((label, _three(given[match], fmt)))
        for name, value in rows.items():
            if _key(name) not in used:
                out.append((name, _three(tuple(value), "{}")))
        self._rows = out
        # Height follows the number of rows.
        self.clear_cached_dimensions()
        self.refresh(layout=True)

    def _style(self, part: str):
        return self.get_component_rich_style(f"table-one--{part}")

    def render(self) -> RenderableType:
        if not self._rows:
            return Text(EMPTY_MESSAGE, style=self._style("empty"))
        # Built at the width Textual lays it out at, and rendered once for that width.
        return ByWidth(self._build)

    def _build(self, width: int) -> RenderableType:
        ascii_only = self.ascii_only
        table = Table(
            box=box.ASCII2 if ascii_only else box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            padding=(0, 1),
            header_style=self._style("header"),
        )
        table.add_column("", no_wrap=True)
        for column in ("Overall", "Low", "High"):
            table.add_column(column, justify="right", no_wrap=True)
        for label, values in self._rows:
            if ascii_only:
                label = ASCII_LABELS.get(label, label).replace("Å", "A")
                values = tuple(v.replace("–", "-") for v in values)  # type: ignore[assignment]
            table.add_row(label, *values)
        title = "Summary of merging statistics"
        return Group(Text(title, style=self._style("title")), table)


def _three(values: Triple, fmt: str) -> tuple[str, str, str]:
    padded = list(values) + [None] * (3 - len(values))
    return tuple(_fmt(v, fmt) for v in padded[:3])  # type: ignore[return-value]


def _fmt(value: object, fmt: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, int | float):
        try:
            return fmt.format(value)
        except ValueError:
            return str(value)
    return str(value)


def _range(low: object, high: object) -> str:
    if low is None and high is None:
        return "–"
    lo = "–" if low is None else f"{float(low):.2f}"  # type: ignore[arg-type]
    hi = "–" if high is None else f"{float(high):.2f}"  # type: ignore[arg-type]
    return f"{lo}–{hi}"

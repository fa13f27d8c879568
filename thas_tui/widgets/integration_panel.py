"""dials.integrate results: profile model (σb, σm), reflection counts and ⟨I/σ⟩ by resolution."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from thas_tui.widgets.by_width import ByWidth
from thas_tui.widgets.panel import Panel

EMPTY_MESSAGE = "no data yet — appears when integrate finishes"

# The processing tutorial reads a σm well under 0.1° as a well-ordered crystal with a good model.
SIGMA_M_GOOD = 0.075
SIGMA_M_HIGH = 0.1


@dataclass(frozen=True)
class IntegrationBin:
    """One resolution shell of dials.integrate's "Summary vs resolution"."""

    d_max: float | None
    d_min: float
    n: int | None
    i_sigma_sum: float | None
    i_sigma_prf: float | None


def judge_sigma_m(sigma_m: float) -> tuple[str, str]:
    """(verdict, state) for a mosaicity σm in degrees; state is good / fair / high."""
    if sigma_m < SIGMA_M_GOOD:
        return "good (well under 0.1°)", "good"
    if sigma_m < SIGMA_M_HIGH:
        return "acceptable (just under 0.1°)", "fair"
    return "high (0.1° or more): mosaic crystal, or check the refined model", "high"


class IntegrationPanel(Panel):
    """σb, σm with a verdict, integrated reflection counts and an optional table by resolution."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "integration-panel--title",
        "integration-panel--good",
        "integration-panel--fair",
        "integration-panel--high",
        "integration-panel--header",
        "integration-panel--empty",
    }

    DEFAULT_CSS = """
    IntegrationPanel { height: auto; min-height: 3; }
    IntegrationPanel > .integration-panel--title { text-style: bold; }
    IntegrationPanel > .integration-panel--good { color: $success; text-style: bold; }
    IntegrationPanel > .integration-panel--fair { color: $warning; text-style: bold; }
    IntegrationPanel > .integration-panel--high { color: $error; text-style: bold; }
    IntegrationPanel > .integration-panel--header { text-style: bold; color: $text-muted; }
    IntegrationPanel > .integration-panel--empty { color: $text-muted; text-style: italic; }
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
        self._sigma_b: float | None = None
        self._sigma_m: float | None = None
        self._n_sum: int | None = None
        self._n_prf: int | None = None
        self._bins: list[IntegrationBin] = []
        self._has_data = False

    _per_sweep: list[tuple] = []

    def set_results(
        self,
        sigma_b: float | None,
        sigma_m: float | None,
        n_summation: int | None,
        n_profile_fitted: int | None,
        bins: Sequence[IntegrationBin | Sequence[object]] | None = None,
        per_sweep: Sequence[Sequence[object]] = (),
    ) -> None:
        """σb and σm in degrees, reflections integrated by summation and by profile fitting,
        and optional shells (d_max, d_min, n, ⟨I/σ⟩ sum, ⟨I/σ⟩ prf), low resolution first;
        with several sweeps ``per_sweep`` rows (sweep, n sum, n prf, ⟨I/σ⟩ sum, ⟨I/σ⟩ prf)."""
        self._per_sweep = [tuple(r) for r in per_sweep]
        self._sigma_b, self._sigma_m = sigma_b, sigma_m
        self._n_sum, self._n_prf = n_summation, n_profile_fitted
        self._bins = [
            b if isinstance(b, IntegrationBin) else IntegrationBin(*b) for b in bins or ()
        ]  # type: ignore[arg-type]
        self._has_data = any(
            v is not None for v in (sigma_b, sigma_m, n_summation, n_profile_fitted)
        ) or bool(self._bins)
        # Height follows the number of rows.
        self.clear_cached_dimensions()
        self.refresh(layout=True)

    def _style(self, part: str):
        return self.get_component_rich_style(f"integration-panel--{part}")

    def render(self) -> RenderableType:
        if not self._has_data:
            return Text(EMPTY_MESSAGE, style=self._style("empty"))
        # Built at the width Textual lays it out at, and rendered once for that width.
        return ByWidth(self._build)

    def _build(self, width: int) -> RenderableType:
        ascii_only = self.ascii_only
        deg = " deg" if ascii_only else "°"
        sb, sm = ("sigma_b", "sigma_m") if ascii_only else ("σb", "σm")
        parts: list[RenderableType] = [Text("Integration", style=self._style("title"))]

        profile = Text()
        profile.append(f"{sb} (spot spread) ")
        profile.append("–" if self._sigma_b is None else f"{self._sigma_b:.3f}{deg}")
        profile.append(f"   {sm} (mosaicity) ")
        if self._sigma_m is None:
            profile.append("–")
        else:
            verdict, state = judge_sigma_m(self._sigma_m)
            if ascii_only:
                verdict = verdict.replace("°", " deg")
            profile.append(f"{self._sigma_m:.3f}{deg} ")
            profile.append(verdict, style=self._style(state))
        parts.append(profile)

        counts = Text("Integrated: ")
        counts.append("–" if self._n_prf is None else f"{self._n_prf:,}")
        counts.append(" profile-fitted, ")
        counts.append("–" if self._n_sum is None else f"{self._n_sum:,}")
        counts.append(" by summation")
        parts.append(counts)

        if len(self._per_sweep) > 1:
            sigma = "I/sig" if ascii_only else "I/σ"
            open_, close = ("<", ">") if ascii_only else ("⟨", "⟩")
            table = Table(
                box=box.ASCII2 if ascii_only else box.SIMPLE_HEAD,
                show_edge=False,
                pad_edge=False,
                padding=(0, 1),
                header_style=self._style("header"),
                title="per sweep (dials.integrate's summary for each experiment)",
                title_justify="left",
            )
            for name in ("sweep", "n sum", "n prf", f"{open_}{sigma}{close} sum"):
                table.add_column(name, justify="right", no_wrap=True)
            table.add_column(f"{open_}{sigma}{close} prf", justify="right", no_wrap=True)
            for sweep, n_sum, n_prf, isig_sum, isig_prf in self._per_sweep:
                table.add_row(str(sweep), _i(n_sum), _i(n_prf), _f(isig_sum), _f(isig_prf))
            parts.append(table)
        if self._bins:
            sigma = "I/sig" if ascii_only else "I/σ"
            open_, close = ("<", ">") if ascii_only else ("⟨", "⟩")
            dash = "-" if ascii_only else "–"
            table = Table(
                box=box.ASCII2 if ascii_only else box.SIMPLE_HEAD,
                show_edge=False,
                pad_edge=False,
                padding=(0, 1),
                header_style=self._style("header"),
            )
            if len(self._per_sweep) > 1:
                parts.append(Text("resolution shells of sweep 1"))
            table.add_column("d (A)" if ascii_only else "d (Å)", justify="right", no_wrap=True)
            table.add_column("n", justify="right")
            table.add_column(f"{open_}{sigma}{close} sum", justify="right")
            table.add_column(f"{open_}{sigma}{close} prf", justify="right")
            for b in self._bins:
                d = f"{b.d_min:.2f}" if b.d_max is None else f"{b.d_max:.2f}{dash}{b.d_min:.2f}"
                table.add_row(d, _i(b.n), _f(b.i_sigma_sum), _f(b.i_sigma_prf))
            parts.append(table)
        return Group(*parts)


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _i(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"

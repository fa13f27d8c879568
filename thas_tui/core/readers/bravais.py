"""Reader of dials.refine_bravais_settings' `bravais_summary.json` into Bravais-setting rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from thas_tui.core.readers._json import integer, load_json, num, wrong_shape
from thas_tui.core.readers.expt import cell_volume

_WHAT = "Bravais settings summary (bravais_summary.json)"
_PRODUCER = "dials.refine_bravais_settings"


@dataclass(frozen=True)
class BravaisSolution:
    """One candidate Bravais setting, as a row of DIALS's Bravais table."""

    solution: int
    bravais: str  # lattice symbol, e.g. "oP"
    metric_fit: float | None  # max_angular_difference, degrees
    rmsd: float | None
    min_cc: float | None
    max_cc: float | None
    nspots: int | None
    unit_cell: tuple[float, float, float, float, float, float] | None
    volume: float | None
    cb_op: str
    recommended: bool
    experiments_file: str  # bravais_setting_N.expt, written next to the summary
    correlation_coefficients: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class BravaisSummary:
    """All solutions, highest solution number (highest symmetry) first, as DIALS prints them."""

    path: Path
    solutions: tuple[BravaisSolution, ...]

    @property
    def recommended(self) -> tuple[BravaisSolution, ...]:
        return tuple(s for s in self.solutions if s.recommended)

    @property
    def best(self) -> BravaisSolution | None:
        """The highest-symmetry recommended solution (DIALS's usual choice)."""
        rec = self.recommended
        return rec[0] if rec else None

    def get(self, solution: int) -> BravaisSolution | None:
        return next((s for s in self.solutions if s.solution == solution), None)


def read_bravais_summary(path: str | Path) -> BravaisSummary:
    """Read `bravais_summary.json`; UnreadableFile if it is not JSON or not that document."""
    path = Path(path)
    data = load_json(path, _WHAT, _PRODUCER)
    if not isinstance(data, dict):
        raise wrong_shape(path, _WHAT, _PRODUCER, f"top level is a {type(data).__name__}")
    rows: list[BravaisSolution] = []
    for key, d in data.items():
        # Keys are the solution numbers as strings ("1" is always the triclinic P1 solution).
        try:
            sol = int(key)
        except ValueError:
            continue
        if not isinstance(d, dict):
            continue
        uc = d.get("unit_cell")
        cell = None
        if isinstance(uc, list) and len(uc) == 6 and all(num(x) is not None for x in uc):
            cell = tuple(float(x) for x in uc)
        volume = num(d.get("volume"))
        if volume is None and cell is not None:
            volume = cell_volume(cell)
        ccs = d.get("correlation_coefficients")
        rows.append(
            BravaisSolution(
                solution=sol,
                bravais=str(d.get("bravais", "")),
                metric_fit=num(d.get("max_angular_difference")),
                rmsd=num(d.get("rmsd")),
                min_cc=num(d.get("min_cc")),
                max_cc=num(d.get("max_cc")),
                nspots=integer(d.get("nspots")),
                unit_cell=cell,  # type: ignore[arg-type]
                volume=volume,
                cb_op=str(d.get("cb_op", "")),
                recommended=d.get("recommended") is True,
                experiments_file=f"bravais_setting_{sol}.expt",
                correlation_coefficients=tuple(num(x) for x in ccs)
                if isinstance(ccs, list)
                else (),
            )
        )
    if data and not rows:
        raise wrong_shape(path, _WHAT, _PRODUCER, "no numbered solutions")
    rows.sort(key=lambda r: r.solution, reverse=True)
    return BravaisSummary(path=path, solutions=tuple(rows))

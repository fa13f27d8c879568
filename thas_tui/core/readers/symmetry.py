"""Reader of `dials.symmetry.json`: Laue-group (subgroup) scores and symmetry-operator scores."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thas_tui.core.readers._json import as_list, integer, load_json, num, wrong_shape
from thas_tui.core.readers.expt import space_group_symbol

_WHAT = "dials.symmetry JSON output"
_PRODUCER = "dials.symmetry (json=dials.symmetry.json is its default)"


@dataclass(frozen=True)
class SymOpScore:
    """Score of one symmetry operator of the lattice group."""

    operator: str
    likelihood: float | None
    z_cc: float | None
    cc: float | None
    n_ref: int | None


@dataclass(frozen=True)
class SubgroupScore:
    """One candidate Laue group (Patterson group), as a row of DIALS's subgroup table."""

    patterson_group: str  # Hermann–Mauguin, e.g. "P 4/m m m" (Hall symbol if unknown)
    patterson_group_hall: str
    likelihood: float | None
    confidence: float | None
    z_cc_net: float | None
    z_cc_for: float | None
    z_cc_against: float | None
    cc_for: float | None
    cc_against: float | None
    delta: float | None  # max_angular_difference, degrees
    cb_op: str

    @property
    def mx_group(self) -> str:
        """The Sohncke group of this Laue group (DIALS's "Corresponding MX group" column)."""
        hall = self.patterson_group_hall
        if hall.startswith("-"):
            # Dropping the inversion of a centrosymmetric Hall symbol gives its rotation subgroup.
            return space_group_symbol(" " + hall[1:])[0]
        return self.patterson_group


@dataclass(frozen=True)
class SymmetryResult:
    """Everything dials.symmetry puts in its JSON (no space group: that is in symmetrized.expt)."""

    path: Path
    lattice_point_group: str | None  # Hermann–Mauguin
    subgroups: tuple[SubgroupScore, ...]  # in DIALS's order: best first
    sym_op_scores: tuple[SymOpScore, ...]
    cb_op_inp_min: tuple[str, ...]
    cc_unrelated_pairs: float | None
    n_unrelated_pairs: int | None
    e_cc_true: float | None
    cc_sig_fac: float | None
    cc_true: float | None
    min_cell: tuple[float, ...] | None
    min_cell_space_group: str | None

    @property
    def best(self) -> SubgroupScore | None:
        return self.subgroups[0] if self.subgroups else None


def _hm(hall: Any) -> str | None:
    return space_group_symbol(hall)[0] if isinstance(hall, str) else None


def read_symmetry_json(path: str | Path) -> SymmetryResult:
    """Read `dials.symmetry.json`; UnreadableFile if it is not JSON or not that document."""
    path = Path(path)
    data = load_json(path, _WHAT, _PRODUCER)
    if not isinstance(data, dict) or not ("subgroup_scores" in data or "sym_op_scores" in data):
        raise wrong_shape(path, _WHAT, _PRODUCER, "no subgroup_scores or sym_op_scores")
    subgroups = []
    for d in as_list(data.get("subgroup_scores")):
        if not isinstance(d, dict):
            continue
        hall = d.get("patterson_group")
        hall = hall if isinstance(hall, str) else ""
        subgroups.append(
            SubgroupScore(
                patterson_group=_hm(hall) or "",
                patterson_group_hall=hall,
                likelihood=num(d.get("likelihood")),
                confidence=num(d.get("confidence")),
                z_cc_net=num(d.get("z_cc_net")),
                z_cc_for=num(d.get("z_cc_for")),
                z_cc_against=num(d.get("z_cc_against")),
                cc_for=num(d.get("cc_for")),
                cc_against=num(d.get("cc_against")),
                delta=num(d.get("max_angular_difference")),
                cb_op=str(d.get("cb_op", "")),
            )
        )
    ops = []
    for d in as_list(data.get("sym_op_scores")):
        if isinstance(d, dict):
            ops.append(
                SymOpScore(
                    operator=str(d.get("operator", "")),
                    likelihood=num(d.get("likelihood")),
                    z_cc=num(d.get("z_cc")),
                    cc=num(d.get("cc")),
                    n_ref=integer(d.get("n_ref")),
                )
            )
    mcs = data.get("min_cell_symmetry")
    min_cell = None
    min_sg = None
    if isinstance(mcs, dict):
        uc = mcs.get("unit_cell")
        if isinstance(uc, list) and len(uc) == 6 and all(num(x) is not None for x in uc):
            min_cell = tuple(float(x) for x in uc)
        min_sg = _hm(mcs.get("hall_symbol"))
    cbs = data.get("cb_op_inp_min")
    return SymmetryResult(
        path=path,
        lattice_point_group=_hm(data.get("lattice_point_group")),
        subgroups=tuple(subgroups),
        sym_op_scores=tuple(ops),
        cb_op_inp_min=tuple(str(x) for x in cbs) if isinstance(cbs, list) else (),
        cc_unrelated_pairs=num(data.get("cc_unrelated_pairs")),
        n_unrelated_pairs=integer(data.get("n_unrelated_pairs")),
        e_cc_true=num(data.get("E_cc_true")),
        cc_sig_fac=num(data.get("cc_sig_fac")),
        cc_true=num(data.get("cc_true")),
        min_cell=min_cell,
        min_cell_space_group=min_sg,
    )

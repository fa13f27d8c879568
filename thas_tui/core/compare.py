"""`thas-tui compare A B [C ...]`: runs, attempts, xia2 and aimless results side by side."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from thas_tui.core.cell_compare import CellComparison, compare_cells
from thas_tui.core.compare_inputs import CompareInput, finite, read_input
from thas_tui.core.readers.shells import SHELL_KEYS, Shells

N_BINS = 20  # recompute.N_BINS, without importing the subprocess module for --no-recompute

# Table 1 rows: (label, key, digits, which is better: "high", "low" or None).
ROWS = (
    ("Completeness (%)", "completeness", 1, "high"),
    ("Multiplicity", "multiplicity", 1, "high"),
    ("⟨I/σ(I)⟩", "i_over_sigma", 1, "high"),
    ("Rmerge", "r_merge", 3, "low"),
    ("Rmeas", "r_meas", 3, "low"),
    ("Rpim", "r_pim", 3, "low"),
    ("CC½", "cc_half", 3, "high"),
    ("Anom. completeness (%)", "anom_completeness", 1, "high"),
    ("Anom. multiplicity", "anom_multiplicity", 1, "high"),
    ("Anom. correlation", "anom_correlation", 3, "high"),
    ("CC anom", "cc_anom", 3, "high"),
    ("Observations", "n_obs", 0, None),
    ("Unique", "n_unique", 0, None),
)
DIGITS = {key: digits for _, key, digits, _ in ROWS} | {"d_max": 2, "d_min": 2}
# Cells further apart than this (reduced cells, %) are flagged: "not the same crystal?".
DIFFERENT_CRYSTAL_PCT = 3.0


@dataclass
class Comparison:
    """The inputs, how each cell compares with the first, the warnings and the best values."""

    inputs: list[CompareInput]
    cells: list[CellComparison | None]  # against inputs[0]; None for the first or without cells
    input_warnings: list[list[str]] = field(default_factory=list)  # per input
    recompute_range: tuple[float, float] | None = None  # d_max, d_min shared by the recomputed
    recompute_program: str | None = None

    @property
    def warnings(self) -> list[str]:
        return [w for ws in self.input_warnings for w in ws]

    def best(self, shell: str, key: str, recomputed: bool = False) -> int | None:
        """The index of the input with the better value of a row; None on a tie or no rule."""
        return best_index(self.inputs, shell, key, recomputed)


def best_index(inputs: list[CompareInput], shell: str, key: str, recomputed: bool) -> int | None:
    rule = next((r[3] for r in ROWS if r[1] == key), None)
    if rule is None:
        return None
    digits = DIGITS[key]
    vals = []
    present = 0
    for i, inp in enumerate(inputs):
        shells = inp.recomputed if recomputed else inp.reported
        v = getattr(shells[shell], key) if shells is not None else None
        present += v is not None
        # A negative R value is aimless's sign of no signal at all, never "the lowest".
        if v is not None and not (rule == "low" and v < 0):
            # Compared as printed: values that read the same are a tie.
            vals.append((round(float(v), digits), i))
    if present < 2 or not vals:
        return None
    pick = max if rule == "high" else min
    target = pick(v for v, _ in vals)
    winners = [i for v, i in vals if v == target]
    return winners[0] if len(winners) == 1 else None


def _warnings(inputs: list[CompareInput], cells: list[CellComparison | None]) -> list[list[str]]:
    """Per input (the first has none): different space group, crystal or setting."""
    result: list[list[str]] = [[]]
    ref = inputs[0]
    for inp, cell in zip(inputs[1:], cells[1:], strict=True):
        out: list[str] = []
        result.append(out)
        if ref.space_group and inp.space_group and _sg(ref.space_group) != _sg(inp.space_group):
            out.append(
                f"different space groups: {ref.label} {ref.space_group}, "
                f"{inp.label} {inp.space_group}"
            )
        if cell is None:
            continue
        if not cell.same_lattice:
            out.append(
                f"{inp.label}: cell differs from {ref.label}'s by "
                f"{cell.max_reduced_diff_pct:.1f}% (reduced cells): not the same crystal? "
                "(compared anyway)"
            )
        elif cell.change_of_basis:
            out.append(
                f"{inp.label}: same lattice as {ref.label} in another setting "
                f"({ref.label}'s a, b, c = {cell.change_of_basis} of {inp.label}'s)"
            )
    return result


def _sg(s: str) -> str:
    return s.replace(" ", "").upper()


def build(inputs: list[CompareInput]) -> Comparison:
    """Cells against the first input, and the warnings (space groups, different crystals)."""
    cells: list[CellComparison | None] = [None]
    ref = inputs[0] if inputs else None
    for inp in inputs[1:]:
        if ref is None or ref.unit_cell is None or inp.unit_cell is None:
            cells.append(None)
            continue
        try:
            cells.append(
                compare_cells(ref.unit_cell, inp.unit_cell, ref.space_group, inp.space_group)
            )
        except (ValueError, ArithmeticError):
            cells.append(None)
    return Comparison(inputs, cells, _warnings(inputs, cells) if inputs else [])


def compare(
    specs: list[str],
    recompute: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Comparison:
    """Read every input, compare, and (by default) recompute the merging statistics alike."""
    inputs = []
    for spec in specs:
        if progress:
            progress(f"reading {spec}")
        inputs.append(read_input(spec))
    comparison = build(inputs)
    if recompute:
        from thas_tui.core.recompute import recompute_all

        recompute_all(comparison, progress=progress)
    return comparison


# --- JSON -----------------------------------------------------------------------------------


def _shells_json(shells: Shells | None) -> dict:
    if shells is None:
        return {s: None for s in ("overall", "low", "high")}
    return {
        s: {k: finite_or_int(v) for k, v in shells[s].as_dict().items()}
        for s in ("overall", "low", "high")
    }


def finite_or_int(v: float | int | None) -> float | int | None:
    """Counts as they are; floats finite or None (JSON has no NaN)."""
    return v if isinstance(v, int) or v is None else finite(v)


def to_json(c: Comparison) -> dict:
    """`{"inputs": [...]}` as the issue specifies, one object per input in the order given."""
    out = []
    for i, (inp, cell) in enumerate(zip(c.inputs, c.cells, strict=True)):
        d: dict = {
            "kind": inp.kind,
            "path": str(inp.path),
            "label": inp.label,
            "program": inp.program,
            "space_group": inp.space_group,
            "unit_cell": list(inp.unit_cell) if inp.unit_cell else None,
            "wavelength": finite(inp.wavelength),
            "n_sweeps": inp.n_sweeps,
            "n_images": inp.n_images,
            "reported_from": inp.reported_from,
        }
        d.update(_shells_json(inp.reported))
        if inp.recomputed is not None:
            d["recomputed"] = _shells_json(inp.recomputed)
            d["recomputed_with"] = {
                "program": c.recompute_program,
                "d_range": list(c.recompute_range) if c.recompute_range else None,
                "n_bins": N_BINS,
            }
        if cell is not None:
            d["cell_vs_first"] = {
                "same_lattice": cell.same_lattice,
                "change_of_basis": cell.change_of_basis,
                "in_first_setting": [round(v, 4) for v in cell.cell_b_in_a],
                "difference": [round(v, 4) for v in cell.diff],
                "difference_percent": [round(v, 3) for v in cell.diff_pct],
            }
        if inp.failed:
            d["failed"] = inp.failed
        d["problems"] = list(inp.problems)
        d["warnings"] = list(c.input_warnings[i]) if i < len(c.input_warnings) else []
        out.append(d)
    return {"inputs": out}


def dumps(c: Comparison) -> str:
    return json.dumps(to_json(c), indent=2, ensure_ascii=False)


__all__ = ["ROWS", "SHELL_KEYS", "Comparison", "build", "compare", "dumps", "to_json"]

"""Reader of dials.refine's `output.history=` JSON: RMSDs and objective per refinement step."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from thas_tui.core.readers._json import integer, load_json, num, num_list, wrong_shape

_WHAT = "refinement history (dials.refine output.history=)"
_PRODUCER = "dials.refine with output.history=refine_history.json"


@dataclass(frozen=True)
class RefineStep:
    """One refinement step: the row of DIALS's "Refinement steps" table, plus the objective."""

    step: int
    nref: int | None
    rmsd_x: float | None  # mm
    rmsd_y: float | None  # mm
    rmsd_phi: float | None  # degrees (stored in radians; the log prints degrees)
    objective: float | None = None
    gradient_norm: float | None = None
    reduced_chi_squared: float | None = None


@dataclass(frozen=True)
class RefineHistory:
    """All steps of the last refinement run, and why it stopped."""

    path: Path
    steps: tuple[RefineStep, ...]
    reason_for_termination: str | None

    @property
    def final(self) -> RefineStep | None:
        return self.steps[-1] if self.steps else None


def read_refine_history(path: str | Path) -> RefineHistory:
    """Read a refinement history JSON; UnreadableFile if it is not JSON or not a history."""
    path = Path(path)
    doc = load_json(path, _WHAT, _PRODUCER)
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, dict):
        raise wrong_shape(path, _WHAT, _PRODUCER, "no 'data' table")
    attrs = doc.get("attributes") if isinstance(doc.get("attributes"), dict) else {}
    rmsd = data.get("rmsd") if isinstance(data.get("rmsd"), list) else []
    nref = data.get("num_reflections") if isinstance(data.get("num_reflections"), list) else []
    objective = num_list(data.get("objective"))
    grad = num_list(data.get("gradient_norm"))
    chi2 = num_list(data.get("reduced_chi_squared"))
    # The columns' own lengths, not attributes._nrows: a damaged count must not drive the loop.
    n = max(len(rmsd), len(nref), len(objective))

    def at(xs: list, i: int) -> float | None:
        return xs[i] if i < len(xs) else None

    steps = []
    for i in range(n):
        r = rmsd[i] if i < len(rmsd) and isinstance(rmsd[i], list) else []
        vals = [num(v) for v in r[:3]] + [None] * (3 - len(r[:3]))
        phi = None if vals[2] is None else math.degrees(vals[2])
        steps.append(
            RefineStep(
                step=i,
                nref=integer(nref[i]) if i < len(nref) else None,
                rmsd_x=vals[0],
                rmsd_y=vals[1],
                rmsd_phi=phi,
                objective=at(objective, i),
                gradient_norm=at(grad, i),
                reduced_chi_squared=at(chi2, i),
            )
        )
    reason = attrs.get("reason_for_termination")
    return RefineHistory(
        path=path,
        steps=tuple(steps),
        reason_for_termination=str(reason) if isinstance(reason, str) else None,
    )

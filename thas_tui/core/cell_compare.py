"""Whether two unit cells are one lattice (maybe in another setting): reduced cells and the change of basis."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

# Primitive basis vectors of each centring, as rows in terms of the conventional a, b, c.
_CENTRING = {
    "P": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "A": ((1, 0, 0), (0, 0.5, -0.5), (0, 0.5, 0.5)),
    "B": ((0.5, 0, -0.5), (0, 1, 0), (0.5, 0, 0.5)),
    "C": ((0.5, -0.5, 0), (0.5, 0.5, 0), (0, 0, 1)),
    "I": ((-0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0.5, 0.5, -0.5)),
    "F": ((0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0)),
    "R": ((2 / 3, 1 / 3, 1 / 3), (-1 / 3, 1 / 3, 1 / 3), (-1 / 3, -2 / 3, 1 / 3)),
}
# The cells are one lattice when their reduced cells agree this closely (lengths %, angles °);
# "a few %" is where a different crystal (or a wrong indexing solution) begins.
SAME_LENGTH_PCT = 3.0
SAME_ANGLE_DEG = 3.0

_COMBOS = np.array([v for v in itertools.product(range(-3, 4), repeat=3) if any(v)], dtype=float)
# The 24 proper signed permutations: the choices a reduced basis leaves open.
_SIGNED_PERMS = [
    np.array(m, dtype=float)
    for p in itertools.permutations(range(3))
    for s in itertools.product((1, -1), repeat=3)
    if round(np.linalg.det(m := np.diag(s)[list(p)])) == 1
]


@dataclass(frozen=True)
class CellComparison:
    """Cell B against cell A: per-parameter differences, and whether they are one lattice."""

    same_lattice: bool
    # B's parameters in A's setting (B's own when the lattices differ), and B − A in Å/° and %.
    cell_b_in_a: tuple[float, ...]
    diff: tuple[float, ...]
    diff_pct: tuple[float, ...]
    reduced_a: tuple[float, ...]
    reduced_b: tuple[float, ...]
    # A's axes written with B's (e.g. "a-b, a+b, c"); None when the settings are the same.
    change_of_basis: str | None = None
    max_reduced_diff_pct: float = 0.0

    @property
    def max_diff_pct(self) -> float:
        return max(abs(v) for v in self.diff_pct[:3])


def _basis(cell: tuple[float, ...]) -> np.ndarray:
    """Rows a, b, c in Cartesian Å (a along x, b in the xy plane)."""
    a, b, c, al, be, ga = cell
    al, be, ga = (math.radians(x) for x in (al, be, ga))
    cx = c * math.cos(be)
    cy = c * (math.cos(al) - math.cos(be) * math.cos(ga)) / math.sin(ga)
    cz = math.sqrt(max(c * c - cx * cx - cy * cy, 0.0))
    return np.array([[a, 0, 0], [b * math.cos(ga), b * math.sin(ga), 0], [cx, cy, cz]], dtype=float)


def _params(basis: np.ndarray) -> tuple[float, ...]:
    a, b, c = (float(np.linalg.norm(v)) for v in basis)

    def ang(u: np.ndarray, v: np.ndarray) -> float:
        cos = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))
        return math.degrees(math.acos(max(-1.0, min(1.0, cos))))

    return (a, b, c, ang(basis[1], basis[2]), ang(basis[0], basis[2]), ang(basis[0], basis[1]))


def _reduce(basis: np.ndarray) -> np.ndarray:
    """The integer matrix M whose rows make the three shortest independent lattice vectors.

    In three dimensions the successive minima form a basis (a Minkowski/Buerger-reduced one);
    they are found among the combinations −3…3 of a basis that is not wildly skewed.
    """
    vecs = _COMBOS @ basis
    order = np.argsort(np.einsum("ij,ij->i", vecs, vecs), kind="stable")
    chosen: list[np.ndarray] = []
    for i in order:
        m = _COMBOS[i]
        trial = [*chosen, m]
        if np.linalg.matrix_rank(np.array(trial)) < len(trial):
            continue
        if len(trial) == 3 and abs(round(np.linalg.det(np.array(trial)))) != 1:
            continue
        chosen.append(m)
        if len(chosen) == 3:
            break
    m = np.array(chosen)
    if np.linalg.det(m) < 0:
        m[2] = -m[2]
    return m


def _centring(space_group: str | None) -> np.ndarray:
    letter = (space_group or "P").strip()[:1].upper()
    return np.array(_CENTRING.get(letter, _CENTRING["P"]), dtype=float)


def _frac(x: float) -> Fraction:
    return Fraction(x).limit_denominator(6)


def _axis_text(row: np.ndarray) -> str:
    parts = []
    for coef, name in zip(row, "abc", strict=True):
        f = _frac(float(coef))
        if f == 0:
            continue
        sign = "-" if f < 0 else "+"
        mag = abs(f)
        text = name if mag == 1 else f"{mag}{name}"
        parts.append((sign, text))
    if not parts:
        return "0"
    first = ("-" if parts[0][0] == "-" else "") + parts[0][1]
    return first + "".join(f"{s}{t}" for s, t in parts[1:])


def compare_cells(
    cell_a: tuple[float, ...],
    cell_b: tuple[float, ...],
    space_group_a: str | None = None,
    space_group_b: str | None = None,
) -> CellComparison:
    """Compare cell B with cell A through their reduced primitive cells.

    Each cell's primitive basis (from its space group's centring letter) is reduced to its
    three shortest independent lattice vectors; the two reduced metrics are matched over the
    24 proper signed permutations. When they agree within SAME_LENGTH_PCT / SAME_ANGLE_DEG the
    cells are one lattice and B is expressed in A's setting through that change of basis.
    """
    ba = _centring(space_group_a) @ _basis(cell_a)
    bb = _centring(space_group_b) @ _basis(cell_b)
    ma, mb = _reduce(ba), _reduce(bb)
    ra, rb = ma @ ba, mb @ bb
    ga = ra @ ra.T
    ca, cb_ = _centring(space_group_a), _centring(space_group_b)
    best = None
    for s in _SIGNED_PERMS:
        rs = s @ rb
        pa, ps = _params(ra), _params(rs)
        dl = round(max(abs(ps[i] - pa[i]) / pa[i] * 100 for i in range(3)), 6)
        dg = round(max(abs(ps[i] - pa[i]) for i in range(3, 6)), 6)
        score = round(float(np.abs(rs @ rs.T - ga).sum()), 3)
        # A's conventional axes = inv(C_A) · inv(M_A) · S · M_B · C_B · (B's conventional axes);
        # among equally good matches the one with the fewest minus signs reads best.
        t = np.linalg.inv(ca) @ np.linalg.inv(ma) @ s @ mb @ cb_
        key = (dl, dg, score, int((t < -1e-9).sum()))
        if best is None or key < best[0]:
            best = (key, s, t)
    (dl, dg, _, _), s, t = best
    red_a, red_b = _params(ra), _params(s @ rb)
    same = dl <= SAME_LENGTH_PCT and dg <= SAME_ANGLE_DEG
    if same:
        b_in_a = _params(t @ _basis(cell_b))
        cb = None if np.allclose(t, np.eye(3), atol=1e-6) else ", ".join(_axis_text(r) for r in t)
    else:
        b_in_a, cb = tuple(cell_b), None
    diff = tuple(b_in_a[i] - cell_a[i] for i in range(6))
    pct = tuple(diff[i] / cell_a[i] * 100 if cell_a[i] else 0.0 for i in range(6))
    return CellComparison(
        same_lattice=same,
        cell_b_in_a=tuple(b_in_a),
        diff=diff,
        diff_pct=pct,
        reduced_a=red_a,
        reduced_b=red_b,
        change_of_basis=cb,
        max_reduced_diff_pct=dl,
    )

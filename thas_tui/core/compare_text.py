"""The text form of `thas-tui compare`: the inputs side by side, the better value of each row marked."""

from __future__ import annotations

from thas_tui.core.compare import ROWS, Comparison, best_index
from thas_tui.core.compare_inputs import CompareInput

CELL_NAMES = ("a (Å)", "b (Å)", "c (Å)", "α (°)", "β (°)", "γ (°)")
MARK = "*"


def _n(v, digits: int) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}" if digits == 0 else f"{v:.{digits}f}"


def facts_rows(c: Comparison) -> list[tuple[str, list[str]]]:
    """Space group, cell (with differences from the first input), wavelength, range, images."""
    rows: list[tuple[str, list[str]]] = []
    ref = c.inputs[0]
    rows.append(
        (
            "Space group",
            [
                (inp.space_group or "-")
                + (
                    " ≠"
                    if i
                    and inp.space_group
                    and ref.space_group
                    and inp.space_group.replace(" ", "") != ref.space_group.replace(" ", "")
                    else ""
                )
                for i, inp in enumerate(c.inputs)
            ],
        )
    )
    for k, name in enumerate(CELL_NAMES):
        cells = []
        for inp, cmp in zip(c.inputs, c.cells, strict=True):
            if inp.unit_cell is None:
                cells.append("-")
                continue
            v = inp.unit_cell[k]
            text = f"{v:.2f}"
            if cmp is not None and cmp.same_lattice and cmp.change_of_basis is None:
                d, pct = cmp.diff[k], cmp.diff_pct[k]
                if abs(d) >= 0.005:
                    text += f" ({d:+.2f}{'' if k >= 3 else f', {pct:+.1f}%'})"
            elif cmp is not None and cmp.same_lattice:
                # Another setting: B's value in A's setting, and the difference from there.
                text = f"{cmp.cell_b_in_a[k]:.2f}ᵗ ({cmp.diff[k]:+.2f})"
            cells.append(text)
        rows.append((name, cells))
    rows.append(("Wavelength (Å)", [_n(i.wavelength, 4) for i in c.inputs]))
    rows.append(
        (
            "Resolution (Å)",
            [
                f"{_n(i.d_range[0], 2)}–{_n(i.d_range[1], 2)}" if i.d_range[1] else "-"
                for i in c.inputs
            ],
        )
    )
    rows.append(
        (
            "Sweeps / images",
            [f"{i.n_sweeps or '-'} / {i.n_images or '-'}" for i in c.inputs],
        )
    )
    return rows


def table1_rows(
    inputs: list[CompareInput], shell: str, recomputed: bool
) -> list[tuple[str, list[str], int | None]]:
    """(label, a cell per input, index of the better one) for each row with any value."""
    out = []
    for label, key, digits, _rule in ROWS:
        vals = []
        for inp in inputs:
            shells = inp.recomputed if recomputed else inp.reported
            vals.append(getattr(shells[shell], key) if shells is not None else None)
        if all(v is None for v in vals):
            continue
        out.append(
            (label, [_n(v, digits) for v in vals], best_index(inputs, shell, key, recomputed))
        )
    d_texts = []
    for inp in inputs:
        shells = inp.recomputed if recomputed else inp.reported
        s = shells[shell] if shells is not None else None
        d_texts.append(f"{_n(s.d_max, 2)}–{_n(s.d_min, 2)}" if s and s.d_min else "-")
    return [("Resolution (Å)", d_texts, None), *out]


def verdict_lines(c: Comparison) -> list[str]:
    """Which input is better in which rows (like with like when recomputed), and how far each reaches."""
    if len(c.inputs) < 2:
        return []
    recomputed = sum(i.recomputed is not None for i in c.inputs) >= 2
    wins: dict[int, list[str]] = {}
    tied = 0
    for shell in ("overall", "high"):
        for label, key, _digits, rule in ROWS:
            if rule is None or key.startswith(("anom", "cc_anom")):
                continue
            b = best_index(c.inputs, shell, key, recomputed)
            if b is None:
                tied += 1
            else:
                wins.setdefault(b, []).append(
                    f"{label.split(' (')[0]}{'' if shell == 'overall' else ' high'}"
                )
    rng = c.recompute_range
    head = (
        f"Like with like (recomputed, {rng[0]:.2f}–{rng[1]:.2f} Å):"
        if recomputed and rng
        else "As reported (not recomputed alike):"
    )
    lines = [head]
    for i, rows in sorted(wins.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"  [{i + 1}] better in {len(rows)}: {', '.join(rows)}")
    if not wins:
        lines.append(
            "  no row differs at the printed precision: the inputs differ only in how far they reach"
        )
    elif tied:
        lines.append(f"  {tied} rows tied or with one value")
    reach = [f"[{i}] {inp.d_range[1]:.2f} Å" for i, inp in enumerate(c.inputs, 1) if inp.d_range[1]]
    if reach:
        lines.append("Resolution reached (as reported): " + ", ".join(reach))
    return lines


def _grid(
    header: list[str], rows: list[tuple[str, list[str], int | None]], width: int
) -> list[str]:
    lines = [f"  {'':24}" + "".join(f"{h:>{width}}" for h in header)]
    for label, cells, best in rows:
        text = "".join(
            f"{(c + (MARK if j == best else ' ')):>{width}}" for j, c in enumerate(cells)
        )
        lines.append(f"  {label:<24}" + text)
    return lines


def render_text(c: Comparison) -> str:
    """The comparison as plain text (what `thas-tui compare` prints)."""
    n = len(c.inputs)
    lines = [f"Comparing {n} input{'s' if n != 1 else ''}"]
    for i, inp in enumerate(c.inputs, 1):
        what = inp.program or inp.kind
        lines.append(f"  [{i}] {inp.label}  ({inp.kind}, {what})  {inp.path}")
    verdict = verdict_lines(c)
    if verdict:
        lines += ["", *verdict]
    head = [f"[{i}]" for i in range(1, n + 1)]
    cells = [max(len(x) for x in r[1]) for r in facts_rows(c)]
    width = max(12, min(30, max(cells, default=0) + 2))
    lines += ["", *_grid(head, [(a, b, None) for a, b in facts_rows(c)], width)]
    for recomputed in (False, True):
        if recomputed and not any(i.recomputed for i in c.inputs):
            continue
        if recomputed:
            rng = c.recompute_range
            title = f"Recomputed alike by {c.recompute_program or 'iotbx.merging_statistics'}" + (
                f", {rng[0]:.2f}–{rng[1]:.2f} Å, same bins" if rng else ""
            )
        else:
            title = "Table 1 as reported"
        lines += ["", f"{title}  ({MARK} better; ties not marked)"]
        for shell in ("overall", "low", "high"):
            lines.append(f" {shell.capitalize()}")
            lines += _grid(head, table1_rows(c.inputs, shell, recomputed), width)[1:]
    notes = [w for w in c.warnings]
    for i, inp in enumerate(c.inputs, 1):
        notes += [f"[{i}] {p}" for p in inp.problems]
    if notes:
        lines += ["", "Warnings and problems", *(f"  {t}" for t in notes)]
    return "\n".join(lines)

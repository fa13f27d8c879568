"""The text form of `thas-tui summary`: what a processing directory holds, for a terminal."""

from __future__ import annotations

from typing import Any


def _n(v: Any, digits: int) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def cell_text(cell: list[float]) -> str:
    """'53.170 61.243 69.288 90.000 93.046 90.000' (to 0.001 Å and 0.001°)."""
    return " ".join(f"{v:.3f}" for v in cell)


def rmsd_text(r: dict) -> str:
    """'x 0.235 px, y 0.230 px, z 0.204 images'."""
    parts = [
        f"{axis} {r[k]:.3f} {unit}"
        for axis, k, unit in (("x", "x_px", "px"), ("y", "y_px", "px"), ("z", "z_images", "images"))
        if r.get(k) is not None
    ]
    return ", ".join(parts)


# Table 1 rows: label, keys (one value, or a d range), digits.
_TABLE1_ROWS = (
    ("Resolution (Å)", ("d_max", "d_min"), 2),
    ("Completeness (%)", ("completeness",), 1),
    ("Multiplicity", ("multiplicity",), 1),
    ("I/σ(I)", ("i_over_sigma",), 1),
    ("Rmerge", ("r_merge",), 3),
    ("Rmeas", ("r_meas",), 3),
    ("Rpim", ("r_pim",), 3),
    ("CC½", ("cc_half",), 3),
    ("Anom. completeness (%)", ("anom_completeness",), 1),
    ("Anom. multiplicity", ("anom_multiplicity",), 1),
    ("Anom. correlation", ("anom_correlation",), 3),
    ("CC anom", ("cc_anom",), 3),
)


def _table1(scale: dict) -> list[str]:
    shells = [s for s in ("overall", "low", "high") if s in scale]
    lines = [
        f"Table 1 (from {scale.get('source')})",
        f"  {'':24}" + "".join(f"{s.capitalize():>15}" for s in shells),
    ]
    for label, keys, digits in _TABLE1_ROWS:
        cells = []
        for s in shells:
            row = scale[s]
            if len(keys) == 2:
                lo, hi = row.get(keys[0]), row.get(keys[1])
                cells.append(
                    "-" if lo is None and hi is None else f"{_n(lo, digits)}–{_n(hi, digits)}"
                )
            else:
                cells.append(_n(row.get(keys[0]), digits))
        if any(c != "-" for c in cells):
            lines.append(f"  {label:<24}" + "".join(f"{c:>15}" for c in cells))
    return lines


def _bravais_lines(rows: list[dict]) -> list[str]:
    rec = [r for r in rows if r["recommended"]] or rows
    best = max(rec, key=lambda r: r["solution"])["solution"]
    lines = [
        "Bravais settings (* recommended, ★ the tutorial's choice)",
        f"  {'':2}{'#':>3} {'lattice':<7} {'metric fit':>10} {'rmsd':>7} {'min/max cc':>13} {'#spots':>7}  {'unit cell':<47} cb_op",
    ]
    for r in rows:
        mark = "★" if r["solution"] == best else ("*" if r["recommended"] else "")
        cc = f"{_n(r['min_cc'], 3)}/{_n(r['max_cc'], 3)}"
        cell = " ".join(f"{v:.2f}" for v in r["unit_cell"]) if r["unit_cell"] else "-"
        nspots = "-" if r["nspots"] is None else r["nspots"]
        lines.append(
            f"  {mark:2}{r['solution']:>3} {r['lattice']:<7} {_n(r['metric_fit'], 4):>10} {_n(r['rmsd'], 3):>7} "
            f"{cc:>13} {nspots:>7}  {cell:<47} {r['cb_op']}"
        )
    return lines


def render_text(d: dict) -> str:
    """The summary as plain text (what `thas-tui summary DIR` prints)."""
    lines = [f"Processing directory {d['directory']} ({d['kind']})"]
    version = d.get("dials_version")
    others = {k: v for k, v in d.get("dials_versions", {}).items() if v != version}
    lines.append(f"DIALS {version or 'version unknown (no log banner)'}")
    if others:
        lines.append("  other versions: " + ", ".join(f"{k} {v}" for k, v in others.items()))
    lines += ["", "Stages"]
    for name, st in d["stages"].items():
        extra = f"  [{st['note']}]" if st.get("note") else ""
        lines.append(f"  {name:<24} {st['state']:<9} {st['key_result']}{extra}".rstrip())
    fs = d.get("find_spots")
    if fs:
        text = f"{fs.get('n_spots', '-')} spots"
        if fs.get("n_images"):
            text += f" on {fs['n_images']} images"
        per = fs.get("per_image")
        if per:
            empty = per["images_without_spots"]
            shown = ", ".join(
                str(i) if isinstance(i, int) else f"sweep {i[0]} image {i[1]}" for i in empty[:10]
            ) + (" …" if len(empty) > 10 else "")
            text += f"; per image min {per['min']}, median {per['median']:g}, max {per['max']}"
            text += f"; {len(empty)} image{'s' if len(empty) != 1 else ''} without spots" + (
                f" ({shown})" if empty else ""
            )
        lines += ["", f"Spots         {text}  (from {fs['source']})"]
    ix = d.get("index")
    if ix:
        lines.append("")
        if ix.get("unit_cell"):
            lines.append(
                f"Indexed       {ix.get('space_group') or ''}  {cell_text(ix['unit_cell'])}".rstrip()
            )
        if ix.get("rmsd"):
            lines.append(f"              RMSD {rmsd_text(ix['rmsd'])}")
        if ix.get("percent_indexed") is not None:
            lines.append(f"              {ix['percent_indexed']:.1f}% of spots indexed")
    if d.get("bravais"):
        lines += ["", *_bravais_lines(d["bravais"])]
    rf = d.get("refine")
    if rf:
        lines.append("")
        if rf.get("unit_cell"):
            sv = (
                f"  (scan-varying, {rf['scan_points']} scan points)"
                if rf.get("scan_points")
                else ""
            )
            lines.append(
                f"Refined       {rf.get('space_group') or ''}  {cell_text(rf['unit_cell'])}{sv}"
            )
        rng = rf.get("cell_range")
        if rng:
            lines.append(
                "              over the scan: "
                + ", ".join(f"{k} {lo:.3f}–{hi:.3f}" for k, (lo, hi) in rng.items())
            )
        if rf.get("rmsd"):
            lines.append(f"              RMSD {rmsd_text(rf['rmsd'])}")
    ig = d.get("integrate")
    if ig:
        parts = [
            f"σb {ig['sigma_b']:.6f}°" if ig.get("sigma_b") is not None else "",
            f"σm {ig['sigma_m']:.6f}°" if ig.get("sigma_m") is not None else "",
        ]
        if ig.get("n_reflections") is not None:
            parts.append(f"{ig['n_reflections']} reflections")
        lines += ["", "Integrated    " + ", ".join(p for p in parts if p)]
    sy = d.get("symmetry")
    if sy:
        lines += ["", f"Space group   {sy['space_group']}  (from {sy['source']})"]
    if d.get("scale"):
        lines += ["", *_table1(d["scale"])]
    if d.get("warnings"):
        lines += ["", "To check (what an expert would distrust)"]
        for w in d["warnings"]:
            lines += [
                f"  {w['stage']}: {w['what']}",
                f"    why: {w['why']}",
                f"    try: {w['try']}",
            ]
    if d.get("issues"):
        lines += ["", "Issues", *(f"  {i}" for i in d["issues"])]
    return "\n".join(lines)

"""`thas-tui summary DIR [--json]`: what a processing directory holds, as text or one JSON object."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from thas_tui.core import stage_info, summary_text
from thas_tui.core.parsers import registry
from thas_tui.core.parsers.banner import parse as parse_banner
from thas_tui.core.pipeline import SPECS, State
from thas_tui.core.rundir import RunDirState, read_log_text, read_rundir

__all__ = ["collect", "render_text", "run_summary"]

render_text = summary_text.render_text

CELL_KEYS = ("a", "b", "c", "alpha", "beta", "gamma")
# Table 1 fields: JSON key -> (MergingSummary attribute of the logs, Table1Row attribute of JSON).
TABLE1 = {
    "d_max": ("d_max", "d_max"),
    "d_min": ("d_min", "d_min"),
    "completeness": ("completeness", "completeness"),
    "multiplicity": ("multiplicity", "multiplicity"),
    "i_over_sigma": ("i_over_sigma", "i_over_sigma"),
    "r_merge": ("rmerge", "r_merge"),
    "r_meas": ("rmeas", "r_meas"),
    "r_pim": ("rpim", "r_pim"),
    "cc_half": ("cc_half", "cc_half"),
    "anom_completeness": ("anom_completeness", "anom_completeness"),
    "anom_multiplicity": ("anom_multiplicity", "anom_multiplicity"),
    "anom_correlation": ("anom_correlation", None),
    "cc_anom": (None, "cc_anom"),
    "n_obs": ("n_observations", "n_obs"),
    "n_unique": ("n_unique", "n_uniq"),
}


class _Ctx:
    """The directory, its state, and the issues met while reading it."""

    def __init__(self, rd: RunDirState) -> None:
        self.rd = rd
        self.dir = rd.path
        self.issues = list(rd.issues)
        self._logs: dict[str, Any] = {}

    def usable(self, name: str) -> Path | None:
        """An output file that exists and passed the directory's completeness check."""
        p = self.dir / name
        if not p.is_file() or any(i.startswith(f"{name}:") for i in self.issues):
            return None
        return p

    def read(self, name: str, reader, *args, **kwargs) -> Any:
        """reader(path) for a usable file, or None (the failure goes to issues, never raised)."""
        p = self.usable(name)
        if p is None:
            return None
        try:
            return reader(p, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a corrupt file is an issue, not a crash
            self.issues.append(f"{name}: unreadable ({_first_line(exc)})")
            return None

    def log(self, stage: str) -> Any:
        """The parsed newest log of a stage (None without one or without a parser)."""
        if stage not in self._logs:
            st = self.rd.stages.get(stage)
            parsed = None
            if st is not None and st.log is not None:
                try:
                    parsed = registry.parse_log(stage, read_log_text(st.log))
                except Exception as exc:  # noqa: BLE001
                    self.issues.append(f"{st.log.name}: could not be parsed ({_first_line(exc)})")
            self._logs[stage] = parsed
        return self._logs[stage]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    msg = text[0] if text else type(exc).__name__
    # Reader messages start with the path; the issue already names the file.
    return msg.split(": ", 1)[1] if ": " in msg and msg.startswith("/") else msg


def _f(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if x != x else x


def _first_crystal(expts: Any) -> Any:
    if expts is None:
        return None
    return next((e.crystal for e in expts.experiments if e.crystal is not None), None)


def _cell(crystal: Any) -> list[float] | None:
    return [float(v) for v in crystal.unit_cell.parameters] if crystal is not None else None


# --- per-stage facts ------------------------------------------------------------------------


def _versions(ctx: _Ctx) -> dict[str, str]:
    out = {}
    seen: set[Path] = set()
    logs = [s.log for s in ctx.rd.stages.values() if s.log is not None]
    logs += sorted(ctx.dir.glob("dials.*.log"))
    for path in logs:
        if path in seen:
            continue
        seen.add(path)
        banner = parse_banner(read_log_text(path)[:4000])
        if banner is not None:
            out[path.name] = banner.version
    return out


def _find_spots(ctx: _Ctx) -> dict | None:
    from thas_tui.core.readers import refl
    from thas_tui.core.readers.expt import read_expt

    table = ctx.read("strong.refl", refl.read_refl, columns=("xyzobs.px.value", "id"))
    if table is not None:
        out: dict[str, Any] = {"source": "strong.refl", "n_spots": table.nrows}
        expts = ctx.read("imported.expt", read_expt)
        scans = [e.scan for e in expts.experiments] if expts is not None else []
        if scans and all(s is not None for s in scans):
            counts = [
                refl.spots_per_image(table, s.image_range, i if len(scans) > 1 else None)
                for i, s in enumerate(scans)
            ]
            out["spots_per_image"] = [int(v) for v in np.concatenate(counts)]
            out["image_ranges"] = [list(s.image_range) for s in scans]
        return _per_image_stats(out)
    log = ctx.log("find_spots")
    if log is None:
        return None
    n = log.n_saved if log.n_saved is not None else log.n_filtered
    if n is None and log.histograms:
        n = sum(h.n_spots for h in log.histograms)
    out = {"source": ctx.rd.stages["find_spots"].log.name, "n_spots": n, "n_images": log.n_images}
    if log.image_ranges:
        out["image_ranges"] = [list(r) for r in log.image_ranges]
    return out


def _per_image_stats(out: dict) -> dict:
    per = out.get("spots_per_image")
    if per:
        arr = np.asarray(per)
        ranges = out["image_ranges"]
        # With several sweeps an image number alone is ambiguous: name the sweep too.
        images: list[Any] = [
            i if len(ranges) == 1 else [k, i]
            for k, r in enumerate(ranges)
            for i in range(r[0], r[1] + 1)
        ]
        out["n_images"] = len(per)
        out["per_image"] = {
            "min": int(arr.min()),
            "median": float(np.median(arr)),
            "max": int(arr.max()),
            "images_without_spots": [images[i] for i in np.flatnonzero(arr == 0)],
        }
    return out


def _rmsd(r: Any) -> dict | None:
    if r is None:
        return None
    return {"x_px": r.rmsd_x, "y_px": r.rmsd_y, "z_images": r.rmsd_z}


def _index(ctx: _Ctx) -> dict | None:
    from thas_tui.core.readers import refl
    from thas_tui.core.readers.expt import read_expt

    out: dict[str, Any] = {}
    crystal = _first_crystal(ctx.read("indexed.expt", read_expt))
    log = ctx.log("index")
    if crystal is not None:
        out.update(source="indexed.expt", unit_cell=_cell(crystal), space_group=crystal.space_group)
    elif log is not None and log.crystals:
        c = log.crystals[-1]
        out.update(source=ctx.rd.stages["index"].log.name, space_group=c.space_group)
        out["unit_cell"] = list(c.unit_cell) if c.unit_cell else None
    table = ctx.read("indexed.refl", refl.read_refl, columns=("flags",))
    if table is not None and refl.indexed_fraction(table) is not None:
        out["percent_indexed"] = round(100 * refl.indexed_fraction(table), 1)
    elif log is not None and log.indexed:
        out["percent_indexed"] = log.indexed[-1].percent_indexed
    if log is not None and log.macrocycles:
        rmsds = log.macrocycles[-1].refinement.rmsds
        out["rmsd"] = _rmsd(rmsds[-1]) if rmsds else None
    return out or None


def _bravais(ctx: _Ctx) -> list[dict] | None:
    from thas_tui.core.readers.bravais import read_bravais_summary

    summary = ctx.read("bravais_summary.json", read_bravais_summary)
    if summary is not None:
        rows = [(s, s.bravais, s.nspots) for s in summary.solutions]
    else:
        log = ctx.log("refine_bravais_settings")
        if log is None or not log.solutions:
            return None
        rows = [(s, s.lattice, s.n_spots) for s in log.solutions]
    out = []
    for s, lattice, nspots in sorted(rows, key=lambda r: -r[0].solution):
        out.append(
            {
                "solution": s.solution,
                "lattice": lattice,
                "metric_fit": s.metric_fit,
                "rmsd": s.rmsd,
                "min_cc": s.min_cc,
                "max_cc": s.max_cc,
                "nspots": nspots,
                "unit_cell": list(s.unit_cell) if s.unit_cell else None,
                "cb_op": s.cb_op,
                "recommended": bool(s.recommended),
            }
        )
    return out


def _refine(ctx: _Ctx) -> dict | None:
    from thas_tui.core.readers.expt import read_expt

    out: dict[str, Any] = {}
    crystal = _first_crystal(ctx.read("refined.expt", read_expt))
    log = ctx.log("refine")
    if crystal is not None:
        out.update(source="refined.expt", unit_cell=_cell(crystal), space_group=crystal.space_group)
        sv = crystal.scan_varying
        if sv is not None and len(sv.cells):
            out["scan_points"] = len(sv.cells)
            cells = np.asarray(sv.cells, dtype=float)
            out["cell_range"] = {
                k: [float(cells[:, i].min()), float(cells[:, i].max())]
                for i, k in enumerate(CELL_KEYS)
            }
    elif log is not None and log.crystal is not None and log.crystal.unit_cell:
        out.update(source=ctx.rd.stages["refine"].log.name, unit_cell=list(log.crystal.unit_cell))
        out["space_group"] = log.crystal.space_group
        if log.crystal.scan_points:
            out["scan_points"] = log.crystal.scan_points
    if log is not None and log.runs:
        run = next((r for r in reversed(log.runs) if r.rmsds), None)
        if run is not None:
            out["rmsd"] = _rmsd(run.rmsds[-1])
            out["scan_varying"] = run.scan_varying
    return out or None


def _integrate(ctx: _Ctx) -> dict | None:
    from thas_tui.core.readers import refl
    from thas_tui.core.readers.expt import read_expt

    out: dict[str, Any] = {}
    expts = ctx.read("integrated.expt", read_expt)
    profile = next((e.profile for e in expts.experiments if e.profile), None) if expts else None
    log = ctx.log("integrate")
    if profile is not None and profile.sigma_m is not None:
        out.update(source="integrated.expt", sigma_b=profile.sigma_b, sigma_m=profile.sigma_m)
    elif log is not None and (log.sigma_b is not None or log.sigma_m is not None):
        out.update(
            source=ctx.rd.stages["integrate"].log.name, sigma_b=log.sigma_b, sigma_m=log.sigma_m
        )
    n = ctx.read("integrated.refl", refl.count)
    if n is None and log is not None:
        n = log.n_integrated
    if n is not None:
        out["n_reflections"] = n
    return out or None


def _symmetry(ctx: _Ctx) -> dict | None:
    from thas_tui.core.readers.expt import read_expt

    for name in ("symmetrized.expt", "scaled.expt"):
        crystal = _first_crystal(ctx.read(name, read_expt))
        if crystal is not None:
            return {"source": name, "space_group": crystal.space_group}
    log = ctx.log("symmetry")
    if log is not None:
        sg = log.saved_space_group or log.recommended_space_group
        if sg:
            return {
                "source": ctx.rd.stages["symmetry"].log.name,
                "space_group": sg,
                "laue_group": log.best_laue_group,
            }
    for stage in ("scale", "merge"):
        log = ctx.log(stage)
        sg = getattr(log, "space_group", None)
        if sg:
            return {"source": ctx.rd.stages[stage].log.name, "space_group": sg}
    return None


def _scale(ctx: _Ctx) -> dict | None:
    from thas_tui.core.readers.merging_stats import read_merging_stats

    for name in ("dials.merge.json", "merge.json", "dials.scale.json", "scale.json"):
        stats = ctx.read(name, read_merging_stats)
        if stats is not None and stats.table1:
            out: dict[str, Any] = {"source": name}
            for row in stats.table1:
                out[row.shell] = {
                    k: _f(getattr(row, attr)) for k, (_, attr) in TABLE1.items() if attr
                }
            return out
    for stage in ("merge", "scale"):
        log = ctx.log(stage)
        summary = getattr(log, "summary", None)
        if summary is None:
            continue
        name = ctx.rd.stages[stage].log.name
        if summary.unknown_header is not None:
            ctx.issues.append(
                f"{name}: the Summary of merging statistics has columns thas-tui cannot place"
                f" ({summary.unknown_header!r}); its numbers were not read"
            )
            continue
        out = {"source": name}
        if summary.columns is not None:
            out["columns"] = list(summary.columns)
        for shell in ("overall", "low", "high"):
            out[shell] = _table1_row(summary, lambda stat, shell=shell: getattr(stat, shell))
        if getattr(log, "suggested_d_min", None) is not None:
            out["suggested_d_min"] = log.suggested_d_min
        if summary.columns is not None and "suggested" in summary.columns:
            # DIALS's Suggested, Low and High columns: the data cut at the suggested resolution
            out["suggested_cut"] = {
                shell: _table1_row(summary, lambda s, shell=shell: getattr(s.cut, shell, None))
                for shell in ("overall", "low", "high")
            }
        return out
    return None


def _table1_row(summary: Any, value: Any) -> dict[str, float | None]:
    row = {}
    for key, (attr, _) in TABLE1.items():
        stat = getattr(summary, attr) if attr else None
        row[key] = value(stat) if stat is not None else None
    return row


# --- the whole directory --------------------------------------------------------------------


def _key_result(ctx: _Ctx, name: str, facts: dict) -> str:
    st = ctx.rd.stages[name]
    primary = SPECS[name].primary_output
    if ctx.usable(primary) is not None:
        try:
            text = stage_info.key_result(name, ctx.dir)
        except Exception:  # noqa: BLE001 - the one-liner is a nicety
            text = ""
        if text:
            return text
    if st.state is State.FAILED and st.failure:
        return st.failure
    if st.state not in (State.DONE, State.STALE):
        return ""
    return _log_key_result(name, facts)


def _log_key_result(name: str, facts: dict) -> str:
    if name == "find_spots" and facts.get("find_spots", {}).get("n_spots") is not None:
        return f"{facts['find_spots']['n_spots']} spots"
    if name == "index" and facts.get("index", {}).get("unit_cell"):
        d = facts["index"]
        return f"{(d.get('space_group') or '').replace(' ', '')} {summary_text.cell_text(d['unit_cell'])}".strip()
    if name == "refine_bravais_settings" and facts.get("bravais"):
        rows = facts["bravais"]
        rec = [r for r in rows if r["recommended"]] or rows
        best = max(rec, key=lambda r: r["solution"])
        return f"{len(rows)} solutions, recommended {best['lattice']} (#{best['solution']})"
    if name == "refine" and facts.get("refine", {}).get("rmsd"):
        return "RMSD " + summary_text.rmsd_text(facts["refine"]["rmsd"])
    if name == "integrate" and facts.get("integrate", {}).get("sigma_m") is not None:
        d = facts["integrate"]
        return (
            f"σm {d['sigma_m']:.3f}°, σb {d['sigma_b']:.3f}°"
            if d.get("sigma_b") is not None
            else ""
        )
    if name == "symmetry" and facts.get("symmetry"):
        return facts["symmetry"]["space_group"]
    if name == "scale" and facts.get("scale", {}).get("overall"):
        o = facts["scale"]["overall"]
        parts = []
        if o.get("cc_half") is not None:
            parts.append(f"CC½ {o['cc_half']:.3f}")
        if o.get("d_min") is not None:
            parts.append(f"to {o['d_min']:.2f} Å")
        if o.get("completeness") is not None:
            parts.append(f"{o['completeness']:.1f}% complete")
        return ", ".join(parts)
    return ""


def collect(path: str | os.PathLike[str]) -> dict:
    """Everything the summary shows, as a JSON-ready dict (structured files first, then logs)."""
    rd = read_rundir(path)
    ctx = _Ctx(rd)
    versions = _versions(ctx)
    common = Counter(versions.values()).most_common(1)
    facts: dict[str, Any] = {
        "directory": str(rd.path.resolve()),
        "kind": rd.kind,
        "dials_version": common[0][0] if common else None,
        "dials_versions": versions,
    }
    for key, fn in (
        ("find_spots", _find_spots),
        ("index", _index),
        ("bravais", _bravais),
        ("refine", _refine),
        ("integrate", _integrate),
        ("symmetry", _symmetry),
        ("scale", _scale),
    ):
        try:
            value = fn(ctx)
        except Exception as exc:  # noqa: BLE001 - one bad section must not hide the others
            ctx.issues.append(f"{key}: could not be summarised ({_first_line(exc)})")
            value = None
        if value:
            facts[key] = value
    if rd.bravais_choice is not None:
        facts["bravais_choice"] = {"solution": rd.bravais_choice[0], "cb_op": rd.bravais_choice[1]}
    stages = {}
    for name, st in rd.stages.items():
        entry: dict[str, Any] = {
            "state": st.state.value,
            "key_result": _key_result(ctx, name, facts),
            "log": st.log.name if st.log else None,
            "outputs": st.outputs,
            "attempts": len(st.attempts),
        }
        if st.failure:
            entry["failure"] = st.failure
        if st.note:
            entry["note"] = st.note
        last = st.last_attempt
        if last is not None and last.unobserved:
            entry["ended_unobserved"] = last.unobserved
        stages[name] = entry
    facts["stages"] = stages
    facts["warnings"] = _warnings(rd)
    facts["issues"] = list(dict.fromkeys(ctx.issues))
    return facts


def _warnings(rd: RunDirState) -> list[dict[str, str]]:
    """What an expert would distrust, stage by stage, for the stages that have a result."""
    from thas_tui.core import warnings as expert

    out = []
    for name, st in rd.stages.items():
        if st.state in (State.DONE, State.STALE):
            out += [c.as_dict() for c in expert.for_stage(name, rd.path)]
    return out


def run_summary(path: str | os.PathLike[str], as_json: bool = False) -> int:
    """Print the summary of a processing directory; ThasError when it is not one."""
    facts = collect(path)
    if as_json:
        print(json.dumps(facts, indent=2, ensure_ascii=False))
    else:
        print(summary_text.render_text(facts))
    return 0

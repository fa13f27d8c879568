"""Per-stage facts for the stage tree: the one-line key result, live progress, Bravais solutions."""

from __future__ import annotations

import json
import re
from pathlib import Path

from thas_tui.core.errors import UnreadableFile
from thas_tui.core.parsers import registry
from thas_tui.core.parsers.common import Progress
from thas_tui.core.readers import refl
from thas_tui.core.readers.bravais import BravaisSolution, read_bravais_summary
from thas_tui.core.readers.expt import ExperimentList, read_expt

_IMAGE_LINE = re.compile(r"^image (\d+)/(\d+)")


class SimulateProgress:
    """Progress of the demo generator, which prints 'image i/N' per image written."""

    def feed(self, line: str) -> Progress | None:
        m = _IMAGE_LINE.match(line.strip())
        if not m:
            return None
        return Progress("simulating images", int(m.group(1)), int(m.group(2)))


def progress_tracker(stage: str) -> registry.ProgressTracker | None:
    """A fresh live-progress tracker for a stage's output lines, when it has one."""
    if stage == "simulate":
        return SimulateProgress()
    return registry.progress_tracker(stage)


def cell_text(cell) -> str:
    """'57.1 102.2 112.2 89.99 89.97 90.01' (lengths to 0.1 Å, angles to 0.01°)."""
    values = (
        [cell.a, cell.b, cell.c, cell.alpha, cell.beta, cell.gamma]
        if hasattr(cell, "a")
        else list(cell)
    )
    return " ".join(f"{v:.1f}" for v in values[:3]) + " " + " ".join(f"{v:.2f}" for v in values[3:])


def _first_crystal(expts: ExperimentList):
    for e in expts.experiments:
        if e.crystal is not None:
            return e.crystal
    return None


def read_stage_log(workdir: Path, stage: str) -> str:
    """The text of a stage's dials.<program>.log in ``workdir`` ('' when there is none)."""
    from thas_tui.core.pipeline import SPECS

    name = SPECS[stage].log_name
    if not name:
        return ""
    try:
        return (workdir / name).read_text(errors="replace")
    except OSError:
        return ""


def bravais_solutions(workdir: Path) -> list[BravaisSolution]:
    """The solutions of bravais_summary.json (empty when missing or unreadable)."""
    path = Path(workdir) / "bravais_summary.json"
    if not path.exists():
        return []
    try:
        return list(read_bravais_summary(path).solutions)
    except UnreadableFile:
        return []


def bravais_sweep_count(workdir: Path) -> int:
    """How many experiments refine_bravais_settings fitted one lattice to (indexed.expt)."""
    try:
        return len(read_expt(Path(workdir) / "indexed.expt").experiments)
    except (OSError, UnreadableFile):
        return 1


def recommended_solution(solutions: list[BravaisSolution]) -> BravaisSolution:
    """DIALS's recommended solution of the highest symmetry (the one the tutorial takes)."""
    recommended = [s for s in solutions if s.recommended]
    pool = recommended or solutions
    # Solutions are numbered from the highest symmetry down; the top recommended one wins.
    return max(pool, key=lambda s: s.solution)


def key_result(stage: str, workdir: Path, config=None) -> str:
    """The one-line result the stage tree shows, read from the stage's output files."""
    workdir = Path(workdir)
    fn = _KEY_RESULTS.get(stage)
    if fn is None:
        return ""
    try:
        return fn(workdir, config)
    except UnreadableFile as exc:
        return f"(unreadable output: {str(exc).splitlines()[0]})"


def _import(workdir: Path, config) -> str:
    expts = read_expt(workdir / "imported.expt")
    n_images = 0
    wavelength = None
    for e in expts.experiments:
        if e.scan is not None:
            n_images += e.scan.image_range[1] - e.scan.image_range[0] + 1
        if e.beam is not None and wavelength is None:
            wavelength = e.beam.wavelength
    sweeps = len(expts.experiments)
    text = f"{n_images} images" if sweeps == 1 else f"{sweeps} sweeps, {n_images} images"
    if wavelength:
        text += f", λ {wavelength:.4f} Å"
    return text


def _master_report(workdir: Path, template: str):
    """The pre-import check's report on the master file ``template``, if it is one."""
    from thas_tui.core import master_check

    if not template.lower().endswith(master_check.HDF5_SUFFIXES):
        return None
    reports = master_check.load(workdir)
    by_name = {Path(r.master).name: r for r in reports}
    return by_name.get(Path(template).name, master_check.MasterReport(template))


def dataset_label(workdir: Path) -> str | None:
    """'thas_demo_#####.cbf 1–36 · λ 1.2820 Å · 2463×2527 px at 550 mm', from imported.expt."""
    path = Path(workdir) / "imported.expt"
    if not path.exists():
        return None
    try:
        expts = read_expt(path)
    except UnreadableFile:
        return None
    if not expts.experiments:
        return None
    e = expts.experiments[0]
    parts = []
    if e.imageset is not None and e.imageset.template:
        name = Path(e.imageset.template).name
        master = _master_report(workdir, e.imageset.template_path or e.imageset.template)
        if master is not None:
            # A master file: its detector, and the image count rather than a range.
            parts.append(name)
            if e.scan is not None:
                parts.append(f"{e.scan.image_range[1] - e.scan.image_range[0] + 1} images")
            if master.detector:
                # "Dectris EIGER2 X 16M": the model says it; the header is short of room.
                parts.append(re.sub(r"^dectris\s+", "", master.detector, flags=re.I))
        else:
            if e.scan is not None:
                name += f" {e.scan.image_range[0]}–{e.scan.image_range[1]}"
            parts.append(name)
    elif e.imageset is not None and e.imageset.images:
        parts.append(f"{Path(e.imageset.images[0]).name} (+{len(e.imageset.images) - 1})")
    if len(expts.experiments) > 1:
        parts.append(f"{len(expts.experiments)} sweeps")
    if e.beam is not None and e.beam.wavelength:
        parts.append(f"λ {e.beam.wavelength:.4f} Å")
    if e.detector is not None and e.detector.panels:
        panel = e.detector.panels[0]
        if panel.image_size:
            text = f"{panel.image_size[0]}×{panel.image_size[1]} px"
            if len(e.detector.panels) > 1:
                text = f"{len(e.detector.panels)} panels of {text}"
            if e.detector.distance:
                text += f" at {e.detector.distance:.0f} mm"
            parts.append(text)
    return " · ".join(parts) or None


def _find_spots(workdir: Path, config) -> str:
    return f"{refl.count(workdir / 'strong.refl')} spots"


def _index(workdir: Path, config) -> str:
    crystal = _first_crystal(read_expt(workdir / "indexed.expt"))
    if crystal is None:
        return ""
    text = f"{crystal.space_group.replace(' ', '')} {cell_text(crystal.unit_cell)}"
    try:
        table = refl.read_refl(workdir / "indexed.refl", columns=("flags", "id", "imageset_id"))
        frac = refl.indexed_fraction(table)
        if frac is not None:
            text += f", {100 * frac:.0f}% indexed"
        text += _sweeps_indexed(workdir, table)
    except UnreadableFile:
        pass
    return text


def sweeps_not_indexed(workdir: Path, table: refl.ReflectionTable) -> tuple[int, list[str]]:
    """Of several imported sweeps: how many, and the names (template) of those none of whose
    spots indexed (their reflections all have id -1)."""
    try:
        imported = read_expt(workdir / "imported.expt").experiments
    except (UnreadableFile, OSError):
        return 0, []
    ids, isets = table.get("id"), table.get("imageset_id")
    if len(imported) < 2 or ids is None or isets is None:
        return len(imported), []
    missing = []
    for i, e in enumerate(imported):
        if not bool(((isets == i) & (ids >= 0)).any()):
            name = Path(e.imageset.template).name if e.imageset and e.imageset.template else ""
            missing.append(f"sweep {i + 1}" + (f" ({name})" if name else ""))
    return len(imported), missing


def _sweeps_indexed(workdir: Path, table: refl.ReflectionTable) -> str:
    n, missing = sweeps_not_indexed(workdir, table)
    if n < 2:
        return ""
    if not missing:
        return f", all {n} sweeps"
    return f", {n - len(missing)} of {n} sweeps; not indexed: {', '.join(missing)}"


def _bravais(workdir: Path, config) -> str:
    solutions = bravais_solutions(workdir)
    if not solutions:
        return ""
    from thas_tui.core.journal import Journal

    choice = Journal(workdir).last_choice()
    chosen = next((s for s in solutions if choice and s.solution == choice[0]), None)
    if chosen is not None:
        return f"{chosen.bravais} chosen (#{chosen.solution})"
    rec = recommended_solution(solutions)
    return f"{len(solutions)} solutions, recommended {rec.bravais} (#{rec.solution})"


def _reindex(workdir: Path, config) -> str:
    return f"{refl.count(workdir / 'reindexed.refl')} reflections reindexed"


def _rmsd_text(x: float | None, y: float | None, z: float | None) -> str:
    parts = []
    if x is not None:
        parts.append(f"{x:.2f} px")
    if y is not None:
        parts.append(f"{y:.2f} px")
    if z is not None:
        parts.append(f"{z:.2f} img")
    return "RMSD " + " ".join(parts) if parts else ""


def _refine(workdir: Path, config) -> str:
    log = registry.parse_log("refine", read_stage_log(workdir, "refine"))
    if log is not None:
        run = log.scan_varying or log.static
        if run is not None and run.rmsds:
            r = run.rmsds[-1]
            return _rmsd_text(r.rmsd_x, r.rmsd_y, r.rmsd_z)
        if run is not None and run.final_step is not None:
            # The steps table is in mm, mm and degrees, not pixels and images.
            s = run.final_step
            vals = [
                f"{v:.3f} {u}"
                for v, u in ((s.rmsd_x, "mm"), (s.rmsd_y, "mm"), (s.rmsd_phi, "°"))
                if v is not None
            ]
            return "RMSD " + " ".join(vals) if vals else ""
    return ""


def _integrate(workdir: Path, config) -> str:
    parts = []
    crystal_expts = read_expt(workdir / "integrated.expt")
    profile = next((e.profile for e in crystal_expts.experiments if e.profile is not None), None)
    try:
        n: int | None = refl.count(workdir / "integrated.refl")
    except UnreadableFile:
        # A directory copied without its large .refl files: the log still says how many.
        log = registry.parse_log("integrate", read_stage_log(workdir, "integrate"))
        n = log.n_integrated if log is not None else None
    if n is not None:
        parts.append(f"{n} reflections")
    if profile is not None and profile.sigma_m is not None:
        parts.append(f"σm {profile.sigma_m:.3f}°")
    if profile is not None and profile.sigma_b is not None:
        parts.append(f"σb {profile.sigma_b:.3f}°")
    return ", ".join(parts)


def _symmetry(workdir: Path, config) -> str:
    crystal = _first_crystal(read_expt(workdir / "symmetrized.expt"))
    return crystal.space_group if crystal is not None else ""


def _scale_text(cc_half: float | None, d_min: float | None, completeness: float | None) -> str:
    parts = []
    if cc_half is not None:
        parts.append(f"CC½ {cc_half:.3f}")
    if d_min is not None:
        parts.append(f"to {d_min:.2f} Å")
    text = " ".join(parts)
    if completeness is not None:
        text += f", {completeness:.1f}% complete"
    return text


def _scale(workdir: Path, config) -> str:
    path = workdir / "dials.scale.json"
    if path.exists():
        from thas_tui.core.readers.merging_stats import read_merging_stats

        try:
            overall = read_merging_stats(path).shell("overall")
        except UnreadableFile:
            overall = None
        if overall is not None:
            return _scale_text(overall.cc_half, overall.d_min, overall.completeness)
    log = registry.parse_log("scale", read_stage_log(workdir, "scale"))
    if log is None or log.summary is None:
        return ""
    s = log.summary

    def overall_of(stat):
        return stat.overall if stat is not None else None

    return _scale_text(overall_of(s.cc_half), overall_of(s.d_min), overall_of(s.completeness))


def _file_size(name: str):
    def fn(workdir: Path, config) -> str:
        path = workdir / name
        if not path.exists():
            return ""
        return f"{name} ({path.stat().st_size / 1e6:.1f} MB)"

    return fn


def _simulate(workdir: Path, config) -> str:
    if config is None or not getattr(config, "demo_preset", None):
        return ""
    from thas_tui.core import demo

    info_path = demo.demo_cache_dir(config.demo_preset) / "sweep_info.json"
    try:
        info = json.loads(info_path.read_text())
    except (OSError, ValueError):
        return ""
    return f"{info.get('n_images', '?')} images, {info.get('space_group', '')}".rstrip(", ")


def panel_sizes(expt_path: Path) -> list[tuple[int, int]]:
    """(width, height) of each panel of the first experiment's detector; [] when unknown."""
    expts = read_expt(expt_path)
    if not expts.experiments or expts.experiments[0].detector is None:
        return []
    panels = expts.experiments[0].detector.panels
    return [tuple(p.image_size) for p in panels if p.image_size]


def _mask(workdir: Path, config) -> str:
    """What mask.phil masks: its parts, and the pixels its shapes take when that is exact."""
    from thas_tui.core.mask_spec import MaskSpec, mask_array

    try:
        spec = MaskSpec.from_phil((workdir / "mask.phil").read_text(errors="replace"))
    except OSError:
        return "masked.expt"
    parts = []
    counts: dict[str, int] = {}
    for shape in spec.untrusted:
        kind = type(shape).__name__.lower()
        counts[kind] = counts.get(kind, 0) + 1
    for kind, n in counts.items():
        name = "whole panel" if kind == "wholepanel" else kind
        parts.append(f"{n} {name}{'s' if n > 1 else ''}")
    if spec.border > 0:
        parts.append(f"border {spec.border}")
    if spec.d_min is not None or spec.d_max is not None or spec.resolution_ranges:
        parts.append("resolution")
    if spec.ice_rings:
        parts.append("ice rings")
    text = ", ".join(parts) or "nothing masked"
    resolution = spec.d_min, spec.d_max, spec.resolution_ranges, spec.ice_rings
    # Resolution limits need each pixel's d (dxtbx): only shapes and border are counted here.
    # The count leads: the stage tree's column cuts the end of a long result.
    if not any(resolution) and not spec.is_empty():
        sizes = panel_sizes(workdir / "imported.expt")
        if sizes:
            bad = sum(
                int((~mask_array(spec, (h, w), panel=i)).sum()) for i, (w, h) in enumerate(sizes)
            )
            text = f"{bad:,} px masked: {text}"
    return text


_KEY_RESULTS = {
    "simulate": _simulate,
    "import": _import,
    "mask": _mask,
    "find_spots": _find_spots,
    "index": _index,
    "refine_bravais_settings": _bravais,
    "reindex": _reindex,
    "refine": _refine,
    "integrate": _integrate,
    "symmetry": _symmetry,
    "scale": _scale,
    "export": _file_size("scaled.mtz"),
    "merge": _file_size("merged.mtz"),
}


def format_bravais_table(solutions: list[BravaisSolution]) -> str:
    """The Bravais table as plain text (headless runs)."""
    rec = recommended_solution(solutions)
    head = f"{'':2}{'#':>3} {'lattice':<7} {'metric fit':>10} {'rmsd':>7} {'min/max cc':>13} {'#spots':>7}  {'unit cell':<44} cb_op"
    rows = [head]
    for s in solutions:
        mark = "★" if s is rec else ("*" if s.recommended else " ")
        cc = f"{_f(s.min_cc, 3)}/{_f(s.max_cc, 3)}"
        cell = " ".join(f"{v:.2f}" for v in s.unit_cell or ())
        rows.append(
            f"{mark:2}{s.solution:>3} {s.bravais:<7} {_f(s.metric_fit, 4):>10} {_f(s.rmsd, 3):>7} "
            f"{cc:>13} {s.nspots if s.nspots is not None else '-':>7}  {cell:<44} {s.cb_op}"
        )
    return "\n".join(rows)


def _f(v: float | None, digits: int) -> str:
    return "-" if v is None else f"{v:.{digits}f}"

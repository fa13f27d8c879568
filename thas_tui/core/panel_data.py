"""What each dashboard panel shows, read from a processing directory (structured files first)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from thas_tui.core.errors import UnreadableFile
from thas_tui.core.parsers import registry
from thas_tui.core.parsers.find_spots import strong_pixels_by_image
from thas_tui.core.readers import refl
from thas_tui.core.readers.expt import read_expt
from thas_tui.core.readers.merging_stats import MergingStats, read_merging_stats
from thas_tui.core.stage_info import read_stage_log


def _num(x) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


@dataclass
class Spots:
    first_image: int
    counts: list[int]
    kind: str
    # Spot z centroids with frame 0 = first_image (from strong.refl), for DIALS's own binning.
    z: np.ndarray | None = None
    # "sweep 2 (x_02_#####.cbf)" when the run has several sweeps; each then has its own Spots.
    label: str = ""
    sweeps: list[Spots] = field(default_factory=list)


_IMAGESET = "Finding strong spots in imageset "


class LiveStrongPixels:
    """Per-image strong-pixel counts gathered from find_spots' live output.

    With several sweeps find_spots takes one imageset after the other, each numbering its
    images from its own first: the counts shown are those of the imageset under way."""

    def __init__(self) -> None:
        self.by_image: dict[int, int] = {}
        self.first: int | None = None
        self.last: int | None = None
        self.ranges: list[tuple[int, int]] = []
        self.imageset = 0

    def feed(self, lines: list[str]) -> bool:
        """Take new lines; True when a count was added."""
        changed = False
        start = 0
        for i, line in enumerate(lines):
            if line.startswith(_IMAGESET):
                changed |= self._take(lines[start:i])
                start = i + 1
                self._next_imageset(line[len(_IMAGESET) :].strip())
        return self._take(lines[start:]) or changed

    def _take(self, lines: list[str]) -> bool:
        found = strong_pixels_by_image(lines) if lines else {}
        self.by_image.update(found)
        return bool(found)

    def _next_imageset(self, number: str) -> None:
        if not number.isdigit() or int(number) == self.imageset:
            return
        self.imageset = int(number)
        self.by_image = {}
        if self.imageset < len(self.ranges):
            self.first, self.last = self.ranges[self.imageset]

    def set_range(self, first: int, last: int) -> None:
        self.first, self.last = first, last

    def set_ranges(self, ranges: list[tuple[int, int]]) -> None:
        """Every sweep's image range, in imageset order (the first becomes the range)."""
        self.ranges = list(ranges)
        if ranges:
            self.set_range(*ranges[0])

    def spots(self) -> Spots | None:
        if not self.by_image:
            return None
        first = self.first if self.first is not None else min(self.by_image)
        last = self.last if self.last is not None else max(self.by_image)
        counts = [self.by_image.get(i) for i in range(first, last + 1)]
        label = f"sweep {self.imageset + 1} of {len(self.ranges)}" if len(self.ranges) > 1 else ""
        return Spots(first, counts, "strong pixels (live)", label=label)  # type: ignore[arg-type]


def image_range(workdir: Path) -> tuple[int, int] | None:
    """The first scan's image range from imported.expt."""
    try:
        expts = read_expt(workdir / "imported.expt")
    except (UnreadableFile, OSError):
        return None
    for e in expts.experiments:
        if e.scan is not None:
            return e.scan.image_range
    return None


def spots(workdir: Path) -> Spots | None:
    """Exact spots per image from strong.refl (z centroid); else strong pixels from the log.

    With several sweeps, ``sweeps`` holds one Spots per imageset (strong.refl's id), the first
    of them being the returned one's own fields."""
    path = workdir / "strong.refl"
    rng = image_range(workdir)
    if not path.exists() or rng is None:
        return _strong_pixels_from_log(workdir, rng)
    table = refl.read_refl(path, columns=("xyzobs.px.value", "id"))
    sweeps = sweep_ranges(workdir)
    if len(sweeps) > 1 and table.get("id") is not None:
        per = [_spots_of(table, r, i, label) for i, (r, label) in enumerate(sweeps)]
        first = per[0]
        return Spots(first.first_image, first.counts, "spots", first.z, first.label, per)
    experiment_id = 0 if table.get("id") is not None else None
    return _spots_of(table, rng, experiment_id, "")


def _spots_of(
    table: refl.ReflectionTable, rng: tuple[int, int], experiment_id: int | None, label: str
) -> Spots:
    counts = refl.spots_per_image(table, rng, experiment_id=experiment_id)
    z = _z(table, rng, experiment_id)
    return Spots(rng[0], [int(c) for c in counts], "spots", z, label)


def sweep_ranges(workdir: Path) -> list[tuple[tuple[int, int], str]]:
    """(image range, "sweep N (template)") of each imported sweep."""
    try:
        expts = read_expt(workdir / "imported.expt")
    except (UnreadableFile, OSError):
        return []
    out = []
    for i, e in enumerate(expts.experiments):
        if e.scan is None:
            return []
        name = Path(e.imageset.template).name if e.imageset and e.imageset.template else ""
        out.append((e.scan.image_range, f"sweep {i + 1}" + (f" ({name})" if name else "")))
    return out


def _z(table: refl.ReflectionTable, rng: tuple[int, int], experiment_id: int | None):
    xyz = table.get("xyzobs.px.value")
    if xyz is None:
        return None
    z = xyz[:, 2]
    if experiment_id is not None:
        z = z[table["id"] == experiment_id]
    # DIALS's z counts frames from the array range's start (image first - 1).
    return z - (rng[0] - 1)


def _strong_pixels_from_log(workdir: Path, rng: tuple[int, int] | None) -> Spots | None:
    text = read_stage_log(workdir, "find_spots")
    if not text:
        return None
    live = LiveStrongPixels()
    if rng is not None:
        live.set_range(*rng)
    live.feed(text.splitlines())
    found = live.spots()
    if found is None:
        return None
    return Spots(found.first_image, found.counts, "strong pixels (from the log)")


@dataclass
class RmsdRows:
    rows: list[tuple[str, int | None, float | None, float | None, float | None]] = field(
        default_factory=list
    )


def rmsds(workdir: Path) -> RmsdRows:
    """Index macrocycles and refine passes: RMSDs by experiment (px, px, images)."""
    out = RmsdRows()
    index_log = read_stage_log(workdir, "index")
    if index_log:
        parsed = registry.parse_log("index", index_log)
        for mc in parsed.macrocycles:
            _rmsd_rows(out, f"index cycle {mc.cycle}", mc.refinement.rmsds)
    refine_log = read_stage_log(workdir, "refine")
    if refine_log:
        parsed = registry.parse_log("refine", refine_log)
        for run in parsed.runs:
            label = "refine scan-varying" if run.scan_varying else "refine static"
            _rmsd_rows(out, label, run.rmsds)
    return out


def _rmsd_rows(out: RmsdRows, label: str, rmsds: list) -> None:
    """One row per experiment of an "RMSDs by experiment" table (several sweeps: each named)."""
    for r in rmsds if len(rmsds) > 1 else rmsds[:1]:
        name = f"{label} · expt {r.experiment}" if len(rmsds) > 1 else label
        out.rows.append((name, r.nref, r.rmsd_x, r.rmsd_y, r.rmsd_z))


@dataclass
class CellModel:
    images: list[float]
    cells: list[tuple[float, ...]]
    angles: list[tuple[float, ...]] | None
    # Several sweeps: "experiment 2 of 4 (x_02_#####.cbf)", and every experiment's model.
    label: str = ""
    experiments: list[CellModel] = field(default_factory=list)


def cell_model(workdir: Path) -> CellModel | None:
    """The scan-varying crystals of refined.expt: cell and orientation per scan point (the
    first experiment's, with every experiment's in ``experiments`` when there are several)."""
    path = workdir / "refined.expt"
    if not path.exists():
        return None
    expts = read_expt(path).experiments
    models = []
    for i, e in enumerate(expts):
        c = e.crystal
        if c is None or c.scan_varying is None:
            continue
        sv = c.scan_varying
        first = e.scan.image_range[0] if e.scan is not None else 1
        images = [first + k for k in range(len(sv.cells))]
        name = Path(e.imageset.template).name if e.imageset and e.imageset.template else ""
        label = f"experiment {i + 1} of {len(expts)}" + (f" ({name})" if name else "")
        # Scan point k sits at the start of image first+k (DIALS stores n_images+1 points).
        models.append(
            CellModel(
                [float(x) for x in images],
                [tuple(float(v) for v in row) for row in sv.cells],
                [tuple(float(v) for v in row) for row in sv.orientation]
                if sv.orientation is not None
                else None,
                label if len(expts) > 1 else "",
            )
        )
    if not models:
        return None
    first_model = models[0]
    if len(models) > 1:
        first_model.experiments = models
    return first_model


@dataclass
class Integration:
    sigma_b: float | None
    sigma_m: float | None
    n_summation: int | None
    n_profile_fitted: int | None
    bins: list[tuple[float | None, float, int | None, float | None, float | None]]
    # Several sweeps: (sweep number, n by summation, n profile-fitted, I/σ sum, I/σ prf) each,
    # from dials.integrate's "Summary for experiment N" tables.
    per_sweep: list[tuple[int, int | None, int | None, float | None, float | None]] = field(
        default_factory=list
    )


# DIALS's reflection flags (dials/array_family/flex_ext.py).
_FLAG_INTEGRATED_SUM = 1 << 8
_FLAG_INTEGRATED_PRF = 1 << 9


def integration(workdir: Path) -> Integration | None:
    path = workdir / "integrated.expt"
    if not path.exists():
        return None
    expts = read_expt(path)
    profile = next((e.profile for e in expts.experiments if e.profile is not None), None)
    n_sum = n_prf = None
    try:
        table = refl.read_refl(workdir / "integrated.refl", columns=("flags",))
        n_sum = refl.count_flag(table, _FLAG_INTEGRATED_SUM)
        n_prf = refl.count_flag(table, _FLAG_INTEGRATED_PRF)
    except (UnreadableFile, OSError):
        pass
    bins = []
    per_sweep = []
    log = read_stage_log(workdir, "integrate")
    if log:
        parsed = registry.parse_log("integrate", log)
        prev = None
        step = 0.0
        for b in parsed.resolution_bins:
            if b.d_min is None:
                continue
            if prev is not None:
                if step and (b.d_min - prev) * step < 0:
                    break  # the next experiment's table: several sweeps show their own rows
                step = step or b.d_min - prev
            bins.append((prev, b.d_min, b.n_sum, b.i_sigi_sum, b.i_sigi_prf))
            prev = b.d_min
        if len(parsed.summaries) > 1:
            for exp in sorted(parsed.summaries):
                n_sum_exp = parsed.overall("number processed with summation", exp)
                n_prf_exp = parsed.overall("number processed with profile fitting", exp)
                per_sweep.append(
                    (
                        exp + 1,
                        None if n_sum_exp is None else int(n_sum_exp),
                        None if n_prf_exp is None else int(n_prf_exp),
                        parsed.overall("i/sigi (summation)", exp),
                        parsed.overall("i/sigi (profile fitting)", exp),
                    )
                )
    return Integration(
        profile.sigma_b if profile else None,
        profile.sigma_m if profile else None,
        n_sum,
        n_prf,
        bins,
        per_sweep,
    )


@dataclass
class Symmetry:
    laue_groups: list[dict]
    screw_axes: list[dict] | None
    space_group: str | None


def symmetry(workdir: Path) -> Symmetry | None:
    """Laue group scores (dials.symmetry.json), screw axes (log only) and the chosen group."""
    json_path = workdir / "dials.symmetry.json"
    log = read_stage_log(workdir, "symmetry")
    if not json_path.exists() and not log:
        return None
    laue: list[dict] = []
    parsed = registry.parse_log("symmetry", log) if log else None
    if json_path.exists():
        from thas_tui.core.readers.symmetry import read_symmetry_json

        try:
            result = read_symmetry_json(json_path)
            for s in result.subgroups:
                laue.append(
                    {
                        "laue_group": s.patterson_group,
                        "likelihood": s.likelihood,
                        "z_cc": s.z_cc_for,
                        "cc": s.cc_for,
                        "net_z": s.z_cc_net,
                        "delta": s.delta,
                        "reindex": s.cb_op,
                    }
                )
        except UnreadableFile:
            pass
    if not laue and parsed is not None:
        for s in parsed.laue_groups:
            laue.append(
                {
                    "laue_group": s.laue_group,
                    "likelihood": s.likelihood,
                    "z_cc": s.z_cc,
                    "cc": s.cc,
                    "net_z": s.net_z,
                    "delta": s.delta,
                    "reindex": s.reindex,
                }
            )
    screw = None
    if parsed is not None and parsed.absences_checked is not False:
        screw = [
            {
                "axis": a.axis,
                "score": a.score,
                "n_present": a.n_present,
                "n_absent": a.n_absent,
                "i_present": a.mean_i_present,
                "i_absent": a.mean_i_absent,
                "i_sigma_present": a.mean_i_sigma_present,
                "i_sigma_absent": a.mean_i_sigma_absent,
            }
            for a in parsed.screw_axes
        ]
    space_group = None
    sym_expt = workdir / "symmetrized.expt"
    if sym_expt.exists():
        try:
            crystal = next(
                e.crystal for e in read_expt(sym_expt).experiments if e.crystal is not None
            )
            space_group = crystal.space_group
        except (UnreadableFile, StopIteration):
            pass
    if space_group is None and parsed is not None:
        space_group = parsed.space_group
    return Symmetry(laue, screw, space_group)


@dataclass
class Merging:
    d_min: list[float]
    d_max: list[float]
    series: dict[str, list[float | None]]
    table1: dict[str, tuple[object, object, object]]
    source: str


_SERIES = (
    "cc_half",
    "cc_anom",
    "i_over_sigma",
    "completeness",
    "anom_completeness",
    "multiplicity",
    "r_meas",
    "r_pim",
)
_TABLE1_FIELDS = (
    "d_max",
    "d_min",
    "completeness",
    "multiplicity",
    "i_over_sigma",
    "r_merge",
    "r_meas",
    "r_pim",
    "cc_half",
    "anom_completeness",
    "anom_multiplicity",
    "cc_anom",
    "n_obs",
    "n_uniq",
)


def _merging_from_stats(stats: MergingStats, source: str) -> Merging:
    bins = stats.bins
    series = {name: [_num(v) for v in bins.values[name]] for name in _SERIES if name in bins.values}
    rows = {r.shell: r for r in stats.table1}
    table: dict[str, tuple[object, object, object]] = {}
    for f in _TABLE1_FIELDS:
        vals = tuple(
            getattr(rows.get(s), f, None) if rows.get(s) else None
            for s in ("overall", "low", "high")
        )
        if any(v is not None for v in vals):
            table["n_unique" if f == "n_uniq" else f] = vals  # type: ignore[assignment]
    return Merging(
        [float(x) for x in bins.d_min], [float(x) for x in bins.d_max], series, table, source
    )


def merging(workdir: Path) -> Merging | None:
    """Merging statistics vs resolution and Table 1: dials.merge.json, dials.scale.json, the log."""
    for name in ("dials.merge.json", "dials.scale.json"):
        path = workdir / name
        if path.exists():
            try:
                return _merging_from_stats(read_merging_stats(path), name)
            except UnreadableFile:
                continue
    log = read_stage_log(workdir, "scale")
    if not log:
        return None
    parsed = registry.parse_log("scale", log)
    shells = [s for s in parsed.shells if s.d_min is not None]
    series = {
        "cc_half": [s.cc_half for s in shells],
        "cc_anom": [s.cc_anom for s in shells],
        "i_over_sigma": [s.mean_i_over_sigma for s in shells],
        "completeness": [s.completeness for s in shells],
        "multiplicity": [s.multiplicity for s in shells],
        "r_meas": [s.r_meas for s in shells],
        "r_pim": [s.r_pim for s in shells],
    }
    table: dict[str, tuple[object, object, object]] = {}
    summ = parsed.summary
    if summ is not None:
        for key, attr in (
            ("d_max", "d_max"),
            ("d_min", "d_min"),
            ("completeness", "completeness"),
            ("multiplicity", "multiplicity"),
            ("i_over_sigma", "i_over_sigma"),
            ("r_merge", "rmerge"),
            ("r_meas", "rmeas"),
            ("r_pim", "rpim"),
            ("cc_half", "cc_half"),
            ("anom_completeness", "anom_completeness"),
            ("anom_multiplicity", "anom_multiplicity"),
            ("cc_anom", "anom_correlation"),
            ("n_obs", "n_observations"),
            ("n_unique", "n_unique"),
        ):
            stat = getattr(summ, attr, None)
            if stat is not None:
                table[key] = (stat.overall, stat.low, stat.high)
    return Merging(
        [s.d_min for s in shells],
        [s.d_max or 0.0 for s in shells],
        series,
        table,
        "dials.scale.log",
    )

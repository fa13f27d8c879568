"""Spots mapped to reciprocal space (Å⁻¹) from `.expt` geometry and `.refl` centroids, in numpy."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from thas_tui.core.errors import UnreadableFile
from thas_tui.core.readers import refl
from thas_tui.core.readers.expt import Experiment, ExperimentList, Scan, read_expt

# Which stage writes what the view needs, for the message of an empty view.
SOURCES = {
    "strong": ("imported.expt", "strong.refl", "find_spots"),
    "indexed": ("indexed.expt", "indexed.refl", "index"),
}
REFL_COLUMNS = ("xyzobs.px.value", "panel", "id", "imageset_id", "flags", "miller_index")

# Water ice (hexagonal Ih) rings, Å: where dials.find_spots' ice_rings filter looks.
ICE_RINGS = (3.897, 3.669, 3.441, 2.671, 2.249, 2.072, 1.948, 1.918, 1.883, 1.721)


@dataclass(frozen=True)
class PanelFrame:
    """A panel in the laboratory frame, with what px→mm needs."""

    origin: np.ndarray
    fast: np.ndarray
    slow: np.ndarray
    pixel_size: tuple[float, float]
    # (mu mm⁻¹, thickness mm) when dxtbx corrects this panel's px→mm for parallax.
    parallax: tuple[float, float] | None = None


@dataclass(frozen=True)
class SweepGeometry:
    """What maps one imageset's centroids to reciprocal space."""

    s0: np.ndarray  # Å⁻¹, towards the detector
    panels: tuple[PanelFrame, ...]
    fixed: np.ndarray  # F
    setting: np.ndarray  # S
    axis: np.ndarray  # unit rotation axis datum
    scan: Scan | None
    # No goniometer: rlp = s1 − s0 as DIALS does for stills.
    has_goniometer: bool = True


def geometry_of(expt: Experiment) -> SweepGeometry | str:
    """The mapping geometry of an experiment, or why it cannot be mapped."""
    beam, det = expt.beam, expt.detector
    if beam is None or beam.wavelength is None or beam.direction is None or beam.wavelength <= 0:
        return "no usable beam model"
    if det is None or not det.panels:
        return "no detector model"
    panels = []
    for p in det.panels:
        if p.origin is None or p.fast_axis is None or p.slow_axis is None or not p.pixel_size:
            return f"panel {p.name or len(panels)} has no geometry"
        par = None
        if p.parallax and p.mu and p.thickness:
            par = (p.mu, p.thickness)
        panels.append(
            PanelFrame(
                np.asarray(p.origin, float),
                np.asarray(p.fast_axis, float),
                np.asarray(p.slow_axis, float),
                p.pixel_size,
                par,
            )
        )
    direction = np.asarray(beam.direction, float)
    s0 = -direction / np.linalg.norm(direction) / beam.wavelength
    g = expt.goniometer
    eye = np.eye(3)
    if g is None or g.axis_datum is None:
        return SweepGeometry(s0, tuple(panels), eye, eye, np.array([1.0, 0, 0]), None, False)
    axis = np.asarray(g.axis_datum, float)
    fixed = np.asarray(g.fixed_rotation, float).reshape(3, 3) if g.fixed_rotation else eye
    setting = np.asarray(g.setting_rotation, float).reshape(3, 3) if g.setting_rotation else eye
    return SweepGeometry(s0, tuple(panels), fixed, setting, axis / np.linalg.norm(axis), expt.scan)


def rotation(axis: np.ndarray, angles: np.ndarray | float) -> np.ndarray:
    """Right-handed rotation matrices (…, 3, 3) by `angles` radians about the unit `axis`."""
    x, y, z = axis
    a = np.asarray(angles, float)
    c, s = np.cos(a), np.sin(a)
    t = 1 - c
    return np.stack(
        [
            np.stack([t * x * x + c, t * x * y - s * z, t * x * z + s * y], -1),
            np.stack([t * x * y + s * z, t * y * y + c, t * y * z - s * x], -1),
            np.stack([t * x * z - s * y, t * y * z + s * x, t * z * z + c], -1),
        ],
        -2,
    )


def _cols(m: np.ndarray, v: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[np.ndarray, ...]:
    """m · v for v given as three columns: three multiply-adds per row, where a BLAS matmul of
    (n, 3) by (3, 3) waits for its threads on a busy machine (10-100× slower)."""
    x, y, z = v
    return tuple(m[i, 0] * x + m[i, 1] * y + m[i, 2] * z for i in range(3))


def px_to_lab(xy: np.ndarray, panel: PanelFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Laboratory coordinates (mm, as x, y, z columns) of pixel positions (n, 2) on a panel,
    parallax included (dxtbx ParallaxCorrectedPxMmStrategy.to_millimeter, Panel.get_lab_coord)."""
    o, f, s = panel.origin, panel.fast, panel.slow
    mm_x = xy[:, 0] * panel.pixel_size[0]
    mm_y = xy[:, 1] * panel.pixel_size[1]
    if panel.parallax is not None:
        mu, t = panel.parallax
        v = [o[i] + mm_x * f[i] + mm_y * s[i] for i in range(3)]
        norm = np.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
        u = [c / norm for c in v]
        n = np.cross(f, s)
        if o @ n < 0:
            n = -n
        c = u[0] * n[0] + u[1] * n[1] + u[2] * n[2]
        tau = 1 / mu - (t / c + 1 / mu) * np.exp(-mu * t / c)
        mm_x = mm_x - (u[0] * f[0] + u[1] * f[1] + u[2] * f[2]) * tau
        mm_y = mm_y - (u[0] * s[0] + u[1] * s[1] + u[2] * s[2]) * tau
    return tuple(o[i] + mm_x * f[i] + mm_y * s[i] for i in range(3))  # type: ignore[return-value]


def map_to_reciprocal(xyz_px: np.ndarray, panel: np.ndarray, geom: SweepGeometry) -> np.ndarray:
    """rlp (n, 3) in Å⁻¹ of centroids (x, y, z px) on `panel` numbers, as DIALS's
    centroid_px_to_mm + map_centroids_to_reciprocal_space (dials/array_family/flex_ext.py)."""
    n = len(xyz_px)
    q = [np.full(n, np.nan) for _ in range(3)]
    wavelength = 1 / np.linalg.norm(geom.s0)
    one_panel = len(geom.panels) == 1 and bool((panel == 0).all())
    for i, frame in enumerate(geom.panels):
        sel = slice(None) if one_panel else panel == i
        xy = xyz_px[sel, :2]
        if not len(xy):
            continue
        lab = px_to_lab(xy, frame)
        k = 1 / (np.sqrt(lab[0] ** 2 + lab[1] ** 2 + lab[2] ** 2) * wavelength)
        for j in range(3):
            q[j][sel] = lab[j] * k - geom.s0[j]
        if one_panel:
            break
    if not geom.has_goniometer:
        return np.column_stack(q)
    scan = geom.scan
    if scan is not None:
        # z is an array index: image N of the file covers [N-1, N).
        phi = np.radians(
            scan.oscillation_start
            + (xyz_px[:, 2] - (scan.image_range[0] - 1)) * scan.oscillation_width
        )
    else:
        phi = np.zeros(n)
    x, y, z = _cols(np.linalg.inv(geom.setting), q)
    # R(axis, −φ)·v by Rodrigues: v cos + (k × v) sin + k (k·v)(1 − cos).
    kx, ky, kz = geom.axis
    c, s = np.cos(phi), -np.sin(phi)
    kv = (kx * x + ky * y + kz * z) * (1 - c)
    r = (
        x * c + (ky * z - kz * y) * s + kx * kv,
        y * c + (kz * x - kx * z) * s + ky * kv,
        z * c + (kx * y - ky * x) * s + kz * kv,
    )
    return np.column_stack(_cols(np.linalg.inv(geom.fixed), r))


# --- a directory's spots in reciprocal space ---------------------------------------------------


@dataclass(frozen=True)
class Crystal:
    """One lattice: its experiment id and reciprocal axes a*, b*, c* (columns of A, Å⁻¹)."""

    experiment: int
    A: np.ndarray


@dataclass(frozen=True)
class Lattice:
    """Every spot of a reflection file in reciprocal space, with what the view colours by."""

    source: str  # "strong" or "indexed"
    refl_path: Path
    expt_path: Path
    rlp: np.ndarray  # (n, 3) Å⁻¹ (rows that could not be mapped are dropped)
    image: np.ndarray  # (n,) image number (1-based, from the z centroid)
    experiment: np.ndarray  # (n,) experiment id; -1 unindexed
    imageset: np.ndarray  # (n,)
    indexed: np.ndarray  # (n,) bool
    n_rows: int  # rows of the file
    crystals: tuple[Crystal, ...] = ()
    rotation_axis: np.ndarray = field(default_factory=lambda: np.array([1.0, 0, 0]))
    beam: np.ndarray = field(default_factory=lambda: np.array([0, 0, 1.0]))
    image_range: tuple[int, int] = (1, 1)
    notes: tuple[str, ...] = ()
    still: bool = False

    @functools.cached_property
    def d(self) -> np.ndarray:
        """Resolution (Å) of each spot: 1/|rlp|."""
        with np.errstate(divide="ignore"):
            r = self.rlp
            return 1 / np.sqrt(r[:, 0] ** 2 + r[:, 1] ** 2 + r[:, 2] ** 2)

    @functools.cached_property
    def n_indexed(self) -> int:
        return int(np.count_nonzero(self.indexed))

    @property
    def n_unindexed(self) -> int:
        return len(self.indexed) - self.n_indexed

    @functools.cached_property
    def experiments(self) -> tuple[int, ...]:
        return tuple(int(x) for x in np.unique(self.experiment[self.experiment >= 0]))

    def legend(self) -> str:
        """'14,589 spots · 13,002 indexed · 1,587 unindexed' (just the spots before indexing)."""
        parts = [f"{len(self.rlp):,} spots"]
        if self.source == "indexed":
            parts += [f"{self.n_indexed:,} indexed", f"{self.n_unindexed:,} unindexed"]
            if len(self.experiments) > 1:
                parts.append(f"{len(self.experiments)} experiments")
        return " · ".join(parts)


def load_lattice(workdir: Path, source: str = "strong") -> Lattice | str:
    """The spots of `workdir`'s strong.refl (with imported.expt) or indexed.refl (with
    indexed.expt) in reciprocal space, or a sentence saying what is missing.

    Raises UnreadableFile for a damaged file (the message names it)."""
    expt_name, refl_name, stage = SOURCES[source]
    refl_path, expt_path = workdir / refl_name, workdir / expt_name
    if not refl_path.exists():
        return f"No {refl_name} yet: dials.{stage} writes it (the {stage} stage)."
    if not expt_path.exists():
        return f"{refl_name} is here but {expt_name} is not: it holds the geometry to map it."
    table = refl.read_refl(refl_path, columns=REFL_COLUMNS)
    expts = read_expt(expt_path)
    return lattice_from(table, expts, source, crystals_from=_crystal_source(workdir, expts))


def _crystal_source(workdir: Path, expts: ExperimentList) -> ExperimentList | None:
    if any(e.crystal is not None for e in expts.experiments):
        return expts
    # Before indexing the crystal is unknown; after it, strong.refl gets the cell axes too.
    path = workdir / "indexed.expt"
    if path.exists():
        try:
            return read_expt(path)
        except (UnreadableFile, OSError):
            return None
    return None


def lattice_from(
    table: refl.ReflectionTable,
    expts: ExperimentList,
    source: str = "strong",
    crystals_from: ExperimentList | None = None,
) -> Lattice:
    """Map a reflection table with its experiment list (see load_lattice)."""
    xyz = table.get("xyzobs.px.value")
    if xyz is None:
        raise UnreadableFile(
            f"{table.path}: no xyzobs.px.value column (spot centroids): not a spot list of "
            "dials.find_spots or dials.index. Re-run the step that wrote it."
        )
    n = len(xyz)
    panel = table.get("panel")
    panel = np.zeros(n, np.int64) if panel is None else panel.astype(np.int64)
    ids = table.get("id")
    ids = np.zeros(n, np.int64) if ids is None else ids.astype(np.int64)
    iset = table.get("imageset_id")
    # strong.refl has no imageset_id: its id is the imageset (as DIALS selects them).
    iset = ids.copy() if iset is None else iset.astype(np.int64)
    flags = table.get("flags")
    if source == "indexed":
        indexed = ids >= 0
        if flags is not None:
            indexed &= (flags & refl.FLAG_INDEXED) != 0
        experiment = np.where(indexed, ids, -1)
    else:
        indexed = np.zeros(n, bool)
        experiment = np.full(n, -1, np.int64)

    rlp = np.full((n, 3), np.nan)
    notes: list[str] = []
    geoms: dict[int, SweepGeometry] = {}
    # DIALS maps imageset i with experiment i; the first experiment of each imageset is the same
    # when one imageset holds several lattices.
    for e in expts.experiments:
        key = e.imageset_index if e.imageset_index is not None else e.index
        if key in geoms:
            continue
        g = geometry_of(e)
        if isinstance(g, str):
            notes.append(f"experiment {e.index}: {g}")
            continue
        geoms[key] = g
    for key, g in geoms.items():
        sel = iset == key
        if sel.any():
            rlp[sel] = map_to_reciprocal(xyz[sel], panel[sel], g)
    ok = np.isfinite(rlp).all(axis=1)
    if not ok.all():
        notes.append(f"{int(np.count_nonzero(~ok)):,} spots without a usable experiment")
    still = bool(geoms) and all(g.scan is None or not g.has_goniometer for g in geoms.values())
    if still:
        notes.append("stills (no scan or goniometer): drawn at the single orientation")
    first = geoms[min(geoms)] if geoms else None
    axis = beam = None
    if first is not None:
        # The rotation axis and the beam (at φ = 0) in the frame the spots are drawn in.
        inv = np.linalg.inv(first.fixed)
        axis = inv @ first.axis
        beam = inv @ np.linalg.inv(first.setting) @ first.s0
        beam = beam / np.linalg.norm(beam)
    crystals = []
    for e in (crystals_from or expts).experiments:
        if e.crystal is not None:
            crystals.append(Crystal(e.index, np.asarray(e.crystal.A, float)))
    image = np.floor(xyz[:, 2]).astype(np.int64) + 1
    ranges = [g.scan.image_range for g in geoms.values() if g.scan is not None]
    image_range = (
        (min(r[0] for r in ranges), max(r[1] for r in ranges))
        if ranges
        else (int(image[ok].min()) if ok.any() else 1, int(image[ok].max()) if ok.any() else 1)
    )
    return Lattice(
        source=source,
        refl_path=table.path,
        expt_path=expts.path,
        rlp=rlp[ok],
        image=image[ok],
        experiment=experiment[ok],
        imageset=iset[ok],
        indexed=indexed[ok],
        n_rows=n,
        crystals=tuple(crystals),
        rotation_axis=axis if axis is not None else np.array([1.0, 0, 0]),
        beam=beam if beam is not None else np.array([0, 0, 1.0]),
        image_range=image_range,
        notes=tuple(notes),
        still=still,
    )


# --- unindexed spots by resolution ---------------------------------------------------------------


@dataclass(frozen=True)
class DShell:
    """A resolution shell: its d range (Å), its spots, its unindexed spots, an ice ring in it."""

    d_max: float
    d_min: float
    n_spots: int
    n_unindexed: int
    ice: tuple[float, ...] = ()  # ice rings (Å) inside the shell
    # Many more unindexed spots than the shells around it: a ring (ice, salt, powder).
    excess: bool = False


def unindexed_by_d(lat: Lattice, n_shells: int = 12) -> list[DShell]:
    """Spots and unindexed spots in shells of equal width in 1/d² (equal reciprocal volume per
    width), from the lowest to the highest resolution; ice rings are narrow shells of excess."""
    d = lat.d
    ok = np.isfinite(d) & (d > 0)
    if not ok.any():
        return []
    s2 = 1 / d[ok] ** 2
    hi = float(s2.max())
    lo = float(s2.min())
    if hi <= lo:
        hi = lo + 1e-6
    edges = np.linspace(lo, hi, n_shells + 1)
    which = np.clip(np.searchsorted(edges, s2, side="right") - 1, 0, n_shells - 1)
    n_all = np.bincount(which, minlength=n_shells)
    n_un = np.bincount(which[~lat.indexed[ok]], minlength=n_shells)
    shells = []
    for i in range(n_shells):
        d_max = 1 / math.sqrt(edges[i])
        d_min = 1 / math.sqrt(edges[i + 1])
        ice = tuple(r for r in ICE_RINGS if d_min <= r < d_max)
        # Unindexed spots grow smoothly with resolution; a ring is a shell far above the
        # shells beside it (more than twice their mean, and beyond counting noise).
        around = [n_un[j] for j in (i - 1, i + 1) if 0 <= j < n_shells]
        mean = float(np.mean(around)) if around else 0.0
        excess = bool(n_un[i] >= 20 and n_un[i] > 2 * mean + 3 * math.sqrt(mean))
        shells.append(DShell(d_max, d_min, int(n_all[i]), int(n_un[i]), ice, excess))
    return shells

"""Reader of DIALS experiment lists (`*.expt` JSON, and the old `datablock.json`) into dataclasses."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from thas_tui.core.errors import UnreadableFile
from thas_tui.core.readers._hall_symbols import HALL_TO_HM

Vec3 = tuple[float, float, float]
T = TypeVar("T")


# --- dataclasses ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitCell:
    """Unit cell parameters in Å and degrees."""

    a: float
    b: float
    c: float
    alpha: float
    beta: float
    gamma: float

    @property
    def parameters(self) -> tuple[float, float, float, float, float, float]:
        return (self.a, self.b, self.c, self.alpha, self.beta, self.gamma)

    @property
    def volume(self) -> float:
        return cell_volume(self.parameters)


@dataclass(frozen=True)
class Beam:
    """Incident beam: wavelength (Å) and direction (towards the source, as dxtbx stores it)."""

    wavelength: float | None
    direction: Vec3 | None = None


@dataclass(frozen=True)
class Panel:
    """One detector panel: size in pixels, pixel size in mm, geometry in the laboratory frame."""

    name: str
    image_size: tuple[int, int] | None  # (fast, slow)
    pixel_size: tuple[float, float] | None  # mm (fast, slow)
    origin: Vec3 | None
    fast_axis: Vec3 | None
    slow_axis: Vec3 | None
    # Perpendicular distance (mm) from the sample to the panel plane, as dxtbx's
    # Panel.get_directed_distance() (origin · normal), made positive.
    distance: float | None
    trusted_range: tuple[float, float] | None = None
    thickness: float | None = None
    material: str | None = None
    # Attenuation coefficient (mm⁻¹) and whether px→mm corrects for parallax (PILATUS, EIGER:
    # dxtbx's ParallaxCorrectedPxMmStrategy).
    mu: float | None = None
    parallax: bool = False


@dataclass(frozen=True)
class Detector:
    """A detector: one or more panels."""

    panels: tuple[Panel, ...]

    @property
    def distance(self) -> float | None:
        """Distance of the first panel (the only one for a PILATUS/EIGER read as one panel)."""
        return self.panels[0].distance if self.panels else None


@dataclass(frozen=True)
class Scan:
    """A rotation scan: inclusive image range, start angle and width per image (degrees)."""

    image_range: tuple[int, int]
    oscillation_start: float
    oscillation_width: float
    exposure_times: tuple[float, ...] = ()
    batch_offset: int = 0

    @property
    def num_images(self) -> int:
        return self.image_range[1] - self.image_range[0] + 1

    @property
    def exposure_time(self) -> float | None:
        return self.exposure_times[0] if self.exposure_times else None

    @property
    def oscillation_range(self) -> tuple[float, float]:
        start = self.oscillation_start
        return (start, start + self.num_images * self.oscillation_width)

    def angle_at_array_index(self, index: float) -> float:
        """Rotation angle at a 0-based frame coordinate within this scan (dxtbx convention)."""
        return self.oscillation_start + index * self.oscillation_width


@dataclass(frozen=True)
class Goniometer:
    """Goniometer: the effective rotation axis in the laboratory frame (and multi-axis details)."""

    rotation_axis: Vec3 | None
    axes: tuple[Vec3, ...] = ()
    angles: tuple[float, ...] = ()
    names: tuple[str, ...] = ()
    scan_axis: int | None = None
    # The frame of rotation as dxtbx composes it: lab = S · R(datum, φ) · F · crystal, with
    # F and S row-major 3×3 (multi-axis: the axes inside and outside the scan axis).
    fixed_rotation: tuple[float, ...] | None = None
    setting_rotation: tuple[float, ...] | None = None
    axis_datum: Vec3 | None = None


@dataclass(frozen=True)
class ScanVaryingCrystal:
    """Per-scan-point cell and orientation, as dials.plot_scan_varying_model plots them."""

    # Rotation angle (deg) at each scan point: scan start + i * width, i = 0..n-1.
    phi: np.ndarray
    cells: np.ndarray  # (n, 6): a, b, c, alpha, beta, gamma
    volumes: np.ndarray  # (n,)
    U: np.ndarray  # (n, 3, 3) orientation matrices, for any other decomposition
    U_static: np.ndarray  # (3, 3) the crystal's static U

    # The decompositions are worked out when first asked for (only the cell plots do): a key
    # result or a space group read from the same .expt should not pay for them.
    @functools.cached_property
    def orientation(self) -> np.ndarray:
        """(n, 3) rotation (deg) of U(t)·U0⁻¹ about the lab x, y, z axes (phi1, phi2, phi3), U0
        the static U, exactly as dials.plot_scan_varying_model with its default e1/e2/e3."""
        return _decompose(self.U, self.U_static.T)

    @functools.cached_property
    def orientation_from_first(self) -> np.ndarray:
        """(n, 3) the same decomposition of U(t)·U(0)⁻¹: the drift since the first scan point."""
        return _decompose(self.U, self.U[0].T)


@dataclass(frozen=True)
class Crystal:
    """Crystal model: cell, space group and orientation (and scan-varying samples if present)."""

    unit_cell: UnitCell
    hall_symbol: str
    space_group: str  # Hermann–Mauguin when known, else the Hall symbol
    space_group_number: int | None
    A: np.ndarray  # (3, 3) UB
    U: np.ndarray  # (3, 3)
    real_space_a: Vec3
    real_space_b: Vec3
    real_space_c: Vec3
    scan_varying: ScanVaryingCrystal | None = None
    mosaicity: float | None = None  # ML_half_mosaicity_deg (dials.index stills) when present

    @property
    def num_scan_points(self) -> int:
        return 0 if self.scan_varying is None else len(self.scan_varying.phi)


@dataclass(frozen=True)
class Profile:
    """Profile model (gaussian_rs): beam divergence σb and mosaicity σm in degrees."""

    name: str
    sigma_b: float | None
    sigma_m: float | None
    n_sigma: float | None = None


@dataclass(frozen=True)
class ImageSet:
    """Where the images are: a template (`name_#####.cbf`) or an explicit list."""

    kind: str  # ImageSequence, ImageSweep, ImageSet, ImageGrid
    template: str | None  # as stored in the file
    images: tuple[str, ...] = ()
    # The template made absolute against the .expt's folder, as dxtbx resolves relative paths.
    template_path: str | None = None


@dataclass(frozen=True)
class Experiment:
    """One experiment: the models DIALS pairs together (any may be missing)."""

    index: int
    identifier: str
    beam: Beam | None = None
    detector: Detector | None = None
    goniometer: Goniometer | None = None
    scan: Scan | None = None
    crystal: Crystal | None = None
    profile: Profile | None = None
    imageset: ImageSet | None = None
    # Index into the file's crystal list: experiments of a joint refinement share crystals.
    crystal_index: int | None = None
    # Index into the file's imageset list: a reflection's `imageset_id` (or a strong.refl's
    # `id`) points there.
    imageset_index: int | None = None


@dataclass(frozen=True)
class ExperimentList:
    """All experiments of a file, with what could not be read listed in `warnings`."""

    path: Path
    format: str  # "ExperimentList" or "DataBlock" (old dials.import output)
    experiments: tuple[Experiment, ...]
    warnings: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.experiments)

    def __getitem__(self, i: int) -> Experiment:
        return self.experiments[i]

    @property
    def identifiers(self) -> tuple[str, ...]:
        return tuple(e.identifier for e in self.experiments)

    @property
    def crystals(self) -> tuple[Crystal, ...]:
        """Distinct crystal models (experiments of a joint refinement can share one)."""
        seen: dict[int, Crystal] = {}
        for e in self.experiments:
            if e.crystal is not None:
                seen.setdefault(
                    e.crystal_index if e.crystal_index is not None else -e.index - 1, e.crystal
                )
        return tuple(seen.values())


# --- geometry -------------------------------------------------------------------------------


def cell_volume(cell: tuple[float, ...] | list[float]) -> float:
    """Volume (Å³) of a cell given as a, b, c, α, β, γ (degrees)."""
    a, b, c = cell[0], cell[1], cell[2]
    ca, cb, cg = (math.cos(math.radians(x)) for x in cell[3:6])
    return a * b * c * math.sqrt(max(1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg, 0.0))


def _cells_from_real_space(m: np.ndarray) -> np.ndarray:
    """(n, 3, 3) real-space matrices with rows a, b, c -> (n, 6) cell parameters."""
    lengths = np.linalg.norm(m, axis=2)
    a, b, c = m[:, 0], m[:, 1], m[:, 2]

    def angle(u: np.ndarray, v: np.ndarray, lu: np.ndarray, lv: np.ndarray) -> np.ndarray:
        cos = np.einsum("ij,ij->i", u, v) / (lu * lv)
        return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))

    alpha = angle(b, c, lengths[:, 1], lengths[:, 2])
    beta = angle(a, c, lengths[:, 0], lengths[:, 2])
    gamma = angle(a, b, lengths[:, 0], lengths[:, 1])
    return np.column_stack([lengths, alpha, beta, gamma])


def _orthogonalisation(cells: np.ndarray) -> np.ndarray:
    """cctbx's orthogonalisation matrices (a along x, b in the xy plane) for (n, 6) cells."""
    a, b, c = cells[:, 0], cells[:, 1], cells[:, 2]
    al, be, ga = (np.radians(cells[:, i]) for i in (3, 4, 5))
    ca, cb, cg, sg = np.cos(al), np.cos(be), np.cos(ga), np.sin(ga)
    vol = a * b * c * np.sqrt(np.clip(1 - ca**2 - cb**2 - cg**2 + 2 * ca * cb * cg, 0, None))
    o = np.zeros((len(cells), 3, 3))
    o[:, 0, 0] = a
    o[:, 0, 1] = b * cg
    o[:, 0, 2] = c * cb
    o[:, 1, 1] = b * sg
    o[:, 1, 2] = c * (ca - cb * cg) / sg
    o[:, 2, 2] = vol / (a * b * sg)
    return o


def _u_from_a(a_mats: np.ndarray, cells: np.ndarray) -> np.ndarray:
    # A = U·B with B = F^T (F = O^-1 the fractionalisation matrix), hence U = A·O^T.
    return a_mats @ np.transpose(_orthogonalisation(cells), (0, 2, 1))


def _axis_angle_matrix(axis: np.ndarray, angle: float) -> np.ndarray:
    """Right-handed rotation by `angle` radians about unit vector `axis` (Rodrigues)."""
    x, y, z = axis
    c, s = math.cos(angle), math.sin(angle)
    t = 1 - c
    return np.array(
        [
            [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
            [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
            [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
        ]
    )


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # np.cross on 3-vectors costs ~60 µs of argument handling, 300 times per scan-varying model.
    return np.array(
        (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])
    )


def solve_rotation_angles(
    r: np.ndarray, e1: Vec3, e2: Vec3, e3: Vec3
) -> tuple[float, float, float] | None:
    """Angles (rad) with R = R(e1,φ1)·R(e2,φ2)·R(e3,φ3), smaller-|φ2| solution.

    A numpy port of dials.algorithms.refinement.rotation_decomposition.
    solve_r3_rotation_for_angles_given_axes (Thomas 1990 / Pointless euler_explicit).
    """
    e1v, e2v, e3v = (np.asarray(e, float) / np.linalg.norm(e) for e in (e1, e2, e3))
    e2xe3 = _cross(e2v, e3v)
    if float(e2xe3 @ e2xe3) < 1.0e-6:
        return None
    u = e2xe3 / np.linalg.norm(e2xe3)
    e1e2, e1e3, e2e3 = float(e1v @ e2v), float(e1v @ e3v), float(e2v @ e3v)
    e1e2e3 = float(e1v @ e2xe3)
    re3 = r @ e3v
    e1re3 = float(e1v @ re3)
    cc = e1e3 - e1e2 * e2e3
    ss = e1e2e3
    if abs(cc) < 1.0e-6 and abs(ss) < 1.0e-6:
        return None
    norm = math.sqrt(cc * cc + ss * ss)
    rhs = (e1re3 - e1e2 * e2e3) / norm
    if abs(rhs) > 1.000002:
        return None
    rhs = min(max(rhs, -1.0), 1.0)
    cc /= norm
    ss /= norm
    a = math.atan2(ss, cc)
    amb = math.acos(rhs)

    def wrap(x: float) -> float:
        if x > math.pi:
            return x - 2.0 * math.pi
        if x < -math.pi:
            return x + 2.0 * math.pi
        return x

    phi2a, phi2b = wrap(a - amb), wrap(a + amb)
    phi2 = phi2a if abs(phi2a) < abs(phi2b) else phi2b
    r2 = _axis_angle_matrix(e2v, phi2)
    v = r2 @ e3v
    w = re3
    v1 = v - (v @ e1v) * e1v
    w1 = w - (w @ e1v) * e1v
    norm2 = float((v1 @ v1) * (w1 @ w1))
    if norm2 > 1.0e-8:
        norm2 = math.sqrt(norm2)
        phi1 = wrap(math.atan2(float(v1 @ _cross(w1, e1v)) / norm2, float(v1 @ w1) / norm2))
    else:
        phi1 = 0.0
    r1inv = _axis_angle_matrix(e1v, -phi1)
    r3 = r2.T @ r1inv @ r
    r3u = r3 @ u
    phi3 = math.atan2(float(u @ _cross(r3u, e3v)), float(u @ r3u))
    return (phi1, phi2, phi3)


def space_group_symbol(hall: str) -> tuple[str, int | None]:
    """Hermann–Mauguin symbol and number for a Hall symbol; (the Hall string, None) if unknown."""
    entry = HALL_TO_HM.get(hall)
    if entry is None:
        # DIALS writes a leading space for non-centrosymmetric groups; tolerate sloppy spacing.
        norm = " ".join(hall.split())
        for candidate in (" " + norm, norm):
            entry = HALL_TO_HM.get(candidate)
            if entry is not None:
                break
    if entry is None:
        return hall.strip(), None
    return entry[1], entry[0]


# --- parsing helpers (tolerant: a bad field becomes None, never an exception) ----------------


def _f(x: Any) -> float | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)) and math.isfinite(x):
        return float(x)
    return None


def _vec(x: Any, n: int = 3) -> tuple[float, ...] | None:
    if not isinstance(x, (list, tuple)) or len(x) != n:
        return None
    vals = [_f(v) for v in x]
    if any(v is None for v in vals):
        return None
    return tuple(vals)  # type: ignore[arg-type]


def _quiet(fn: Callable[..., T]) -> Callable[..., T]:
    """Run `fn` with numpy floating-point warnings off: junk models give NaN/inf, not noise."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return wrapper


def _list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else []


def _i(x: Any) -> int | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    if isinstance(x, float) and (not math.isfinite(x) or x != int(x)):
        return None
    return int(x)


def _parse_beam(d: Any) -> Beam | None:
    if not isinstance(d, dict):
        return None
    return Beam(wavelength=_f(d.get("wavelength")), direction=_vec(d.get("direction")))  # type: ignore[arg-type]


@_quiet
def _parse_panel(d: Any) -> Panel | None:
    if not isinstance(d, dict):
        return None
    origin = _vec(d.get("origin"))
    fast = _vec(d.get("fast_axis"))
    slow = _vec(d.get("slow_axis"))
    distance = None
    if origin and fast and slow:
        normal = _cross(fast, slow)
        n = float(np.linalg.norm(normal))
        if n > 0:
            distance = abs(float(np.dot(origin, normal / n)))
    size = _vec(d.get("image_size"), 2)
    tr = _vec(d.get("trusted_range"), 2)
    return Panel(
        name=str(d.get("name", "")),
        image_size=(int(size[0]), int(size[1])) if size else None,
        pixel_size=_vec(d.get("pixel_size"), 2),  # type: ignore[arg-type]
        origin=origin,  # type: ignore[arg-type]
        fast_axis=fast,  # type: ignore[arg-type]
        slow_axis=slow,  # type: ignore[arg-type]
        distance=distance,
        trusted_range=tr,  # type: ignore[arg-type]
        thickness=_f(d.get("thickness")),
        material=d.get("material") if isinstance(d.get("material"), str) else None,
        mu=_f(d.get("mu")),
        parallax=isinstance(d.get("px_mm_strategy"), dict)
        and d["px_mm_strategy"].get("type") == "ParallaxCorrectedPxMmStrategy",
    )


def _flatten_panels(d: dict) -> list[Any]:
    # Newer dxtbx writes a flat "panels" list next to a "hierarchy"; the panel order is that list.
    panels = d.get("panels")
    return panels if isinstance(panels, list) else []


def _parse_detector(d: Any) -> Detector | None:
    if not isinstance(d, dict):
        return None
    raw = _flatten_panels(d)
    frames = _panel_frames(d.get("hierarchy"), raw)
    panels = []
    for i, x in enumerate(raw):
        if isinstance(x, dict) and frames.get(i) is not None:
            x = {**x, **frames[i]}
        p = _parse_panel(x)
        if p is not None:
            panels.append(p)
    return Detector(panels=tuple(panels))


@_quiet
def _panel_frames(root: Any, raw_panels: list[Any]) -> dict[int, dict[str, list[float]]]:
    """Laboratory-frame origin/fast/slow of each panel of a detector `hierarchy`.

    dxtbx stores a panel's and a group's frame relative to its parent group; the global frame
    is P·local (+ the parent origin for the origin), P = [fast, slow, fast×slow] of the parent's
    global frame (dxtbx/model/virtual_panel.h, update_global_frame). {} without a hierarchy.
    """
    out: dict[int, dict[str, list[float]]] = {}
    if not isinstance(root, dict):
        return out
    # (node, parent orientation, parent origin); iterative: junk must not exhaust the stack.
    pending: list[tuple[Any, np.ndarray, np.ndarray]] = [(root, np.eye(3), np.zeros(3))]
    while pending:
        node, rot, org = pending.pop()
        if not isinstance(node, dict):
            continue
        index = _i(node.get("panel")) if "panel" in node else None
        local = node
        if index is not None:
            if not 0 <= index < len(raw_panels) or not isinstance(raw_panels[index], dict):
                continue
            local = raw_panels[index]
        fast, slow, origin = (_vec(local.get(k)) for k in ("fast_axis", "slow_axis", "origin"))
        if fast is None or slow is None or origin is None:
            continue
        f = rot @ _unit(fast)
        s = rot @ _unit(slow)
        o = rot @ np.asarray(origin, float) + org
        if index is not None:
            out[index] = {"fast_axis": f.tolist(), "slow_axis": s.tolist(), "origin": o.tolist()}
            continue
        frame = np.column_stack([f, s, _cross(f, s)])
        pending.extend((child, frame, o) for child in _list(node.get("children")))
    return out


def _unit(v: Any) -> np.ndarray:
    a = np.asarray(v, float)
    n = float(np.linalg.norm(a))
    return a / n if n > 0 else a


def _parse_scan(d: Any) -> Scan | None:
    if not isinstance(d, dict):
        return None
    ir = d.get("image_range")
    osc = _vec(d.get("oscillation"), 2)
    if not isinstance(ir, list) or len(ir) != 2 or _i(ir[0]) is None or _i(ir[1]) is None:
        return None
    if osc is None:
        return None
    first, last = _i(ir[0]), _i(ir[1])
    n = last - first + 1  # type: ignore[operator]
    exposure = d.get("exposure_time")
    times: tuple[float, ...] = ()
    if isinstance(exposure, list):
        vals = [_f(x) for x in exposure]
        times = tuple(v for v in vals if v is not None)
        # dials.import of a template can store exposure times for more images than the scan
        # kept (image_range slicing); keep the ones that belong to it.
        if len(times) > n:
            times = times[:n]
    return Scan(
        image_range=(first, last),  # type: ignore[arg-type]
        oscillation_start=osc[0],
        oscillation_width=osc[1],
        exposure_times=times,
        batch_offset=_i(d.get("batch_offset")) or 0,
    )


@_quiet
def _parse_goniometer(d: Any) -> Goniometer | None:
    if not isinstance(d, dict):
        return None
    if "axes" in d:
        # MultiAxisGoniometer: axes listed inner to outer; the scan axis is carried by every
        # axis outside it, so rotate it by those (dxtbx: setting rotation · scan axis).
        axes = [_vec(a) for a in _list(d.get("axes"))]
        angles = [_f(a) for a in _list(d.get("angles"))]
        names = tuple(str(n) for n in _list(d.get("names")))
        scan_axis = _i(d.get("scan_axis"))
        if (
            not axes
            or any(a is None for a in axes)
            or len(angles) != len(axes)
            or any(a is None for a in angles)
        ):
            return Goniometer(rotation_axis=None, names=names, scan_axis=scan_axis)
        axis_vec = fixed = setting = None
        if scan_axis is not None and 0 <= scan_axis < len(axes):
            turns = [
                _axis_angle_matrix(_unit(ax), math.radians(an))  # type: ignore[arg-type]
                for ax, an in zip(axes, angles, strict=True)
            ]
            # dxtbx MultiAxisGoniometer: F = R_{k-1}···R_0, S = R_{n-1}···R_{k+1}.
            f_mat, s_mat = np.eye(3), np.eye(3)
            for r in turns[:scan_axis]:
                f_mat = r @ f_mat
            for r in turns[scan_axis + 1 :]:
                s_mat = r @ s_mat
            # Not normalised: dxtbx's get_rotation_axis() returns the stored datum as is.
            axis_vec = tuple(float(x) for x in s_mat @ np.asarray(axes[scan_axis], float))
            fixed, setting = tuple(f_mat.ravel().tolist()), tuple(s_mat.ravel().tolist())
        return Goniometer(
            rotation_axis=axis_vec,  # type: ignore[arg-type]
            axes=tuple(axes),  # type: ignore[arg-type]
            angles=tuple(angles),  # type: ignore[arg-type]
            names=names,
            scan_axis=scan_axis,
            fixed_rotation=fixed,
            setting_rotation=setting,
            axis_datum=axes[scan_axis] if fixed is not None else None,  # type: ignore[index]
        )
    axis = _vec(d.get("rotation_axis"))
    if axis is None:
        return Goniometer(rotation_axis=None)
    # Single-axis: the lab-frame axis is setting_rotation · rotation_axis (dxtbx).
    setting = _vec(d.get("setting_rotation"), 9)
    v = np.asarray(axis, float)
    if setting is not None:
        v = np.asarray(setting, float).reshape(3, 3) @ v
    return Goniometer(
        rotation_axis=tuple(float(x) for x in v),  # type: ignore[arg-type]
        fixed_rotation=_vec(d.get("fixed_rotation"), 9),
        setting_rotation=setting,
        axis_datum=axis,  # type: ignore[arg-type]
    )


@_quiet
def _parse_crystal(d: Any, scan: Scan | None) -> Crystal | None:
    if not isinstance(d, dict):
        return None
    vecs = [_vec(d.get(k)) for k in ("real_space_a", "real_space_b", "real_space_c")]
    if any(v is None for v in vecs):
        return None
    real = np.array(vecs, dtype=float)  # rows a, b, c
    if abs(np.linalg.det(real)) < 1e-12:
        return None
    cell = _cells_from_real_space(real[None])[0]
    a_mat = np.linalg.inv(real)  # columns a*, b*, c*
    u_mat = _u_from_a(a_mat[None], cell[None])[0]
    hall = d.get("space_group_hall_symbol")
    hall = hall if isinstance(hall, str) else " P 1"
    symbol, number = space_group_symbol(hall)
    sv = _parse_scan_varying(d.get("A_at_scan_points"), u_mat, scan)
    return Crystal(
        unit_cell=UnitCell(*(float(x) for x in cell)),
        hall_symbol=hall,
        space_group=symbol,
        space_group_number=number,
        A=a_mat,
        U=u_mat,
        real_space_a=vecs[0],  # type: ignore[arg-type]
        real_space_b=vecs[1],  # type: ignore[arg-type]
        real_space_c=vecs[2],  # type: ignore[arg-type]
        scan_varying=sv,
        mosaicity=_f(d.get("ML_half_mosaicity_deg")),
    )


@_quiet
def _parse_scan_varying(
    raw: Any, u_static: np.ndarray, scan: Scan | None
) -> ScanVaryingCrystal | None:
    if not isinstance(raw, list) or not raw:
        return None
    try:
        a_mats = np.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        return None
    if a_mats.ndim != 2 or a_mats.shape[1] != 9 or not np.all(np.isfinite(a_mats)):
        return None
    a_mats = a_mats.reshape(-1, 3, 3)  # dxtbx stores each A row-major
    if np.any(np.abs(np.linalg.det(a_mats)) < 1e-15):
        return None
    real = np.linalg.inv(a_mats)
    cells = _cells_from_real_space(real)
    volumes = np.abs(np.linalg.det(real))
    u_mats = _u_from_a(a_mats, cells)
    n = len(a_mats)
    if scan is not None:
        phi = scan.oscillation_start + np.arange(n) * scan.oscillation_width
    else:
        phi = np.arange(n, dtype=float)
    return ScanVaryingCrystal(
        phi=phi,
        cells=cells,
        volumes=volumes,
        U=u_mats,
        U_static=np.asarray(u_static, dtype=float),
    )


def _decompose(u_mats: np.ndarray, ref_inv: np.ndarray) -> np.ndarray:
    """Angles (deg) about lab x, y, z of each U·ref_inv (NaN where no solution exists)."""
    out = np.full((len(u_mats), 3), np.nan)
    for i, u in enumerate(u_mats):
        # plot_scan_varying_model passes (U, e3, e2, e1) and unpacks as (phi3, phi2, phi1).
        sol = solve_rotation_angles(u @ ref_inv, (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0))
        if sol is not None:
            phi3, phi2, phi1 = (math.degrees(x) for x in sol)
            out[i] = (phi1, phi2, phi3)
    return out


def _parse_profile(d: Any) -> Profile | None:
    if not isinstance(d, dict):
        return None
    return Profile(
        name=str(d.get("__id__", "")),
        sigma_b=_f(d.get("sigma_b")),
        sigma_m=_f(d.get("sigma_m")),
        n_sigma=_f(d.get("n_sigma")),
    )


def _parse_imageset(d: Any, base: Path | None = None) -> ImageSet | None:
    if not isinstance(d, dict):
        return None
    template = d.get("template")
    template = template if isinstance(template, str) else None
    resolved = None
    if template:
        p = Path(template)
        resolved = str(p if p.is_absolute() or base is None else (base / p).absolute())
    images = d.get("images")
    return ImageSet(
        kind=str(d.get("__id__", "")),
        template=template,
        images=tuple(str(x) for x in images) if isinstance(images, list) else (),
        template_path=resolved,
    )


def _pick(models: Any, index: Any) -> Any:
    i = _i(index)
    if i is None or not isinstance(models, list) or not 0 <= i < len(models):
        return None
    return models[i]


# --- entry points ---------------------------------------------------------------------------


def read_expt(path: str | Path) -> ExperimentList:
    """Read a DIALS `.expt` (ExperimentList JSON) or an old `datablock.json`.

    Models that are missing or malformed come back as None (noted in `warnings`). Raises
    UnreadableFile when the file is not JSON or not an experiment list at all.
    """
    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(
            f"{path}: cannot read the experiment file ({exc.strerror}). Check the path."
        ) from exc
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UnreadableFile(
            f"{path}: not valid JSON ({str(exc)[:80]}); the file may be truncated or still "
            "being written. Re-run the DIALS step that wrote it."
        ) from exc
    return parse_experiments(data, path)


def parse_experiments(data: Any, path: Path) -> ExperimentList:
    """Build an ExperimentList from already-decoded JSON (see read_expt)."""
    if isinstance(data, dict) and data.get("__id__") == "ExperimentList":
        return _parse_experiment_list(data, path)
    if (
        isinstance(data, list)
        and data
        and all(isinstance(x, dict) and x.get("__id__") == "DataBlock" for x in data)
    ):
        return _parse_datablocks(data, path)
    kind = data.get("__id__") if isinstance(data, dict) else type(data).__name__
    raise UnreadableFile(
        f"{path}: unsupported format (JSON of kind {str(kind)[:40]!r}, not a DIALS ExperimentList "
        "or DataBlock). Pass an .expt file written by dials.import or a later step."
    )


def _parse_experiment_list(data: dict, path: Path) -> ExperimentList:
    warnings: list[str] = []
    models = {
        k: data.get(k)
        for k in ("beam", "detector", "goniometer", "scan", "crystal", "profile", "imageset")
    }
    # Parse each shared model once: experiments refer to them by index (joint refinement
    # shares a beam, a detector and often a crystal), and identity is kept for crystals.
    cache: dict[tuple[str, int, int | None], Any] = {}
    experiments: list[Experiment] = []
    raw_exps = data.get("experiment")
    if not isinstance(raw_exps, list):
        raw_exps = []
        warnings.append("no 'experiment' list")
    for idx, e in enumerate(raw_exps):
        if not isinstance(e, dict):
            warnings.append(f"experiment {idx} is not an object")
            continue

        def model(kind: str, parser: Any, *extra: Any, _e: dict = e, _idx: int = idx) -> Any:
            i = _i(_e.get(kind))
            if _e.get(kind) is None:
                return None
            # A crystal is parsed per scan (its scan points map onto that scan's angles).
            key = (kind, i if i is not None else -1, id(extra[0]) if kind == "crystal" else None)
            if key not in cache:
                raw = _pick(models[kind], _e.get(kind))
                cache[key] = parser(raw, *extra) if raw is not None else None
                if cache[key] is None:
                    warnings.append(f"experiment {_idx}: {kind} {i} unreadable")
            return cache[key]

        scan = model("scan", _parse_scan)
        experiments.append(
            Experiment(
                index=idx,
                identifier=str(e.get("identifier") or ""),
                beam=model("beam", _parse_beam),
                detector=model("detector", _parse_detector),
                goniometer=model("goniometer", _parse_goniometer),
                scan=scan,
                crystal=model("crystal", _parse_crystal, scan),
                profile=model("profile", _parse_profile),
                imageset=model("imageset", _parse_imageset, path.parent),
                crystal_index=_i(e.get("crystal")),
                imageset_index=_i(e.get("imageset")),
            )
        )
    return ExperimentList(
        path=path, format="ExperimentList", experiments=tuple(experiments), warnings=tuple(warnings)
    )


def _parse_datablocks(blocks: list[dict], path: Path) -> ExperimentList:
    # Old dials.import output: each DataBlock holds imagesets pointing at models by index.
    warnings = ["old DataBlock format: models read, no crystals or identifiers"]
    experiments: list[Experiment] = []
    for block in blocks:
        for iset in _list(block.get("imageset")):
            if not isinstance(iset, dict):
                continue
            scan = _parse_scan(_pick(block.get("scan"), iset.get("scan")))
            experiments.append(
                Experiment(
                    index=len(experiments),
                    identifier="",
                    beam=_parse_beam(_pick(block.get("beam"), iset.get("beam"))),
                    detector=_parse_detector(_pick(block.get("detector"), iset.get("detector"))),
                    goniometer=_parse_goniometer(
                        _pick(block.get("goniometer"), iset.get("goniometer"))
                    ),
                    scan=scan,
                    imageset=_parse_imageset(iset, path.parent),
                    imageset_index=len(experiments),
                )
            )
    return ExperimentList(
        path=path, format="DataBlock", experiments=tuple(experiments), warnings=tuple(warnings)
    )

"""Simulate a THAS1-like PILATUS 6M rotation sweep (P 21 21 21) as miniCBF images DIALS can process."""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Recorded in sweep_info.json for people; the dashboard's cache (thas_tui/core/demo.py) is keyed
# by a digest of this file instead, so any change to the generator invalidates cached sweeps.
GENERATOR_VERSION = "1"

TEMPLATE_PREFIX = "thas_demo_"

# PILATUS 6M: 5 x 12 modules of 487 x 195 pixels, 7-pixel gaps between module columns and
# 17-pixel gaps between module rows (the same numbers dxtbx's Pilatus mask uses).
NX, NY = 2463, 2527
PIXEL_MM = 0.172
MODULE_FAST, MODULE_SLOW = 487, 195
GAP_FAST, GAP_SLOW = 7, 17
THICKNESS_MM = 0.45

WAVELENGTH = 1.282
CELL = (57.10, 102.19, 112.16, 90.0, 90.0, 90.0)
SPACE_GROUP = "P 21 21 21"
# A real beam centre is never exactly central; an off-centre one also catches indexing bugs
# that assume symmetry about the detector middle.
BEAM_CENTRE_PX = (1231.7, 1264.3)


@dataclass(frozen=True)
class Preset:
    """Sizes chosen so the whole DIALS pipeline fits a time budget on 2 cores."""

    n_images: int
    oscillation: float  # degrees per image
    distance: float  # mm; sets the resolution at the detector corners
    description: str
    # Clean present and absent axial reflections required per screw axis; 0 accepts whatever the
    # best orientation records (too short a wedge to guarantee P 21 21 21).
    min_axial: int = 3
    # The crystal's diffraction limit (A); None: it diffracts past the detector corners.
    d_min: float | None = None


# Image count drives the cost of find_spots and integrate, reflection count that of integrate and
# scale; recording clean axial reflections on all three screw axes needs ~70 degrees of rotation
# even in the best orientation (see _designed_rotation). The presets live in presets.json beside
# this script so that the dashboard's cache key can hash each preset's own entry: retuning the
# demo must not invalidate a cached 800-image sweep.
PRESETS_FILE = Path(__file__).resolve().with_name("presets.json")


def load_presets(path: Path = PRESETS_FILE) -> dict[str, Preset]:
    """The named presets of presets.json."""
    raw = json.loads(path.read_text())
    return {name: Preset(**entry) for name, entry in raw.items()}


PRESETS: dict[str, Preset] = load_presets()

B_FACTOR = 25.0  # Wilson B, A^2
MOSAICITY_DEG = 0.06  # sigma of the mosaic spread
DIVERGENCE_DEG = 0.02  # sigma of the beam divergence
BEAM_SIZE_SIGMA_MM = 0.05  # finite crystal/beam footprint broadens spots beyond divergence
SCALE = 500.0  # mean counts of a low-resolution reflection before Wilson fall-off
BACKGROUND = 1.5  # flat background (air, detector), counts per pixel
SOLVENT_RING = 3.0  # diffuse solvent scattering peak near 3.4 A, counts per pixel


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): avoids depending on scipy.
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    y = 1.0 - (
        ((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592
    ) * t * np.exp(-x * x)
    return sign * y


def _phi(x: np.ndarray) -> np.ndarray:
    """Standard normal cumulative distribution."""
    return 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))


def _active_mask() -> np.ndarray:
    """True on sensitive pixels, False in the inter-module gaps."""
    fast = (np.arange(NX) % (MODULE_FAST + GAP_FAST)) < MODULE_FAST
    slow = (np.arange(NY) % (MODULE_SLOW + GAP_SLOW)) < MODULE_SLOW
    return slow[:, None] & fast[None, :]


def _rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation matrix about a unit axis (radians)."""
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * (k @ k)


def _near_axial_hkl(d_min: float) -> np.ndarray:
    """h00, 0k0, 00l (both signs) to d_min, each followed by its 8 lattice neighbours that
    differ by one in the other two indices: the reflections most likely to land on top of an
    axial one (they sit next to it on the detector, a degree or two away in phi)."""
    rows = []
    offsets = [(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1)]
    for axis, length in enumerate(CELL[:3]):
        others = [i for i in range(3) if i != axis]
        for n in range(1, int(length / d_min) + 1):
            for sign in (1, -1):
                for di, dj in offsets:
                    h = [0, 0, 0]
                    h[axis], h[others[0]], h[others[1]] = sign * n, di, dj
                    rows.append(h)
    return np.array(rows, dtype=int)


def _axial_status(hkl, phid, px, active, phi_window: float, px_window: float = 12.0):
    """For the axial reflections among predictions: axis (0-2), odd index (absent), recorded on
    an active pixel, and contaminated (another reflection within px_window pixels and
    phi_window degrees, so its counts leak into the axial one's shoebox)."""
    is_axial = np.sum(hkl != 0, axis=1) == 1
    idx = np.where(is_axial)[0]
    dx = px[idx, None, 0] - px[None, :, 0]
    dy = px[idx, None, 1] - px[None, :, 1]
    dphi = np.abs(np.mod(phid[idx, None] - phid[None, :] + 180.0, 360.0) - 180.0)
    close = (np.hypot(dx, dy) < px_window) & (dphi < phi_window)
    close[np.arange(len(idx)), idx] = False
    ny, nx = active.shape
    ix = np.clip(np.round(px[idx, 0]).astype(int), 0, nx - 1)
    iy = np.clip(np.round(px[idx, 1]).astype(int), 0, ny - 1)
    h = hkl[idx]
    return (
        idx,
        np.argmax(np.abs(h), axis=1),
        np.abs(h).sum(axis=1) % 2 == 1,
        active[iy, ix],
        close.any(axis=1),
    )


def _best_start(hkl, phid, px, active, width: float, osc: float) -> tuple[float, int]:
    """Scan start (whole degrees) whose wedge records the most clean axial reflections on the
    worst axis/parity, and that count (-1 when every start records a contaminated absence)."""
    idx, axis, odd, on, dirty = _axial_status(hkl, phid, px, active, osc + 0.6)
    phi = phid[idx]
    best, best_worst = 0.0, -1
    for start in np.arange(0.0, 360.0, 2.0):
        rel = np.mod(phi - start + 2.0, 360.0) - 2.0
        recorded = on & (rel > -1.0) & (rel < width + 1.0)
        # One contaminated absent reflection is enough to make dials.symmetry see a 2-fold.
        if np.any(recorded & odd & dirty):
            continue
        # Count only those well inside the scan, fully recorded and clean.
        counted = recorded & ~dirty & (rel > 1.0) & (rel < width - 1.0)
        worst = min(
            int(np.sum(counted & (axis == a) & (odd == p))) for a in range(3) for p in (False, True)
        )
        if worst > best_worst:
            best, best_worst = float(start), worst
    return best, best_worst


def _designed_rotation(rng: np.random.Generator, B: np.ndarray) -> np.ndarray:
    """A seeded orientation that can record all three screw axes in a ~65 degree wedge.

    Seen from the crystal, the beam sweeps a great circle perpendicular to the spindle, and an
    axis's axial reflections are recorded only near where that circle crosses the plane
    perpendicular to the axis. With the spindle in the plane of two reciprocal axes, at ~45
    degrees to both, those two crossings coincide and the third is 90 degrees away: the
    shortest wedge that sees all three (random orientations need ~90 degrees or more).
    Which axis is perpendicular, the angle and a small tilt are drawn from the seed.
    """
    axes = B / np.linalg.norm(B, axis=0)  # unit a*, b*, c* (columns), crystal frame
    perp = int(rng.integers(3))
    u, v = (axes[:, i] for i in range(3) if i != perp)
    gamma = math.radians(45.0 + rng.uniform(-8.0, 8.0))
    spindle = math.cos(gamma) * u + math.sin(gamma) * v
    tilt = math.radians(rng.uniform(-4.0, 4.0))
    spindle = math.cos(tilt) * spindle + math.sin(tilt) * axes[:, perp]
    spindle /= np.linalg.norm(spindle)
    # U maps the crystal frame to the lab with the spindle onto lab x (the rotation axis);
    # the rotation about the spindle is set later by the choice of scan start.
    y = np.cross(spindle, axes[:, perp])
    y /= np.linalg.norm(y)
    z = np.cross(spindle, y)
    return np.array([spindle, y, z])


def _models(preset: Preset, workdir: Path):
    """Beam, detector, goniometer as dxtbx will read them back from the written headers.

    Writing one throw-away image and loading it guarantees the simulation uses exactly the
    geometry (beam centre convention, parallax correction, axis) that dials.import will see.
    """
    from dxtbx.format.FormatCBFMiniPilatus import FormatCBFMiniPilatus
    from dxtbx.model import BeamFactory, DetectorFactory, GoniometerFactory, ScanFactory
    from dxtbx.model.experiment_list import ExperimentListFactory
    from scitbx.array_family import flex

    beam = BeamFactory.simple(WAVELENGTH)
    detector = DetectorFactory.simple(
        "PAD",
        preset.distance,
        (BEAM_CENTRE_PX[0] * PIXEL_MM, BEAM_CENTRE_PX[1] * PIXEL_MM),
        "+x",
        "-y",
        (PIXEL_MM, PIXEL_MM),
        (NX, NY),
        (-1, 1_000_000),
    )
    detector[0].set_thickness(THICKNESS_MM)
    detector[0].set_material("Si")
    gonio = GoniometerFactory.single_axis()
    scan = ScanFactory.make_scan((1, 1), [0.1], (0.0, preset.oscillation), {1: 0.0})
    probe = workdir / "probe_00001.cbf"
    data = flex.int(np.zeros((NY, NX), dtype=np.int32))
    FormatCBFMiniPilatus.as_file(detector, beam, gonio, scan, data, str(probe))
    expt = ExperimentListFactory.from_filenames([str(probe)])[0]
    fmt = expt.imageset.get_format_class().__name__
    probe.unlink()
    return expt.beam, expt.detector, expt.goniometer, fmt


def _rotate(axis: np.ndarray, r: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Rotate vectors r (n,3) about the unit axis by angles phi (radians), Rodrigues."""
    c, s = np.cos(phi)[:, None], np.sin(phi)[:, None]
    par = (r @ axis)[:, None] * axis[None, :]
    perp = r - par
    return par + c * perp + s * np.cross(axis[None, :], perp)


def _predict(A, beam, detector, gonio, d_min, phi_range, hkl=None):
    """Reflections of the primitive lattice A (reciprocal basis as columns) crossing the Ewald
    sphere within phi_range (degrees) and hitting the detector."""
    from scitbx.array_family import flex

    if hkl is None:
        lengths = np.linalg.norm(np.linalg.inv(A), axis=1)  # real-space a, b, c
        hmax = np.ceil(lengths / d_min).astype(int)
        grids = np.meshgrid(*[np.arange(-m, m + 1) for m in hmax], indexing="ij")
        hkl = np.stack([g.ravel() for g in grids], axis=1)
        hkl = hkl[np.any(hkl != 0, axis=1)]
    r0 = hkl @ A.T
    dstar2 = np.einsum("ij,ij->i", r0, r0)
    keep = dstar2 <= 1.0 / d_min**2
    hkl, r0, dstar2 = hkl[keep], r0[keep], dstar2[keep]

    e = np.array(gonio.get_rotation_axis())
    s0 = np.array(beam.get_s0())
    # Each reflection diffracts where s0 . R(phi) r0 = -|r0|^2 / 2; split r0 about the axis and
    # solve a cos(phi) + b sin(phi) = c (two solutions per reciprocal lattice point).
    par = (r0 @ e)[:, None] * e[None, :]
    perp = r0 - par
    a = perp @ s0
    b = np.cross(e[None, :], perp) @ s0
    c = -dstar2 / 2 - par @ s0
    rho = np.hypot(a, b)
    ok = np.abs(c) < rho
    hkl, r0, dstar2, a, b, c, rho = (v[ok] for v in (hkl, r0, dstar2, a, b, c, rho))
    base = np.arctan2(b, a)
    delta = np.arccos(c / rho)
    phis = np.concatenate([base + delta, base - delta])
    hkl = np.concatenate([hkl, hkl])
    r0 = np.concatenate([r0, r0])
    dstar2 = np.concatenate([dstar2, dstar2])

    lo, hi = phi_range
    phid = np.degrees(phis)
    phid = lo + np.mod(phid - lo, 360.0)
    inside = phid <= hi
    hkl, r0, dstar2, phid = hkl[inside], r0[inside], dstar2[inside], phid[inside]

    s1 = s0[None, :] + _rotate(e, r0, np.radians(phid))
    panel = detector[0]
    D = np.array(panel.get_D_matrix()).reshape(3, 3)
    v = s1 @ D.T
    front = v[:, 2] > 0
    hkl, dstar2, phid, s1, v = (x[front] for x in (hkl, dstar2, phid, s1, v))
    mm = v[:, :2] / v[:, 2:3]
    px = np.array(panel.millimeter_to_pixel(flex.vec2_double([tuple(p) for p in mm]))).reshape(
        -1, 2
    )
    nx, ny = panel.get_image_size()
    on = (px[:, 0] >= 0) & (px[:, 0] < nx) & (px[:, 1] >= 0) & (px[:, 1] < ny)
    hkl, dstar2, phid, s1, px = (x[on] for x in (hkl, dstar2, phid, s1, px))

    # Lorentz factor as DIALS defines it: zeta = e . (s1 x s0) / (|s1||s0|); reflections close
    # to the rotation axis (tiny zeta) are smeared over many degrees and DIALS discards them.
    zeta = (np.cross(s1, s0[None, :]) @ e) / (np.linalg.norm(s1, axis=1) * np.linalg.norm(s0))
    keep = np.abs(zeta) > 0.05
    hkl, dstar2, phid, s1, px, zeta = (x[keep] for x in (hkl, dstar2, phid, s1, px, zeta))
    s1u = s1 / np.linalg.norm(s1, axis=1)[:, None]
    # Synchrotron beam polarised in the horizontal (x) direction.
    polar = 1.0 - s1u[:, 0] ** 2
    return hkl, dstar2, phid, px, zeta, polar


def _intensities(hkl: np.ndarray, dstar2: np.ndarray, seed: int, hmax: np.ndarray) -> np.ndarray:
    """Wilson-distributed |F|^2 for P 21 21 21 (Friedel and 222 mates equal)."""
    rng = np.random.default_rng([seed, 12345])
    shape = tuple(int(m) + 1 for m in hmax)
    # One random number per asymmetric-unit index |h|,|k|,|l| makes symmetry mates identical.
    u_acentric = rng.exponential(size=shape)
    u_centric = rng.normal(size=shape) ** 2
    idx = tuple(np.abs(hkl).T)
    zeros = np.sum(hkl == 0, axis=1)
    # In 222 the zones with one zero index are centric; axial reflections (two zeros) have
    # epsilon = 2 along the 2-fold axes.
    f2 = np.where(zeros >= 1, u_centric[idx], u_acentric[idx])
    f2 = f2 * np.where(zeros == 2, 2.0, 1.0)
    # Screw axes: h00 with h odd, 0k0 with k odd, 00l with l odd are systematically absent.
    axial_odd = (zeros == 2) & (np.sum(np.abs(hkl), axis=1) % 2 == 1)
    f2[axial_odd] = 0.0
    return f2 * np.exp(-B_FACTOR * dstar2 / 2.0)


def _axial_counts(hkl, phid, px, active, osc: float) -> dict[str, dict[str, int]]:
    """Axial reflections recorded on active pixels within the scan, per screw axis: present
    (even index), absent (odd) and how many of them have a neighbour overlapping them."""
    idx, axis, odd, on, dirty = _axial_status(hkl, phid, px, active, osc + 0.6)
    counts: dict[str, dict[str, int]] = {}
    for a, name in enumerate(("h00", "0k0", "00l")):
        sel = on & (axis == a)
        counts[name] = {
            "present": int(np.sum(sel & ~odd)),
            "absent": int(np.sum(sel & odd)),
            "overlapped_present": int(np.sum(sel & ~odd & dirty)),
            "overlapped_absent": int(np.sum(sel & odd & dirty)),
        }
    return counts


# Set in the parent before the worker pool forks, so workers share it without pickling.
_STATE: dict = {}


def expected_image(st: dict, index: int) -> np.ndarray:
    """Expected counts (background plus spots) of image index (0-based) of the sweep in st,
    the state :func:`plan_sweep` returns; the detector's size is that of st["active"]."""
    osc = st["oscillation"]
    lo, hi = index * osc, (index + 1) * osc
    phi, sig = st["phi"], st["sigma_phi"]
    near = (phi + 5 * sig > lo) & (phi - 5 * sig < hi)
    frac = _phi((hi - phi[near]) / sig[near]) - _phi((lo - phi[near]) / sig[near])
    counts = st["counts"][near] * frac
    x, y, s = st["x"][near], st["y"][near], st["spot_sigma"]
    keep = counts > 0.05
    counts, x, y = counts[keep], x[keep], y[keep]

    # Spread each spot over a 7x7 box with pixel-integrated Gaussian weights (separable).
    ny, nx = st["active"].shape
    half = 3
    x0 = np.floor(x).astype(int) - half
    y0 = np.floor(y).astype(int) - half
    k = np.arange(2 * half + 2)
    ex = _phi(((x0[:, None] + k[None, :]) - x[:, None]) / s)
    ey = _phi(((y0[:, None] + k[None, :]) - y[:, None]) / s)
    wx, wy = np.diff(ex, axis=1), np.diff(ey, axis=1)
    w = wy[:, :, None] * wx[:, None, :] * counts[:, None, None]
    cols = x0[:, None, None] + k[None, None, :-1]
    rows = y0[:, None, None] + k[None, :-1, None]
    cols, rows = np.broadcast_to(cols, w.shape), np.broadcast_to(rows, w.shape)
    inside = (cols >= 0) & (cols < nx) & (rows >= 0) & (rows < ny)
    flat = (rows[inside] * nx + cols[inside]).astype(np.int64)
    spots = np.bincount(flat, weights=w[inside], minlength=nx * ny).reshape(ny, nx)
    return st["background"] + spots


def ordered_map(func, n: int, nproc: int):
    """Yield func(0) … func(n - 1) in order, on nproc forked workers; serially after a crash."""
    done = 0
    if nproc > 1:
        # Not multiprocessing.Pool: when one of its workers dies the task it held is lost and
        # imap waits forever (seen once in CI); the executor raises BrokenProcessPool instead.
        context = multiprocessing.get_context("fork")
        try:
            with ProcessPoolExecutor(nproc, mp_context=context) as pool:
                for result in pool.map(func, range(n)):
                    done += 1
                    yield result
            return
        except BrokenProcessPool:
            print(
                f"a generator worker died at image {done + 1}; going on in one process",
                file=sys.stderr,
                flush=True,
            )
    for index in range(done, n):
        yield func(index)


def _render(index: int) -> int:
    """Simulate and write image index (0-based); returns the index."""
    from dxtbx.format.FormatCBFMiniPilatus import FormatCBFMiniPilatus
    from dxtbx.model import ScanFactory
    from scitbx.array_family import flex

    st = _STATE
    osc = st["oscillation"]
    lo = index * osc
    expected = expected_image(st, index)

    rng = np.random.default_rng([st["seed"], index])
    image = rng.poisson(expected).astype(np.int32)
    # A real PILATUS writes -1 in the gaps between modules.
    image[~st["active"]] = -1

    scan = ScanFactory.make_scan((index + 1, index + 1), [0.1], (lo, osc), {index + 1: index * 0.1})
    path = Path(st["out"]) / f"{TEMPLATE_PREFIX}{index + 1:05d}.cbf"
    tmp = path.with_name("." + path.name)
    FormatCBFMiniPilatus.as_file(
        st["detector"], st["beam"], st["gonio"], scan, flex.int(image), str(tmp)
    )
    os.replace(tmp, path)  # a reader never sees a half-written image
    return index


def _background(beam, detector) -> np.ndarray:
    """Smooth expected background (counts/pixel): flat plus a diffuse solvent ring."""
    panel = detector[0]
    origin = np.array(panel.get_origin())
    fast = np.array(panel.get_fast_axis())
    slow = np.array(panel.get_slow_axis())
    nx, ny = panel.get_image_size()
    px_fast, px_slow = panel.get_pixel_size()
    xs = (np.arange(nx) + 0.5) * px_fast
    ys = (np.arange(ny) + 0.5) * px_slow
    lab = (
        origin[None, None, :]
        + xs[None, :, None] * fast[None, None, :]
        + ys[:, None, None] * slow[None, None, :]
    )
    s1 = lab / np.linalg.norm(lab, axis=2)[:, :, None] / beam.get_wavelength()
    dstar = np.linalg.norm(s1 - np.array(beam.get_s0())[None, None, :], axis=2)
    ring = SOLVENT_RING * np.exp(-(((dstar - 0.29) / 0.05) ** 2))
    return (BACKGROUND + ring).astype(np.float64)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, type=Path, help="directory for the images")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="demo")
    parser.add_argument("--seed", type=int, default=1, help="orientation and noise seed")
    parser.add_argument("--nproc", type=int, default=2, help="processes writing images")
    parser.add_argument("--n-images", type=int, help="override the preset's image count")
    parser.add_argument("--oscillation", type=float, help="override degrees per image")
    parser.add_argument("--distance", type=float, help="override detector distance (mm)")
    parser.add_argument(
        "--min-axial",
        type=int,
        help="override clean axial reflections required per screw axis (-1: any orientation, "
        "for large benchmark sweeps where the space group does not matter)",
    )
    parser.add_argument(
        "--atomic",
        action="store_true",
        help="write into a temporary sibling of --out and rename it to --out when complete",
    )
    args = parser.parse_args(argv)

    base = PRESETS[args.preset]
    preset = Preset(
        args.n_images or base.n_images,
        args.oscillation or base.oscillation,
        args.distance or base.distance,
        base.description,
        base.min_axial if args.min_axial is None else args.min_axial,
        base.d_min,
    )
    # The dashboard stops a stage with SIGTERM: turn it into SystemExit so the temporary
    # directory below is removed rather than left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    t_start = time.monotonic()
    final: Path = args.out.resolve()
    if args.atomic:
        # A cache directory must never look complete while half-written: build it beside its
        # final place (same file system, so the rename is atomic) and rename at the very end.
        final.parent.mkdir(parents=True, exist_ok=True)
        out = Path(tempfile.mkdtemp(prefix=f".{final.name}.part-", dir=final.parent))
    else:
        out = final
        out.mkdir(parents=True, exist_ok=True)
    try:
        status = _generate(args, preset, out, final, t_start)
    except BaseException:
        if args.atomic:
            shutil.rmtree(out, ignore_errors=True)
        raise
    if status != 0:
        if args.atomic:
            shutil.rmtree(out, ignore_errors=True)
        return status
    if args.atomic:
        if final.exists():
            # An older or partial copy: move it aside first, as rename cannot replace a
            # non-empty directory.
            stale = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
            os.replace(final, stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        os.replace(out, final)
    print(
        f"wrote {preset.n_images} images to {final} in {time.monotonic() - t_start:.1f} s",
        flush=True,
    )
    return 0


def plan_sweep(beam, detector, gonio, active: np.ndarray, preset: Preset, seed: int) -> dict | None:
    """The crystal's orientation and every reflection the scan of preset records on detector:
    the state :func:`expected_image` draws from, plus "d_min", "A" (reciprocal basis in the lab
    at phi 0), "orientation_attempts", "start" and "axial". None when no orientation records
    preset.min_axial clean axial reflections on every screw axis."""
    from cctbx import uctbx

    panel = detector[0]
    nx, ny = panel.get_image_size()
    corners = [(0, 0), (nx, 0), (0, ny), (nx, ny)]
    d_min_corner = min(panel.get_resolution_at_pixel(beam.get_s0(), c) for c in corners)
    # A crystal that stops diffracting inside the detector leaves its corners without spots.
    d_min = max(d_min_corner, preset.d_min or 0.0)

    uc = uctbx.unit_cell(CELL)
    B = np.array(uc.fractionalization_matrix()).reshape(3, 3).T
    rng = np.random.default_rng(seed)
    scan_range = (0.0, preset.n_images * preset.oscillation)

    # Recording both present (even) and absent (odd) axial reflections on all three screw axes
    # is what lets dials.symmetry tell a 21 from a 2 along each axis; with a ~60 degree wedge
    # most orientations miss one axis. So draw random orientations from the seeded generator
    # (the sequence is fixed, so the seed still fixes the result), find the start angle at which
    # the scan best records all three axes, and rotate the crystal so that the scan starts there.
    e = np.array(gonio.get_rotation_axis())
    near_axial = _near_axial_hkl(d_min)
    width = scan_range[1] - scan_range[0]
    found = None
    for attempt in range(1, 201):
        U = _designed_rotation(rng, B)
        pred = _predict(U @ B, beam, detector, gonio, d_min, (0.0, 360.0), near_axial)
        start, worst = _best_start(pred[0], pred[2], pred[3], active, width, preset.oscillation)
        if worst >= preset.min_axial:
            found = attempt
            break
    if found is None:
        return None
    U = _rotation(e, math.radians(start)) @ U
    A = U @ B
    hkl, dstar2, phid, px, zeta, polar = _predict(A, beam, detector, gonio, d_min, scan_range)
    window = (scan_range[0] - 1.0, scan_range[1] + 1.0)
    axial = _axial_counts(
        *(
            v
            for i, v in enumerate(_predict(A, beam, detector, gonio, d_min, window))
            if i in (0, 2, 3)
        ),
        active,
        preset.oscillation,
    )
    print(
        f"orientation {found} (start {start:.0f} deg): {len(hkl)} reflections to {d_min:.2f} A;"
        " axial present+absent (overlapped) "
        + ", ".join(
            f"{k} {v['present']}+{v['absent']} ({v['overlapped_present']}+{v['overlapped_absent']})"
            for k, v in axial.items()
        ),
        flush=True,
    )

    hmax = np.ceil(np.array(CELL[:3]) / d_min).astype(int)
    f2 = _intensities(hkl, dstar2, seed, hmax)
    counts = SCALE * f2 * polar / np.abs(zeta)
    pixel_mm = panel.get_pixel_size()[0]
    spot_sigma = math.hypot(
        preset.distance * math.tan(math.radians(DIVERGENCE_DEG)) / pixel_mm,
        BEAM_SIZE_SIGMA_MM / pixel_mm,
    )
    return dict(
        oscillation=preset.oscillation,
        phi=phid,
        sigma_phi=MOSAICITY_DEG / np.abs(zeta),
        x=px[:, 0],
        y=px[:, 1],
        counts=counts,
        spot_sigma=spot_sigma,
        background=_background(beam, detector),
        active=active,
        seed=seed,
        d_min=d_min,
        d_min_corner=d_min_corner,
        A=A,
        orientation_attempts=found,
        start=start,
        axial=axial,
    )


def _generate(
    args: argparse.Namespace, preset: Preset, out: Path, final: Path, t_start: float
) -> int:
    """Simulate the sweep into out (named final in sweep_info.json); returns an exit status."""
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        beam, detector, gonio, format_class = _models(preset, Path(tmp))
    plan = plan_sweep(beam, detector, gonio, _active_mask(), preset, args.seed)
    if plan is None:
        print("no orientation records all three screw axes; widen the scan", file=sys.stderr)
        return 1
    _STATE.update(plan, out=str(out), beam=beam, detector=detector, gonio=gonio)
    scan_range = (0.0, preset.n_images * preset.oscillation)
    d_min, A, axial, found = plan["d_min"], plan["A"], plan["axial"], plan["orientation_attempts"]

    n = preset.n_images
    for done, _ in enumerate(ordered_map(_render, n, args.nproc), start=1):
        print(f"image {done}/{n}", flush=True)

    # Crystal setting as DIALS reports it: real-space vectors in the lab frame at phi = 0.
    real = np.linalg.inv(A).T  # columns a, b, c
    info = {
        "generator_version": GENERATOR_VERSION,
        "preset": args.preset,
        "seed": args.seed,
        "n_images": n,
        "oscillation": preset.oscillation,
        "scan_range": list(scan_range),
        "cell": list(CELL),
        "space_group": SPACE_GROUP,
        "wavelength": WAVELENGTH,
        "distance": preset.distance,
        "beam_centre_px": list(BEAM_CENTRE_PX),
        "d_min_corner": round(plan["d_min_corner"], 3),
        "d_min": round(d_min, 3),
        "template": str(final / f"{TEMPLATE_PREFIX}#####.cbf"),
        "format_class": format_class,
        "mosaicity_deg": MOSAICITY_DEG,
        "b_factor": B_FACTOR,
        "n_reflections": int(len(plan["phi"])),
        "orientation_attempts": found,
        "real_space_a": real[:, 0].tolist(),
        "real_space_b": real[:, 1].tolist(),
        "real_space_c": real[:, 2].tolist(),
        "min_axial_required": preset.min_axial,
        "axial_reflections": axial,
        "seconds": round(time.monotonic() - t_start, 1),
    }
    tmp_info = out / "sweep_info.json.part"
    tmp_info.write_text(json.dumps(info, indent=2) + "\n")
    os.replace(tmp_info, out / "sweep_info.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())

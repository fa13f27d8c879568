"""Simulate a THAS1-like EIGER rotation sweep (P 21 21 21) as an NXmx master file and data files."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The crystal, its orientation search and the spot physics are the CBF generator's: only the
# detector and the file format differ. Run as a script, this folder is on sys.path.
from simulate_sweep import CELL, SPACE_GROUP, Preset, expected_image, ordered_map, plan_sweep

WAVELENGTH = 0.9763  # a common MX wavelength (12.7 keV)
MASTER_SUFFIX = "_master.h5"


@dataclass(frozen=True)
class Eiger:
    """An EIGER's pixel array: modules of 1030 x 514 pixels of 75 um, gaps 10 (fast), 37 (slow)."""

    name: str
    modules_fast: int
    modules_slow: int
    module_fast: int = 1030
    module_slow: int = 514
    gap_fast: int = 10
    gap_slow: int = 37
    pixel_mm: float = 0.075
    thickness_mm: float = 0.45

    @property
    def size(self) -> tuple[int, int]:
        """(fast, slow) pixels."""
        return (
            self.modules_fast * (self.module_fast + self.gap_fast) - self.gap_fast,
            self.modules_slow * (self.module_slow + self.gap_slow) - self.gap_slow,
        )

    def active(self) -> np.ndarray:
        """True on sensitive pixels, False in the gaps between modules (slow, fast)."""
        nx, ny = self.size
        fast = (np.arange(nx) % (self.module_fast + self.gap_fast)) < self.module_fast
        slow = (np.arange(ny) % (self.module_slow + self.gap_slow)) < self.module_slow
        return slow[:, None] & fast[None, :]


DETECTORS = {"1M": Eiger("EIGER X 1M", 1, 2), "4M": Eiger("EIGER X 4M", 2, 4)}


@dataclass(frozen=True)
class EigerPreset:
    """A sweep: its detector and the CBF generator's sizes (images, width, distance)."""

    detector: str
    sweep: Preset
    frames_per_file: int


# The demo rotates 90 degrees (90 x 1 degree) on a 4M to 1.8 A at the corners: a 60 degree wedge
# rarely records enough h00/0k0/00l for dials.symmetry to see all three screw axes, and one
# degree per image keeps the image count, and so find_spots and integrate, small. The small
# preset is for tests: a 1M, 24 images and lower resolution, in three data files (so the
# master file needs a virtual data set, as a real EIGER's with several data files does).
PRESETS: dict[str, EigerPreset] = {
    "demo": EigerPreset(
        "4M", Preset(90, 1.0, 180.0, "EIGER 4M, 90 x 1 deg, whole pipeline in minutes"), 50
    ),
    "small": EigerPreset(
        "1M", Preset(24, 1.0, 130.0, "tests: EIGER 1M, 24 x 1 deg, fast", min_axial=0), 10
    ),
}
SATURATION = 1_000_000  # counts; an EIGER's count-rate corrected limit is of this order
EXPOSURE_S = 0.05


def _set(group, name: str, value, **attrs):
    """A dataset with attributes (units, transformation_type, vector, depends_on...)."""
    ds = group.create_dataset(name, data=value)
    for key, val in attrs.items():
        ds.attrs[key] = val
    return ds


def write_master(
    path: Path,
    eiger: Eiger,
    distance: float,
    beam_centre_px: tuple[float, float],
    n_images: int,
    oscillation: float,
    data_files: list[tuple[str, int]],
) -> None:
    """An NXmx master file that dxtbx's FormatNXmx reads: beam, detector, omega scan and
    /entry/data linking to data_files [(file name relative to path, frames)]."""
    import h5py

    nx, ny = eiger.size
    px = eiger.pixel_mm
    with h5py.File(path, "w") as f:
        f.attrs["file_name"] = path.name
        entry = f.create_group("entry")
        entry.attrs["NX_class"] = "NXentry"
        entry.create_dataset("definition", data="NXmx")

        data = entry.create_group("data")
        data.attrs["NX_class"] = "NXdata"
        for i, (name, _) in enumerate(data_files, start=1):
            data[f"data_{i:06d}"] = h5py.ExternalLink(name, "/entry/data/data")
        if len(data_files) > 1:
            # FormatNXmx reads /entry/data/<signal>, else only the first member: several data
            # files need a virtual data set joining them, as a DECTRIS file writer's VDS does.
            layout = h5py.VirtualLayout(shape=(n_images, ny, nx), dtype="uint32")
            first = 0
            for name, frames in data_files:
                layout[first : first + frames] = h5py.VirtualSource(
                    name, "/entry/data/data", shape=(frames, ny, nx)
                )
                first += frames
            data.create_virtual_dataset("data", layout, fillvalue=0)
            data.attrs["signal"] = "data"

        instrument = entry.create_group("instrument")
        instrument.attrs["NX_class"] = "NXinstrument"
        instrument.create_dataset("name", data="thas-tui simulated beamline")
        beam = instrument.create_group("beam")
        beam.attrs["NX_class"] = "NXbeam"
        _set(beam, "incident_wavelength", WAVELENGTH, units="angstrom")

        det = instrument.create_group("detector")
        det.attrs["NX_class"] = "NXdetector"
        det.create_dataset("description", data=f"Dectris {eiger.name} (simulated)")
        det.create_dataset("sensor_material", data="Si")
        _set(det, "sensor_thickness", eiger.thickness_mm / 1000.0, units="m")
        det.create_dataset("saturation_value", data=SATURATION)
        det.create_dataset("underload_value", data=-1)
        det.create_dataset("bit_depth_readout", data=32)
        _set(det, "frame_time", EXPOSURE_S, units="s")
        _set(det, "count_time", EXPOSURE_S, units="s")
        det.create_dataset(
            "pixel_mask", data=(~eiger.active()).astype(np.uint32), compression="gzip"
        )
        det.create_dataset("depends_on", data="/entry/instrument/detector/transformations/det_z")
        trans = det.create_group("transformations")
        trans.attrs["NX_class"] = "NXtransformations"
        _set(
            trans,
            "det_z",
            distance,
            units="mm",
            transformation_type="translation",
            vector=[0.0, 0.0, 1.0],
            depends_on=".",
        )
        module = det.create_group("module")
        module.attrs["NX_class"] = "NXdetector_module"
        module.create_dataset("data_origin", data=np.array([0, 0], dtype=np.int32))
        module.create_dataset("data_size", data=np.array([ny, nx], dtype=np.int32))
        base = "/entry/instrument/detector/module/"
        # Vectors in the McStas frame (dxtbx turns them by diag(-1, 1, -1)): fast along -x and
        # slow along -y put pixel (0, 0) at the top left seen from the sample, as an EIGER is.
        bx, by = beam_centre_px
        _set(
            module,
            "module_offset",
            0.0,
            units="mm",
            transformation_type="translation",
            vector=[1.0, 0.0, 0.0],
            offset=[bx * px, by * px, 0.0],
            depends_on="/entry/instrument/detector/transformations/det_z",
        )
        for name, vector in (("fast", [-1.0, 0.0, 0.0]), ("slow", [0.0, -1.0, 0.0])):
            _set(
                module,
                f"{name}_pixel_direction",
                px,
                units="mm",
                transformation_type="translation",
                vector=vector,
                offset=[0.0, 0.0, 0.0],
                depends_on=base + "module_offset",
            )

        sample = entry.create_group("sample")
        sample.attrs["NX_class"] = "NXsample"
        sample.create_dataset("depends_on", data="/entry/sample/transformations/omega")
        strans = sample.create_group("transformations")
        strans.attrs["NX_class"] = "NXtransformations"
        omega = np.arange(n_images) * oscillation
        _set(
            strans,
            "omega",
            omega,
            units="deg",
            transformation_type="rotation",
            vector=[-1.0, 0.0, 0.0],
            depends_on=".",
        )
        _set(strans, "omega_end", omega + oscillation, units="deg")
        _set(strans, "omega_increment_set", oscillation, units="deg")


def create_data_file(path: Path, eiger: Eiger, frames: int, first_image: int):
    """An open data file with an empty gzip data set, one chunk per frame, for direct writes."""
    import h5py

    nx, ny = eiger.size
    f = h5py.File(path, "w")
    entry = f.create_group("entry")
    entry.attrs["NX_class"] = "NXentry"
    data = entry.create_group("data")
    data.attrs["NX_class"] = "NXdata"
    ds = data.create_dataset(
        "data", shape=(frames, ny, nx), dtype="uint32", chunks=(1, ny, nx), compression="gzip"
    )
    ds.attrs["image_nr_low"] = np.int32(first_image)
    ds.attrs["image_nr_high"] = np.int32(first_image + frames - 1)
    return f, ds


def _models(eiger: Eiger, preset: Preset, beam_centre_px, workdir: Path):
    """Beam, detector and goniometer as dxtbx reads them back from a one-image master file,
    so the simulation uses exactly the geometry dials.import will see."""
    from dxtbx.model.experiment_list import ExperimentListFactory

    master = workdir / f"probe{MASTER_SUFFIX}"
    write_master(
        master,
        eiger,
        preset.distance,
        beam_centre_px,
        1,
        preset.oscillation,
        [("probe_data_000001.h5", 1)],
    )
    f, ds = create_data_file(workdir / "probe_data_000001.h5", eiger, 1, 1)
    ds[0] = 0
    f.close()
    expt = ExperimentListFactory.from_filenames([str(master)])[0]
    return expt.beam, expt.detector, expt.goniometer, expt.imageset.get_format_class().__name__


_STATE: dict = {}


def _frame(index: int) -> tuple[int, bytes]:
    """Image index (0-based) simulated and gzip-compressed as one HDF5 chunk."""
    st = _STATE
    rng = np.random.default_rng([st["seed"], index])
    image = np.minimum(rng.poisson(expected_image(st, index)), SATURATION).astype(np.uint32)
    image[~st["active"]] = 0  # masked by pixel_mask
    # HDF5's deflate filter stores a zlib stream per chunk: compressing here, in the worker
    # processes, leaves the parent only the writing.
    return index, zlib.compress(image.tobytes(), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, type=Path, help="directory for the files")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="demo")
    parser.add_argument("--seed", type=int, default=1, help="orientation and noise seed")
    parser.add_argument("--nproc", type=int, default=2, help="processes simulating images")
    parser.add_argument("--n-images", type=int, help="override the preset's image count")
    parser.add_argument("--prefix", default="thas_eiger", help="file names' prefix")
    parser.add_argument(
        "--atomic",
        action="store_true",
        help="write into a temporary sibling of --out and rename it to --out when complete",
    )
    args = parser.parse_args(argv)

    chosen = PRESETS[args.preset]
    base = chosen.sweep
    preset = Preset(
        args.n_images or base.n_images,
        base.oscillation,
        base.distance,
        base.description,
        base.min_axial,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    t_start = time.monotonic()
    final: Path = args.out.resolve()
    if args.atomic:
        # As the CBF generator: a cache directory never looks complete while half-written.
        final.parent.mkdir(parents=True, exist_ok=True)
        out = Path(tempfile.mkdtemp(prefix=f".{final.name}.part-", dir=final.parent))
    else:
        out = final
        out.mkdir(parents=True, exist_ok=True)
    try:
        status = _generate(args, chosen, preset, out, final, t_start)
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
            stale = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
            os.replace(final, stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        os.replace(out, final)
    print(
        f"wrote {preset.n_images} images to {final / (args.prefix + MASTER_SUFFIX)} "
        f"in {time.monotonic() - t_start:.1f} s",
        flush=True,
    )
    return 0


def _generate(args, chosen: EigerPreset, preset: Preset, out: Path, final: Path, t_start) -> int:
    """Simulate the sweep into out (named final in sweep_info.json); returns an exit status."""
    eiger = DETECTORS[chosen.detector]
    nx, ny = eiger.size
    # Off centre, as a real beam is (and so that nothing assumes symmetry about the middle).
    centre = (round(nx / 2 - 12.3, 1), round(ny / 2 + 17.6, 1))
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        beam, detector, gonio, format_class = _models(eiger, preset, centre, Path(tmp))
    plan = plan_sweep(beam, detector, gonio, eiger.active(), preset, args.seed)
    if plan is None:
        print("no orientation records all three screw axes; widen the scan", file=sys.stderr)
        return 1
    _STATE.update(plan)

    n = preset.n_images
    per_file = chosen.frames_per_file
    data_files = [
        (f"{args.prefix}_data_{i + 1:06d}.h5", min(per_file, n - first))
        for i, first in enumerate(range(0, n, per_file))
    ]
    master = out / f"{args.prefix}{MASTER_SUFFIX}"
    write_master(master, eiger, preset.distance, centre, n, preset.oscillation, data_files)
    results = ordered_map(_frame, n, args.nproc)
    done = 0
    for i, (name, count) in enumerate(data_files):
        f, ds = create_data_file(out / name, eiger, count, i * per_file + 1)
        with f:
            for k in range(count):
                _, chunk = next(results)
                ds.id.write_direct_chunk((k, 0, 0), chunk)
                done += 1
                print(f"image {done}/{n}", flush=True)

    real = np.linalg.inv(plan["A"]).T  # columns a, b, c
    info = {
        "detector": eiger.name,
        "preset": args.preset,
        "seed": args.seed,
        "n_images": n,
        "oscillation": preset.oscillation,
        "scan_range": [0.0, n * preset.oscillation],
        "cell": list(CELL),
        "space_group": SPACE_GROUP,
        "wavelength": WAVELENGTH,
        "distance": preset.distance,
        "beam_centre_px": list(centre),
        "image_size": [nx, ny],
        "pixel_mm": eiger.pixel_mm,
        "d_min_corner": round(plan["d_min"], 3),
        "master": str(final / master.name),
        "data_files": [name for name, _ in data_files],
        "compression": "gzip",
        "format_class": format_class,
        "n_reflections": int(len(plan["phi"])),
        "orientation_attempts": plan["orientation_attempts"],
        "real_space_a": real[:, 0].tolist(),
        "real_space_b": real[:, 1].tolist(),
        "real_space_c": real[:, 2].tolist(),
        "min_axial_required": preset.min_axial,
        "axial_reflections": plan["axial"],
        "seconds": round(time.monotonic() - t_start, 1),
    }
    tmp_info = out / "sweep_info.json.part"
    tmp_info.write_text(json.dumps(info, indent=2) + "\n")
    os.replace(tmp_info, out / "sweep_info.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())

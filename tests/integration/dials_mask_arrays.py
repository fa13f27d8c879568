"""Run under DIALS's Python: pixels.mask and an experiment's d map as numpy arrays (tests only)."""

from __future__ import annotations

import pickle
import sys

import numpy as np


def pixels_mask(path: str, out: str) -> None:
    """pixels.mask (a pickled tuple of flex.bool, True = good) to an .npz of panel_N arrays."""
    with open(path, "rb") as fh:
        masks = pickle.load(fh)
    arrays = {f"panel_{n}": m.as_numpy_array().astype(bool) for n, m in enumerate(masks)}
    np.savez(out, **arrays)


def experiment_mask(expt: str, out: str) -> None:
    """The mask DIALS applies to an experiment's first image (the detector's own, and the
    imageset's mask file: what find_spots uses), as panel_N arrays, and that file's name."""
    from dxtbx.model.experiment_list import ExperimentListFactory

    iset = ExperimentListFactory.from_json_file(expt)[0].imageset
    masks = iset.get_mask(0)
    arrays = {f"panel_{n}": m.as_numpy_array().astype(bool) for n, m in enumerate(masks)}
    arrays["filename"] = np.array(iset.external_lookup.mask.filename)
    np.savez(out, **arrays)


def d_map(expt: str, out: str) -> None:
    """d (Å) at every pixel centre, computed as DIALS's ResolutionMaskGenerator does."""
    from dials.array_family import flex
    from dxtbx.model.experiment_list import ExperimentListFactory

    exp = ExperimentListFactory.from_json_file(expt, check_format=False)[0]
    s0 = exp.beam.get_s0()
    wavenumber = 1.0 / exp.beam.get_wavelength()
    arrays = {}
    for n, panel in enumerate(exp.detector):
        width, height = panel.get_image_size()
        xs = flex.double(np.tile(np.arange(width) + 0.5, height))
        ys = flex.double(np.repeat(np.arange(height) + 0.5, width))
        mm = panel.pixel_to_millimeter(flex.vec2_double(xs, ys))
        lab = panel.get_lab_coord(mm)
        r = lab.each_normalize() * wavenumber - s0
        arrays[f"panel_{n}"] = (1.0 / r.norms()).as_numpy_array().reshape(height, width)
        arrays[f"corners_{n}"] = np.array(panel.get_max_resolution_at_corners(s0))
    np.savez(out, **arrays)


if __name__ == "__main__":
    {"pixels": pixels_mask, "expt": experiment_mask, "dmap": d_map}[sys.argv[1]](*sys.argv[2:])

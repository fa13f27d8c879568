"""Run under DIALS's Python (tests only): DIALS's masks and d maps as numpy arrays, in one process.

arrays FILE.npz INPUT...   each INPUT a pixels.mask (pickled flex.bool tuple, True = good)
                           or an .expt (the mask DIALS applies to its first image)
generate FILE.npz EXPT PHIL...   dials.generate_mask's own function on each mask.phil, and
                           the d map (d at pixel centres, as its ResolutionMaskGenerator)
"""

from __future__ import annotations

import pickle
import sys

import numpy as np


def _panel0(masks) -> np.ndarray:
    return masks[0].as_numpy_array().astype(bool)


def arrays(out: str, *inputs: str) -> None:
    from dxtbx.model.experiment_list import ExperimentListFactory

    found = {}
    for i, path in enumerate(inputs):
        if path.endswith(".mask"):
            with open(path, "rb") as fh:
                found[f"mask_{i}"] = _panel0(pickle.load(fh))
        else:
            iset = ExperimentListFactory.from_json_file(path)[0].imageset
            found[f"mask_{i}"] = _panel0(iset.get_mask(0))
            found[f"filename_{i}"] = np.array(iset.external_lookup.mask.filename)
    np.savez(out, **found)


def generate(out: str, expt: str, *phils: str) -> None:
    import libtbx.phil
    from dials.array_family import flex
    from dials.util import masking
    from dxtbx.model.experiment_list import ExperimentListFactory

    exp = ExperimentListFactory.from_json_file(expt, check_format=False)[0]
    found = {}
    for i, path in enumerate(phils):
        with open(path) as fh:
            params = masking.phil_scope.fetch(libtbx.phil.parse(fh.read())).extract()
        found[f"mask_{i}"] = _panel0(masking.generate_mask(exp.imageset, params))
    panel, s0 = exp.detector[0], exp.beam.get_s0()
    width, height = panel.get_image_size()
    xs = flex.double(np.tile(np.arange(width) + 0.5, height))
    ys = flex.double(np.repeat(np.arange(height) + 0.5, width))
    lab = panel.get_lab_coord(panel.pixel_to_millimeter(flex.vec2_double(xs, ys)))
    r = lab.each_normalize() * (1.0 / exp.beam.get_wavelength()) - s0
    found["d_map"] = (1.0 / r.norms()).as_numpy_array().reshape(height, width)
    found["corners"] = np.array(panel.get_max_resolution_at_corners(s0))
    np.savez(out, **found)


if __name__ == "__main__":
    {"arrays": arrays, "generate": generate}[sys.argv[1]](*sys.argv[2:])

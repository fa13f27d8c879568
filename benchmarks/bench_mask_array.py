"""Benchmark: mask_array on a Pilatus 6M (2463x2527), per mask kind: the mask editor's redraw cost."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import machine  # noqa: E402
from thas_tui.core.mask_spec import (  # noqa: E402
    Circle,
    MaskSpec,
    Polygon,
    Rectangle,
    ResolutionRange,
    mask_array,
)

SHAPE = (2527, 2463)


def d_map() -> np.ndarray:
    """d at pixel centres for the demo's geometry on a flat detector (timing needs no parallax)."""
    wavelength, distance, pixel = 1.282, 550.0, 0.172
    y, x = np.indices(SHAPE, dtype=np.float64)
    r = np.hypot((x + 0.5 - 1231.7) * pixel, (y + 0.5 - 1264.3) * pixel)
    theta = 0.5 * np.arctan2(r, distance)
    with np.errstate(divide="ignore"):
        return wavelength / (2 * np.sin(theta))


CASES = {
    "rectangle (backstop arm, 100x1260)": MaskSpec(untrusted=[Rectangle(1200, 1300, 0, 1260)]),
    "circle r=40": MaskSpec(untrusted=[Circle(1234, 1269, 40)]),
    "circle r=600": MaskSpec(untrusted=[Circle(1234, 1269, 600)]),
    "polygon, 8 vertices, ~800x800": MaskSpec(
        untrusted=[
            Polygon(
                [(800, 800), (1200, 700), (1600, 800), (1700, 1200), (1600, 1600)]
                + [(1200, 1700), (800, 1600), (700, 1200)]
            )
        ]
    ),  # fmt: skip
    "border 2": MaskSpec(border=2),
    "d_min + d_max": MaskSpec(d_min=2.0, d_max=30.0),
    "resolution range": MaskSpec(resolution_ranges=[ResolutionRange(3.5, 3.7)]),
    "ice rings": MaskSpec(ice_rings=True),
}


def main() -> None:
    print(machine())
    print("machine shared with other helpers at the time of measuring")
    dm = d_map()
    print(f"{'mask':<36} median ms  (runs)")
    for name, spec in CASES.items():
        runs = []
        for _ in range(7):
            t = time.perf_counter()
            mask_array(spec, SHAPE, d_map=dm, ice_d_min=float(dm.min()))
            runs.append((time.perf_counter() - t) * 1000)
        shown = " ".join(f"{r:.0f}" for r in runs)
        print(f"{name:<36} {statistics.median(runs):8.1f}  ({shown})")


if __name__ == "__main__":
    main()

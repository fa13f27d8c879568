"""Make the large finished run that bench_open_run.py opens: ≥ 300k strong spots, ~600k integrated.

A simulated THAS1-like sweep of 76 PILATUS 6M images of 3° at 250 mm (to 1.5 Å), processed by the
whole pipeline through `thas-tui run --no-tui --auto-bravais` with spot finding's
sigma_strong=2.8 (the default 3.0 finds 299k). About 17 min on 2 cores with --nproc 1.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from thas_tui.core.dials_env import find_dials  # noqa: E402

GENERATOR = ROOT / "thas_tui" / "sim" / "simulate_sweep.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="folder for images/ and proc/")
    parser.add_argument("--nproc", type=int, default=1)
    parser.add_argument(
        "--until", metavar="STAGE", help="stop after this stage (bench_lattice.py: index)"
    )
    args = parser.parse_args()
    dials = find_dials()
    images = args.out / "images"
    if not (images / "sweep_info.json").exists():
        subprocess.run(
            [dials.python, str(GENERATOR), "--out", str(images), "--preset", "small"]
            + ["--n-images", "76", "--oscillation", "3", "--distance", "250", "--min-axial", "-1"]
            + ["--nproc", str(args.nproc), "--atomic"],
            check=True,
        )
    return subprocess.run(
        [sys.executable, "-m", "thas_tui", "run", str(images), "--dir", str(args.out / "proc")]
        + ["--no-tui", "--auto-bravais", "--nproc", str(args.nproc)]
        + ["--phil", "find_spots:spotfinder.threshold.dispersion.sigma_strong=2.8"]
        + (["--until", args.until] if args.until else [])
    ).returncode


if __name__ == "__main__":
    sys.exit(main())

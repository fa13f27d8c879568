"""Resident memory of the dashboard through a whole demo run on a pseudo-terminal (target ≤ 200 MB)."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PtyDashboard, machine  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="demo", choices=("demo", "small"))
    parser.add_argument("--nproc", type=int, default=2)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="thas-bench-memory-")) / "proc"
    dash = PtyDashboard(
        [
            "demo",
            "--preset",
            args.preset,
            "--dir",
            str(workdir),
            "--auto-bravais",
            "--nproc",
            str(args.nproc),
        ]
    )
    samples: list[float] = []

    def sample() -> None:
        now, _ = dash.rss_mb()
        if now:
            samples.append(now)

    end = dash.wait_run_end(workdir, poll=0.25, on_poll=sample)
    now, peak = dash.rss_mb()
    cpu = dash.cpu_seconds()
    dash.quit()
    print(machine())
    print(
        f"demo preset {args.preset}, nproc {args.nproc}: run {end.get('outcome')} in {end['time'] - dash.started:.1f} s"
    )
    print(
        f"dashboard RSS over {len(samples)} samples: median {statistics.median(samples):.0f} MB, "
        f"max sampled {max(samples):.0f} MB, peak (VmHWM) {peak:.0f} MB   (target <= 200 MB)"
    )
    print(f"dashboard CPU {cpu:.1f} s; terminal output: {dash.bytes_out / 1e6:.2f} MB")
    return 0 if end.get("outcome") == "finished" else 1


if __name__ == "__main__":
    sys.exit(main())

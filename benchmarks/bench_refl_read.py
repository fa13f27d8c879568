"""Benchmark: thas_tui's selective strong.refl reader against DIALS's own reflection_table reader."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgpack
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from thas_tui.core.readers.refl import DEFAULT_COLUMNS, read_refl  # noqa: E402

DIALS_PYTHON = "/usr/bin/python3"
DEFAULT_SOURCE = ROOT / "tests" / "data" / "dials-3.12_l_cysteine" / "strong.refl"

# Runs under DIALS's Python: builds an N-row strong.refl from the rows of a real one. Rows with
# small shoeboxes are picked so the bytes per row (~250) match a real protein strong.refl
# (DIALS-NOTES: 65 MB for 251k spots); z is spread over 180 images so spots_per_image has work.
MAKE_SCRIPT = r"""
import sys
from dials.array_family import flex
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = flex.reflection_table.from_file(src)
x0, x1, y0, y1, z0, z1 = t["bbox"].parts()
vol = (x1 - x0) * (y1 - y0) * (z1 - z0)
small = t.select(vol <= 16)
if small.size() == 0:
    small = t
idx = flex.size_t([i % small.size() for i in range(n)])
big = small.select(idx)
x, y, z = big["xyzobs.px.value"].parts()
import random
random.seed(0)
z = flex.double([v - int(v) + random.randrange(180) for v in z])
big["xyzobs.px.value"] = flex.vec3_double(x, y, z)
big["id"] = flex.int(n, 0)
del big.experiment_identifiers()[1], big.experiment_identifiers()[2], big.experiment_identifiers()[3]
big.as_file(out)
print(big.size())
"""

# Runs under DIALS's Python: times flex.reflection_table.from_file (inside the process, so no
# interpreter start-up is counted) and prints checksums of the benchmarked columns.
TIME_SCRIPT = r"""
import json, sys, time
from dials.array_family import flex
path, runs, cols = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
flex.reflection_table.from_file(path)  # warm the page cache and imports
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    t = flex.reflection_table.from_file(path)
    times.append(time.perf_counter() - t0)
sums = {}
for c in cols:
    if c not in t:
        continue
    col = t[c]
    if c in ("xyzobs.px.value", "xyzcal.px"):
        sums[c] = [flex.sum(p) for p in col.parts()]
    elif c == "miller_index":
        sums[c] = [flex.sum(p) for p in col.as_vec3_double().parts()]
    elif c == "bbox":
        sums[c] = [int(flex.sum(p)) for p in col.parts()]
    elif c == "flags":
        sums[c] = int(sum(int(v) for v in col))
    elif c in ("id", "panel"):
        sums[c] = int(sum(int(v) for v in col))
    else:
        sums[c] = flex.sum(col)
print(json.dumps({"times": times, "nrows": t.size(), "sums": sums}))
"""


def our_sums(path: Path, columns: tuple[str, ...]) -> tuple[int, dict[str, object]]:
    t = read_refl(path, columns)
    sums: dict[str, object] = {}
    for c, a in t.columns.items():
        if c in ("xyzobs.px.value", "xyzcal.px", "miller_index", "bbox"):
            s = a.sum(axis=0)
            sums[c] = [int(v) for v in s] if a.dtype.kind in "iu" else [float(v) for v in s]
        elif c in ("flags", "id", "panel"):
            sums[c] = int(a.astype(np.int64).sum()) if c != "flags" else int(a.astype(object).sum())
        else:
            sums[c] = float(a.sum())
    return t.nrows, sums


def same(a: object, b: object) -> bool:
    return bool(np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-9, atol=1e-6))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("refl", nargs="?", help="strong.refl to read (default: make one)")
    ap.add_argument("--rows", type=int, default=300_000, help="rows of the generated table")
    ap.add_argument("--source", default=str(DEFAULT_SOURCE), help="real .refl to replicate rows of")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()

    tmp = None
    if args.refl:
        path = Path(args.refl)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench_refl_")
        path = Path(tmp.name) / "strong.refl"
        out = subprocess.run(
            [DIALS_PYTHON, "-c", MAKE_SCRIPT, args.source, str(path), str(args.rows)],
            capture_output=True,
            text=True,
            check=True,
        )
        print(f"generated {out.stdout.strip()} rows from {args.source}")
    size_mb = path.stat().st_size / 1e6
    columns = DEFAULT_COLUMNS

    proc = subprocess.run(
        [DIALS_PYTHON, "-c", TIME_SCRIPT, str(path), str(args.runs), ",".join(columns)],
        capture_output=True,
        text=True,
        check=True,
    )
    dials = json.loads(proc.stdout.strip().splitlines()[-1])

    read_refl(path, columns)  # warm-up, as for DIALS
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        read_refl(path, columns)
        times.append(time.perf_counter() - t0)
    nrows, sums = our_sums(path, columns)

    # Baseline: plain msgpack.unpackb of the whole file (every blob copied), then np.frombuffer.
    mp_times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        doc = msgpack.unpackb(path.read_bytes(), raw=False, strict_map_key=False)
        for c in columns:
            col = doc[2]["data"].get(c)
            if col is not None:
                np.frombuffer(col[1][1], dtype=np.uint8)
        mp_times.append(time.perf_counter() - t0)

    ok = nrows == dials["nrows"] and set(sums) == set(dials["sums"])
    for c, v in dials["sums"].items():
        if not same(sums.get(c), v):
            ok = False
            print(f"  checksum differs for {c}: ours {sums.get(c)} dials {v}")
    ours_med = statistics.median(times)
    dials_med = statistics.median(dials["times"])
    print(f"file: {path} ({size_mb:.1f} MB, {nrows} rows)")
    print(f"columns compared: {', '.join(sorted(sums))}")
    print(f"checksums {'identical' if ok else 'DIFFER'}")
    print(
        f"DIALS flex.reflection_table.from_file: median {dials_med * 1e3:.1f} ms ({args.runs} runs)"
    )
    print(
        f"thas_tui read_refl ({len(sums)} of {len(columns)} requested columns present): "
        f"median {ours_med * 1e3:.1f} ms ({args.runs} runs)"
    )
    print(
        f"plain msgpack.unpackb + np.frombuffer:  median {statistics.median(mp_times) * 1e3:.1f} ms"
    )
    print(f"ratio DIALS / ours: {dials_med / ours_med:.1f}x")
    if tmp is not None:
        tmp.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

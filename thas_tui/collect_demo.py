"""`thas-tui collect-demo DIR`: a simulated beamline collection, images written one by one."""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "collect-demo",
        help="simulate a beamline collection: demo sweeps written image by image into DIR",
    )
    p.add_argument("data_dir", help="folder to write the images into (made if needed)")
    p.add_argument(
        "--preset",
        default="demo",
        choices=("demo", "small", "session"),
        help="size of each simulated sweep (eiger: small or demo)",
    )
    p.add_argument(
        "--detector",
        default="pilatus",
        choices=("pilatus", "eiger"),
        help="PILATUS CBF images one by one, or an EIGER's master file then its data files",
    )
    p.add_argument(
        "--seeds",
        default="1,2",
        help="one crystal per seed, collected one after the other (default: 1,2 = two datasets)",
    )
    p.add_argument("--rate", type=float, default=2.0, help="images per second (default 2)")
    p.add_argument(
        "--pause", type=float, default=10.0, help="seconds between two sweeps (default 10)"
    )
    p.add_argument(
        "--partial",
        type=float,
        default=0.5,
        help="seconds each image stays half-written, as a detector writing it (default 0.5)",
    )
    p.add_argument(
        "--start", type=int, default=1, help="number of the first crystal's files (xtalK_1_...)"
    )
    p.add_argument("--dials-dir", default=None, help="bin/ folder of a DIALS installation")


def sweep_dir(python: str, preset: str, seed: int) -> Path:
    """A generated sweep for ``preset`` and ``seed``: the demo cache for seed 1, made if needed."""
    from thas_tui.core import demo

    if seed == 1:
        out = demo.demo_cache_dir(preset)
        if not demo.is_cached(preset):
            argv = demo.generation_argv(python, preset)
        else:
            return out
    else:
        out = demo.cache_root() / f"collect-{preset}-seed{seed}-{demo.demo_cache_dir(preset).name}"
        if (out / demo.INFO_NAME).is_file():
            return out
        argv = demo.generation_argv(python, preset, out) + ["--seed", str(seed)]
    print(
        f"collect-demo: simulating the sweep of crystal {seed} (cached for next time)", flush=True
    )
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)
    return out


def eiger_sweep_dir(python: str, preset: str, seed: int, prefix: str) -> Path:
    """A generated EIGER sweep named ``prefix`` (its master file links its data files by
    name, so each dataset of a collection is generated under its own name, and cached)."""
    from thas_tui.core import demo

    version = demo.demo_cache_dir(preset).name.rsplit("-", 1)[-1]
    out = demo.cache_root() / f"collect-{preset}-seed{seed}-{prefix}-{version}"
    if (out / demo.INFO_NAME).is_file():
        return out
    argv = demo.generation_argv(python, preset, out) + ["--seed", str(seed), "--prefix", prefix]
    print(f"collect-demo: simulating the EIGER sweep {prefix} (cached for next time)", flush=True)
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)
    return out


def collect_eiger(args: argparse.Namespace, python: str, seeds: list[int], data: Path) -> None:
    """Each sweep as an EIGER file writer leaves it: the master file first, then each data
    file once its frames are taken (at ``--rate`` images a second), each written in halves."""
    import json

    from thas_tui.core import demo
    from thas_tui.core.errors import ThasError

    if args.preset not in ("small", "demo"):
        raise ThasError(f"--detector eiger takes --preset small or demo (not {args.preset})")
    preset = demo.preset_for("eiger", args.preset)
    for k, seed in enumerate(seeds, start=args.start):
        prefix = f"xtal{k}_1"
        src = eiger_sweep_dir(python, preset, seed, prefix)
        info = json.loads((src / demo.INFO_NAME).read_text())
        files = [f"{prefix}_master.h5", *info["data_files"]]
        for name in files:
            if (data / name).exists():
                raise ThasError(f"{data / name} exists: collect into an empty folder")
        n = int(info["n_images"])
        print(
            f"collect-demo: dataset {prefix}_master.h5: {n} images in "
            f"{len(files) - 1} data files at {args.rate:g}/s",
            flush=True,
        )
        write_slowly(src / files[0], data / files[0], args.partial)
        for name in files[1:]:
            time.sleep(n / args.rate / (len(files) - 1))  # the file's frames being taken
            write_slowly(src / name, data / name, args.partial)
        if k < args.start + len(seeds) - 1:
            time.sleep(args.pause)


def write_slowly(src: Path, dest: Path, partial: float) -> None:
    """Copy ``src`` to ``dest`` in two halves with a pause between, as a detector writes."""
    data = src.read_bytes()
    half = len(data) // 2
    with open(dest, "wb") as fh:
        fh.write(data[:half])
        fh.flush()
        if partial > 0:
            time.sleep(partial)
        fh.write(data[half:])


def collect_demo(args: argparse.Namespace) -> int:
    from thas_tui.core import demo
    from thas_tui.core.dials_env import find_dials
    from thas_tui.core.errors import ThasError

    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        raise ThasError(f"--seeds {args.seeds!r}: give whole numbers, e.g. --seeds 1,2") from None
    if not seeds or args.rate <= 0:
        raise ThasError("give at least one seed and a positive --rate")
    dials = find_dials(args.dials_dir)
    data = Path(args.data_dir).expanduser()
    # Before minutes of simulation: the folder must take the images, and hold none of these.
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ThasError(
            f"Cannot make the data directory {data}: {exc.strerror or exc}.\n"
            "Give a folder you can write to (new, or empty)."
        ) from None
    if not os.access(data, os.W_OK):
        raise ThasError(f"Cannot write in {data}.\nGive a folder you can write to (new, or empty).")
    taken = [
        p.name
        for k in range(args.start, args.start + len(seeds))
        for p in data.glob(f"xtal{k}_1_*")
    ]
    if taken:
        raise ThasError(
            f"{data} already holds {taken[0]}"
            + (f" and {len(taken) - 1} more files" if len(taken) > 1 else "")
            + " of this collection's names.\nCollect into an empty folder (nothing is overwritten),"
            " or number the datasets on with --start."
        )
    if args.detector == "eiger":
        collect_eiger(args, dials.python, seeds, data)
        print("collect-demo: collection finished", flush=True)
        return 0
    sources = [sweep_dir(dials.python, args.preset, s) for s in seeds]
    for k, src in enumerate(sources, start=args.start):
        images = sorted(src.glob(f"{demo.IMAGE_PREFIX}*.cbf"))
        name = f"xtal{k}_1_"
        print(
            f"collect-demo: dataset {name}#####.cbf: {len(images)} images at {args.rate:g}/s",
            flush=True,
        )
        for i, image in enumerate(images, start=1):
            dest = data / f"{name}{i:05d}.cbf"
            if dest.exists():
                raise ThasError(
                    f"{dest} exists: collect into an empty folder (nothing overwritten)"
                )
            t0 = time.monotonic()
            write_slowly(image, dest, args.partial)
            time.sleep(max(0.0, 1.0 / args.rate - (time.monotonic() - t0)))
        if k < args.start + len(seeds) - 1:
            time.sleep(args.pause)
    print("collect-demo: collection finished", flush=True)
    return 0

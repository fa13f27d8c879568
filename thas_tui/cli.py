"""Command line: parse arguments, then start the dashboard or a headless run."""

from __future__ import annotations

import argparse
import os
import sys

from thas_tui import __version__

EPILOG = """\
examples:
  thas-tui demo                         process a simulated THAS1-like sweep, live
  thas-tui demo --full                  the same crystal at THAS1 size (800 images)
  thas-tui run /data/thas1/*.cbf --dir proc
  thas-tui run /data/x_master.h5 --no-tui --auto-bravais
  thas-tui run /data/thas1/*.cbf --mask mask.phil   (backstop shadow masked first)
  thas-tui run /data/thas1/*.cbf --executor slurm --partition short --auto-bravais
  thas-tui summary proc --json
  thas-tui attach proc                  (or just: thas-tui proc)
  thas-tui compare proc proc@scale.1 xia2-run/   side by side, statistics recomputed alike
  thas-tui session /data/visit --proc /scratch/visit   every sweep, processed as it arrives
  thas-tui collect-demo /tmp/visit      a simulated collection of two sweeps into a folder
"""


IMAGE_MODES = ("halfblock", "ascii", "kitty", "sixel")


def _image_mode_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--image-mode",
        choices=IMAGE_MODES,
        default=None,
        help="how the image view draws pixels (default: $THAS_IMAGE_MODE, then the terminal's best)",
    )


def _common_run_options(p: argparse.ArgumentParser) -> None:
    _image_mode_option(p)
    p.add_argument("--no-tui", action="store_true", help="run headless, printing progress as lines")
    p.add_argument(
        "--auto-bravais",
        action="store_true",
        help="pick the recommended Bravais solution without asking (unattended runs)",
    )
    p.add_argument(
        "--nproc", type=int, default=None, help="processes per DIALS program (default: all cores)"
    )
    p.add_argument(
        "--dials-dir",
        default=None,
        help="bin/ folder of a DIALS installation (default: $THAS_DIALS_DIR, then PATH)",
    )
    p.add_argument(
        "--until",
        default=None,
        metavar="STAGE",
        help="stop after this stage (e.g. --until index)",
    )
    _executor_options(p)
    p.add_argument(
        "--phil",
        action="append",
        default=[],
        metavar="STAGE:NAME=VALUE",
        help="extra DIALS parameter for one stage, e.g. --phil index:max_cell=150 (repeatable)",
    )
    p.add_argument(
        "--mask",
        default=None,
        metavar="MASK.PHIL",
        help="mask these pixels (dials.generate_mask's mask.phil): adds the Mask stage after import",
    )


def _executor_options(p: argparse.ArgumentParser) -> None:
    slurm = p.add_argument_group(
        "where the stages run",
        "local (default): processes on this machine. slurm: each stage a batch job, the whole "
        "pipeline submitted at once as dependent jobs (site defaults from "
        "~/.config/thas-tui/config.toml or DIR/thas-tui.toml)",
    )
    slurm.add_argument("--executor", choices=("local", "slurm"), default=None)
    slurm.add_argument("--partition", default=None, help="Slurm partition")
    slurm.add_argument("--account", default=None, help="Slurm account")
    slurm.add_argument("--time", default=None, help="time limit per job (minutes or H:MM:SS)")
    slurm.add_argument("--mem", default=None, help="memory per job (e.g. 8G)")
    slurm.add_argument(
        "--cpus", default=None, help="CPUs per job (default: --nproc); DIALS's nproc follows"
    )
    slurm.add_argument(
        "--slurm",
        action="append",
        default=[],
        metavar="STAGE:name=value,...",
        help="one stage's resources, e.g. --slurm integrate:cpus=16,mem=32G,time=2:00:00",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="thas-tui",
        description="Drive and watch the DIALS processing pipeline in a terminal dashboard.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"thas-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="generate a THAS1-like demo sweep (cached) and process it")
    demo.add_argument(
        "--dir", default="thas-demo", help="processing directory (default: ./thas-demo)"
    )
    size = demo.add_mutually_exclusive_group()
    size.add_argument(
        "--preset",
        default="demo",
        choices=("demo", "small", "full", "session"),
        help="size of the simulated sweep (demo: 45 images, 90 degrees; small: for tests)",
    )
    size.add_argument(
        "--full",
        dest="preset",
        action="store_const",
        const="full",
        help="a THAS1-size sweep: 800 PILATUS 6M images, ~170,000 strong spots (= --preset full)",
    )
    demo.add_argument(
        "--detector",
        default="pilatus",
        choices=("pilatus", "eiger"),
        help="pilatus: a PILATUS 6M CBF sweep; eiger: an EIGER 4M NXmx master file and data files",
    )
    _common_run_options(demo)

    run = sub.add_parser(
        "run", help="process your own images (files, a directory or a master file)"
    )
    run.add_argument(
        "images", nargs="+", help="image files, a directory, or an HDF5/NeXus master file"
    )
    run.add_argument(
        "--dir", default="thas-processing", help="processing directory (default: ./thas-processing)"
    )
    _common_run_options(run)

    resume = sub.add_parser(
        "resume", help="continue a directory from its first unfinished stage, headless"
    )
    resume.add_argument("dir", help="processing directory")
    resume.add_argument(
        "--after-pid",
        type=int,
        default=None,
        help="first wait for this process (a stage left running) to end",
    )
    resume.add_argument(
        "--continue-run",
        action="store_true",
        help="keep the interrupted run's --until, --auto-bravais and --nproc",
    )
    resume.add_argument("--auto-bravais", action="store_true", help="take the recommended solution")
    resume.add_argument(
        "--phil",
        action="append",
        default=[],
        metavar="STAGE:NAME=VALUE",
        help="a DIALS parameter for one stage, added to (or replacing) the run's; repeatable",
    )
    resume.add_argument("--nproc", type=int, default=None, help="processes per DIALS program")
    resume.add_argument("--dials-dir", default=None, help="bin/ folder of a DIALS installation")
    resume.add_argument("--until", default=None, metavar="STAGE", help="stop after this stage")
    _executor_options(resume)

    summary = sub.add_parser(
        "summary", help="report what a processing directory holds, without the UI"
    )
    summary.add_argument("dir", help="processing directory")
    summary.add_argument("--json", action="store_true", help="print one JSON object")

    compare = sub.add_parser(
        "compare",
        help="runs, attempts (DIR@scale.1), xia2 or aimless results and MTZ files side by side",
    )
    compare.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="a processing directory, DIR@STAGE.N (an earlier attempt), a xia2 directory or "
        "file, an aimless log or XML, or an unmerged scaled MTZ",
    )
    compare.add_argument("--json", action="store_true", help='print {"inputs": [...]} as JSON')
    compare.add_argument("--tui", action="store_true", help="show the comparison in the dashboard")
    compare.add_argument(
        "--no-recompute",
        action="store_true",
        help="only the reported numbers (skip recomputing with iotbx.merging_statistics)",
    )

    from thas_tui.session_launch import add_parser as add_session_parser

    add_session_parser(sub)
    from thas_tui.collect_demo import add_parser as add_collect_parser

    add_collect_parser(sub)

    attach = sub.add_parser("attach", help="open a processing directory and show its state, live")
    attach.add_argument("dir", help="processing directory")
    attach.add_argument("--dials-dir", default=None, help="bin/ folder of a DIALS installation")
    _image_mode_option(attach)
    # Not listed: started by a dashboard to finish its run should the dashboard be killed.
    keep = sub.add_parser("keep")
    keep.add_argument("dir")
    keep.add_argument("--pid", type=int, required=True)
    keep.add_argument("--dials-dir", default=None)
    return parser


def _fail(message: str, code: int = 2) -> int:
    print(f"thas-tui: error: {message}", file=sys.stderr)
    return code


def _os_error_text(exc: OSError) -> str:
    """An operating-system error met outside any stage, as one clear message."""
    from thas_tui.core.failures import disk_full

    where = f" ({exc.filename})" if exc.filename else ""
    if disk_full(exc):
        return (
            f"cannot write{where}: {exc.strerror}: the disk is full (or a size/quota limit).\n"
            "Free some space (df -h) or use a --dir on a bigger filesystem; nothing was deleted."
        )
    return f"{exc.strerror or exc}{where}"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {
        *("demo", "run", "resume", "summary", "compare", "attach", "keep"),
        *("session", "collect-demo", "-h", "--help", "--version"),
    }
    # `thas-tui DIR` is short for `thas-tui attach DIR`.
    if argv and argv[0] not in commands and not argv[0].startswith("-"):
        argv = ["attach", *argv]
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from thas_tui.core.errors import ThasError

    if getattr(args, "image_mode", None):
        # Read by the image view (thas_tui/widgets/image_view.py) as the user's choice.
        os.environ["THAS_IMAGE_MODE"] = args.image_mode
    if args.command in ("attach", "run", "demo", "resume") and not getattr(args, "no_tui", False):
        from thas_tui.widgets.image_graphics import start_probe

        start_probe()  # kitty graphics or sixel? asked while the dashboard's modules import
    try:
        if args.command == "summary":
            from thas_tui.core.summary import run_summary

            return run_summary(args.dir, as_json=args.json)
        if args.command == "compare":
            from thas_tui.compare_cmd import compare

            return compare(args)
        if args.command == "attach":
            from thas_tui.launch import attach

            return attach(args)
        if args.command == "session":
            from thas_tui.session_launch import session

            return session(args)
        if args.command == "collect-demo":
            from thas_tui.collect_demo import collect_demo

            return collect_demo(args)
        if args.command == "keep":
            from pathlib import Path

            from thas_tui.keeper import keep

            return keep(Path(args.dir).resolve(), args.pid, args.dials_dir)
        if args.command == "resume":
            from thas_tui.launch import resume

            return resume(args)
        from thas_tui.launch import launch_run

        return launch_run(args)
    except ThasError as exc:
        return _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        print("thas-tui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `thas-tui summary DIR | head`: the reader left; say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:
        return _fail(_os_error_text(exc), 1)


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()

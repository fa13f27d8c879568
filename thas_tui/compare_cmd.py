"""`thas-tui compare`: text, JSON, or the Compare view; kept apart from launch.py's heavy imports."""

from __future__ import annotations

import argparse
import sys

from thas_tui.core.errors import ThasError


def compare(args: argparse.Namespace) -> int:
    """``thas-tui compare A B ...``: text, JSON, or the dashboard's Compare view (--tui).

    Exit code 1 when an input could not be read at all (the others are still shown)."""
    if args.tui:
        if not sys.stdout.isatty():
            raise ThasError(
                "compare --tui needs a terminal to draw the dashboard.\n"
                f"For text use: thas-tui compare {' '.join(args.inputs)}"
            )
        from thas_tui.screens.compare import CompareApp

        app = CompareApp(list(args.inputs), recompute=not args.no_recompute)
        app.run()
        return app.return_code or 0
    from thas_tui.core.compare import compare as run_compare
    from thas_tui.core.compare import dumps
    from thas_tui.core.compare_text import render_text

    def progress(msg: str) -> None:
        if sys.stderr.isatty() and not args.json:
            print(f"\r\033[K{msg} …", end="", file=sys.stderr, flush=True)

    c = run_compare(list(args.inputs), recompute=not args.no_recompute, progress=progress)
    if sys.stderr.isatty() and not args.json:
        print("\r\033[K", end="", file=sys.stderr, flush=True)
    unusable = [i for i in c.inputs if i.reported is None and i.recomputed is None]
    if not args.json and len(unusable) == len(c.inputs):
        # A table of dashes would hide the reason at its foot: say it on its own.
        why = "\n".join(
            f"  {_named(raw, '; '.join(i.problems) or 'nothing to compare in it')}"
            for raw, i in zip(args.inputs, c.inputs, strict=False)
        )
        raise ThasError(
            f"Nothing to compare: no input could be read.\n{why}\n"
            "Give processing directories (DIR, or DIR@scale.1 for an earlier attempt), xia2 "
            "directories, aimless logs or XML, or unmerged scaled MTZ files."
        )
    print(dumps(c) if args.json else render_text(c))
    return 1 if unusable else 0


def _named(raw: str, problem: str) -> str:
    # Problems of DIR@scale.N name DIR already.
    return problem if problem.startswith(raw.split("@")[0]) else f"{raw}: {problem}"

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
    print(dumps(c) if args.json else render_text(c))
    unusable = [i for i in c.inputs if i.reported is None and i.recomputed is None]
    return 1 if unusable else 0

"""thas-tui: a terminal dashboard that drives and watches the DIALS pipeline."""

import os

__version__ = "0.1.0"

# Set before Textual is imported, which reads it once. Textual repaints on a timer of
# 1/TEXTUAL_FPS s (60 by default), and after a frame that overran that period it waits one to
# two more before the next: up to 33 ms between a key and its repaint while DIALS floods the
# log, 17 ms at 120 (benchmarks/README.md, *Live flood*). The timer only runs when something
# changed, so the rate costs nothing while the screen is still. A user's own setting wins.
os.environ.setdefault("TEXTUAL_FPS", "120")

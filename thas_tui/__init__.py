"""thas-tui: a terminal dashboard that drives and watches the DIALS pipeline."""

__version__ = "0.1.0"

"""Parsers of DIALS program log text, one module per program."""

from __future__ import annotations

from .common import Progress, iter_lines, normalise_line
from .registry import PARSERS, parse_log, parsers_for, progress_tracker

__all__ = [
    "PARSERS",
    "Progress",
    "iter_lines",
    "normalise_line",
    "parse_log",
    "parsers_for",
    "progress_tracker",
]

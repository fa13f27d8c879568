"""Program name -> log parser and live-progress class."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from . import find_spots, index, integrate, merge, refine, refine_bravais, scale, symmetry
from .common import Progress, feed_each


class ProgressTracker(Protocol):
    """What every live-progress class provides."""

    def feed(self, line: str) -> Progress | None: ...


def latest_progress(tracker: ProgressTracker, lines: list[str]) -> Progress | None:
    """The last Progress that feeding ``lines`` gives, or None; a tracker with a
    ``feed_lines`` method of its own (a faster way through a batch) is handed the batch."""
    feed_lines = getattr(tracker, "feed_lines", None)
    if feed_lines is not None:
        return feed_lines(lines)
    return feed_each(tracker.feed, lines)


@dataclass(frozen=True)
class ProgramParsers:
    """The parser of a program's whole log and the factory of its live-progress tracker."""

    program: str
    parse: Callable[[str], Any]
    progress: Callable[[], ProgressTracker]


PARSERS: dict[str, ProgramParsers] = {
    p.program: p
    for p in (
        ProgramParsers("find_spots", find_spots.parse, find_spots.FindSpotsProgress),
        ProgramParsers("index", index.parse, index.IndexProgress),
        ProgramParsers(
            "refine_bravais_settings", refine_bravais.parse, refine_bravais.RefineBravaisProgress
        ),
        ProgramParsers("refine", refine.parse, refine.RefineProgress),
        ProgramParsers("integrate", integrate.parse, integrate.IntegrateProgress),
        ProgramParsers("symmetry", symmetry.parse, symmetry.SymmetryProgress),
        ProgramParsers("scale", scale.parse, scale.ScaleProgress),
        ProgramParsers("merge", merge.parse, merge.MergeProgress),
    )
}


def program_key(program: str) -> str:
    """'dials.find_spots', 'find_spots' or 'dials.find_spots.log' -> 'find_spots'."""
    name = program.strip().rsplit("/", 1)[-1]
    if name.endswith(".log"):
        name = name[: -len(".log")]
    if name.startswith("dials."):
        name = name[len("dials.") :]
    # the tutorial's variants of a program: sv_refine is dials.refine, scale_cut is dials.scale
    aliases = {"sv_refine": "refine", "refine_bravais": "refine_bravais_settings"}
    name = aliases.get(name, name)
    if name.startswith("scale_"):
        name = "scale"
    return name


def parsers_for(program: str) -> ProgramParsers | None:
    """The parsers of a DIALS program, or None for programs without one (import, export...)."""
    return PARSERS.get(program_key(program))


def parse_log(program: str, text: str) -> Any | None:
    """Parse a program's log text with its parser, or None when there is none."""
    p = parsers_for(program)
    return p.parse(text) if p else None


def progress_tracker(program: str) -> ProgressTracker | None:
    """A fresh live-progress tracker for the program, or None when there is none."""
    p = parsers_for(program)
    return p.progress() if p else None

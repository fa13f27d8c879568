"""No parser or progress tracker raises on truncated, interleaved or random text."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parser_fixtures import L_CYS, read

from thas_tui.core.parsers import PARSERS, banner
from thas_tui.core.parsers.common import iter_lines, read_tables

PROGRAMS = sorted(PARSERS)
# Real 3.12 logs (small) and their stdout: material to cut and mix.
SAMPLES = {
    p: read(L_CYS / f"dials.{p}.log")
    for p in ("find_spots", "index", "refine_bravais_settings", "refine", "integrate",
              "symmetry", "scale", "merge")
}  # fmt: skip
SAMPLES["integrate_v"] = read(L_CYS / "verbose" / "dials.integrate.log")
SAMPLE_LINES = [ln for text in SAMPLES.values() for ln in text.splitlines(keepends=True)]

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text shaped like DIALS output: table pieces, numbers, prefixes, odd line endings.
fragments = st.sampled_from(
    ["+", "-", "|", "*", " ", "\n", "\r\n", "\r", ":", "0.5", "-1", "1e5", "nan", "(", ")",
     "WARN: ", "   1.0: ", "Frames: ", " -> ", "Found ", " strong pixels on image ", "+---+---+",
     "|---+---|", "| a | b |", "d_max  d_min", "Unit cell:", "Summary of merging statistics",
     "sigma b:", "Memory situation report:", " GB", " MB", "Recommended space group:",
     "Traceback (most recent call last)", "Error: x", "Sorry: y", "\t", "σ", "½", "\x00", "\x1b["]
)  # fmt: skip
dials_like = st.lists(st.one_of(fragments, st.text(max_size=8)), max_size=200).map("".join)


def parse_all(text: str) -> None:
    for program in PROGRAMS:
        PARSERS[program].parse(text)
    banner.parse(text)
    read_tables(list(iter_lines(text)))


def feed_all(lines: list[str]) -> None:
    for program in PROGRAMS:
        tracker = PARSERS[program].progress()
        for line in lines:
            p = tracker.feed(line)
            if p is not None:
                assert p.done >= 0
                assert p.total is None or p.total >= 0
                frac = p.fraction
                assert frac is None or 0.0 <= frac <= 1.0


@SETTINGS
@given(st.text(max_size=2000))
def test_random_text(text: str) -> None:
    """Arbitrary unicode."""
    parse_all(text)
    feed_all(text.splitlines(keepends=True))


@SETTINGS
@given(dials_like)
def test_dials_like_text(text: str) -> None:
    """Fragments of DIALS syntax in random order."""
    parse_all(text)
    feed_all(text.splitlines(keepends=True))


@SETTINGS
@given(st.sampled_from(sorted(SAMPLES)), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_truncated_logs(name: str, start: float, end: float) -> None:
    """Any slice of a real log (cut mid-line, mid-table, mid-number)."""
    text = SAMPLES[name]
    a, b = sorted((int(start * len(text)), int(end * len(text))))
    parse_all(text[a:b])
    parse_all(text[:b])


@SETTINGS
@given(st.lists(st.sampled_from(SAMPLE_LINES), max_size=300))
def test_interleaved_lines(lines: list[str]) -> None:
    """Lines of several real logs mixed together (as when two processes share a stream)."""
    parse_all("".join(lines))
    feed_all(lines)


@SETTINGS
@given(st.sampled_from(sorted(SAMPLES)), st.randoms(use_true_random=False))
def test_shuffled_log(name: str, rnd: object) -> None:
    """A real log with its lines shuffled."""
    lines = SAMPLES[name].splitlines(keepends=True)
    rnd.shuffle(lines)  # type: ignore[attr-defined]
    parse_all("".join(lines))
    feed_all(lines)


def test_pathological_lines_are_fast() -> None:
    """Long lines of repeated table/number syntax parse in linear time (no regex blow-up)."""
    nasty = [
        "| " * 20000,
        "+" + "-" * 50000 + "+" * 3,
        " " * 50000 + ": 1.0",
        "1." * 20000,
        "Unit cell: " + "1(1), " * 10000,
        "a" * 50000 + ": 5 GB",
        "Frames: " + "1 -> " * 10000,
        "d_max d_min " + "1.0 " * 20000,
    ]
    text = "\n".join(nasty * 3)
    t0 = time.perf_counter()
    parse_all(text)
    feed_all(text.splitlines())
    assert time.perf_counter() - t0 < 5.0

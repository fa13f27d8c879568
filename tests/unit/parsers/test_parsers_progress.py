"""Live progress from real logs fed line by line, and line normalisation."""

from __future__ import annotations

import pytest
from parser_fixtures import log_path, read

from thas_tui.core.parsers import (
    Progress,
    find_spots,
    index,
    integrate,
    normalise_line,
    progress_tracker,
    refine_bravais,
)
from thas_tui.core.parsers.common import LineNormaliser, iter_lines, read_tables
from thas_tui.core.parsers.registry import latest_progress, program_key

B2 = "dials-2.2.11_betalactamase"
B832 = "dials-3.dev.832_betalactamase"
T832 = "dials-3.dev.832_thaumatin"
B1460 = "dials-3.dev.1460_betalactamase"


def feed_all(tracker: object, text: str) -> list[Progress]:
    """Feed raw lines (with their endings) and collect every Progress reported."""
    out = []
    for line in text.splitlines(keepends=True):
        p = tracker.feed(line)  # type: ignore[attr-defined]
        if p is not None:
            out.append(p)
    return out


@pytest.mark.parametrize(
    ("source", "n_images"),
    [
        (f"{B2}/dials.find_spots.log", 720),
        (f"{B832}/dials.find_spots.log", 720),
        (f"{T832}/dials.find_spots.log", 540),
        (f"{B1460}/dials.find_spots.log", 720),
        ("3.12/dials.find_spots.log", 15),
        ("3.12/stdout/find_spots.stdout", 15),
        ("3.12/verbose/dials.find_spots.log", 15),
        ("3.12/chunksize5/find_spots.stdout", 15),
    ],
)
def test_find_spots_progress(source: str, n_images: int) -> None:
    """Total from "Finding spots in image 1 to N", one step per image, complete at the end."""
    reports = feed_all(find_spots.FindSpotsProgress(), read(log_path(source)))
    counting = [p for p in reports if p.phase == "Finding spots"]
    assert counting[0].total == n_images and counting[0].done == 0
    assert [p.done for p in counting[1:]] == list(range(1, n_images + 1))
    assert all(p.total == n_images for p in counting)
    assert reports[-1].phase == "Done"
    assert (reports[-1].done, reports[-1].total, reports[-1].fraction) == (n_images, n_images, 1.0)


@pytest.mark.parametrize(
    "source",
    [
        f"{B2}/dials.find_spots.log",
        f"{T832}/dials.find_spots.log",
        "3.12/verbose/dials.find_spots.log",
        "3.12/chunksize5/find_spots.stdout",
    ],
)
@pytest.mark.parametrize("batch", [1, 7, 300])
def test_find_spots_progress_in_batches_as_line_by_line(source: str, batch: int) -> None:
    """A batch of lines (a flood is read in thousands) ends where feeding them one by one does."""
    lines = read(log_path(source)).splitlines()
    one_by_one, batched = find_spots.FindSpotsProgress(), find_spots.FindSpotsProgress()
    for i in range(0, len(lines), batch):
        chunk = lines[i : i + batch]
        expected = None
        for line in chunk:
            p = one_by_one.feed(line)
            expected = p if p is not None else expected
        assert latest_progress(batched, chunk) == expected
    assert batched.progress() == one_by_one.progress()
    assert batched.progress().phase == "Done"


def test_find_spots_progress_crlf() -> None:
    """Windows line endings change nothing."""
    text = read(log_path(f"{B832}/dials.find_spots.log")).replace("\n", "\r\n")
    reports = feed_all(find_spots.FindSpotsProgress(), text)
    assert (reports[-1].done, reports[-1].total) == (720, 720)
    assert find_spots.parse(text).n_saved == 107999


@pytest.mark.parametrize(
    ("source", "blocks"),
    [
        (f"{B2}/dials.integrate.log", 239),
        (f"{B832}/dials.integrate.log", 4),
        (f"{T832}/dials.integrate.log", 4),
        (f"{B1460}/dials.integrate.log", 4),
        ("3.12/dials.integrate.log", 1),
        ("3.12/stdout/integrate.stdout", 1),
        ("3.12/verbose/dials.integrate.log", 1),
    ],
)
def test_integrate_progress(source: str, blocks: int) -> None:
    """Both passes: total from the block table, one step per "Frames:" line, to completion."""
    reports = feed_all(integrate.IntegrateProgress(), read(log_path(source)))
    for phase, index_ in (("Modelling profiles", 0), ("Integrating", 1)):
        mine = [p for p in reports if p.phase == phase and p.total is not None]
        assert [p.done for p in mine] == list(range(0, blocks + 1))
        assert all(p.total == blocks and p.phase_index == index_ for p in mine)
        assert mine[-1].overall_fraction == pytest.approx((index_ + 1) / 2)
    assert reports[-1].phase == "Done"
    assert reports[-1].overall_fraction == 1.0


def test_integrate_progress_failure_stops_early() -> None:
    """The failed 3.12 run never reaches the block table: no progress is invented."""
    reports = feed_all(
        integrate.IntegrateProgress(), read(log_path("3.12/failures/integrate_too_few.stdout"))
    )
    assert reports == []


@pytest.mark.parametrize(
    ("source", "n"),
    [
        (f"{B2}/dials.refine_bravais_settings.log", 5),
        (f"{T832}/dials.refine_bravais_settings.log", 9),
        ("3.12/dials.refine_bravais_settings.log", 5),
    ],
)
def test_refine_bravais_progress(source: str, n: int) -> None:
    """Solutions saved of solutions in the table."""
    reports = feed_all(refine_bravais.RefineBravaisProgress(), read(log_path(source)))
    assert [p.done for p in reports if p.done] == list(range(1, n + 1))
    assert reports[-1].total == n


@pytest.mark.parametrize(
    ("source", "cycles"),
    [(f"{B2}/dials.index.log", 5), (f"{T832}/dials.index.log", 5), ("3.12/index.stdout", 5)],
)
def test_index_progress(source: str, cycles: int) -> None:
    """Macro-cycles counted as they start; Done when the experiments are saved."""
    path = log_path(source.replace("3.12/index.stdout", "3.12/stdout/index.stdout"))
    reports = feed_all(index.IndexProgress(), read(path))
    started = sorted({p.done for p in reports if p.phase.startswith("Refinement macro-cycle")})
    assert started == list(range(1, cycles + 1))
    assert reports[-1].phase == "Done" and reports[-1].fraction == 1.0


@pytest.mark.parametrize(
    ("program", "source"),
    [
        ("dials.refine", f"{B832}/dials.refine.log"),
        ("dials.sv_refine.log", f"{B2}/dials.sv_refine.log"),
        ("symmetry", f"{B832}/dials.symmetry.log"),
        ("dials.scale", f"{B832}/dials.scale.log"),
        ("scale_cut", f"{B1460}/dials.scale_cut.log"),
        ("merge", "dials-3.dev.1460_multi_crystal/dials.merge.log"),
    ],
)
def test_other_progress_reaches_done(program: str, source: str) -> None:
    """Programs without per-item counts still report phases and finish complete."""
    tracker = progress_tracker(program)
    assert tracker is not None
    reports = feed_all(tracker, read(log_path(source)))
    assert reports and reports[-1].phase == "Done"
    assert reports[-1].fraction == 1.0


def test_registry_keys() -> None:
    """Program names in their several spellings map to one parser; others to none."""
    assert program_key("dials.find_spots") == "find_spots"
    assert program_key("/x/y/dials.integrate.log") == "integrate"
    assert program_key("dials.refine_bravais_settings") == "refine_bravais_settings"
    assert progress_tracker("dials.import") is None
    assert progress_tracker("dials.export") is None


def test_timestamp_prefix_and_same_stamp_indent() -> None:
    """`-v` stamps are removed; a repeated stamp shows as indentation, which is removed too."""
    norm = LineNormaliser()
    assert (
        norm("   0.6: Found 89 strong pixels on image 1\n") == "Found 89 strong pixels on image 1"
    )
    assert norm("        54 spots found on 15 images (max 10 / bin)") == (
        "54 spots found on 15 images (max 10 / bin)"
    )
    assert norm("                      *") == "              *"
    assert norm("  WARN: No crystal models remaining") == "No crystal models remaining"
    assert norm("1234.5: Saved 54 reflections\r\n") == "Saved 54 reflections"


def test_stateless_normalise_line() -> None:
    """Prefixes of the plain .log and of other builds are stripped; table rows are kept."""
    assert normalise_line("WARN: No reflections left for fitting\r\n") == (
        "No reflections left for fitting"
    )
    assert normalise_line("DEBUG: something") == "something"
    assert normalise_line("  12.3: Frames: 1 -> 15") == "Frames: 1 -> 15"
    assert normalise_line(" Frames: 1 -> 15") == " Frames: 1 -> 15"
    assert normalise_line("  69.30   3.29  23046") == "  69.30   3.29  23046"
    assert normalise_line("\x1b[33mWARN: coloured\x1b[0m") == "coloured"


def test_verbose_log_equals_stdout() -> None:
    """The timed 3.12 log normalises to the same lines as its stdout (apart from the phil)."""
    log = [ln for ln in iter_lines(read(log_path("3.12/verbose/dials.find_spots.log"))) if ln]
    out = [ln for ln in iter_lines(read(log_path("3.12/verbose/find_spots.stdout"))) if ln]
    assert log[-20:] == out[-20:]


def test_tables_multiline_header_and_pipe_in_cell() -> None:
    """`+---+` tables: multi-line headers joined, a cell holding '|' kept whole."""
    text = read(log_path(f"{B1460}/dials.index.log"))
    tables = [t for t in read_tables(list(iter_lines(text))) if t.index("Imageset") is not None]
    assert tables[-1].header == [
        "Imageset",
        "# indexed",
        "# unindexed total",
        "# unindexed non-ice",
        "% indexed",
    ]
    assert tables[-1].rows == [["0", "111252", "769", "654", "99.3"]]
    sym = list(iter_lines(read(log_path(f"{B2}/dials.symmetry.log"))))
    ops = [t for t in read_tables(sym) if t.index("Operator") is not None][0]
    assert [r[-1] for r in ops.rows] == ["1 |(0, 0, 0)", "2 |(-1, 1, 0)"]

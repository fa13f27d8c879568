"""What an expert would distrust, read from real DIALS files (core/warnings.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from thas_tui.core import warnings as expert
from thas_tui.core.journal import Journal
from thas_tui.core.parsers import find_spots, index, refine_bravais, scale
from thas_tui.core.stage_info import bravais_solutions

DATA = Path(__file__).parents[2] / "data"
DOCS = DATA / "dials-logs"
LCYS = DATA / "dials-3.12_l_cysteine"


def _counts(log: Path) -> tuple[np.ndarray, int]:
    """Per-image counts a real dials.find_spots log printed, and the first image number."""
    by_image = find_spots.strong_pixels_by_image(log.read_text().splitlines())
    first = min(by_image)
    return np.array([by_image[i] for i in sorted(by_image)]), first


@pytest.mark.parametrize(
    "log",
    [
        DOCS / "dials-2.2.11_betalactamase" / "dials.find_spots.log",
        DOCS / "dials-3.dev.832_thaumatin" / "dials.find_spots.log",
        DATA / "dials-3.12_thas_demo" / "dials.find_spots.log",
        DATA / "dials-3.12_l_cysteine_logs" / "dials.find_spots.log",
    ],
    ids=lambda p: p.parent.name,
)
def test_good_real_sweeps_are_neither_blank_nor_dying(log: Path) -> None:
    counts, first = _counts(log)
    assert len(counts) in (720, 540, 36, 15)
    assert expert.spot_count_concerns(counts, first) == []


def test_blank_images_named_by_number() -> None:
    """The thaumatin sweep's counts with images 100-104 emptied, as a closed shutter leaves them."""
    counts, first = _counts(DOCS / "dials-3.dev.832_thaumatin" / "dials.find_spots.log")
    counts = counts.copy()
    counts[99:104] = 0
    [c] = expert.spot_count_concerns(counts, first, "sweep 2")
    assert c.stage == "find_spots"
    assert c.what.startswith("5 blank images of sweep 2 (100–104): under 10% of the median")
    assert "image_range" in c.try_


def test_dying_sweep_compares_its_last_fifth_with_its_first() -> None:
    """The beta-lactamase counts fading to a tenth over the sweep, as radiation damage does."""
    counts, first = _counts(DOCS / "dials-2.2.11_betalactamase" / "dials.find_spots.log")
    faded = (counts * np.linspace(1.0, 0.1, len(counts))).astype(int)
    [c] = expert.spot_count_concerns(faded, first)
    head, tail = counts[:144].mean(), faded[-144:].mean()
    assert (
        c.what
        == f"a dying sweep: {tail:.0f} spots per image at the end against {faded[:144].mean():.0f} at the start"
    )
    assert head > 1000


def test_indexed_fraction_at_the_threshold() -> None:
    # 129 of 160 L-cysteine spots (80.6 %) indexed: just enough
    assert expert.for_stage("index", LCYS) == []
    quartz = DATA / "dials-files" / "quartz_processed"
    assert expert.for_stage("index", quartz) == []  # 87.9 %


def test_bravais_choice_against_the_recommendation(tmp_path: Path) -> None:
    solutions = bravais_solutions(LCYS)
    assert expert.bravais_concern(solutions, 5) is None  # oP, the best recommended
    c = expert.bravais_concern(solutions, 4)
    assert c.what == "#4 (mP) chosen below the recommended #5 (oP)"
    # beta-lactamase: oC (#5) and mC (#4) are not recommended (metric fit too large)
    log = refine_bravais.parse(
        (DOCS / "dials-3.dev.832_betalactamase" / "dials.refine_bravais_settings.log").read_text()
    )
    c = expert.bravais_concern(log.solutions, 5)
    assert c.what.startswith("solution #5 (oC) chosen, which DIALS does not recommend")
    assert "#2 mC" in c.try_
    # from the directory: the journal's choice
    for name in ("bravais_summary.json",):
        shutil.copy(LCYS / name, tmp_path / name)
    Journal(tmp_path).choice(3, "a,b,c")
    [c] = expert.for_stage("refine_bravais_settings", tmp_path)
    assert c.what == "#3 (mP) chosen below the recommended #5 (oP)"


def test_rmsds_of_real_refinements() -> None:
    # L-cysteine's first indexing macro-cycle: φ RMSD 0.975 images; the second: 0.174
    log = index.parse((DATA / "dials-3.12_l_cysteine_logs" / "dials.index.log").read_text())
    first, second = (m.refinement.rmsds[0] for m in log.macrocycles[:2])
    c = expert.rmsd_concern(first.rmsd_x, first.rmsd_y, first.rmsd_z)
    assert c.what == "RMSD φ 0.98 images (a good model: under 1 px and 0.5 image)"
    assert expert.rmsd_concern(second.rmsd_x, second.rmsd_y, second.rmsd_z) is None
    assert expert.for_stage("refine", DATA / "dials-3.12_thas_demo") == []  # 0.05 px
    # the grid-scan still: 6.1 px after refinement
    c = expert.rmsd_concern(6.1, 5.2, None)
    assert c.what.startswith("RMSD X 6.10 px, Y 5.20 px")


def test_outer_shells_of_real_scaling_runs() -> None:
    [c] = expert.for_stage("scale", DOCS / "dials-3.dev.832_betalactamase")
    assert c.what == "6.9% complete in the outer shell (1.21 Å) against 73.0% overall"
    assert c.try_.startswith("dials.scale d_min=")
    # after the tutorial's cut at 1.4 Å the outer shell is 98 % complete: nothing to say
    cut = scale.parse((DOCS / "dials-3.dev.832_betalactamase" / "dials.scale_cut.log").read_text())
    assert expert.merging_concerns("scale", cut) == []
    [c] = expert.for_stage("merge", DATA / "dials-3.12_l_cysteine_logs")
    assert c.what == "CC½ 0.000 in the outer shell (0.62 Å) against 0.999 overall"


def test_a_real_sweep_is_a_rotation_sweep() -> None:
    assert expert.not_a_rotation_sweep(LCYS) is None  # 4 sweeps of 15 images
    assert expert.for_stage("import", DATA / "dials-3.12_thas_demo") == []


def test_headless_prints_the_concerns_under_the_stage() -> None:
    import io

    from thas_tui.core.orchestrator import StageFinished
    from thas_tui.core.pipeline import Pipeline, State
    from thas_tui.headless import LinePrinter

    run = Pipeline()["scale"]
    run.state, run.key_result = State.DONE, "CC½ 0.995 to 2.58 Å, 63.4% complete"
    run.concerns = expert.for_stage("scale", DATA / "dials-3.12_thas_demo")
    out = io.StringIO()
    LinePrinter(out=out, err=out)(StageFinished("scale", run))
    lines = [ln.split("] ", 1)[-1] for ln in out.getvalue().splitlines()]
    assert lines == [
        "done   scale                             CC½ 0.995 to 2.58 Å, 63.4% complete",
        "check  scale                    3.6% complete in the outer shell (2.58 Å) against 63.4% overall",
        "         why: only the detector corners reach that resolution: the shell is sampled in"
        " part, and its statistics mislead",
        "         try: dials.scale d_min=... at the resolution of the detector's edge",
    ]

"""Each log parser on real DIALS logs of every version: the exact numbers printed in them."""

from __future__ import annotations

import pytest
from parser_fixtures import log_path, read

from thas_tui.core.parsers import (
    banner,
    find_spots,
    index,
    integrate,
    merge,
    refine,
    refine_bravais,
    scale,
    symmetry,
)

B2 = "dials-2.2.11_betalactamase"
B832 = "dials-3.dev.832_betalactamase"
T832 = "dials-3.dev.832_thaumatin"
B1460 = "dials-3.dev.1460_betalactamase"
M1460 = "dials-3.dev.1460_multi_crystal"


@pytest.mark.parametrize(
    ("source", "version", "number", "vtuple", "is_dev"),
    [
        (f"{B2}/dials.index.log", "2.2.11-gad03a188b-release", "2.2.11", (2, 2, 11), False),
        (f"{B832}/dials.index.log", "3.dev.832-g6a7ada41e", "3.dev.832", (3, "dev", 832), True),
        (
            f"{B1460}/dials.index.log",
            "3.dev.1460-g45cb58d0ee-release",
            "3.dev.1460",
            (3, "dev", 1460),
            True,
        ),
        (f"{B832}/dials.export.log", "2.dev.1101-g6e2af7e3c", "2.dev.1101", (2, "dev", 1101), True),
        ("3.12/dials.index.log", "3.12", "3.12", (3, 12), False),
        ("3.12/verbose/dials.find_spots.log", "3.12", "3.12", (3, 12), False),
    ],
)
def test_banner(source: str, version: str, number: str, vtuple: tuple, is_dev: bool) -> None:
    """The banner of each version, also after the citation line and -v timestamps of 3.12."""
    b = banner.parse(read(log_path(source)))
    assert b is not None
    assert (b.version, b.number, b.version_tuple, b.is_dev) == (version, number, vtuple, is_dev)


def test_banner_bare_dev_and_garbage() -> None:
    """A bare '3.dev' parses; text without a banner gives None."""
    b = banner.parse_version("DIALS 3.dev")
    assert b is not None and b.version_tuple == (3, "dev") and b.is_dev
    assert banner.parse("no banner here\n") is None


@pytest.mark.parametrize(
    ("source", "n_images", "first", "last", "n_extracted", "n_saved", "max_bin", "nproc"),
    [
        (f"{B2}/dials.find_spots.log", 720, 1752, 1523, 124946, 107999, 2137, 4),
        (f"{B832}/dials.find_spots.log", 720, 1752, 1523, 124946, 107999, 2137, 4),
        (f"{T832}/dials.find_spots.log", 540, 2865, 2452, 160335, 126786, 2353, 4),
        (f"{B1460}/dials.find_spots.log", 720, 1818, 1568, 129281, 112023, 2192, 4),
        ("3.12/dials.find_spots.log", 15, 89, 213, 117, 54, 10, 2),
        ("3.12/stdout/find_spots.stdout", 15, 89, 213, 117, 54, 10, 2),
        ("3.12/verbose/dials.find_spots.log", 15, 89, 213, 117, 54, 10, 2),
        ("3.12/chunksize5/dials.find_spots.log", 15, 89, 213, 117, 54, 10, 2),
    ],
)
def test_find_spots(
    source: str,
    n_images: int,
    first: int,
    last: int,
    n_extracted: int,
    n_saved: int,
    max_bin: int,
    nproc: int,
) -> None:
    """Images, strong pixels on the first and last image, spots, histogram."""
    log = find_spots.parse(read(log_path(source)))
    assert log.n_images == n_images
    assert len(log.strong_pixels) == n_images
    assert log.strong_pixels[1] == first
    assert log.strong_pixels[n_images] == last
    assert log.n_extracted == n_extracted
    assert log.n_filtered == n_saved
    assert log.n_saved == n_saved
    assert log.saved_to is not None and log.saved_to.endswith(".refl")
    assert log.nproc == nproc
    assert log.failure is None
    (hist,) = log.histograms
    assert (hist.n_spots, hist.n_images, hist.max_per_bin) == (n_saved, n_images, max_bin)
    assert (hist.first_image, hist.last_image) == (1, n_images)
    assert hist.rows == 10
    assert max(hist.heights) == 10


@pytest.mark.parametrize(
    ("source", "n_images", "first", "last"),
    [
        (f"{B2}/dials.find_spots.log", 720, 1752, 1523),
        (f"{T832}/dials.find_spots.log", 540, 2865, 2452),
        ("3.12/verbose/dials.find_spots.log", 15, 89, 213),
    ],
)
def test_live_strong_pixels_in_batches(source: str, n_images: int, first: int, last: int) -> None:
    """The live histogram's batches of log lines, however cut, give the whole log's counts."""
    from thas_tui.core.panel_data import LiveStrongPixels

    lines = read(log_path(source)).splitlines()
    whole = find_spots.parse("\n".join(lines)).strong_pixels
    live = LiveStrongPixels()
    added = [live.feed(lines[i : i + 97]) for i in range(0, len(lines), 97)]
    assert live.by_image == whole
    assert len(live.by_image) == n_images
    assert (live.by_image[1], live.by_image[n_images]) == (first, last)
    assert any(added)
    assert not live.feed(["no counts here", "Found 3 strong pixels"])  # nothing to add


def test_find_spots_histogram_columns_3_12() -> None:
    """The 15 columns of the 3.12 histogram, identical in stdout and in the timed -v log."""
    expected = [4, 2, 0, 2, 4, 5, 0, 5, 0, 7, 1, 3, 4, 7, 10]
    for source in ("3.12/stdout/find_spots.stdout", "3.12/verbose/dials.find_spots.log"):
        (hist,) = find_spots.parse(read(log_path(source))).histograms
        assert hist.heights == expected
    chunk = find_spots.parse(read(log_path("3.12/chunksize5/dials.find_spots.log")))
    assert chunk.chunksize is None  # 3.12 does not print the chunk size it was given
    assert chunk.saved_to == "strong_chunk.refl"


@pytest.mark.parametrize(
    ("source", "cell", "n_indexed", "n_unindexed", "percent", "n_cycles", "final_rmsd"),
    [
        (
            f"{B2}/dials.index.log",
            (40.5519, 40.5585, 69.2922, 92.0198, 91.9722, 98.0759),
            107264,
            733,
            99.3,
            5,
            (36000, 0.28776, 0.28219, 0.21371),
        ),
        (
            f"{B832}/dials.index.log",
            (40.5519, 40.5585, 69.2922, 92.0198, 91.9722, 98.0759),
            107264,
            733,
            99.3,
            5,
            (36000, 0.28776, 0.28219, 0.21371),
        ),
        (
            f"{T832}/dials.index.log",
            (57.7816, 57.8093, 150.032, 89.9904, 90.0114, 89.9910),
            125359,
            1426,
            98.9,
            5,
            (8099, 0.25657, 0.21315, 0.14991),
        ),
        (
            f"{B1460}/dials.index.log",
            (40.5513, 40.5578, 69.2911, 92.0192, 91.9720, 98.0758),
            111252,
            769,
            99.3,
            5,
            (36000, 0.28838, 0.28621, 0.21348),
        ),
        (
            "3.12/dials.index.log",
            (5.4185, 8.1318, 12.023, 89.987, 89.931, 89.944),
            45,
            7,
            86.5,
            None,
            (32, 0.12613, 0.14961, 0.20705),
        ),
    ],
)
def test_index(
    source: str,
    cell: tuple,
    n_indexed: int,
    n_unindexed: int,
    percent: float,
    n_cycles: int | None,
    final_rmsd: tuple,
) -> None:
    """Final cell, space group, % indexed, macro-cycles and the last RMSDs by experiment."""
    log = index.parse(read(log_path(source)))
    assert log.crystal is not None
    assert log.crystal.unit_cell == pytest.approx(cell)
    assert log.crystal.space_group == "P 1"
    assert log.n_indexed == n_indexed
    assert log.indexed[0].n_unindexed == n_unindexed
    assert log.percent_indexed == percent
    assert log.failure is None
    if n_cycles is not None:
        assert [c.cycle for c in log.macrocycles] == list(range(1, n_cycles + 1))
    last = log.macrocycles[-1].refinement
    (rmsd,) = last.rmsds
    assert (rmsd.nref, rmsd.rmsd_x, rmsd.rmsd_y, rmsd.rmsd_z) == final_rmsd
    assert last.steps and last.steps[0].step == 0


def test_index_first_macrocycle_2_2_11() -> None:
    """Macro-cycle 1 of 2.2.11: 16 parameters, 3106 outliers, seven steps ending 0.050901 mm."""
    log = index.parse(read(log_path(f"{B2}/dials.index.log")))
    first = log.macrocycles[0]
    assert first.d_min == 1.84
    assert log.max_cell == 94.4
    assert first.refinement.n_parameters == 16
    assert first.refinement.n_reflections == 36000
    assert first.refinement.n_outliers == 3106
    assert len(first.refinement.steps) == 7
    s = first.refinement.steps[-1]
    assert (s.step, s.nref, s.rmsd_x, s.rmsd_y, s.rmsd_phi) == (
        6,
        36000,
        0.050901,
        0.052378,
        0.10505,
    )
    assert log.crystals[0].unit_cell == pytest.approx(
        (40.717, 40.730, 69.663, 91.978, 91.906, 98.339)
    )


@pytest.mark.parametrize(
    ("source", "failure"),
    [
        ("3.12/failures/index_max_cell4.stdout", "No suitable lattice could be found."),
        # the .log stops before the message, which goes to stdout/stderr only
        ("3.12/failures/dials.index_max_cell4.log", None),
    ],
)
def test_index_failure(source: str, failure: str | None) -> None:
    """A failed index run: the message is found where DIALS printed it."""
    log = index.parse(read(log_path(source)))
    assert log.failure == failure
    assert log.crystal is None


@pytest.mark.parametrize(
    ("source", "n", "recommended", "best"),
    [
        (f"{B2}/dials.refine_bravais_settings.log", 5, [2, 1], (2, "mC", 0.0326, 0.072, 0.968, 0.968, 36000, (53.17, 61.25, 69.29, 90.0, 93.05, 90.0), 225340, "a+b,-a+b,c")),
        (f"{B832}/dials.refine_bravais_settings.log", 5, [2, 1], (2, "mC", 0.0326, 0.072, 0.968, 0.968, 36000, (53.17, 61.25, 69.29, 90.0, 93.05, 90.0), 225340, "a+b,-a+b,c")),
        (f"{T832}/dials.refine_bravais_settings.log", 9, [9, 8, 7, 6, 5, 4, 3, 2, 1], (9, "tP", 0.0313, 0.063, 0.798, 0.847, 8099, (57.78, 57.78, 150.01, 90.0, 90.0, 90.0), 500887, "a,b,c")),
        (f"{B1460}/dials.refine_bravais_settings.log", 5, [2, 1], (2, "mC", 0.0323, 0.071, 0.982, 0.982, 35497, (53.17, 61.25, 69.29, 90.0, 93.05, 90.0), 225341, "a+b,-a+b,c")),
        ("3.12/dials.refine_bravais_settings.log", 5, [5, 4, 3, 2, 1], (5, "oP", 0.0885, 0.035, None, None, 32, (5.42, 8.14, 12.03, 90.0, 90.0, 90.0), 531, "a,b,c")),
    ],
)  # fmt: skip
def test_refine_bravais(source: str, n: int, recommended: list[int], best: tuple) -> None:
    """The Bravais table: rows, recommended solutions, the best one's every column."""
    log = refine_bravais.parse(read(log_path(source)))
    assert len(log.solutions) == n
    assert [s.solution for s in log.recommended] == recommended
    b = log.best
    assert b is not None
    got = (
        b.solution,
        b.lattice,
        b.metric_fit,
        b.rmsd,
        b.min_cc,
        b.max_cc,
        b.n_spots,
        b.unit_cell,
        b.volume,
        b.cb_op,
    )
    assert got == best
    p1 = log.solutions[-1]
    assert (p1.solution, p1.lattice, p1.metric_fit, p1.min_cc, p1.cb_op) == (
        1,
        "aP",
        0.0,
        None,
        "a,b,c",
    )
    assert log.chiral_space_groups["aP"] == ["P1"]


def test_refine_bravais_old_dashed_style() -> None:
    """Rows of the dashed-table style of DIALS 1.x parse like the `+---+` ones."""
    text = (
        "-------------------------------------------------------------------------------\n"
        "Solution Metric fit  rmsd  min/max cc #spots lattice                                 unit_cell  volume      cb_op\n"
        "-------------------------------------------------------------------------------\n"
        "*        9     0.0496 0.091 0.765/0.930   3934      tP  57.79  57.79 150.08  90.00  90.00  90.00  501157      a,b,c\n"
        "         1     0.0000 0.086 -/-           3934      aP  57.78  57.81 150.06  89.99  90.01  89.99  501122      a,b,c\n"
    )
    log = refine_bravais.parse(text)
    assert [(s.solution, s.recommended, s.lattice, s.volume) for s in log.solutions] == [
        (9, True, "tP", 501157),
        (1, False, "aP", 501122),
    ]
    assert log.solutions[0].max_cc == 0.930


@pytest.mark.parametrize(
    ("source", "runs", "final", "cell", "space_group", "scan_points"),
    [
        (f"{B2}/dials.refine.log", [(False, 14, 95698)], (95698, 0.26904, 0.27867, 0.20952), (53.1698, 61.2427, 69.2884, 90.0, 93.04558, 90.0), "C 1 2 1", None),
        (f"{B2}/dials.sv_refine.log", [(True, 91, 95415)], (95415, 0.23522, 0.22963, 0.20428), (53.1698, 61.2427, 69.2884, 90.0, 93.04558, 90.0), "C 1 2 1", 721),
        (f"{B832}/dials.refine.log", [(False, 14, 95684), (True, 91, 95432)], (95432, 0.23529, 0.22951, 0.20427), (53.1698, 61.2426, 69.2883, 90.0, 93.04558, 90.0), "C 1 2 1", 721),
        (f"{T832}/dials.refine.log", [(False, 12, 110081)], (110081, 0.26331, 0.23682, 0.14484), (57.7840, 57.7840, 150.0035, 90.0, 90.0, 90.0), "P 4", None),
        (f"{T832}/dials.sv_refine.log", [(True, 22, 110297)], (110297, 0.2614, 0.2214, 0.14128), (57.7840, 57.7840, 150.0035, 90.0, 90.0, 90.0), "P 4", 541),
        (f"{B1460}/dials.refine.log", [(False, 14, 99002), (True, 91, 98793)], (98793, 0.23632, 0.23049, 0.20414), (53.1697, 61.2427, 69.2882, 90.0, 93.04517, 90.0), "C 1 2 1", 721),
        ("3.12/dials.refine.log", [(False, 13, 30), (True, 19, 29)], (29, 0.11608, 0.13898, 0.10593), (5.4213, 8.134, 12.022, 90.0, 90.0, 90.0), "P 2 2 2", 16),
        ("3.12/stdout/refine.stdout", [(False, 13, 30), (True, 19, 29)], (29, 0.11608, 0.13898, 0.10593), (5.4213, 8.134, 12.022, 90.0, 90.0, 90.0), "P 2 2 2", 16),
    ],
)  # fmt: skip
def test_refine(
    source: str,
    runs: list[tuple],
    final: tuple,
    cell: tuple,
    space_group: str,
    scan_points: int | None,
) -> None:
    """Static and scan-varying passes, parameters, final RMSDs and crystal model."""
    log = refine.parse(read(log_path(source)))
    assert [(r.scan_varying, r.n_parameters, r.n_reflections) for r in log.runs] == runs
    (rmsd,) = log.runs[-1].rmsds
    assert (rmsd.nref, rmsd.rmsd_x, rmsd.rmsd_y, rmsd.rmsd_z) == final
    assert all(r.steps and r.termination == "RMSD no longer decreasing" for r in log.runs)
    assert log.crystal is not None
    assert log.crystal.unit_cell == pytest.approx(cell)
    assert log.crystal.space_group == space_group
    assert log.crystal.scan_points == scan_points
    assert log.failure is None


@pytest.mark.parametrize(
    ("source", "sigma_b", "sigma_m", "blocks", "n_integrated", "isigi_prf", "unit", "available_gb"),
    [
        (f"{B2}/dials.integrate.log", 0.044176, 0.057791, 239, 380905, (7.25, 42.92, 0.22), "GB", 14.3),
        (f"{B832}/dials.integrate.log", 0.044181, 0.057789, 4, 327077, (7.04, 42.64, 0.19), "GB", 128.2),
        (f"{T832}/dials.integrate.log", 0.027763, 0.042476, 4, 343256, (5.7, 25.58, 0.4), "GB", 128.2),
        (f"{B1460}/dials.integrate.log", 0.044239, 0.057672, 4, 327057, (7.04, 42.64, 0.19), "MB", 128.7605),
        ("3.12/dials.integrate.log", 0.046775, 0.073298, 1, 77, (31.54, 107.43, 0.0), "GB", 24.4),
        ("3.12/verbose/dials.integrate.log", 0.046775, 0.073298, 1, 77, (31.54, 107.43, 0.0), "GB", None),
    ],
)  # fmt: skip
def test_integrate(
    source: str,
    sigma_b: float,
    sigma_m: float,
    blocks: int,
    n_integrated: int,
    isigi_prf: tuple,
    unit: str,
    available_gb: float | None,
) -> None:
    """sigma b/m, both passes' blocks and frames, summary, memory report, reflections saved."""
    log = integrate.parse(read(log_path(source)))
    assert (log.sigma_b, log.sigma_m) == (sigma_b, sigma_m)
    assert [p.name for p in log.passes] == [integrate.MODELLING, integrate.INTEGRATING]
    for p in log.passes:
        assert len(p.blocks) == blocks
        assert len(p.frames_done) == blocks
        assert p.memory is not None and p.memory.unit == unit
    assert log.n_integrated == n_integrated
    assert log.summaries[0]["i/sigi (profile fitting)"] == isigi_prf
    assert log.overall("i/sigi (profile fitting)") == isigi_prf[0]
    assert log.resolution_bins
    assert log.failure is None
    if available_gb is not None:
        mem = log.integration.memory if log.integration else None
        assert mem is not None and mem.available_gb == pytest.approx(available_gb)


def test_integrate_details() -> None:
    """Block table rows and the frames of each pass (3.dev.832 beta-lactamase)."""
    log = integrate.parse(read(log_path(f"{B832}/dials.integrate.log")))
    modelling, integration = log.modelling, log.integration
    assert modelling is not None and integration is not None
    b = modelling.blocks[3]
    assert (b.index, b.frame_from, b.frame_to, b.angle_from, b.angle_to, b.n_reflections) == (
        3, 541, 720, 270.0, 360.0, 22476,
    )  # fmt: skip
    assert modelling.frames_done == [(1, 183), (181, 363), (361, 543), (541, 720)]
    assert integration.frames_done == [(0, 183), (180, 363), (360, 543), (540, 720)]
    assert integration.blocks[0].n_reflections == 93302
    assert integration.nproc == 4 and integration.block_size == "Auto"
    assert log.n_removed == 41622
    assert log.n_predicted == 368590
    last = log.resolution_bins[-1]
    assert (last.d_min, last.n_full, last.i_sigi_sum, last.i_sigi_prf, last.cc_prf) == (
        3.28, 26279, 41.78, 42.64, 0.87,
    )  # fmt: skip
    assert log.summaries[0]["cc prf"] == (0.74, 0.87, 0.5)


def test_integrate_memory_mb_1460() -> None:
    """Newer builds report memory in MB: converted to GB."""
    log = integrate.parse(read(log_path(f"{B1460}/dials.integrate.log")))
    mem = log.modelling.memory if log.modelling else None
    assert mem is not None
    assert mem.max_for_processing_gb == pytest.approx(103.0084)
    assert mem.required_per_process_gb == pytest.approx(0.5252)


def test_integrate_failure_3_12() -> None:
    """Too few reference spots: stdout carries the message, the .log stops before it."""
    out = integrate.parse(read(log_path("3.12/failures/integrate_too_few.stdout")))
    assert out.failure == "Too few reflections for profile modelling:"
    assert out.sigma_b is None and out.n_integrated is None
    log = integrate.parse(read(log_path("3.12/failures/dials.integrate_too_few.log")))
    assert log.failure is None and log.passes == []


@pytest.mark.parametrize(
    ("source", "laue", "prob", "conf", "space_group", "checked"),
    [
        (f"{B2}/dials.symmetry.log", "C 1 2/m 1", 0.931, 0.896, "C 1 2 1", False),
        (f"{B832}/dials.symmetry.log", "C 1 2/m 1", 0.928, 0.891, "C 1 2 1", False),
        (f"{B1460}/dials.symmetry.log", "C 1 2/m 1", 0.928, 0.891, "C 1 2 1", False),
        (f"{M1460}/dials.symmetry.log", None, None, None, "P 41 21 2", True),
        ("3.12/dials.symmetry.log", "P m m m", 0.2, 0.0, "P 2 2 2", True),
    ],
)
def test_symmetry(
    source: str,
    laue: str | None,
    prob: float | None,
    conf: float | None,
    space_group: str,
    checked: bool,
) -> None:
    """Best Laue group, its probability and confidence, the space group chosen."""
    log = symmetry.parse(read(log_path(source)))
    assert log.best_laue_group == laue
    assert log.laue_group_probability == prob
    assert log.laue_group_confidence == conf
    assert log.space_group == space_group
    assert log.absences_checked is checked
    assert log.failure is None


def test_symmetry_tables() -> None:
    """Laue-group scores and symmetry elements (2.2.11), screw axes (3.dev.1460 multi-crystal)."""
    old = symmetry.parse(read(log_path(f"{B2}/dials.symmetry.log")))
    c2m, p1 = old.laue_groups
    assert (c2m.patterson_group, c2m.accepted, c2m.likelihood, c2m.net_zcc, c2m.cc) == (
        "C 1 2/m 1", True, 0.931, 9.74, 0.97,
    )  # fmt: skip
    assert (p1.patterson_group, p1.accepted, p1.zcc_plus, p1.zcc_minus, p1.reindex_operator) == (
        "P -1", False, 9.79, 9.69, "a,b,c",
    )  # fmt: skip
    assert [(e.operator, e.n) for e in old.symmetry_elements] == [
        ("1 |(0, 0, 0)", 273629),
        ("2 |(-1, 1, 0)", 272339),
    ]
    assert old.best_unit_cell == (53.1698, 61.2427, 69.2884, 90.0, 93.0456, 90.0)
    assert old.reindex_operator == "a+b,-a+b,c"
    new = symmetry.parse(read(log_path(f"{B1460}/dials.symmetry.log")))
    assert new.best_unit_cell == (53.170, 61.243, 69.288, 90.0, 93.045, 90.0)
    multi = symmetry.parse(read(log_path(f"{M1460}/dials.symmetry.log")))
    axes = [
        (a.axis, a.score, a.n_present, a.n_absent, a.mean_i_present, a.mean_i_absent,
         a.mean_i_sigma_present, a.mean_i_sigma_absent)
        for a in multi.screw_axes
    ]  # fmt: skip
    assert axes == [
        ("41c", 1.0, 12, 34, 601.054, 0.086, 32.104, 0.49),
        ("21a", 1.0, 14, 14, 846.732, 0.457, 23.214, 1.19),
        ("42c", 1.0, 24, 22, 300.353, 0.322, 16.437, 0.337),
    ]
    assert multi.enantiomorph == "P 43 21 2"
    assert ("P 41 21 2", 1.0) in multi.space_group_scores
    assert len(multi.space_group_scores) == 6
    l_cys = symmetry.parse(read(log_path("3.12/dials.symmetry.log")))
    assert [a.axis for a in l_cys.screw_axes] == ["21a", "21b", "21c"]
    assert all(a.n_present == 0 and a.n_absent == 0 for a in l_cys.screw_axes)
    assert l_cys.recommended_space_group == "P 2 2 2"


@pytest.mark.parametrize(
    ("source", "d_min", "completeness", "multiplicity", "i_sigma", "rpim", "cc_half", "anom_corr", "unique", "n_shells"),
    [
        (f"{B2}/dials.scale.log", (1.22, 3.31, 1.22), (73.13, 98.73, 5.67), (6.4, 6.66, 1.62), (12.6, 52.8, 0.3), (0.027, 0.016, 0.87), (0.999, 0.998, 0.603), None, (48413, 3348, 186), 20),
        (f"{B2}/dials.scale_cut.log", (1.40, 3.80, 1.40), (94.09, 99.02, 90.17), (6.6, 6.64, 5.67), (14.7, 54.4, 1.4), (0.026, 0.016, 0.291), (0.999, 0.998, 0.880), None, (41124, 2234, 1927), 20),
        (f"{B832}/dials.scale.log", (1.21, 3.29, 1.21), (73.0, 98.6, 6.9), (6.6, 6.8, 1.7), (16.8, 67.6, 0.4), (0.027, 0.015, 0.794), (0.999, 0.999, 0.629), (0.276, 0.292, 0.132), (49118, 3403, 233), 20),
        (f"{B832}/dials.scale_cut.log", (1.40, 3.80, 1.40), None, None, None, None, (0.999, 0.999, 0.889), None, None, 20),
        (f"{B1460}/dials.scale.log", (1.21, 3.29, 1.21), (73.0, 98.6, 6.9), (6.6, 6.8, 1.7), (16.8, 67.7, 0.4), (0.027, 0.015, 0.791), (0.999, 0.999, 0.632), (0.314, 0.281, 0.128), (49117, 3403, 233), 20),
        (f"{B1460}/dials.scale_cut.log", (1.40, 3.80, 1.40), None, None, None, None, (0.999, 0.999, 0.885), None, None, 20),
        (f"{M1460}/dials.scale.log", (1.78, 4.83, 1.78), (85.4, 100.0, 10.5), (10.4, 15.3, 1.1), (30.7, 58.2, 2.4), (0.016, 0.012, 0.137), (0.999, 0.999, 0.959), (-0.129, -0.224, 0.0), (20799, 1380, 125), 20),
        (f"{M1460}/dials.scale_cut.log", (1.78, 4.83, 1.78), None, None, None, None, (0.999, 0.999, 0.962), None, None, 20),
        ("3.12/dials.scale.log", (0.62, 1.52, 0.62), (2.6, 3.8, 4.9), (1.1, 1.7, 1.0), (20.0, 51.2, 9.1), (0.015, 0.0, 0.0), (0.999, 1.0, 0.0), None, (35, 3, 3), 20),
    ],
)  # fmt: skip
def test_scale(
    source: str,
    d_min: tuple,
    completeness: tuple | None,
    multiplicity: tuple | None,
    i_sigma: tuple | None,
    rpim: tuple | None,
    cc_half: tuple,
    anom_corr: tuple | None,
    unique: tuple | None,
    n_shells: int,
) -> None:
    """Summary of merging statistics (overall, low, high) and the resolution-shell table."""
    log = scale.parse(read(log_path(source)))
    s = log.summary
    assert s is not None

    def triple(stat: scale.Stat | None) -> tuple | None:
        return None if stat is None else (stat.overall, stat.low, stat.high)

    assert triple(s.d_min) == d_min
    assert triple(s.cc_half) == cc_half
    if completeness is not None:
        assert triple(s.completeness) == completeness
        assert triple(s.multiplicity) == multiplicity
        assert triple(s.i_over_sigma) == i_sigma
        assert triple(s.rpim) == rpim
        assert triple(s.n_unique) == unique
    if completeness is not None:  # rows left None are not checked for the cut runs
        assert triple(s.anom_correlation) == anom_corr
    assert len(log.shells) == n_shells
    assert log.overall_shell is not None
    assert log.failure is None


def test_scale_details() -> None:
    """Space group, error model, shells with their significance marks, 2.x cut-off estimates."""
    log = scale.parse(read(log_path(f"{B832}/dials.scale.log")))
    assert log.space_group == "C 1 2 1"
    assert log.error_model == (0.67891, 0.04183)
    first = log.shells[0]
    assert (first.d_max, first.d_min, first.n_obs, first.n_unique, first.r_anom) == (
        69.30, 3.29, 23046, 3403, 0.043,
    )  # fmt: skip
    assert (first.cc_half, first.cc_half_significant, first.cc_anom) == (0.999, True, 0.292)
    row = log.shells[10]
    assert (row.cc_anom, row.cc_anom_significant) == (0.012, False)
    o = log.overall_shell
    assert o is not None
    assert (o.n_obs, o.n_unique, o.multiplicity, o.completeness, o.cc_anom) == (
        325190, 49118, 6.62, 72.96, 0.276,
    )  # fmt: skip
    assert log.summary is not None and log.summary.anom_slope == scale.Stat(1.090)
    assert log.summary.rmerge_anom == scale.Stat(0.056, 0.031, 0.964)
    old = scale.parse(read(log_path(f"{B2}/dials.scale.log")))
    assert old.resolution_cutoffs["CC(1/2) >= 0.33"] == 1.218
    assert old.resolution_cutoffs["completeness >= 90%"] == 1.407
    assert old.error_model == (0.95242, 0.03619)
    assert old.summary is not None and old.summary.rmerge == scale.Stat(0.066, 0.038, 1.023)


@pytest.mark.parametrize(
    ("source", "space_group", "wilson_b", "cc_half", "failure"),
    [
        (f"{M1460}/dials.merge.log", "P 41 21 2", 12.40, (0.999, 0.999, 0.962), None),
        ("3.12/dials.merge.log", "P 2 2 2", -2.28, (0.999, 1.0, 0.0), None),
        (
            "3.12/stdout/merge.stdout",
            "P 2 2 2",
            -2.28,
            (0.999, 1.0, 0.0),
            "AttributeError: Please report this error to dials-support@lists.sourceforge.net: "
            "'NoneType' object has no attribute 'as_dict'",
        ),
    ],
)
def test_merge(
    source: str, space_group: str, wilson_b: float, cc_half: tuple, failure: str | None
) -> None:
    """Merging statistics, screw axes, Wilson B and the crash of 3.12 on the tiny data set."""
    log = merge.parse(read(log_path(source)))
    assert log.space_group == space_group
    assert log.wilson_b == wilson_b
    assert log.summary is not None and log.summary.cc_half is not None
    c = log.summary.cc_half
    assert (c.overall, c.low, c.high) == cc_half
    assert len(log.screw_axes) == 3
    assert log.failure == failure


def test_merge_multi_crystal_details() -> None:
    """dials.merge adds Wilson B to the summary and an anomalous-differences table."""
    log = merge.parse(read(log_path(f"{M1460}/dials.merge.log")))
    assert log.summary is not None and log.summary.wilson_b == scale.Stat(12.400)
    assert log.summary.anom_correlation == scale.Stat(-0.050, -0.130, 0.0)
    assert log.summary.n_observations == scale.Stat(219054, 21411, 136)
    assert log.mtz_file == "merged.mtz"
    assert len(log.shells) == 20
    assert log.overall_shell is not None and log.overall_shell.n_obs == 219054
    first, last = log.anomalous_differences[0], log.anomalous_differences[-1]
    assert (first.d_max, first.d_min, first.mean_df_over_sigma) == (68.36, 5.59, 0.964)
    assert (last.d_max, last.d_min, last.mean_df_over_sigma) == (1.87, 1.78, 0.647)
    assert len(log.anomalous_differences) == 20

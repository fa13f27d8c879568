"""The log parsers on DIALS 3.12 logs of the full pipeline on the simulated THAS demo sweep."""

from __future__ import annotations

from pathlib import Path

import pytest

from thas_tui.core.parsers import (
    banner,
    find_spots,
    index,
    integrate,
    merge,
    refine,
    refine_bravais,
    registry,
    scale,
    symmetry,
)

DEMO = Path(__file__).resolve().parents[2] / "data" / "dials-3.12_thas_demo"

LOGS = (
    "dials.import.log",
    "dials.find_spots.log",
    "dials.index.log",
    "dials.refine_bravais_settings.log",
    "dials.refine.log",
    "dials.integrate.log",
    "dials.symmetry.log",
    "dials.scale.log",
    "dials.export.log",
    "dials.merge.log",
)


def text(name: str) -> str:
    return (DEMO / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", LOGS)
def test_banner_and_no_failure(name: str) -> None:
    """Every log carries the 3.12 banner (after the citation line) and no failure."""
    b = banner.parse(text(name))
    assert b is not None and (b.version, b.version_tuple, b.is_dev) == ("3.12", (3, 12), False)
    parsed = registry.parse_log(name, text(name))
    if name in ("dials.import.log", "dials.export.log"):
        assert parsed is None  # no parser for these programs
    else:
        assert parsed.version == "3.12"
        assert parsed.failure is None


def test_reindex_stdout_has_no_parser() -> None:
    """dials.reindex 3.12 writes no log; its stdout has no banner and no parser."""
    assert registry.parse_log("reindex", text("reindex.stdout.log")) is None
    assert banner.parse(text("reindex.stdout.log")) is None
    assert "Saving reindexed reflections to reindexed.refl" in text("reindex.stdout.log")


# --- find_spots -----------------------------------------------------------------------------

# Spots per image of strong.refl (not kept, 19.7 MB), counted by the z centroid with
# thas_tui.core.readers.refl.spots_per_image: images 1..36.
STRONG_PER_IMAGE = [
    792, 766, 776, 808, 808, 772, 785, 817, 793, 808, 811, 755,
    777, 783, 815, 795, 787, 760, 786, 780, 793, 785, 799, 781,
    794, 754, 811, 809, 747, 805, 747, 773, 781, 780, 756, 734,
]  # fmt: skip
# What DIALS's ascii histogram bins (dials.util.ascii_art.flex_histogram on the same z, with its
# ±0.25 jitter): 36 equal slices of [min z, max z] = [0.5, 35.5], not one image each, so the
# first and last columns collect about 1.5 images and columns 9 and 27 about 0.7.
DIALS_HISTOGRAM_COUNTS = [
    1158, 772, 802, 776, 793, 769, 775, 823, 523, 784, 801, 779,
    744, 783, 806, 787, 760, 777, 779, 773, 778, 779, 793, 757,
    797, 757, 537, 792, 759, 789, 752, 756, 780, 759, 767, 1107,
]  # fmt: skip


def test_find_spots() -> None:
    log = find_spots.parse(text("dials.find_spots.log"))
    assert log.image_ranges == [(1, 36)]
    assert log.n_images == 36
    assert log.nproc == 2
    # chunksize=5 is only in the PHIL echo; 3.12 prints no "Setting chunksize=" line here
    assert log.chunksize is None
    assert len(log.strong_pixels) == 36
    assert (log.strong_pixels[1], log.strong_pixels[28], log.strong_pixels[36]) == (
        20560,
        24720,
        20007,
    )
    assert sum(log.strong_pixels.values()) == 852528
    assert (log.n_extracted, log.n_filtered, log.n_saved, log.saved_to) == (
        30140,
        28223,
        28223,
        "strong.refl",
    )
    (h,) = log.histograms
    assert (h.imageset, h.n_spots, h.n_images, h.max_per_bin) == (0, 28223, 36, 1158)
    assert (h.first_image, h.last_image, h.rows) == (1, 36, 10)
    assert h.heights == [10, *[7] * 7, 5, 7, 7, 7, 6, *[7] * 13, 5, 7, 7, 7, 6, 7, 7, 7, 7, 10]


def test_find_spots_histogram_against_strong_refl() -> None:
    """The parsed star heights are exactly DIALS's binning of strong.refl; per image they are not.

    The log's histogram is only an approximation of spots per image: its edge columns show 1158
    and 1107 where images 1 and 36 hold 792 and 734 spots.
    """
    h = find_spots.parse(text("dials.find_spots.log")).histograms[0]
    assert sum(STRONG_PER_IMAGE) == sum(DIALS_HISTOGRAM_COUNTS) == h.n_spots == 28223
    assert max(DIALS_HISTOGRAM_COUNTS) == h.max_per_bin
    # DIALS: counts *= height / max_count; counts.iround()
    assert h.heights == [round(c * h.rows / h.max_per_bin) for c in DIALS_HISTOGRAM_COUNTS]
    assert h.heights != [round(c * h.rows / h.max_per_bin) for c in STRONG_PER_IMAGE]
    bins = h.bins()
    assert len(bins) == 36
    assert bins[0] == (1.0, 1.0, 1158.0)
    assert bins[1] == (2.0, 2.0, pytest.approx(810.6))
    assert bins[35] == (36.0, 36.0, 1158.0)
    assert min(STRONG_PER_IMAGE) == 734 and max(STRONG_PER_IMAGE) == 817


# --- index ----------------------------------------------------------------------------------


def test_index() -> None:
    log = index.parse(text("dials.index.log"))
    assert log.max_cell == 157.9
    assert log.n_centroids == 25187
    assert log.n_candidates == 50
    assert [m.cycle for m in log.macrocycles] == [1, 2, 3, 4, 5]
    assert [m.d_min for m in log.macrocycles] == [3.08, 2.96, 2.83, 2.7, 2.58]
    last = log.macrocycles[-1].refinement
    assert (last.n_parameters, last.n_reflections, last.n_outliers) == (16, 7200, 4921)
    assert last.termination == "RMSD no longer decreasing"
    assert [(s.step, s.nref, s.rmsd_x, s.rmsd_y, s.rmsd_phi) for s in last.steps] == [
        (0, 7200, 0.0097762, 0.0099475, 0.36299),
        (1, 7200, 0.0097759, 0.0099468, 0.36298),
    ]
    (r,) = last.rmsds
    assert (r.experiment, r.nref, r.rmsd_x, r.rmsd_y, r.rmsd_z) == (
        0,
        7200,
        0.056837,
        0.057831,
        0.18149,
    )
    # the first macro-cycle's RMSDs, before the resolution was extended
    r1 = log.macrocycles[0].refinement.rmsds[0]
    assert (r1.rmsd_x, r1.rmsd_y, r1.rmsd_z) == (0.12853, 0.16968, 0.18327)
    assert len(log.crystals) == 10  # "Indexed" and "Refined" model of each macro-cycle
    c = log.crystal
    assert c.unit_cell == (57.0993, 102.1883, 112.1579, 90.0, 90.0005, 89.9997)
    assert c.space_group == "P 1"
    assert c.n_reflections == 26758
    assert log.crystals[0].unit_cell == (57.039, 102.093, 112.333, 90.076, 90.007, 90.177)
    (ic,) = log.indexed
    assert (ic.imageset, ic.n_indexed, ic.n_unindexed, ic.percent_indexed) == (
        0,
        26758,
        1463,
        94.8,
    )
    assert log.n_indexed == 26758
    assert log.percent_indexed == 94.8


# --- refine_bravais_settings ----------------------------------------------------------------


def test_refine_bravais_settings() -> None:
    log = refine_bravais.parse(text("dials.refine_bravais_settings.log"))
    rows = [
        (
            s.solution,
            s.recommended,
            s.metric_fit,
            s.rmsd,
            s.min_cc,
            s.max_cc,
            s.n_spots,
            s.lattice,
            s.unit_cell,
            s.volume,
            s.cb_op,
        )
        for s in log.solutions
    ]
    cell = (57.1, 102.19, 112.16, 90.0, 90.0, 90.0)
    assert rows == [
        (5, True, 0.0006, 0.014, 0.874, 0.906, 7200, "oP", cell, 654442, "a,b,c"),
        (
            4,
            True,
            0.0006,
            0.014,
            0.906,
            0.906,
            7200,
            "mP",
            (102.19, 57.1, 112.16, 90.0, 90.0, 90.0),
            654454,
            "-b,-a,-c",
        ),
        (3, True, 0.0003, 0.014, 0.874, 0.874, 7200, "mP", cell, 654442, "a,b,c"),
        (
            2,
            True,
            0.0005,
            0.014,
            0.874,
            0.874,
            7200,
            "mP",
            (57.1, 112.16, 102.19, 90.0, 90.0, 90.0),
            654482,
            "-a,-c,-b",
        ),
        (1, True, 0.0, 0.014, None, None, 7200, "aP", cell, 654425, "a,b,c"),
    ]
    assert log.best is not None and (log.best.solution, log.best.lattice) == (5, "oP")
    assert log.chiral_space_groups == {
        "aP": ["P1"],
        "mP": ["P2", "P21"],
        "oP": ["P222", "P2221", "P21212", "P212121"],
    }


# --- refine ---------------------------------------------------------------------------------


def test_refine_static_then_scan_varying() -> None:
    log = refine.parse(text("dials.refine.log"))
    assert [r.scan_varying for r in log.runs] == [False, True]
    st, sv = log.static, log.scan_varying
    assert (st.n_parameters, st.n_reflections, st.n_outliers) == (13, 19946, 6812)
    assert (sv.n_parameters, sv.n_reflections, sv.n_outliers) == (25, 19948, 6810)
    assert [(s.step, s.nref, s.rmsd_x, s.rmsd_y, s.rmsd_phi) for s in sv.steps] == [
        (0, 19948, 0.0083278, 0.0082936, 0.35103),
        (1, 19948, 0.0083255, 0.0082932, 0.35104),
        (2, 19948, 0.0083254, 0.0082927, 0.35104),
    ]
    assert st.final_step.rmsd_x == 0.0083229
    assert sv.termination == st.termination == "RMSD no longer decreasing"
    (r,) = sv.rmsds
    assert (r.nref, r.rmsd_x, r.rmsd_y, r.rmsd_z) == (19948, 0.048404, 0.048213, 0.17552)
    (rs,) = st.rmsds
    assert (rs.nref, rs.rmsd_x, rs.rmsd_y, rs.rmsd_z) == (19946, 0.048389, 0.048224, 0.17553)
    c = log.crystal
    assert c.unit_cell == (57.0995, 102.1892, 112.1591, 90.0, 90.0, 90.0)
    assert c.space_group == "P 2 2 2"
    assert c.scan_points == 37
    assert c.n_reflections is None  # "Final refined crystal model:" names no model


# --- integrate ------------------------------------------------------------------------------


def test_integrate() -> None:
    log = integrate.parse(text("dials.integrate.log"))
    assert (log.sigma_b, log.sigma_m) == (0.026428, 0.398239)
    assert log.n_predicted == 38391
    assert (log.n_integrated, log.n_removed) == (34256, 4255)
    modelling, integration = log.modelling, log.integration
    blocks = [
        (b.index, b.frame_from, b.frame_to, b.angle_from, b.angle_to) for b in modelling.blocks
    ]
    assert blocks == [(0, 1, 20, 0.0, 40.0), (1, 17, 36, 32.0, 72.0)]
    assert [b.n_reflections for b in modelling.blocks] == [9921, 10043]
    assert [b.n_reflections for b in integration.blocks] == [18955, 19498]
    # the "Frames:" lines count from 1 while modelling, from 0 while integrating (as printed)
    assert modelling.frames_done == [(1, 20), (17, 36)]
    assert integration.frames_done == [(0, 20), (16, 36)]
    assert (integration.block_size, integration.nproc) == ("Auto", 2)
    assert integration.memory.available_gb == 24.3
    assert integration.memory.max_for_processing_gb == 21.8
    assert integration.memory.required_per_process_gb == 0.1
    assert len(log.resolution_bins) == 20
    hi, lo = log.resolution_bins[0], log.resolution_bins[-1]
    assert (hi.d_min, hi.n_full, hi.n_part, hi.n_sum, hi.n_prf) == (2.57, 47, 4, 34, 44)
    assert (hi.i_sigi_sum, hi.i_sigi_prf, hi.cc_prf, hi.rmsd_xy) == (6.3, 6.44, 0.92, 0.25)
    assert (lo.d_min, lo.ibg, lo.i_sigi_sum, lo.i_sigi_prf) == (6.98, 1.5, 43.86, 45.79)
    s = log.summaries[0]
    assert s["dmin"] == (2.57, 6.98, 2.57)
    assert s["dmax"] == (75.57, 75.57, 2.62)
    assert s["number fully recorded"] == (35403, 3018, 47)
    assert s["number partially recorded"] == (3108, 294, 4)
    assert s["number processed with profile fitting"] == (33281, 2847, 44)
    assert log.overall("i/sigi (profile fitting)") == 21.79
    assert log.overall("i/sigi (summation)") == 20.31
    # fully + partially recorded = all predicted after splitting at block boundaries
    assert 35403 + 3108 == 38511 == log.n_integrated + log.n_removed


# --- symmetry -------------------------------------------------------------------------------


def test_symmetry() -> None:
    log = symmetry.parse(text("dials.symmetry.log"))
    assert [(e.operator, e.likelihood, e.z_cc, e.cc, e.n, e.accepted) for e in log.symmetry_elements] == [
        ("1 |(0, 0, 0)", 0.946, 9.98, 1.0, 19228, True),
        ("2 |(1, 0, 0)", 0.942, 9.86, 0.99, 3276, True),
        ("2 |(0, 1, 0)", 0.926, 9.6, 0.96, 9336, True),
        ("2 |(0, 0, 1)", 0.921, 9.54, 0.95, 8042, True),
    ]  # fmt: skip
    rows = [
        (g.patterson_group, g.accepted, g.likelihood, g.net_zcc, g.cc, g.reindex_operator)
        for g in log.laue_groups
    ]
    assert rows == [
        ("P m m m", True, 0.983, 9.74, 0.98, "a,b,c"),
        ("P 1 2/m 1", False, 0.007, 0.35, 1.0, "-b,-a,-c"),
        ("P 1 2/m 1", False, 0.005, 0.09, 0.98, "a,b,c"),
        ("P 1 2/m 1", False, 0.005, 0.03, 0.99, "-a,-c,-b"),
        ("P -1", False, 0.0, 0.31, 1.0, "a,b,c"),
    ]
    assert (log.best_laue_group, log.reindex_operator) == ("P m m m", "a,b,c")
    assert log.best_unit_cell is None  # 3.12 prints "Unit cell: " with nothing after it
    assert (log.laue_group_probability, log.laue_group_confidence) == (0.983, 0.979)
    assert log.patterson_to_mx == {"P m m m": "P 2 2 2"}
    axes = [
        (a.axis, a.score, a.n_present, a.n_absent, a.mean_i_present, a.mean_i_absent)
        for a in log.screw_axes
    ]
    assert axes == [
        ("21a", 1.0, 5, 5, 1197.48, -0.848),
        ("21b", 1.0, 5, 5, 595.742, -0.754),
        ("21c", 1.0, 5, 5, 63.557, -0.113),
    ]
    assert [(a.mean_i_sigma_present, a.mean_i_sigma_absent) for a in log.screw_axes] == [
        (55.932, -0.097),
        (31.687, -0.094),
        (6.317, -0.005),
    ]
    assert len(log.space_group_scores) == 8
    assert [sg for sg, score in log.space_group_scores if score == 1.0] == ["P 21 21 21"]
    assert log.recommended_space_group == log.saved_space_group == "P 21 21 21"
    assert log.space_group == "P 21 21 21"
    assert log.absences_checked is True
    assert log.enantiomorph is None


# --- scale and merge ------------------------------------------------------------------------


def _table1(summary: scale.MergingSummary) -> dict[str, tuple]:
    names = (
        "d_min",
        "d_max",
        "completeness",
        "multiplicity",
        "i_over_sigma",
        "rmerge",
        "rmeas",
        "rpim",
        "cc_half",
        "anom_completeness",
        "anom_multiplicity",
        "anom_correlation",
        "n_observations",
        "n_unique",
    )
    out = {}
    for n in names:
        s = getattr(summary, n)
        out[n] = (s.overall, s.low, s.high)
    return out


# "Summary of merging statistics" as printed by both dials.scale and dials.merge.
TABLE1_LOG = {
    "d_min": (2.58, 7.0, 2.58),
    "d_max": (50.88, 50.89, 2.62),
    "completeness": (63.4, 85.6, 3.6),
    "multiplicity": (2.4, 2.7, 1.4),
    "i_over_sigma": (66.7, 129.2, 19.7),
    "rmerge": (0.024, 0.013, 0.069),
    "rmeas": (0.031, 0.017, 0.098),
    "rpim": (0.018, 0.01, 0.069),
    "cc_half": (0.995, 0.996, 0.984),
    "anom_completeness": (46.9, 89.5, 1.3),
    "anom_multiplicity": (1.5, 1.5, 1.1),
    "anom_correlation": (-0.016, -0.098, 0.0),
    "n_observations": (32910, 2684, 53),
    "n_unique": (13541, 1004, 38),
}


def test_scale() -> None:
    log = scale.parse(text("dials.scale.log"))
    assert log.space_group == "P 21 21 21"
    assert log.error_model == (0.43029, 0.01055)  # the last of three "Parameters:" lines
    assert log.resolution_cutoffs == {}  # no resolution estimate printed by this run
    assert _table1(log.summary) == TABLE1_LOG
    assert log.summary.wilson_b is None  # dials.scale prints no Wilson B
    assert (log.summary.anom_slope.overall, log.summary.df_f.overall) == (1.657, 0.037)
    assert log.summary.di_sigdi.overall == 1.512
    assert log.summary.rmerge_anom == scale.Stat(0.021, 0.012, 0.066)
    assert len(log.shells) == 20
    first, last, o = log.shells[0], log.shells[-1], log.overall_shell
    assert (first.d_max, first.d_min, first.n_obs, first.n_unique) == (50.89, 7.0, 2684, 1004)
    assert (first.completeness, first.cc_half, first.cc_half_significant) == (85.59, 0.996, True)
    assert (first.cc_anom, first.cc_anom_significant) == (-0.098, False)
    assert (last.d_max, last.d_min, last.n_obs, last.multiplicity) == (2.62, 2.58, 53, 1.39)
    assert (o.d_max, o.d_min, o.n_obs, o.n_unique) == (50.88, 2.58, 32910, 13541)
    assert (o.multiplicity, o.completeness, o.mean_i, o.mean_i_over_sigma) == (
        2.43,
        63.43,
        218.6,
        66.7,
    )
    assert (o.r_merge, o.r_meas, o.r_pim, o.r_anom, o.cc_half) == (
        0.024,
        0.031,
        0.018,
        0.035,
        0.995,
    )
    # the shells add up to the overall row
    assert sum(s.n_obs for s in log.shells) == o.n_obs
    assert sum(s.n_unique for s in log.shells) == o.n_unique


def test_merge() -> None:
    log = merge.parse(text("dials.merge.log"))
    assert log.space_group == "P 21 21 21"
    assert log.mtz_file == "merged.mtz"
    assert log.wilson_b == 23.03  # "ML estimate of overall B value: 23.03 A**2"
    assert log.summary.wilson_b.overall == 23.025  # the summary prints one more digit
    assert _table1(log.summary) == TABLE1_LOG
    axes = [(a.axis, a.n_present, a.n_absent, a.mean_i_present) for a in log.screw_axes]
    assert axes == [("21a", 5, 5, 1197.06), ("21b", 5, 5, 595.986), ("21c", 5, 5, 63.412)]
    # after scaling the absent/present contrast in I/sigma is larger than in dials.symmetry
    assert [a.mean_i_sigma_present for a in log.screw_axes] == [91.284, 59.04, 14.588]
    assert [sg for sg, score in log.space_group_scores if score == 1.0] == ["P 21 21 21"]
    assert len(log.anomalous_differences) == 20
    a0, a19 = log.anomalous_differences[0], log.anomalous_differences[-1]
    assert (a0.d_max, a0.d_min, a0.mean_df_over_sigma) == (50.88, 7.96, 1.542)
    assert (a19.d_max, a19.d_min, a19.mean_df_over_sigma) == (2.8, 2.58, 1.284)


def test_scale_and_merge_logs_agree() -> None:
    """dials.merge re-reports dials.scale's merging table: identical shells and summary."""
    s = scale.parse(text("dials.scale.log"))
    m = merge.parse(text("dials.merge.log"))
    assert m.shells == s.shells
    assert m.overall_shell == s.overall_shell
    assert _table1(m.summary) == _table1(s.summary)
    # same screw axes and verdict as dials.symmetry, from scaled rather than unscaled data
    sym = symmetry.parse(text("dials.symmetry.log"))
    assert [(a.axis, a.n_present, a.n_absent) for a in m.screw_axes] == [
        (a.axis, a.n_present, a.n_absent) for a in sym.screw_axes
    ]
    assert m.space_group_scores == sym.space_group_scores

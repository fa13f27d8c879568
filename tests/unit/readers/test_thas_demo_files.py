"""The readers on DIALS 3.12 outputs of the simulated THAS demo sweep, checked against the logs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from thas_tui.core.parsers import integrate, merge, refine, refine_bravais, scale, symmetry
from thas_tui.core.readers.bravais import read_bravais_summary
from thas_tui.core.readers.expt import read_expt
from thas_tui.core.readers.merging_stats import read_merging_stats
from thas_tui.core.readers.refine_history import read_refine_history
from thas_tui.core.readers.symmetry import read_symmetry_json

DEMO = Path(__file__).resolve().parents[2] / "data" / "dials-3.12_thas_demo"
TEMPLATE = "/root/.cache/thas-tui/demo-demo-b9fc5127dcbc/thas_demo_#####.cbf"


def log_text(name: str) -> str:
    return (DEMO / name).read_text(encoding="utf-8")


def crystal(name: str):
    (e,) = read_expt(DEMO / name).experiments
    return e.crystal


# --- experiment lists -----------------------------------------------------------------------


def test_imported_expt_without_images() -> None:
    """The image paths point at a cache that is absent here: the models still read."""
    el = read_expt(DEMO / "imported.expt")
    assert (el.format, len(el), el.warnings) == ("ExperimentList", 1, ())
    e = el[0]
    assert e.crystal is None and e.profile is None
    assert e.beam.wavelength == 1.282
    assert (e.scan.image_range, e.scan.oscillation_start, e.scan.oscillation_width) == (
        (1, 36),
        0.0,
        2.0,
    )
    assert e.scan.oscillation_range == (0.0, 72.0)
    assert e.scan.exposure_times == (0.1,) * 36
    assert e.goniometer.rotation_axis == (1.0, 0.0, 0.0)
    (p,) = e.detector.panels
    assert (p.image_size, p.distance) == ((2463, 2527), 550.0)
    assert p.pixel_size == (0.17200000000000001, 0.17200000000000001)  # as stored (not 0.172)
    assert (p.thickness, p.material) == (0.45, "Si")
    assert (e.imageset.kind, e.imageset.template) == ("ImageSequence", TEMPLATE)


@pytest.mark.parametrize(
    ("name", "hall", "space_group", "number"),
    [
        ("indexed.expt", " P 1", "P 1", 1),
        ("bravais_setting_5.expt", " P 2 2", "P 2 2 2", 16),
        ("refined.expt", " P 2 2", "P 2 2 2", 16),
        ("integrated.expt", " P 2 2", "P 2 2 2", 16),
        ("symmetrized.expt", " P 2ac 2ab", "P 21 21 21", 19),
        ("scaled.expt", " P 2ac 2ab", "P 21 21 21", 19),
    ],
)
def test_space_group_through_the_pipeline(
    name: str, hall: str, space_group: str, number: int
) -> None:
    c = crystal(name)
    assert (c.hall_symbol, c.space_group, c.space_group_number) == (hall, space_group, number)
    # one experiment, one identifier from indexing on
    assert read_expt(DEMO / name).identifiers == ("335a5a08-ffc7-936a-1461-dff4fe98823a",)


def test_indexed_expt_matches_index_log() -> None:
    c = crystal("indexed.expt")
    assert c.unit_cell.parameters == (
        57.09927604113992,
        102.18829374142234,
        112.15794689740247,
        89.99997608769975,
        90.00047602899315,
        89.99969386458707,
    )
    assert c.num_scan_points == 0
    # dials.index.log: "Unit cell: 57.0993(2), 102.1883(4), 112.1579(5), 90.0000(2), ..."
    from thas_tui.core.parsers import index

    logged = index.parse(log_text("dials.index.log")).crystal.unit_cell
    assert tuple(round(v, 4) for v in c.unit_cell.parameters) == logged


def test_refined_expt_scan_varying() -> None:
    c = crystal("refined.expt")
    assert c.unit_cell.parameters == (
        57.09949424291782,
        102.18915364383969,
        112.15906682783583,
        90.00000000000004,
        90.00000000000001,
        90.00000000000003,
    )
    sv = c.scan_varying
    assert c.num_scan_points == 37  # 36 images + 1
    assert sv.cells.shape == (37, 6)
    assert (sv.phi[0], sv.phi[-1]) == (0.0, 72.0)
    assert sv.cells.min(axis=0).tolist() == [
        57.09951250824709,
        102.18895300709315,
        112.1587494059915,
        89.99999999999999,
        90.00000000000001,
        90.0,
    ]
    assert sv.cells.max(axis=0).tolist() == [
        57.09952123858942,
        102.18943998491557,
        112.15927799913656,
        90.00000000000003,
        90.00000000000001,
        90.00000000000001,
    ]
    # orthorhombic constraints hold at every scan point; the cell barely moves (< 0.001 Å)
    assert np.ptp(sv.cells[:, :3], axis=0).max() < 0.001
    assert np.abs(sv.cells[:, 3:] - 90.0).max() < 1e-12
    assert np.abs(sv.orientation_from_first[0]).max() < 1e-12  # drift since the first point
    log = refine.parse(log_text("dials.refine.log"))
    assert log.crystal.scan_points == c.num_scan_points
    assert log.crystal.space_group == c.space_group
    assert tuple(round(v, 4) for v in c.unit_cell.parameters) == log.crystal.unit_cell
    # the later files carry the same scan-varying model
    for name in ("integrated.expt", "symmetrized.expt", "scaled.expt"):
        later = crystal(name)
        assert later.num_scan_points == 37
        np.testing.assert_allclose(later.scan_varying.cells, sv.cells, rtol=0, atol=1e-9)


def test_refine_history_matches_scan_varying_pass() -> None:
    """The history holds only the last (scan-varying) pass; the log prints it to 5 digits."""
    h = read_refine_history(DEMO / "refine_history.json")
    assert h.reason_for_termination == "RMSD no longer decreasing"
    assert [s.nref for s in h.steps] == [19948, 19948, 19948]
    assert h.final.rmsd_x == 0.008325413138522931
    assert h.final.rmsd_y == 0.008292663808108653
    assert h.final.rmsd_phi == pytest.approx(0.35103525865404694, rel=1e-12)
    assert h.steps[0].objective == 4229.66138537968
    sv = refine.parse(log_text("dials.refine.log")).scan_varying
    history = [
        (s.step, s.nref, *(float(f"{v:.5g}") for v in (s.rmsd_x, s.rmsd_y, s.rmsd_phi)))
        for s in h.steps
    ]
    assert history == [(s.step, s.nref, s.rmsd_x, s.rmsd_y, s.rmsd_phi) for s in sv.steps]


def test_integrated_profile_matches_log() -> None:
    """σb and σm: the same numbers in integrated.expt and the log, which rounds to 6 decimals."""
    (e,) = read_expt(DEMO / "integrated.expt").experiments
    p = e.profile
    assert (p.name, p.sigma_b, p.sigma_m, p.n_sigma) == (
        "gaussian_rs",
        0.026428205699464254,
        0.39823867345338815,
        3.0,
    )
    log = integrate.parse(log_text("dials.integrate.log"))
    assert (round(p.sigma_b, 6), round(p.sigma_m, 6)) == (log.sigma_b, log.sigma_m)
    for name in ("symmetrized.expt", "scaled.expt"):
        (later,) = read_expt(DEMO / name).experiments
        assert later.profile == p


# --- Bravais settings -----------------------------------------------------------------------


def test_bravais_summary_json() -> None:
    b = read_bravais_summary(DEMO / "bravais_summary.json")
    assert [s.solution for s in b.solutions] == [5, 4, 3, 2, 1]
    assert [s.bravais for s in b.solutions] == ["oP", "mP", "mP", "mP", "aP"]
    assert all(s.recommended for s in b.solutions)
    best = b.best
    assert (best.solution, best.bravais, best.cb_op) == (5, "oP", "a,b,c")
    assert best.metric_fit == 0.000565970793840026
    assert best.rmsd == 0.01385167651897532
    assert (best.min_cc, best.max_cc) == (0.8735805855853657, 0.9059736131971733)
    assert best.nspots == 7200
    assert best.unit_cell == (
        57.099492379348746,
        102.18910116215437,
        112.15899304168327,
        90.00000000000001,
        90.00000000000001,
        90.00000000000001,
    )
    assert best.correlation_coefficients == (
        0.9959251415736301,
        0.9059736131971733,
        0.8736042244757716,
        0.8735805855853657,
    )
    assert b.get(1).min_cc is None and b.get(1).metric_fit == 0.0
    # bravais_setting_5.expt holds solution 5's cell
    assert crystal("bravais_setting_5.expt").unit_cell.parameters == pytest.approx(
        best.unit_cell, rel=1e-14
    )


def test_bravais_json_and_log_table_agree_row_by_row() -> None:
    rows_json = read_bravais_summary(DEMO / "bravais_summary.json").solutions
    rows_log = refine_bravais.parse(log_text("dials.refine_bravais_settings.log")).solutions
    assert len(rows_json) == len(rows_log) == 5
    for j, g in zip(rows_json, rows_log, strict=True):
        assert (j.solution, j.bravais, j.recommended, j.nspots, j.cb_op) == (
            g.solution,
            g.lattice,
            g.recommended,
            g.n_spots,
            g.cb_op,
        )
        assert round(j.metric_fit, 4) == g.metric_fit
        assert round(j.rmsd, 3) == g.rmsd
        cc = (j.min_cc, j.max_cc)
        assert tuple(None if v is None else round(v, 3) for v in cc) == (g.min_cc, g.max_cc)
        assert tuple(round(v, 2) for v in j.unit_cell) == g.unit_cell
        assert round(j.volume) == g.volume


# --- symmetry -------------------------------------------------------------------------------


def test_symmetry_json() -> None:
    s = read_symmetry_json(DEMO / "dials.symmetry.json")
    assert s.lattice_point_group == "P m m m"
    assert [g.patterson_group for g in s.subgroups] == [
        "P m m m",
        "P 1 2/m 1",
        "P 1 2/m 1",
        "P 1 2/m 1",
        "P -1",
    ]
    best = s.best
    assert (best.patterson_group_hall, best.mx_group, best.cb_op) == ("-P 2 2", "P 2 2 2", "a,b,c")
    assert (best.likelihood, best.confidence) == (0.9827291600344846, 0.9793241550604196)
    assert (best.z_cc_net, best.cc_for, best.z_cc_against) == (
        9.74456413062732,
        0.9788948207701018,
        0.0,
    )
    assert [o.operator for o in s.sym_op_scores] == ["x,y,z", "x,-y,-z", "-x,y,-z", "-x,-y,z"]
    assert [o.n_ref for o in s.sym_op_scores] == [19228, 3276, 9336, 8042]
    assert s.cb_op_inp_min == ("a,b,c",)
    assert (s.cc_unrelated_pairs, s.n_unrelated_pairs) == (0.027989901104515144, 14885)
    assert (s.e_cc_true, s.cc_sig_fac, s.cc_true) == (
        0.984015693629497,
        1.0847768625771865,
        0.9937799513428709,
    )
    assert s.min_cell_space_group == "P 1"
    assert s.min_cell == pytest.approx(crystal("integrated.expt").unit_cell.parameters, rel=1e-14)


def test_symmetry_json_and_log_agree() -> None:
    s = read_symmetry_json(DEMO / "dials.symmetry.json")
    log = symmetry.parse(log_text("dials.symmetry.log"))
    assert len(s.subgroups) == len(log.laue_groups) == 5
    for j, g in zip(s.subgroups, log.laue_groups, strict=True):
        assert j.patterson_group == g.patterson_group
        assert j.cb_op == g.reindex_operator
        assert round(j.likelihood, 3) == g.likelihood
        assert (round(j.z_cc_net, 2), round(j.z_cc_for, 2), round(j.z_cc_against, 2)) == (
            g.net_zcc,
            g.zcc_plus,
            g.zcc_minus,
        )
        assert (round(j.cc_for, 2), round(j.cc_against, 2), j.delta) == (g.cc, g.cc_minus, g.delta)
    # only the best is accepted; its probability and confidence are the printed ones
    assert [g.accepted for g in log.laue_groups] == [True, False, False, False, False]
    assert round(s.best.likelihood, 3) == log.laue_group_probability
    assert round(s.best.confidence, 3) == log.laue_group_confidence
    assert log.patterson_to_mx[s.best.patterson_group] == s.best.mx_group
    for j, g in zip(s.sym_op_scores, log.symmetry_elements, strict=True):
        assert (round(j.likelihood, 3), round(j.z_cc, 2), round(j.cc, 2), j.n_ref) == (
            g.likelihood,
            g.z_cc,
            g.cc,
            g.n,
        )
    # the space group: in symmetrized.expt (Hall symbol), in the log; not in the JSON
    assert crystal("symmetrized.expt").space_group == log.space_group == "P 21 21 21"


# --- merging statistics: dials.scale.json, dials.merge.json, the logs -----------------------


def test_scale_json_table1() -> None:
    ms = read_merging_stats(DEMO / "dials.scale.json")
    assert (ms.program, ms.wavelength) == ("dials.scale", None)
    o, lo, hi = ms.shell("overall"), ms.shell("low"), ms.shell("high")
    assert (o.d_max, o.d_min, o.n_obs, o.n_uniq) == (50.88, 2.58, 32910, 13541)
    assert (o.completeness, o.multiplicity, o.i_over_sigma) == (63.43, 2.4, 66.7)
    assert (o.r_merge, o.r_meas, o.r_pim, o.cc_half) == (0.024, 0.031, 0.018, 0.995)
    assert (o.anom_completeness, o.anom_multiplicity) == (46.94, 1.48)
    assert (lo.d_max, lo.d_min, lo.n_obs, lo.n_uniq, lo.completeness) == (
        50.89,
        7.0,
        2684,
        1004,
        85.59,
    )
    assert (lo.multiplicity, lo.i_over_sigma, lo.r_merge, lo.cc_half) == (2.7, 129.2, 0.013, 0.996)
    assert (hi.d_max, hi.d_min, hi.n_obs, hi.n_uniq, hi.completeness) == (
        2.62,
        2.58,
        53,
        38,
        3.57,
    )
    assert (hi.multiplicity, hi.r_pim, hi.cc_half) == (1.4, 0.069, 0.984)
    assert (hi.anom_completeness, hi.anom_multiplicity) == (1.25, 1.06)
    assert ms.summary == {
        "Resolution range (Å)": "50.88 - 2.58 (2.62 - 2.58)",
        "Completeness (%)": "63.43 (3.57)",
        "Multiplicity": "2.43 (1.39)",
        "CC-half": "0.9947 (0.9842)",
        "I/sigma": "66.70 (19.69)",
        "Rmerge(I)": "0.0241 (0.0691)",
        "Anomalous completeness (%)": "46.94 (1.25)",
        "Anomalous multiplicity": "1.48 (1.06)",
    }
    assert len(ms.bins) == 20
    assert "resolution_plots/cc_one_half" in ms.plots
    assert "scaling_model/smooth_scale_model_0" in ms.plots


def test_merge_json_table1() -> None:
    ms = read_merging_stats(DEMO / "dials.merge.json")
    assert (ms.program, ms.wavelength, ms.wavelengths) == ("dials.merge", 1.282, (1.282,))
    o, lo, hi = ms.shell("overall"), ms.shell("low"), ms.shell("high")
    assert (o.n_obs, o.n_uniq) == (32910, 13541)
    assert o.cc_half == 0.9947005217652592
    assert o.completeness == 63.43280086194781
    assert o.multiplicity == 2.430396573369766
    assert o.r_merge == 0.024133355581881864
    assert o.i_over_sigma == 66.69906111338862
    assert o.cc_anom == -0.015601269372526002
    assert o.anom_completeness == pytest.approx(46.938665806590336, rel=1e-14)
    assert (o.d_max, o.d_min) == pytest.approx((50.88490211671048, 2.579419125711261))
    assert (lo.n_obs, lo.n_uniq, lo.cc_half) == (2684, 1004, 0.9963978222360382)
    assert lo.d_min == pytest.approx(6.9958540630648685)
    assert (hi.n_obs, hi.n_uniq, hi.cc_half) == (53, 38, 0.9841931698503509)
    assert hi.r_merge == hi.r_pim == 0.06905721424955541
    assert ms.anomalous_bins is not None and len(ms.anomalous_bins) == 20
    assert ms.bins["cc_half_critical"][0] == 0.07836735074836905


def _r(v: float | None, digits: int) -> float | None:
    return None if v is None else round(v, digits)


def test_table1_scale_json_merge_json_and_logs_agree() -> None:
    """Where the three must agree, and where they legitimately differ.

    dials.merge.json has full precision; dials.scale.json's Table 1 holds the html table's
    strings (completeness to 2 decimals, multiplicity to 1); the logs print completeness and
    multiplicity to 1 decimal. d_max overall (50.88) differs from the low shell's d_max (50.89)
    in every source: the overall d* range is computed on all data, the bins on their own.
    """
    sj = read_merging_stats(DEMO / "dials.scale.json")
    mj = read_merging_stats(DEMO / "dials.merge.json")
    slog = scale.parse(log_text("dials.scale.log")).summary
    mlog = merge.parse(log_text("dials.merge.log")).summary
    for shell in ("overall", "low", "high"):
        s, m = sj.shell(shell), mj.shell(shell)
        # counts: exactly equal everywhere
        assert s.n_obs == m.n_obs == getattr(slog.n_observations, shell)
        assert s.n_uniq == m.n_uniq == getattr(slog.n_unique, shell)
        # CC½, R values to 3 decimals
        for attr, log_attr in (
            ("cc_half", "cc_half"),
            ("r_merge", "rmerge"),
            ("r_meas", "rmeas"),
            ("r_pim", "rpim"),
        ):
            assert (
                getattr(s, attr)
                == _r(getattr(m, attr), 3)
                == getattr(getattr(slog, log_attr), shell)
            ), (shell, attr)
        assert s.completeness == _r(m.completeness, 2)
        assert _r(m.completeness, 1) == getattr(slog.completeness, shell)
        assert s.multiplicity == _r(m.multiplicity, 1) == getattr(slog.multiplicity, shell)
        assert s.i_over_sigma == _r(m.i_over_sigma, 1) == getattr(slog.i_over_sigma, shell)
        assert (s.d_max, s.d_min) == (_r(m.d_max, 2), _r(m.d_min, 2))
        assert (s.d_max, s.d_min) == (getattr(slog.d_max, shell), getattr(slog.d_min, shell))
        assert _r(m.anom_completeness, 1) == getattr(slog.anom_completeness, shell)
        assert _r(m.anom_multiplicity, 1) == getattr(slog.anom_multiplicity, shell)
        assert _r(m.cc_anom, 3) == getattr(slog.anom_correlation, shell)
    # both logs print the same Table 1 (dials.merge adds the Wilson B)
    for attr in ("completeness", "multiplicity", "cc_half", "rmerge", "n_observations"):
        assert getattr(slog, attr) == getattr(mlog, attr)
    assert (slog.wilson_b, mlog.wilson_b.overall) == (None, 23.025)
    # the "overall (high)" strings of both JSONs carry one more digit than the tables
    assert sj.summary == mj.summary
    assert sj.summary["CC-half"] == "0.9947 (0.9842)"


def test_resolution_bins_json_and_log_agree() -> None:
    """Per-bin: dials.scale.json's table equals the log's; dials.merge.json rounds to them."""
    sj = read_merging_stats(DEMO / "dials.scale.json").bins
    mj = read_merging_stats(DEMO / "dials.merge.json").bins
    shells = scale.parse(log_text("dials.scale.log")).shells
    cols = (
        ("n_obs", "n_obs", 0),
        ("n_uniq", "n_unique", 0),
        ("multiplicity", "multiplicity", 2),
        ("completeness", "completeness", 2),
        ("i_mean", "mean_i", 1),
        ("i_over_sigma", "mean_i_over_sigma", 1),
        ("r_merge", "r_merge", 3),
        ("r_meas", "r_meas", 3),
        ("r_pim", "r_pim", 3),
        ("r_anom", "r_anom", 3),
        ("cc_half", "cc_half", 3),
        ("cc_anom", "cc_anom", 3),
    )
    assert len(sj) == len(mj) == len(shells) == 20
    assert sj.d_max.tolist() == [s.d_max for s in shells]
    assert sj.d_min.tolist() == [s.d_min for s in shells]
    assert np.round(mj.d_min, 2).tolist() == [s.d_min for s in shells]
    for name, attr, digits in cols:
        logged = [getattr(s, attr) for s in shells]
        assert sj[name].tolist() == logged, name
        assert np.round(mj[name], digits).tolist() == logged, name
    # anomalous completeness per bin: from plot traces (scale) and merging_stats_anom (merge)
    np.testing.assert_allclose(sj["anom_completeness"], mj["anom_completeness"], rtol=1e-12)
    assert round(float(mj["anom_completeness"][0]), 1) == 89.5  # the logs' "Low" column

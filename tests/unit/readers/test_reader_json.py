"""Tests of the JSON readers (Bravais, symmetry, merging stats, refine history, integration report)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reader_fixtures import LCYS, QUARTZ_MERGE, shared

from thas_tui.core.errors import UnreadableFile
from thas_tui.core.readers.bravais import read_bravais_summary
from thas_tui.core.readers.integrate_report import read_integration_report
from thas_tui.core.readers.merging_stats import read_merging_stats
from thas_tui.core.readers.refine_history import read_refine_history
from thas_tui.core.readers.symmetry import read_symmetry_json

# --- bravais_summary.json -------------------------------------------------------------------


def test_bravais_summary_lcys() -> None:
    # The table dials.refine_bravais_settings printed for this file (dials.refine_bravais_settings.log):
    # *5 0.3472 0.309 0.000/0.642 100 oP 5.49 8.19 12.14 90 90 90 546 a,b,c
    # *4 0.3472 0.279 0.008/0.008  99 mP 8.20 5.49 12.14 90.00 90.14 90.00 546 -b,-a,-c
    # *1 0      0.261 -/-          99 aP 5.50 8.21 12.16 90.14 89.71 89.82 549 a,b,c
    s = read_bravais_summary(LCYS / "bravais_summary.json")
    assert [r.solution for r in s.solutions] == [5, 4, 3, 2, 1]
    best = s.best
    assert best.solution == 5 and best.bravais == "oP" and best.cb_op == "a,b,c"
    assert round(best.metric_fit, 4) == 0.3472
    assert round(best.rmsd, 3) == 0.309
    assert round(best.min_cc, 3) == 0.000 and round(best.max_cc, 3) == 0.642
    assert best.nspots == 100
    assert best.unit_cell == pytest.approx(
        (5.488490793052523, 8.194158309339217, 12.141610592269197, 90, 90, 90)
    )
    assert round(best.volume) == 546  # not in the JSON: computed from the cell
    assert best.experiments_file == "bravais_setting_5.expt"
    sol4 = s.get(4)
    assert sol4.cb_op == "-b,-a,-c" and sol4.bravais == "mP" and sol4.nspots == 99
    sol1 = s.get(1)
    assert sol1.metric_fit == 0 and sol1.min_cc is None and sol1.max_cc is None
    assert round(sol1.volume) == 549
    assert all(r.recommended for r in s.solutions)


# --- dials.symmetry.json --------------------------------------------------------------------


def test_symmetry_tetragonal_fixture() -> None:
    s = read_symmetry_json(shared("dials.symmetry.json"))
    assert s.lattice_point_group == "P 4/m m m"
    best = s.best
    assert best.patterson_group == "P 4/m m m" and best.patterson_group_hall == "-P 4 2"
    assert best.mx_group == "P 4 2 2"
    assert best.likelihood == pytest.approx(0.891791330107021)
    assert best.z_cc_net == pytest.approx(9.56959358134415)
    assert best.cc_for == pytest.approx(0.962903728725044)
    assert best.delta == pytest.approx(0.13649577797410878)
    assert len(s.subgroups) == 10
    assert len(s.sym_op_scores) == 7
    assert s.sym_op_scores[0].operator == "x,y,z" and s.sym_op_scores[0].n_ref == 28644
    assert s.n_unrelated_pairs == 20000


def test_symmetry_lcys_312() -> None:
    # dials.symmetry.log: "Best solution: P m m m", Corresponding MX group "P 2 2 2".
    s = read_symmetry_json(LCYS / "dials.symmetry.json")
    assert s.best.patterson_group == "P m m m" and s.best.mx_group == "P 2 2 2"
    assert s.best.likelihood == 0.2
    assert s.best.cc_for == pytest.approx(0.8602198578253861)
    assert [g.patterson_group for g in s.subgroups] == [
        "P m m m",
        "P 1 2/m 1",
        "P 1 2/m 1",
        "P 1 2/m 1",
        "P -1",
    ]
    assert s.cb_op_inp_min == ("a,b,c",) * 4
    assert s.min_cell_space_group == "P 1"


# --- merging statistics ---------------------------------------------------------------------


def test_merge_json_quartz_table1() -> None:
    # dials.merge's log on the same run ("Merging statistics by resolution bin" and summary):
    #   overall 5.40-0.56 1401 obs 298 uniq mult 4.70 100.00 % I/sI 19.4 rmerge 0.109 rmeas 0.126
    #   rpim 0.060 cc1/2 0.988; anomalous completeness 99.4/100.0/100.0, multiplicity 2.9/2.3/3.1,
    #   anomalous correlation -0.227/0.063/-0.514; low bin 5.40-1.50, high bin 0.56-0.56.
    m = read_merging_stats(QUARTZ_MERGE)
    assert m.program == "dials.merge" and m.wavelength == 0.02508
    assert len(m.bins) == 20
    overall, low, high = m.shell("overall"), m.shell("low"), m.shell("high")
    assert (round(overall.d_max, 2), round(overall.d_min, 2)) == (5.40, 0.56)
    assert (overall.n_obs, overall.n_uniq) == (1401, 298)
    assert round(overall.multiplicity, 2) == 4.70 and overall.completeness == 100.0
    assert round(overall.i_over_sigma, 1) == 19.4
    assert (round(overall.r_merge, 3), round(overall.r_meas, 3), round(overall.r_pim, 3)) == (
        0.109,
        0.126,
        0.060,
    )
    assert round(overall.cc_half, 3) == 0.988
    assert [round(r.anom_completeness, 1) for r in (overall, low, high)] == [99.4, 100.0, 100.0]
    assert [round(r.anom_multiplicity, 1) for r in (overall, low, high)] == [2.9, 2.3, 3.1]
    assert [round(r.cc_anom, 3) for r in (overall, low, high)] == [-0.227, 0.063, -0.514]
    assert (round(low.d_max, 2), round(low.d_min, 2), low.n_obs) == (5.40, 1.50, 62)
    assert (round(high.d_min, 2), high.n_obs, high.n_uniq) == (0.56, 118, 21)
    assert round(high.i_over_sigma, 1) == 0.7
    # Per-bin arrays, low to high resolution (the log's table rows).
    assert m.bins["n_obs"][:3].tolist() == [62, 58, 65]
    assert np.round(m.bins["cc_half"][:2], 3).tolist() == [0.999, 0.996]
    assert np.round(m.bins.d_min[:3], 2).tolist() == [1.50, 1.19, 1.04]
    assert m.summary["Completeness (%)"] == "100.00 (100.00)"
    assert "resolution_plots/cc_one_half" in m.plots


def test_scale_json_lcys_table1() -> None:
    # dials.scale's "overall" table in the same JSON / dials.scale.log:
    #   Resolution 4.10 - 0.59 | 4.10 - 1.58 | 0.60 - 0.59; Observations 108 | 11 | 2;
    #   Completeness 6.05% | 10.47% | 2.56%; CC1/2 0.999 | 1.000 | 0.000.
    m = read_merging_stats(LCYS / "scale.json")
    assert m.program == "dials.scale"
    overall, low, high = m.shell("overall"), m.shell("low"), m.shell("high")
    assert (overall.d_max, overall.d_min, overall.n_obs, overall.n_uniq) == (4.10, 0.59, 108, 97)
    assert (low.d_max, low.d_min, low.n_obs, low.completeness) == (4.10, 1.58, 11, 10.47)
    assert (high.d_max, high.d_min, high.n_obs, high.completeness) == (0.60, 0.59, 2, 2.56)
    assert (overall.cc_half, low.cc_half, high.cc_half) == (0.999, 1.0, 0.0)
    assert (overall.anom_completeness, overall.anom_multiplicity) == (0.61, 1.04)
    assert len(m.bins) == 20
    assert m.bins["n_obs"][:4].tolist() == [11, 12, 10, 12]
    assert np.isnan(m.bins["r_anom"][5])  # blank cell in DIALS's table
    assert m.bins["anom_completeness"][0] == pytest.approx(4.651162790697674)
    batch = m.plots["batch_plots/scale_rmerge_vs_batch"]
    assert batch.series[0].name == "Scale" and batch.series[0].x[:3] == (2, 3, 4)


# --- refinement history, integration report -------------------------------------------------


def test_refine_history_matches_log() -> None:
    # dials.refine.log "Refinement steps": step 0 80 0.16856 0.22987 0.25669; step 18 80 0.049555
    # 0.085816 0.041562; "RMSD no longer decreasing".
    h = read_refine_history(LCYS / "refine_history.json")
    assert len(h.steps) == 19
    s0, last = h.steps[0], h.final
    assert (s0.nref, round(s0.rmsd_x, 5), round(s0.rmsd_y, 5), round(s0.rmsd_phi, 5)) == (
        80,
        0.16856,
        0.22987,
        0.25669,
    )
    assert (last.step, round(last.rmsd_x, 6), round(last.rmsd_y, 6), round(last.rmsd_phi, 6)) == (
        18,
        0.049555,
        0.085816,
        0.041562,
    )
    assert h.reason_for_termination == "RMSD no longer decreasing"


def test_integration_report() -> None:
    r = read_integration_report(LCYS / "integration_report.json")
    assert len(r.per_image) == 60  # 4 sweeps x 15 images
    first = r.per_image.for_experiment(0)
    assert first.key.tolist() == list(range(1, 16))
    assert first.columns["n_part"][0] == 19 and first.columns["ios_sum"][0] == 4.42
    assert r.per_resolution.key[0] == 0.60
    assert r.overall.title == "Summary for experiment 3"
    assert r.overall.items["i/sigi (profile fitting)"] == (44.59, 0.0, 7.29)
    assert len(r.profiles) == 36 and r.profiles[0].n_reflections == 10


# --- unusable input -------------------------------------------------------------------------

READERS = [
    (read_bravais_summary, LCYS / "bravais_summary.json"),
    (read_symmetry_json, LCYS / "dials.symmetry.json"),
    (read_merging_stats, QUARTZ_MERGE),
    (read_merging_stats, LCYS / "scale.json"),
    (read_refine_history, LCYS / "refine_history.json"),
    (read_integration_report, LCYS / "integration_report.json"),
]
_CONTENT = {p: p.read_bytes() for _, p in READERS}


@pytest.mark.parametrize(
    ("reader", "path"), READERS, ids=lambda x: getattr(x, "name", getattr(x, "__name__", ""))
)
def test_wrong_document_is_unreadable(tmp_path: Path, reader, path) -> None:
    for content in (b"", b"[]", b'{"x": 1}', b'{"truncated": [1, 2'):
        p = tmp_path / path.name
        p.write_bytes(content)
        with pytest.raises(UnreadableFile, match=str(p.name)):
            reader(p)


@settings(
    max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(data=st.data())
def test_garbage_only_raises_unreadable(tmp_path: Path, data: st.DataObject) -> None:
    reader, path = data.draw(st.sampled_from(READERS))
    raw = _CONTENT[path]
    kind = data.draw(st.sampled_from(["random", "truncated", "corrupted"]))
    if kind == "random":
        raw = data.draw(st.binary(max_size=1024))
    elif kind == "truncated":
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    else:
        pos = data.draw(st.integers(0, min(len(raw) - 1, 5000)))
        raw = (
            raw[:pos]
            + data.draw(st.sampled_from([b"null", b'"x"', b"[]", b"{}", b"-1e999", b"0"]))
            + raw[pos + 1 :]
        )
    p = tmp_path / path.name
    p.write_bytes(raw)
    try:
        reader(p)
    except UnreadableFile:
        pass


_PARSED = {p: __import__("json").loads(c) for p, c in _CONTENT.items()}
_JUNK = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=6)
    | st.just([])
    | st.just({})
)


def _mutate(doc, data: st.DataObject, depth: int = 0):
    """Replace one randomly chosen nested value of `doc` with junk."""
    if (
        depth > 8
        or not isinstance(doc, (dict, list))
        or not doc
        or data.draw(st.integers(0, 4)) == 0
    ):
        return data.draw(_JUNK)
    if isinstance(doc, dict):
        key = data.draw(st.sampled_from(sorted(doc, key=str)))
        return {**doc, key: _mutate(doc[key], data, depth + 1)}
    i = data.draw(st.integers(0, len(doc) - 1))
    return doc[:i] + [_mutate(doc[i], data, depth + 1)] + doc[i + 1 :]


@settings(
    max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(data=st.data())
def test_wrong_types_never_crash(tmp_path: Path, data: st.DataObject) -> None:
    import json

    reader, path = data.draw(st.sampled_from(READERS))
    doc = _PARSED[path]
    for _ in range(data.draw(st.integers(1, 3))):
        doc = _mutate(doc, data)
    p = tmp_path / path.name
    p.write_text(json.dumps(doc))
    try:
        reader(p)
    except UnreadableFile:
        pass

"""DIALS's "Summary of merging statistics" in each of its layouts, every value from its column."""

from __future__ import annotations

from pathlib import Path

import pytest
from parser_fixtures import DOCS_LOGS, REPO, read

from thas_tui.core import summary
from thas_tui.core.parsers import merge, scale

BLOCKS = REPO / "tests" / "data" / "dials-summary-blocks"
LOGS = sorted(
    p for p in DOCS_LOGS.glob("*/dials.*.log") if p.name.startswith(("dials.scale", "dials.merge"))
) + sorted((REPO / "tests" / "data").glob("dials-3.12_*/**/dials.[sm][ce]*[el].log"))


def test_suggested_column_numbers_from_their_columns():
    log = scale.parse(read(BLOCKS / "tbb_suggested.txt"))
    s = log.summary
    assert s.columns == ("suggested", "low", "high", "overall")
    assert s.unknown_header is None and log.suggested_d_min == 0.61
    # Overall is all the data; Suggested, Low and High are the data cut at 0.61 Å
    assert s.d_min.overall == 0.59 and (s.d_min.cut.overall, s.d_min.cut.low, s.d_min.cut.high) == (
        0.61,
        1.64,
        0.61,
    )
    assert s.completeness.overall == 94.2
    assert (s.completeness.cut.overall, s.completeness.cut.low, s.completeness.cut.high) == (
        99.6,
        100.0,
        93.4,
    )
    assert s.cc_half.overall == 1.0 and s.cc_half.cut.high == 0.559
    assert s.n_observations.overall == 9806 and s.n_observations.cut.overall == 9705
    assert s.anom_correlation.overall == -0.207 and s.anom_correlation.cut.low == -0.192
    # one-value rows sit in the leftmost (Suggested) column: the cut data's, not Overall
    assert s.anom_slope.overall is None and s.anom_slope.cut.overall == 0.189
    assert s.df_f.cut.overall == 0.042 and s.di_sigdi.cut.overall == 0.39
    # no table by resolution bin in this excerpt: all the data's Low/High are unknown, not guessed
    assert s.d_min.low is None and s.completeness.high is None


def test_three_columns_after_the_cut_is_applied():
    s = scale.parse(read(BLOCKS / "tbb_cut_d_min_0.61.txt")).summary
    assert s.columns == ("overall", "low", "high")
    assert (s.d_min.overall, s.d_min.low, s.d_min.high) == (0.61, 1.65, 0.61)
    assert (s.cc_half.overall, s.cc_half.low, s.cc_half.high) == (0.999, 0.999, 0.819)
    assert s.anom_slope.overall == 0.215 and s.anom_slope.cut is None
    assert s.n_unique.overall == 2130 and s.n_unique.high == 104


@pytest.mark.parametrize("path", LOGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_log_summary_agrees_with_its_table_by_bin(path: Path):
    """The summary's Overall and High columns are the last rows of the table by resolution bin."""
    log = (merge if path.name.startswith("dials.merge") else scale).parse(read(path))
    s, shells, overall = log.summary, log.shells, log.overall_shell
    assert s is not None and s.unknown_header is None and shells and overall is not None
    # None: 2.x's key: value block; with a Suggested column all the data's shells are the table's
    assert s.columns in (("overall", "low", "high"), ("suggested", "low", "high", "overall"), None)
    assert s.d_min.overall == overall.d_min and s.d_min.high == shells[-1].d_min
    assert s.completeness.overall == pytest.approx(overall.completeness, abs=0.051)
    assert s.completeness.high == pytest.approx(shells[-1].completeness, abs=0.051)
    assert s.multiplicity.high == pytest.approx(shells[-1].multiplicity, abs=0.051)
    assert s.n_observations.overall == overall.n_obs and s.n_unique.high == shells[-1].n_unique


def test_a_header_not_placed_is_unknown_never_misread(tmp_path: Path):
    text = read(BLOCKS / "tbb_suggested.txt").replace("Suggested   Low", "Cut         Low")
    s = scale.parse(text).summary
    assert s.columns is None and s.unknown_header == "Cut         Low    High  Overall"
    assert s.d_min is None and s.completeness is None and s.rows == {}
    (tmp_path / "dials.scale.log").write_text(text, encoding="utf-8")
    facts = summary.collect(tmp_path)
    assert "scale" not in facts
    assert facts["issues"] == [
        "dials.scale.log: the Summary of merging statistics has columns thas-tui cannot place"
        " ('Cut         Low    High  Overall'); its numbers were not read"
    ]


def test_summary_json_keeps_the_suggested_cut_apart(tmp_path: Path):
    (tmp_path / "dials.scale.log").write_bytes((BLOCKS / "tbb_suggested.txt").read_bytes())
    d = summary.collect(tmp_path)["scale"]
    assert d["columns"] == ["suggested", "low", "high", "overall"]
    assert d["suggested_d_min"] == 0.61
    assert d["overall"]["d_min"] == 0.59 and d["overall"]["completeness"] == 94.2
    assert d["high"]["d_min"] is None  # all the data's high shell was not printed
    cut = d["suggested_cut"]
    assert (cut["overall"]["d_min"], cut["low"]["d_min"], cut["high"]["d_min"]) == (
        0.61,
        1.64,
        0.61,
    )
    assert cut["high"]["cc_half"] == 0.559 and cut["overall"]["n_obs"] == 9705


def test_312_shell_without_anomalous_pairs_lacks_only_r_anom():
    """DIALS ≤ 3.12 prints no r_anom for such a shell; the other columns keep their names."""
    log = scale.parse(read(REPO / "tests/data/dials-3.12_l_cysteine_logs/dials.scale.log"))
    assert len(log.shells) == 20 and log.overall_shell.d_min == 0.62
    second, empty = log.shells[1], log.shells[5]
    assert (second.d_max, second.d_min, second.r_pim, second.r_anom) == (1.52, 1.26, 0.0, None)
    assert (second.cc_half, second.cc_anom) == (0.0, 0.0)
    assert (empty.n_obs, empty.r_merge, empty.r_anom, empty.cc_half) == (0, None, None, 0.0)
    assert log.shells[2].r_anom == 0.153  # a full row is read as printed


SUGGESTED_312 = REPO / "tests" / "data" / "dials-3.12_suggested_cut" / "dials.scale.log"


def test_312_log_with_a_suggested_cut():
    """A real 3.12 log: the cut's columns apart, all the data's shells from the table by bin."""
    log = scale.parse(read(SUGGESTED_312))
    s = log.summary
    assert log.version == "3.12" and log.suggested_d_min == 1.48
    assert s.columns == ("suggested", "low", "high", "overall")
    assert (s.d_min.overall, s.d_min.low, s.d_min.high) == (1.44, 3.92, 1.44)
    assert (s.d_min.cut.overall, s.d_min.cut.low, s.d_min.cut.high) == (1.48, 4.02, 1.48)
    assert (s.completeness.overall, s.completeness.high) == (42.4, 2.68)
    assert (s.completeness.cut.overall, s.completeness.cut.high) == (45.4, 8.6)
    assert (s.cc_half.overall, s.cc_half.high, s.cc_half.cut.high) == (0.998, 0.235, 0.214)
    assert s.n_observations.overall == 145555 and s.n_observations.cut.overall == 144862
    assert s.anom_slope.overall is None and s.anom_slope.cut.overall == 1.254
    assert len(log.shells) == 20 and log.overall_shell.n_obs == 145555


def test_312_suggested_cut_in_summary_json_and_warnings(tmp_path: Path):
    (tmp_path / "dials.scale.log").write_bytes(SUGGESTED_312.read_bytes())
    facts = summary.collect(tmp_path)
    d = facts["scale"]
    assert d["suggested_d_min"] == 1.48 and d["columns"][0] == "suggested"
    assert (d["overall"]["d_min"], d["high"]["d_min"], d["low"]["d_max"]) == (1.44, 1.44, 112.5)
    assert d["suggested_cut"]["high"]["cc_half"] == 0.214
    whats = [w["what"] for w in facts["warnings"]]
    assert whats == [
        "DIALS suggests cutting the resolution at 1.48 Å (the data go to 1.44 Å)",
        "2.7% complete in the outer shell (1.44 Å) against 42.4% overall",
    ]
    assert facts["warnings"][0]["try"] == "dials.scale d_min=1.48"

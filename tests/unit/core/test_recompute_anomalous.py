"""Recomputed Table 1 with its anomalous rows, from real iotbx.merging_statistics outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from thas_tui.core.recompute import shells_from_statistics

DATA = Path(__file__).parents[2] / "data" / "dials-3.12_thas_demo_mtz"


def _load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def test_anomalous_rows_come_from_the_anomalous_run() -> None:
    shells, bins = shells_from_statistics(
        _load("iotbx_merging_statistics.json"), _load("iotbx_merging_statistics_anom.json")
    )
    o, low, high = shells.overall, shells.low, shells.high
    # Read as dials.merge's merging_stats_anom: completeness a fraction in iotbx, % here.
    assert o.anom_completeness == pytest.approx(46.938665806590335)
    assert o.anom_multiplicity == pytest.approx(1.4774155890804597)
    assert o.r_meas_anom == pytest.approx(0.029663253773766354)
    assert low.anom_completeness == pytest.approx(89.46078431372549)
    assert low.anom_multiplicity == pytest.approx(1.547605308713214)
    assert high.anom_completeness == pytest.approx(1.251303441084463)
    assert high.anom_multiplicity == pytest.approx(1.06)
    # CC_anom as dials.merge's Table 1 takes it: from the merged (anomalous=False) statistics.
    assert o.cc_anom == pytest.approx(-0.04566363084675076)
    assert low.cc_anom == pytest.approx(-0.05017721373494116)
    # The main rows are the anomalous=False ones, untouched.
    assert o.completeness == pytest.approx(63.42811636295498)
    assert len(bins) == 20


def test_without_the_anomalous_run_no_anomalous_row_is_made_up() -> None:
    shells, _ = shells_from_statistics(_load("iotbx_merging_statistics.json"))
    o = shells.overall
    assert o.completeness == pytest.approx(63.42811636295498)
    assert (o.anom_completeness, o.anom_multiplicity, o.r_meas_anom, o.cc_anom) == (
        None,
        None,
        None,
        None,
    )

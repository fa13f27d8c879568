"""`thas-tui compare` with real DIALS: two scale attempts on the demo (the second with d_min), and
iotbx.merging_statistics against dials.merge's own table."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from thas_tui.core.commands import RunConfig
from thas_tui.core.dials_env import find_dials
from thas_tui.core.orchestrator import Orchestrator
from thas_tui.core.parsers import registry
from thas_tui.core.pipeline import Pipeline
from thas_tui.core.readers.merging_stats import iotbx_statistics, read_merging_stats
from thas_tui.core.recompute import merging_statistics
from thas_tui.core.rundir import read_log_text, read_rundir

pytestmark = pytest.mark.integration

D_MIN = 3.6  # the demo crystal diffracts to 3.25 A: a cut above it
# What scale and compare read; the large reflection files of the earlier stages stay behind.
_NOT_NEEDED = ("strong.refl", "indexed.refl", "reindexed.refl", "refined.refl", "integrated.refl")


@pytest.fixture(scope="module")
def rescaled(demo_run, tmp_path_factory) -> Path:
    """A copy of the finished demo whose scale was run again with d_min (attempt 2)."""
    proc, res, _ = demo_run
    assert res.returncode == 0, res.stdout + res.stderr
    copy = tmp_path_factory.mktemp("compare") / "proc"
    shutil.copytree(proc, copy, ignore=shutil.ignore_patterns(*_NOT_NEEDED))
    pipeline = Pipeline()
    for name, st in read_rundir(copy).stages.items():
        if name in pipeline.runs:
            pipeline[name].state = st.state
    config = RunConfig(images=[])
    config.set_extra("scale", [f"d_min={D_MIN}"])
    orch = Orchestrator(copy, config, find_dials(), lambda _e: None, None, pipeline)
    assert asyncio.run(orch.run(start="scale", stop_after="scale"))
    assert (copy / "thas-tui" / "attempts" / "scale.1" / "scaled.refl").is_file()
    return copy


def test_recomputed_statistics_agree_with_dials_merge(demo_run, tmp_path: Path) -> None:
    """iotbx.merging_statistics on the demo's scaled.mtz, with dials.merge's options, against
    the table dials.merge printed: the same 20 bins, the same numbers to the printed digits."""
    proc = demo_run[0]
    doc = merging_statistics(proc / "scaled.mtz", tmp_path)
    (overall, low, high), bins = iotbx_statistics(doc)
    log = registry.parse_log("merge", read_log_text(proc / "dials.merge.log"))
    shells = log.shells
    assert len(shells) == len(bins) == 20
    assert [round(float(d), 2) for d in bins.d_min] == [s.d_min for s in shells]
    assert [round(float(d), 2) for d in bins.d_max[1:]] == [s.d_max for s in shells[1:]]
    same_counts = dropped = 0
    for i, s in enumerate(shells):
        n_obs, n_uniq = int(bins["n_obs"][i]), int(bins["n_uniq"][i])
        if (n_obs, n_uniq) != (s.n_obs, s.n_unique):
            # dials.export leaves out a few observations that dials.merge keeps (5 of 32,910
            # in the demo, one or two in a bin): those bins cannot agree to the last digit.
            assert 0 < s.n_obs - n_obs <= 3, (i, s.n_obs, n_obs)
            dropped += s.n_obs - n_obs
            continue
        same_counts += 1
        got = bins.values
        assert round(float(got["multiplicity"][i]), 2) == s.multiplicity
        assert round(float(got["completeness"][i]), 2) == s.completeness
        assert round(float(got["i_mean"][i]), 1) == s.mean_i
        assert round(float(got["i_over_sigma"][i]), 1) == s.mean_i_over_sigma
        for key in ("r_merge", "r_meas", "r_pim", "cc_half"):
            assert round(float(got[key][i]), 3) == getattr(s, key), (i, key)
    assert same_counts >= 15
    assert dropped == log.overall_shell.n_obs - overall.n_obs <= 10
    assert round(high.cc_half, 3) == shells[-1].cc_half
    assert round(overall.multiplicity, 2) == log.overall_shell.multiplicity


def test_two_scale_attempts_show_the_cut(rescaled: Path) -> None:
    before = sorted(p.relative_to(rescaled) for p in rescaled.rglob("*"))
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "thas_tui",
            "compare",
            f"{rescaled}@scale.1",
            f"{rescaled}@scale.2",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert res.returncode == 0, res.stderr
    first, second = json.loads(res.stdout)["inputs"]
    # As reported: each attempt's own dials.scale.json.
    one = read_merging_stats(rescaled / "thas-tui" / "attempts" / "scale.1" / "dials.scale.json")
    two = read_merging_stats(rescaled / "dials.scale.json")
    assert first["overall"]["d_min"] == one.shell("overall").d_min < D_MIN - 0.1
    assert (
        second["overall"]["d_min"] == two.shell("overall").d_min == pytest.approx(D_MIN, abs=0.005)
    )
    assert second["overall"]["n_obs"] < first["overall"]["n_obs"]
    assert first["label"] == "proc@scale.1" and second["label"] == f"proc@scale.2 (d_min={D_MIN})"
    assert first["space_group"] == second["space_group"] == "P 21 21 21"
    assert first["warnings"] == second["warnings"] == []
    # Like with like: both cut to the shared range, the same bins, nearly the same numbers.
    r1, r2 = first["recomputed"], second["recomputed"]
    assert list(r1) == list(r2) == ["overall", "low", "high"]
    w1, w2 = first["recomputed_with"], second["recomputed_with"]
    assert w1 == w2 and w1["program"] == "iotbx.merging_statistics" and w1["n_bins"] == 20
    assert w1["d_range"][1] == pytest.approx(D_MIN, abs=0.005)
    assert r1["high"]["d_min"] == r2["high"]["d_min"] == pytest.approx(D_MIN, abs=0.005)
    # Scaling again with the cut rejects a slightly different set of outliers: on the 90 degree
    # demo 247 of 24,750 observations (1.0 %) in the shared range.
    assert abs(r1["overall"]["n_obs"] - r2["overall"]["n_obs"]) <= 0.02 * r1["overall"]["n_obs"]
    assert r1["overall"]["cc_half"] == pytest.approx(r2["overall"]["cc_half"], abs=0.002)
    # Exported and recomputed in a temporary directory: nothing was added to the user's.
    assert sorted(p.relative_to(rescaled) for p in rescaled.rglob("*")) == before
    text = subprocess.run(
        [
            sys.executable,
            "-m",
            "thas_tui",
            "compare",
            str(rescaled),
            f"{rescaled}@scale.1",
            "--no-recompute",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert text.returncode == 0, text.stderr
    assert f"{two.shell('overall').d_max:.2f}–{D_MIN:.2f}" in text.stdout
    assert f"{one.shell('overall').d_max:.2f}–{one.shell('overall').d_min:.2f}" in text.stdout

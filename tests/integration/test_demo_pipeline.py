"""`thas-tui demo`, headless, end to end on real DIALS: the generated THAS1-like sweep to merged.mtz."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from thas_tui.core.readers.bravais import read_bravais_summary
from thas_tui.core.readers.expt import read_expt

pytestmark = pytest.mark.integration

TRUE_CELL = (57.10, 102.19, 112.16)
STAGES = (
    "simulate",
    "import",
    "find_spots",
    "index",
    "refine_bravais_settings",
    "reindex",
    "refine",
    "integrate",
    "symmetry",
    "scale",
    "export",
    "merge",
)


def test_demo_reaches_merged_mtz(demo_run) -> None:
    proc, res, seconds = demo_run
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    for name in (
        "imported.expt",
        "strong.refl",
        "indexed.expt",
        "bravais_summary.json",
        "reindexed.refl",
        "refined.expt",
        "integrated.refl",
        "symmetrized.expt",
        "scaled.expt",
        "scaled.mtz",
        "merged.mtz",
        "dials.scale.json",
        "dials.merge.json",
        "refine_history.json",
        "integration_report.json",
    ):
        assert (proc / name).is_file(), name
    for stage in STAGES:
        assert f"done   {stage}" in res.stdout
    print(f"demo wall time {seconds:.0f} s")


def test_demo_finds_the_true_cell_and_space_group(demo_run) -> None:
    proc, res, _ = demo_run
    cell = read_expt(proc / "indexed.expt")[0].crystal.unit_cell
    for got, want in zip((cell.a, cell.b, cell.c), TRUE_CELL, strict=True):
        assert abs(got - want) / want < 0.005
    summary = read_bravais_summary(proc / "bravais_summary.json")
    op = [s for s in summary.solutions if s.bravais == "oP"]
    assert op and op[0].recommended
    assert "oP chosen" in res.stdout
    crystal = read_expt(proc / "symmetrized.expt")[0].crystal
    assert crystal.space_group == "P 21 21 21"
    # The headless lines show the same numbers as the files.
    assert "P 21 21 21" in next(ln for ln in res.stdout.splitlines() if "done   symmetry" in ln)
    assert f"{cell.a:.1f} {cell.b:.1f} {cell.c:.1f}" in res.stdout


def test_demo_summary_matches(demo_run, thas_summary) -> None:
    proc, _, _ = demo_run
    d = thas_summary(proc)
    assert all(d["stages"][s]["state"] == "done" for s in STAGES if s != "simulate")
    assert d["symmetry"]["space_group"] == "P 21 21 21"
    assert d["dials_version"].startswith("3.")
    overall = d["scale"]["overall"]
    assert 0.9 < overall["cc_half"] <= 1.0 and overall["d_min"] < 3.0


def test_second_demo_uses_the_cache(demo_run, tmp_path: Path) -> None:
    proc, _, _ = demo_run
    cache = proc.parent / "cache"
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "thas_tui",
            "demo",
            "--no-tui",
            "--until",
            "import",
            "--dir",
            str(tmp_path / "p"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "start  simulate" not in res.stdout  # nothing generated again
    assert "done   import" in res.stdout

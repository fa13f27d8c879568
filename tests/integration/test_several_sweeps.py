"""The 4 real L-cysteine sweeps as one run: a directory of several templates to merged.mtz.

The 1.5° wedges meet two DIALS limits on the way (integrate's profile-model minima, dials.merge
3.12's report on few observations); each failure must say so, with the re-run command that gets
past it, and that command must work.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from thas_cli import thas

from thas_tui.core.readers.expt import read_expt

pytestmark = pytest.mark.integration

IMAGES = Path(__file__).resolve().parents[1] / "data" / "images" / "l_cysteine"


def _rerun_command(stdout: str) -> list[str]:
    line = next(ln for ln in stdout.splitlines() if "re-run with it: thas-tui " in ln)
    argv = shlex.split(line.split("re-run with it: thas-tui ", 1)[1])
    assert argv[0] == "resume"
    return argv


def _line(stdout: str, start: str) -> str:
    return next(ln for ln in stdout.splitlines() if start in ln)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    images = sorted(IMAGES.glob("l-cyst_0[1-4]_000*.cbf.gz"))
    assert len(images) == 60, f"the 4 x 15 L-cysteine images are vendored in {IMAGES}"
    root = tmp_path_factory.mktemp("sweeps")
    first = thas(
        "run", str(IMAGES), "--dir", "proc", "--no-tui", "--auto-bravais", cwd=root, timeout=1500
    )
    second = thas(*_rerun_command(first.stdout), "--auto-bravais", cwd=root, timeout=1500)
    third = thas(*_rerun_command(second.stdout), cwd=root, timeout=1500)
    return root / "proc", first, second, third


def test_defaults_stop_at_integrate_saying_which_parameters(runs) -> None:
    _, first, _, _ = runs
    assert first.returncode != 0
    out = first.stdout
    assert "4 sweeps, 60 images, λ 0.6889 Å" in _line(out, "done   import")
    assert _line(out, "done   index").endswith(", all 4 sweeps")
    assert "oP chosen" in out  # the Bravais choice on the joint solutions
    assert "FAILED integrate" in out
    assert "too few strong reflections to model the spot profiles" in out
    argv = _rerun_command(out)
    assert [a for a in argv if a.startswith("integrate:")] == [
        "integrate:profile.gaussian_rs.min_spots.per_degree=4",
        "integrate:profile.gaussian_rs.min_spots.overall=6",
    ]


def test_the_fix_integrates_then_merge_stops_on_its_report(runs) -> None:
    _, _, second, _ = runs
    out = second.stdout
    assert "done   integrate" in out and "done   scale" in out
    assert "FAILED merge" in out
    assert "cannot write its JSON report (xtriage and anomalous statistics)" in out
    assert _rerun_command(out)[-4:] == [
        "--phil",
        "merge:output.json=None",
        "--phil",
        "merge:output.html=None",
    ]


def test_second_fix_reaches_merged_mtz(runs, thas_summary) -> None:
    proc, _, _, third = runs
    assert third.returncode == 0, third.stdout + third.stderr
    assert (proc / "merged.mtz").stat().st_size > 0
    # One crystal model shared by the 4 sweeps' experiments.
    expts = read_expt(proc / "scaled.expt").experiments
    assert len(expts) == 4
    assert all(e.scan is not None and e.scan.image_range == (1, 15) for e in expts)
    summary = thas_summary(proc)
    assert summary["stages"]["merge"]["state"] == "done"

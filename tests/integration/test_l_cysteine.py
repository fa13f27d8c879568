"""thas-tui driving real DIALS on the real L-cysteine images (PILATUS 2M, one 15-image sweep)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from thas_cli import thas

from thas_tui.core import warnings as expert
from thas_tui.core.readers import refl
from thas_tui.core.readers.expt import read_expt

pytestmark = pytest.mark.integration

# L-cysteine, P 21 21 21 (Acta Cryst. and the DIALS small-molecule tutorial): a, b, c in Å.
TRUE_CELL = (5.42, 8.14, 12.02)


def test_import_find_spots_index(tmp_path: Path, l_cysteine_sweep1: list[str]) -> None:
    res = thas(
        "run", *l_cysteine_sweep1, "--dir", "proc", "--no-tui", "--until", "index", cwd=tmp_path
    )
    assert res.returncode == 0, res.stdout + res.stderr
    proc = tmp_path / "proc"
    for name in ("imported.expt", "strong.refl", "indexed.expt", "indexed.refl"):
        assert (proc / name).is_file(), name
    assert not (proc / "bravais_summary.json").exists()  # --until index stopped there
    cell = read_expt(proc / "indexed.expt")[0].crystal.unit_cell
    for got, want in zip(sorted((cell.a, cell.b, cell.c)), TRUE_CELL, strict=True):
        assert abs(got - want) / want < 0.01
    # What the headless run printed is what the files say.
    assert "done   import" in res.stdout and "15 images, λ 0.6889 Å" in res.stdout
    n_spots = int(
        next(ln for ln in res.stdout.splitlines() if "done   find_spots" in ln).split()[-2]
    )
    assert n_spots > 30
    assert f"{cell.a:.1f} {cell.b:.1f} {cell.c:.1f}" in res.stdout
    # The expert's check of the indexed fraction says what indexed.refl says.
    frac = refl.indexed_fraction(refl.read_refl(proc / "indexed.refl", columns=("flags",)))
    assert f"{100 * frac:.0f}% indexed" in res.stdout
    flagged = f"check  index                    only {100 * frac:.0f}% of the strong spots indexed"
    assert (flagged in res.stdout) == (frac < expert.MIN_INDEXED), res.stdout
    # Every attempt's full log and the journal are kept.
    logs = sorted(p.name for p in (proc / "thas-tui" / "logs").iterdir())
    assert logs == ["find_spots.1.log", "import.1.log", "index.1.log"]
    journal = [
        json.loads(line) for line in (proc / "thas-tui" / "journal.jsonl").read_text().splitlines()
    ]
    # The run's begin (with its settings) and end frame the stages' attempts.
    assert journal[0]["event"] == "run_begin" and journal[0]["until"] == "index"
    assert journal[-1] == {**journal[-1], "event": "run_end", "outcome": "finished"}
    journal = journal[1:-1]
    assert [(r["event"], r["stage"]) for r in journal] == [
        ("start", "import"),
        ("end", "import"),
        ("start", "find_spots"),
        ("end", "find_spots"),
        ("start", "index"),
        ("end", "index"),
    ]
    assert all(r["exit_code"] == 0 for r in journal if r["event"] == "end")


def test_rerun_keeps_earlier_outputs(tmp_path: Path, l_cysteine_sweep1: list[str]) -> None:
    for _ in range(2):
        res = thas(
            "run",
            *l_cysteine_sweep1,
            "--dir",
            "proc",
            "--no-tui",
            "--until",
            "import",
            cwd=tmp_path,
        )
        assert res.returncode == 0, res.stdout + res.stderr
    proc = tmp_path / "proc"
    assert (proc / "imported.expt").is_file()
    archived = proc / "thas-tui" / "attempts" / "import.1"
    assert (archived / "imported.expt").is_file() and (archived / "dials.import.log").is_file()
    assert sorted(p.name for p in (proc / "thas-tui" / "logs").iterdir()) == [
        "import.1.log",
        "import.2.log",
    ]


def test_whole_pipeline_reports_the_failed_stage(
    tmp_path: Path, l_cysteine_sweep1: list[str]
) -> None:
    """15 images of a small molecule: DIALS 3.12 runs every stage but dials.merge crashes."""
    res = thas(
        "run",
        *l_cysteine_sweep1,
        "--dir",
        "proc",
        "--no-tui",
        "--auto-bravais",
        "--phil",
        "integrate:profile.gaussian_rs.min_spots.per_degree=10",
        "--phil",
        "integrate:profile.gaussian_rs.min_spots.overall=20",
        cwd=tmp_path,
    )
    proc = tmp_path / "proc"
    out = res.stdout
    assert "done   symmetry" in out and "P 2 2 2" in out
    assert "done   export" in out and (proc / "scaled.mtz").is_file()
    if "done   merge" in out:  # a DIALS that does not crash here
        assert res.returncode == 0
        return
    assert res.returncode == 1
    assert "FAILED merge" in out and "AttributeError" in out
    # The reason is on stderr too; DIALS's frames are shown, never one of thas-tui's own.
    assert "merge failed" in res.stderr and "AttributeError" in res.stderr
    assert "Traceback" not in res.stderr and "thas_tui" not in res.stderr
    # The failed stage's log and every earlier output are kept.
    assert "Traceback" in (proc / "thas-tui" / "logs" / "merge.1.log").read_text()
    for name in ("integrated.refl", "symmetrized.expt", "scaled.expt", "scaled.refl"):
        assert (proc / name).is_file()


def test_indexing_failure_is_explained(
    tmp_path: Path, l_cysteine_sweep1: list[str], thas_summary
) -> None:
    """A max_cell far below the true cell: dials.index finds no lattice; we say why and what to try."""
    res = thas(
        "run",
        *l_cysteine_sweep1,
        "--dir",
        "proc",
        "--no-tui",
        "--until",
        "index",
        "--phil",
        "index:max_cell=3",
        cwd=tmp_path,
    )
    assert res.returncode == 1
    out = res.stdout
    assert "FAILED index" in out
    assert "dials.index stopped (exit code 1): No suitable lattice could be found." in out
    assert "Try: more spots" in out and "max_cell" in out
    assert "No suitable lattice could be found." in res.stderr
    assert "Traceback" not in res.stderr
    proc = tmp_path / "proc"
    # The earlier stages' outputs and the failed stage's log are kept.
    assert (proc / "imported.expt").is_file() and (proc / "strong.refl").is_file()
    assert "No suitable lattice" in (proc / "thas-tui" / "logs" / "index.1.log").read_text()
    states = thas_summary(proc)["stages"]
    assert states["find_spots"]["state"] == "done" and states["index"]["state"] == "failed"

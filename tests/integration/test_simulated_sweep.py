"""The 'small' simulated sweep: DIALS imports it as one Pilatus sweep and indexes the true cell."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pytest

from thas_tui.core import demo
from thas_tui.core.dials_env import find_dials
from thas_tui.core.errors import ThasError

pytestmark = pytest.mark.integration

TRUE_CELL = (57.10, 102.19, 112.16)


def _dials_python() -> str | None:
    """DIALS's own interpreter (the one that can import dxtbx), as the dashboard finds it."""
    try:
        return find_dials().python
    except ThasError:
        return None


def _run(argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (
        f"{argv[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python = _dials_python()
    if python is None:
        pytest.skip("DIALS is not installed (no dials.import on PATH)")
    out = tmp_path_factory.mktemp("sim") / "sweep"
    argv = demo.generation_argv(python, "small", out) + ["--nproc", "2"]
    result = _run(argv, out.parent, timeout=600)
    assert "image 1/" in result.stdout
    return out


def test_generator_writes_complete_sweep(sweep: Path) -> None:
    info = json.loads((sweep / "sweep_info.json").read_text())
    n = info["n_images"]
    assert sorted(p.name for p in sweep.glob("thas_demo_*.cbf")) == [
        f"thas_demo_{i:05d}.cbf" for i in range(1, n + 1)
    ]
    assert info["space_group"] == "P 21 21 21"
    assert info["template"] == str(sweep.resolve() / "thas_demo_#####.cbf")
    # The small preset's 48 degrees cannot promise all three screw axes, but the counts of
    # axial reflections it did record are reported per axis.
    assert set(info["axial_reflections"]) == {"h00", "0k0", "00l"}
    # --atomic leaves no temporary sibling behind.
    assert not [p for p in sweep.parent.iterdir() if p.name.startswith(".")]


def test_import_find_spots_index(sweep: Path, tmp_path: Path) -> None:
    info = json.loads((sweep / "sweep_info.json").read_text())
    images = sorted(str(p) for p in sweep.glob("thas_demo_*.cbf"))

    out = _run(["dials.import", *images], tmp_path, timeout=300).stdout
    assert "format: <class 'dxtbx.format.FormatCBFMiniPilatus.FormatCBFMiniPilatus'>" in out
    assert f"num images: {info['n_images']}" in out
    assert "still:    0" in out and "sweep:    1" in out
    expt = json.loads((tmp_path / "imported.expt").read_text())
    assert len(expt["imageset"]) == 1
    assert expt["imageset"][0]["template"].endswith("thas_demo_#####.cbf")
    assert expt["beam"][0]["wavelength"] == pytest.approx(1.282, abs=1e-6)
    assert len(expt["scan"]) == 1
    assert expt["scan"][0]["image_range"] == [1, info["n_images"]]

    _run(["dials.find_spots", "imported.expt", "nproc=2"], tmp_path, timeout=600)
    _run(["dials.index", "imported.expt", "strong.refl"], tmp_path, timeout=900)

    indexed = json.loads((tmp_path / "indexed.expt").read_text())
    crystal = indexed["crystal"][0]
    lengths = sorted(
        math.sqrt(sum(c * c for c in crystal[key]))
        for key in ("real_space_a", "real_space_b", "real_space_c")
    )
    for got, want in zip(lengths, TRUE_CELL, strict=True):
        assert got == pytest.approx(want, rel=0.005)

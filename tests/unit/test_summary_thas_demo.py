"""`thas-tui summary` on a copy of the DIALS 3.12 THAS demo run (no .refl files, no journal)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from thas_tui.cli import main

DEMO = Path(__file__).resolve().parents[1] / "data" / "dials-3.12_thas_demo"


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    dst = tmp_path / "demo"
    shutil.copytree(DEMO, dst)
    return dst


def run(capsys, *args: object) -> str:
    assert main(["summary", *map(str, args)]) == 0
    out, _ = capsys.readouterr()
    return out


def test_text(capsys, demo_dir: Path) -> None:
    out = run(capsys, demo_dir)
    assert "DIALS 3.12" in out
    assert "Space group   P 21 21 21  (from symmetrized.expt)" in out
    assert "Indexed       P 1  57.099 102.188 112.158 90.000 90.000 90.000" in out
    assert "Refined       P 2 2 2  57.099 102.189 112.159 90.000 90.000 90.000" in out
    assert "(scan-varying, 37 scan points)" in out
    assert "28223 spots on 36 images  (from dials.find_spots.log)" in out
    assert "94.8% of spots indexed" in out
    assert "Integrated    σb 0.026428°, σm 0.398239°, 34256 reflections" in out
    assert "Table 1 (from dials.merge.json)" in out
    assert "  CC½                               0.995          0.996          0.984" in out


def test_json(capsys, demo_dir: Path) -> None:
    d = json.loads(run(capsys, demo_dir, "--json"))
    assert d["dials_version"] == "3.12"
    assert set(d["dials_versions"].values()) == {"3.12"}
    assert d["symmetry"] == {"source": "symmetrized.expt", "space_group": "P 21 21 21"}
    ix = d["index"]
    assert ix["source"] == "indexed.expt"
    assert ix["unit_cell"] == [
        57.09927604113992,
        102.18829374142234,
        112.15794689740247,
        89.99997608769975,
        90.00047602899315,
        89.99969386458707,
    ]
    assert ix["space_group"] == "P 1"
    assert ix["percent_indexed"] == 94.8  # from the log: indexed.refl is not kept
    assert ix["rmsd"] == {"x_px": 0.056837, "y_px": 0.057831, "z_images": 0.18149}
    assert d["find_spots"] == {
        "source": "dials.find_spots.log",
        "n_spots": 28223,
        "n_images": 36,
        "image_ranges": [[1, 36]],
    }
    sc = d["scale"]
    assert sc["source"] == "dials.merge.json"
    assert sc["overall"]["cc_half"] == 0.9947005217652592
    assert sc["overall"]["n_obs"] == 32910
    assert sc["high"]["cc_half"] == 0.9841931698503509
    assert round(sc["overall"]["completeness"], 1) == 63.4
    rows = d["bravais"]
    assert [r["solution"] for r in rows] == [5, 4, 3, 2, 1]
    assert [r["lattice"] for r in rows] == ["oP", "mP", "mP", "mP", "aP"]
    assert all(r["recommended"] for r in rows)
    assert rows[0] == {
        "solution": 5,
        "lattice": "oP",
        "metric_fit": 0.000565970793840026,
        "rmsd": 0.01385167651897532,
        "min_cc": 0.8735805855853657,
        "max_cc": 0.9059736131971733,
        "nspots": 7200,
        "unit_cell": [
            57.099492379348746,
            102.18910116215437,
            112.15899304168327,
            90.00000000000001,
            90.00000000000001,
            90.00000000000001,
        ],
        "cb_op": "a,b,c",
        "recommended": True,
    }
    rf = d["refine"]
    assert (rf["source"], rf["space_group"], rf["scan_points"]) == ("refined.expt", "P 2 2 2", 37)
    assert rf["cell_range"]["a"] == [57.09951250824709, 57.09952123858942]
    assert rf["rmsd"] == {"x_px": 0.048404, "y_px": 0.048213, "z_images": 0.17552}
    assert rf["scan_varying"] is True
    assert d["integrate"] == {
        "source": "integrated.expt",
        "sigma_b": 0.026428205699464254,
        "sigma_m": 0.39823867345338815,
        "n_reflections": 34256,  # from the log: integrated.refl is not kept
    }
    st = d["stages"]
    assert st["symmetry"]["key_result"] == "P 21 21 21"
    assert st["scale"]["key_result"] == "CC½ 0.995 to 2.58 Å, 63.4% complete"
    assert st["refine_bravais_settings"]["key_result"] == "5 solutions, recommended oP (#5)"
    assert d["issues"] == []


def test_integrate_key_result_without_refl(capsys, demo_dir: Path) -> None:
    """integrated.refl is not kept in the fixture: the count comes from the log."""
    d = json.loads(run(capsys, demo_dir, "--json"))
    assert d["stages"]["integrate"]["key_result"] == "34256 reflections, σm 0.398°, σb 0.026°"

"""`thas-tui summary DIR [--json]` on real DIALS log folders, structured outputs and damaged dirs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from thas_tui.cli import main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
LOGS = DATA / "dials-logs"
QUARTZ = DATA / "dials-files" / "quartz_processed"
THAS = Path(sys.executable).parent / "thas-tui"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["summary", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def as_json(capsys, path: Path) -> dict:
    code, out, _ = run(capsys, path, "--json")
    assert code == 0
    return json.loads(out)  # exactly one JSON object


def test_betalactamase_3dev832_json(capsys):
    d = as_json(capsys, LOGS / "dials-3.dev.832_betalactamase")
    assert d["dials_version"] == "3.dev.832-g6a7ada41e"
    assert d["stages"]["scale"] == {
        "state": "done",
        "key_result": "CC½ 0.999, to 1.21 Å, 73.0% complete",
        "log": "dials.scale.log",
        "outputs": [],
        "attempts": 0,
    }
    assert d["find_spots"]["n_spots"] == 107999
    assert d["find_spots"]["n_images"] == 720
    assert d["index"]["unit_cell"] == [40.5519, 40.5585, 69.2922, 92.0198, 91.9722, 98.0759]
    assert d["index"]["percent_indexed"] == 99.3
    sol2 = next(r for r in d["bravais"] if r["solution"] == 2)
    assert sol2 == {
        "solution": 2,
        "lattice": "mC",
        "metric_fit": 0.0326,
        "rmsd": 0.072,
        "min_cc": 0.968,
        "max_cc": 0.968,
        "nspots": 36000,
        "unit_cell": [53.17, 61.25, 69.29, 90.0, 93.05, 90.0],
        "cb_op": "a+b,-a+b,c",
        "recommended": True,
    }
    assert [r["recommended"] for r in d["bravais"]] == [False, False, False, True, True]
    # dials.refine.log (static then scan-varying), not dials.sv_refine.log (3.dev.617)
    assert d["refine"]["unit_cell"] == [53.1698, 61.2426, 69.2883, 90.0, 93.04558, 90.0]
    assert d["refine"]["rmsd"] == {"x_px": 0.23529, "y_px": 0.22951, "z_images": 0.20427}
    assert d["refine"]["scan_points"] == 721
    assert d["integrate"]["sigma_b"] == 0.044181
    assert d["integrate"]["sigma_m"] == 0.057789
    assert d["symmetry"]["space_group"] == "C 1 2 1"
    assert d["scale"]["source"] == "dials.scale.log"  # not dials.scale_cut.log (1.40 Å)
    o, lo, hi = d["scale"]["overall"], d["scale"]["low"], d["scale"]["high"]
    assert (o["d_max"], o["d_min"], o["completeness"], o["multiplicity"]) == (
        69.19,
        1.21,
        73.0,
        6.6,
    )
    assert (o["i_over_sigma"], o["r_merge"], o["r_meas"], o["r_pim"], o["cc_half"]) == (
        16.8,
        0.066,
        0.071,
        0.027,
        0.999,
    )
    assert (o["anom_completeness"], o["anom_multiplicity"], o["anom_correlation"]) == (
        71.7,
        3.4,
        0.276,
    )
    assert (lo["d_max"], lo["d_min"], lo["cc_half"]) == (69.3, 3.29, 0.999)
    assert (hi["d_min"], hi["completeness"], hi["cc_half"], hi["r_pim"]) == (
        1.21,
        6.9,
        0.629,
        0.794,
    )
    assert d["issues"] == []


def test_betalactamase_3dev832_text(capsys):
    code, out, err = run(capsys, LOGS / "dials-3.dev.832_betalactamase")
    assert code == 0 and err == ""
    assert "DIALS 3.dev.832-g6a7ada41e" in out
    assert "dials.sv_refine.log 3.dev.617-g669c71566-release" in out  # the mixed-version note
    assert "107999 spots on 720 images" in out
    assert "P 1  40.552 40.559 69.292 92.020 91.972 98.076" in out
    assert (
        "  ★   2 mC          0.0326   0.072   0.968/0.968   36000  53.17 61.25 69.29 90.00 93.05 90.00"
        in out
    )
    assert (
        "C 1 2 1  53.170 61.243 69.288 90.000 93.046 90.000  (scan-varying, 721 scan points)" in out
    )
    assert "σb 0.044181°, σm 0.057789°" in out
    assert "Space group   C 1 2 1" in out
    assert "  CC½                               0.999          0.999          0.629" in out
    assert "  Resolution (Å)               69.19–1.21     69.30–3.29      1.23–1.21" in out
    assert "  Anom. correlation                 0.276          0.292          0.132" in out
    assert "  merge                    pending" in out


def test_betalactamase_2_2_11(capsys):
    d = as_json(capsys, LOGS / "dials-2.2.11_betalactamase")
    assert d["dials_version"] == "2.2.11-gad03a188b-release"
    assert d["find_spots"]["n_spots"] == 107999
    assert d["refine"]["rmsd"] == {"x_px": 0.26904, "y_px": 0.27867, "z_images": 0.20952}
    assert (d["integrate"]["sigma_b"], d["integrate"]["sigma_m"]) == (0.044176, 0.057791)
    assert d["symmetry"]["space_group"] == "C 1 2 1"
    o = d["scale"]["overall"]
    assert (o["d_min"], o["completeness"], o["i_over_sigma"], o["cc_half"]) == (
        1.22,
        73.13,
        12.6,
        0.999,
    )


def test_betalactamase_3dev1460(capsys):
    d = as_json(capsys, LOGS / "dials-3.dev.1460_betalactamase")
    assert d["dials_version"] == "3.dev.1460-g45cb58d0ee-release"
    assert d["find_spots"]["n_spots"] == 112023
    assert d["index"]["unit_cell"] == [40.5513, 40.5578, 69.2911, 92.0192, 91.972, 98.0758]
    assert d["refine"]["unit_cell"] == [53.1697, 61.2427, 69.2882, 90.0, 93.04517, 90.0]
    assert (d["integrate"]["sigma_b"], d["integrate"]["sigma_m"]) == (0.044239, 0.057672)
    o = d["scale"]["overall"]
    assert (o["cc_half"], o["anom_correlation"], o["multiplicity"]) == (0.999, 0.314, 6.6)
    assert d["stages"]["export"]["state"] == "done"


def test_thaumatin(capsys):
    d = as_json(capsys, LOGS / "dials-3.dev.832_thaumatin")
    assert d["find_spots"]["n_spots"] == 126786 and d["find_spots"]["n_images"] == 540
    assert d["refine"]["unit_cell"] == [57.784, 57.784, 150.0035, 90.0, 90.0, 90.0]
    assert (d["integrate"]["sigma_b"], d["integrate"]["sigma_m"]) == (0.027763, 0.042476)
    assert "scale" not in d and "symmetry" not in d
    assert d["stages"]["symmetry"] == {
        "state": "pending",
        "key_result": "",
        "log": None,
        "outputs": [],
        "attempts": 0,
    }


def test_multi_crystal(capsys):
    d = as_json(capsys, LOGS / "dials-3.dev.1460_multi_crystal")
    assert d["symmetry"]["space_group"] == "P 41 21 2"
    assert d["scale"]["source"] == "dials.merge.log"
    o = d["scale"]["overall"]
    assert (o["d_min"], o["completeness"], o["multiplicity"], o["cc_half"]) == (
        1.78,
        85.7,
        10.5,
        0.999,
    )
    assert "find_spots" not in d and "bravais" not in d


def test_quartz_structured(capsys):
    d = as_json(capsys, QUARTZ)
    assert d["dials_version"] is None
    fs = d["find_spots"]
    assert fs["source"] == "strong.refl" and fs["n_spots"] == 505
    assert len(fs["spots_per_image"]) == 100 and sum(fs["spots_per_image"]) == 505
    assert fs["per_image"]["min"] == 1 and fs["per_image"]["max"] == 11
    assert fs["per_image"]["images_without_spots"] == []
    assert d["index"]["space_group"] == "P 31 2 1"
    assert d["index"]["percent_indexed"] == 87.9
    assert d["refine"]["scan_points"] == 101
    assert d["refine"]["cell_range"]["a"][0] == pytest.approx(4.925, abs=5e-4)
    assert d["integrate"]["n_reflections"] == 1653
    assert round(d["integrate"]["sigma_m"], 6) == 0.332043
    assert d["symmetry"] == {"source": "scaled.expt", "space_group": "P 31 2 1"}
    assert d["stages"]["import"]["key_result"] == "100 images, λ 0.0251 Å"
    code, out, _ = run(capsys, QUARTZ)
    assert (
        "505 spots on 100 images; per image min 1, median 5, max 11; 0 images without spots" in out
    )
    assert "DIALS version unknown (no log banner)" in out


def test_l_cysteine_312_structured(capsys):
    d = as_json(capsys, DATA / "dials-3.12_l_cysteine")
    fs = d["find_spots"]
    assert fs["n_spots"] == 160 and fs["n_images"] == 60
    assert fs["per_image"]["images_without_spots"] == [[1, 14], [2, 10], [3, 7], [3, 14]]
    assert [r["solution"] for r in d["bravais"] if r["recommended"]] == [5, 4, 3, 2, 1]
    assert d["symmetry"]["space_group"] == "P 2 2 2"
    assert d["scale"]["source"] == "scale.json"
    assert d["scale"]["overall"]["cc_half"] == 0.999 and d["scale"]["overall"]["d_min"] == 0.59
    assert round(d["integrate"]["sigma_m"], 6) == 0.073958


def test_l_cysteine_312_logs(capsys):
    d = as_json(capsys, DATA / "dials-3.12_l_cysteine_logs")
    assert d["dials_version"] == "3.12"
    assert (d["integrate"]["sigma_b"], d["integrate"]["sigma_m"]) == (0.046775, 0.073298)
    assert d["symmetry"]["space_group"] == "P 2 2 2"
    assert d["scale"]["source"] == "dials.merge.log"
    assert d["stages"]["merge"]["state"] == "done"


def test_missing_dir_and_file_exit_2(capsys, tmp_path):
    code, out, err = run(capsys, tmp_path / "nope")
    assert code == 2 and out == ""
    assert "does not exist" in err and "Traceback" not in err
    f = tmp_path / "f.txt"
    f.write_text("x")
    code, out, err = run(capsys, f, "--json")
    assert code == 2 and "is a file, not a processing directory" in err


def test_damaged_directory(capsys, tmp_path):
    for n in ("imported.expt", "integrated.expt", "integrated.refl"):
        shutil.copy(QUARTZ / n, tmp_path / n)
    text = (QUARTZ / "indexed.expt").read_text()
    (tmp_path / "indexed.expt").write_text(text[: len(text) // 3])
    (tmp_path / "strong.refl").write_bytes(b"garbage!" * 50)
    d = as_json(capsys, tmp_path)
    assert "indexed.expt: unreadable (truncated JSON)" in d["issues"]
    assert "strong.refl: unreadable (not a DIALS msgpack reflection table)" in d["issues"]
    assert d["stages"]["index"]["state"] == "failed"
    assert d["stages"]["index"]["key_result"] == "indexed.expt: unreadable (truncated JSON)"
    assert d["stages"]["integrate"]["state"] == "done"
    assert d["integrate"]["n_reflections"] == 1653
    code, out, err = run(capsys, tmp_path)
    assert (
        code == 0 and "Issues\n" in out and "  indexed.expt: unreadable (truncated JSON)\n" in out
    )


def test_subprocess_exit_codes(tmp_path):
    if not THAS.exists():
        pytest.skip("console script not installed")
    ok = subprocess.run(
        [str(THAS), "summary", str(LOGS / "dials-3.dev.832_thaumatin")],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and "126786 spots on 540 images" in ok.stdout and ok.stderr == ""
    bad = subprocess.run(
        [str(THAS), "summary", str(tmp_path / "missing")], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("thas-tui: error: no processing directory at")

"""`thas-tui compare` on real xia2 and aimless outputs: cells, marks, bad inputs, text and JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from thas_tui.core.cell_compare import compare_cells
from thas_tui.core.compare import build, compare, to_json
from thas_tui.core.compare_inputs import directory_inputs, read_input
from thas_tui.core.compare_text import render_text

DATA = Path(__file__).resolve().parents[2] / "data" / "xia2-outputs"
RUN = DATA / "xia2-0.3.6.3_3daii-run"
FAILED = DATA / "xia2-0.3.6.3_2da-run"
XCHEM = DATA / "aimless-0.7.1_xchem"
SUMMARY_KEYS = {
    "d_max", "d_min", "completeness", "multiplicity", "i_over_sigma", "r_merge", "r_meas",
    "r_pim", "cc_half", "anom_completeness", "anom_multiplicity", "anom_correlation", "cc_anom",
    "n_obs", "n_unique",
}  # fmt: skip


def test_same_lattice_in_another_setting() -> None:
    """xia2's own indexing solutions for BAZ2B: the oC cell and the aP one are one lattice."""
    c = compare_cells(
        (83.20, 96.90, 58.00, 90.0, 90.0, 90.0),
        (58.00, 63.80, 63.90, 81.30, 90.00, 90.00),
        "C 2 2 21",
        "P 1",
    )
    assert c.same_lattice
    assert c.change_of_basis == "b-c, b+c, a"
    assert [round(v, 2) for v in c.cell_b_in_a] == [83.19, 96.89, 58.0, 90.0, 90.0, 90.09]
    assert [round(v, 2) for v in c.reduced_a[:3]] == [58.0, 63.86, 63.86]
    mono = compare_cells(
        (83.20, 96.90, 58.00, 90.0, 90.0, 90.0), (63.80, 58.00, 63.90, 90.0, 98.70, 90.0), "C 2 2 21", "P 1 21 1"
    )  # fmt: skip
    assert (mono.same_lattice, mono.change_of_basis) == (True, "a+c, a-c, b")


def test_same_setting_differences_and_a_different_crystal() -> None:
    same = compare_cells((57.1, 102.19, 112.16, 90, 90, 90), (57.2, 102.0, 112.5, 90, 90, 90))
    assert same.same_lattice and same.change_of_basis is None
    assert [round(v, 2) for v in same.diff] == [0.1, -0.19, 0.34, 0.0, 0.0, 0.0]
    assert [round(v, 2) for v in same.diff_pct[:3]] == [0.18, -0.19, 0.3]
    swapped = compare_cells((57.1, 102.19, 112.16, 90, 90, 90), (102.19, 57.1, 112.16, 90, 90, 90))
    assert swapped.same_lattice and swapped.change_of_basis == "b, a, -c"
    # The NUDT5A crystal: xia2's 3dii-runP1 picked a cell that is not the others' lattice.
    other = compare_cells(
        (49.39, 59.83, 80.18, 79.36, 81.70, 75.76), (55.70, 68.01, 79.07, 76.12, 73.76, 69.82)
    )
    assert not other.same_lattice and round(other.max_reduced_diff_pct, 1) == 13.7


def test_xia2_directory_input() -> None:
    inp = read_input(str(RUN))
    assert (inp.kind, inp.program, inp.failed, inp.problems) == ("xia2", "xia2 0.3.6.3", None, [])
    assert (inp.space_group, inp.unit_cell) == ("C 2 2 21", (83.09, 96.79, 57.95, 90.0, 90.0, 90.0))
    assert (inp.wavelength, inp.n_sweeps, inp.n_images) == (0.92, 1, 1800)
    # xia2.txt's numbers, with CC½ (which 0.3.6.3 does not print) from the aimless log beside it.
    o = inp.reported.overall
    assert (o.r_merge, o.r_meas, o.r_pim, o.cc_half, o.i_over_sigma) == (
        0.048,
        0.057,
        0.022,
        0.999,
        19.3,
    )
    assert inp.reported.high.cc_half == 0.865
    assert inp.reported_from == "xia2.txt"
    assert len(inp.bins) == 20 and inp.bins["cc_half"][19] == 0.865
    assert not inp.can_recompute  # its unmerged data (DataFiles/) were not kept


def test_failed_xia2_run_and_missing_path_still_compared(tmp_path: Path) -> None:
    c = compare([str(RUN), str(FAILED), str(tmp_path / "nowhere")], recompute=False)
    run, failed, missing = c.inputs
    assert failed.failed == "error in indexing (xia2.error: RuntimeError: error in indexing)"
    assert failed.problems == [f"xia2 failed: {failed.failed}"]
    assert missing.problems == [f"{tmp_path / 'nowhere'}: no such file or directory"]
    assert run.reported is not None and failed.reported is None
    text = render_text(c)
    assert "[2] xia2 failed: error in indexing" in text
    assert "Rmerge" in text and "0.048*" not in text  # one input with numbers: nothing to mark


def test_marks_better_values_and_not_ties() -> None:
    """DIALS+aimless against XDS+aimless on one crystal (xchem), both merged by aimless 0.7.1."""
    log = XCHEM / "dials-run.aimless.log"
    c = build([read_input(str(log)), read_input(str(log))])
    assert c.best("overall", "cc_half") is None  # identical: a tie, no mark
    c = compare([str(log), str(XCHEM / "3dii-runP1.aimless.log")], recompute=False)
    assert c.best("overall", "cc_half") == 0  # 0.995 against -0.017
    assert c.best("overall", "completeness") == 0  # 96.4 against 44.6
    assert c.best("overall", "r_meas") == 0  # 0.074 against 11.424
    assert c.best("high", "r_meas") == 0  # 0.788; aimless's -2446.895 is no signal, not "low"
    assert c.best("overall", "n_obs") is None  # counts are not better or worse
    warn = c.input_warnings[1]
    assert warn == [
        "aimless-0.7.1_xchem/3dii-runP1.aimless.log: cell differs from "
        "aimless-0.7.1_xchem/dials-run.aimless.log's by 13.7% (reduced cells): not the same "
        "crystal? (compared anyway)"
    ]


def test_json_keys_and_values() -> None:
    c = compare(
        [str(RUN), str(DATA / "aimless-0.7.2_xdsme" / "splTsm_2_aimless.xml")], recompute=False
    )
    doc = to_json(c)
    assert list(doc) == ["inputs"]
    a, b = doc["inputs"]
    assert (a["kind"], b["kind"]) == ("xia2", "aimless")
    assert a["path"] == str(RUN) and a["space_group"] == "C 2 2 21"
    assert a["unit_cell"] == [83.09, 96.79, 57.95, 90.0, 90.0, 90.0] and a["wavelength"] == 0.92
    for shell in ("overall", "low", "high"):
        assert SUMMARY_KEYS <= set(a[shell])
        assert {"r_merge_anom", "r_meas_anom", "r_pim_anom"} <= set(a[shell])
    assert a["overall"]["r_meas"] == 0.057 and a["overall"]["r_meas_anom"] == 0.056
    assert b["overall"]["r_merge"] == 0.258 and b["overall"]["r_merge_anom"] == 0.239
    assert b["high"]["cc_half"] == 0.457 and b["wavelength"] == 0.91942
    assert "recomputed" not in a  # nothing to recompute from
    assert b["warnings"][0] == (
        "different space groups: xia2-0.3.6.3_3daii-run C 2 2 21, "
        "aimless-0.7.2_xdsme/splTsm_2_aimless.xml P 41 2 2"
    )
    assert b["cell_vs_first"]["same_lattice"] is False


def test_merged_and_truncated_mtz_said_plainly(tmp_path: Path) -> None:
    """A merged MTZ cannot be recomputed (said; its header still read); a cut one is named."""
    mtz = Path(__file__).resolve().parents[2] / "data" / "dials-3.12_thas_demo_mtz"
    merged = read_input(str(mtz / "merged_200.mtz"))
    assert merged.kind == "mtz" and not merged.can_recompute
    assert merged.problems[0].startswith(f"{mtz / 'merged_200.mtz'}: merged data (no BATCH column)")
    assert (merged.space_group, merged.wavelength) == ("P212121", 1.282)
    unmerged = read_input(str(mtz / "scaled_200.mtz"))
    assert unmerged.can_recompute and unmerged.problems == [] and unmerged.n_images == 36
    cut = tmp_path / "cut.mtz"
    cut.write_bytes((mtz / "merged_200.mtz").read_bytes()[:100])
    (problem,) = read_input(str(cut)).problems
    assert problem.startswith(f"{cut}: the MTZ file is truncated (its header should start at byte ")
    assert problem.endswith(", the file has 100 bytes). Export the data again.")


def test_directory_inputs_lists_archived_attempts(tmp_path: Path) -> None:
    for n in (1, 2):
        (tmp_path / "thas-tui" / "attempts" / f"scale.{n}").mkdir(parents=True)
    (tmp_path / "thas-tui" / "attempts" / "scale.1.1").mkdir()
    (tmp_path / "thas-tui" / "attempts" / "index.1").mkdir()
    assert directory_inputs(tmp_path) == [
        str(tmp_path),
        f"{tmp_path}@scale.1",
        f"{tmp_path}@scale.2",
    ]


def test_unknown_attempt_is_explained(tmp_path: Path) -> None:
    (tmp_path / "thas-tui" / "attempts" / "scale.1").mkdir(parents=True)
    inp = read_input(f"{tmp_path}@scale.7")
    assert inp.problems[0].startswith(f"{tmp_path}: no attempt 7 of scale (attempts: 1).")


def test_cli_text_json_and_exit_codes(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "thas_tui", "compare", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    ok = run(str(RUN), str(XCHEM / "dials-run.aimless.log"), "--json", "--no-recompute")
    assert ok.returncode == 0, ok.stderr
    doc = json.loads(ok.stdout)
    assert [i["kind"] for i in doc["inputs"]] == ["xia2", "aimless"]
    shutil.copy(FAILED / "xia2.txt", tmp_path / "xia2.txt")
    bad = run(str(RUN), str(tmp_path), "--no-recompute")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr + bad.stdout
    assert "[2] xia2 failed: error in indexing" in bad.stdout
    assert "Table 1 as reported" in bad.stdout

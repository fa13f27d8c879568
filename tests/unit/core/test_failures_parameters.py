"""A PHIL parameter DIALS does not know, or knows several of: said as such, not as bad data."""

from __future__ import annotations

from pathlib import Path

from thas_tui.core.failures import classify

FAILURES = Path(__file__).resolve().parents[2] / "data" / "dials-3.12_l_cysteine_logs" / "failures"


def _lines(name: str) -> list[str]:
    return (FAILURES / name).read_text().splitlines()


def test_unknown_parameter() -> None:
    f = classify("dials.index", 1, _lines("index_unknown_parameter.stdout"))
    assert f is not None and f.kind == "parameter"
    assert f.reason == "dials.index stopped: Unknown command line parameter definition: bar = 3"
    assert "dials.index -c -e 2" in f.hint and "Edit & re-run" in f.hint
    # Not the indexing advice (more spots, a known cell), which fits data that will not index.
    assert "max_cell" not in f.hint


def test_ambiguous_parameter_lists_dials_best_matches() -> None:
    f = classify("/usr/bin/dials.index", 1, _lines("index_ambiguous_parameter.stdout"))
    assert f is not None and f.kind == "parameter"
    assert f.reason.endswith("Ambiguous parameter definition: d_min = 3")
    assert f.detail == [
        "Best matches:",
        "  indexing.fft3d.reciprocal_space_grid.d_min",
        "  indexing.low_res_spot_match.candidate_spots.d_min",
    ]


def test_other_sorry_keeps_the_stage_advice() -> None:
    f = classify("dials.index", 1, ["Sorry: No suitable lattice could be found."])
    assert f is not None and f.kind == "sorry" and "max_cell" in f.hint

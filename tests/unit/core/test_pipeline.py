"""Pipeline order, resume point and invalidation of downstream stages."""

from __future__ import annotations

from thas_tui.core.pipeline import DEMO_STAGE_NAMES, STAGE_NAMES, Pipeline, State


def test_tutorial_order() -> None:
    assert STAGE_NAMES == (
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
    assert DEMO_STAGE_NAMES[0] == "simulate"


def test_first_unfinished_and_invalidation() -> None:
    p = Pipeline()
    for name in ("import", "find_spots", "index", "refine_bravais_settings"):
        p[name].state = State.DONE
    assert p.first_unfinished().name == "reindex"
    marked = p.invalidate_downstream("import")
    assert marked == ["find_spots", "index", "refine_bravais_settings"]
    assert p["import"].state is State.DONE
    assert p["find_spots"].state is State.STALE
    assert p["reindex"].state is State.PENDING
    assert p.first_unfinished().name == "find_spots"


def test_elapsed() -> None:
    p = Pipeline()
    run = p["index"]
    assert run.elapsed(100.0) is None
    run.started = 90.0
    assert run.elapsed(100.0) == 10.0
    run.ended = 95.0
    assert run.elapsed(100.0) == 5.0

"""Several sweeps in one run: the stage tree's results count them (real 4-sweep L-cysteine files)."""

from __future__ import annotations

from pathlib import Path

from thas_tui.core.readers import refl
from thas_tui.core.stage_info import key_result, sweeps_not_indexed

FOUR = Path(__file__).resolve().parents[1] / "data" / "dials-3.12_l_cysteine"


def test_import_counts_sweeps_then_images() -> None:
    assert key_result("import", FOUR) == "4 sweeps, 60 images, λ 0.6889 Å"


def test_index_says_every_sweep_indexed() -> None:
    # 129 of 160 spots indexed (README), every sweep has indexed spots (ids 0-3).
    assert key_result("index", FOUR).endswith(", 81% indexed, all 4 sweeps")
    table = refl.read_refl(FOUR / "indexed.refl", columns=("id", "imageset_id"))
    assert sweeps_not_indexed(FOUR, table) == (4, [])

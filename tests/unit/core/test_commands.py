"""Stage argv building and PHIL validation."""

from __future__ import annotations

import pytest

from thas_tui.core.commands import BadParameter, RunConfig, stage_argv, validate_phil
from thas_tui.core.errors import ThasError
from thas_tui.core.pipeline import STAGE_NAMES


def test_tutorial_file_names_and_json_outputs() -> None:
    cfg = RunConfig(images=["/data/x_0001.cbf"], nproc=2)
    argv = {s: stage_argv(s, cfg, None, bravais_choice=5, cb_op="b,c,a") for s in STAGE_NAMES}
    assert argv["import"] == ["dials.import", "/data/x_0001.cbf"]
    assert argv["find_spots"][:2] == ["dials.find_spots", "imported.expt"]
    assert "nproc=2" in argv["find_spots"]
    assert argv["index"] == ["dials.index", "imported.expt", "strong.refl"]
    assert argv["refine_bravais_settings"][:3] == [
        "dials.refine_bravais_settings",
        "indexed.expt",
        "indexed.refl",
    ]
    assert argv["reindex"] == ["dials.reindex", "indexed.refl", "change_of_basis_op=b,c,a"]
    assert argv["refine"][:3] == ["dials.refine", "bravais_setting_5.expt", "reindexed.refl"]
    assert "output.history=refine_history.json" in argv["refine"]
    assert "output.report=integration_report.json" in argv["integrate"]
    assert argv["symmetry"] == ["dials.symmetry", "integrated.expt", "integrated.refl"]
    assert "output.json=dials.scale.json" in argv["scale"]
    assert argv["export"] == ["dials.export", "scaled.expt", "scaled.refl"]
    assert "output.json=dials.merge.json" in argv["merge"]


def test_program_path_is_used() -> None:
    cfg = RunConfig(images=["/d/a.cbf"])
    assert stage_argv("index", cfg, "/opt/dials/bin/dials.index")[0] == "/opt/dials/bin/dials.index"


def test_reindex_and_refine_need_a_choice() -> None:
    cfg = RunConfig(images=["/d/a.cbf"])
    with pytest.raises(ThasError):
        stage_argv("reindex", cfg)
    with pytest.raises(ThasError):
        stage_argv("refine", cfg)


def test_extra_phil_is_appended_after_validation() -> None:
    cfg = RunConfig(images=["/d/a.cbf"])
    cfg.set_extra("index", ["max_cell=150", " d_min = 2.0"])
    assert stage_argv("index", cfg)[-2:] == ["max_cell=150", "d_min=2.0"]


@pytest.mark.parametrize(
    "token",
    ["--help", "d_min", "x=--output=/etc/passwd", "1abc=2", "a b=1", "a=1\nb=2", "=3", "../x=1"],
)
def test_bad_phil_is_refused(token: str) -> None:
    with pytest.raises(BadParameter):
        validate_phil(token)


@pytest.mark.parametrize(
    "token",
    [
        "d_min=-1.5",
        "refinement.parameterisation.scan_varying=False",
        "unit_cell=57.1,102.2,112.2,90,90,90",
    ],
)
def test_good_phil_passes(token: str) -> None:
    assert validate_phil(token) == token


def test_simulate_argv_is_taken_as_is() -> None:
    cfg = RunConfig(simulate_argv=["/usr/bin/python3", "sim.py", "--preset", "demo"])
    assert stage_argv("simulate", cfg) == cfg.simulate_argv

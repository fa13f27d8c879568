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


def test_rmsds_one_row_per_experiment(tmp_path: Path) -> None:
    from thas_tui.core import panel_data

    for name in ("dials.index.log", "dials.refine.log"):
        (tmp_path / name).write_bytes((FOUR / "logs" / name).read_bytes())
    rows = panel_data.rmsds(tmp_path).rows
    assert rows[-4:] == [
        ("refine scan-varying · expt 0", 30, 0.16802, 0.16735, 0.37754),
        ("refine scan-varying · expt 1", 19, 0.24071, 0.62822, 0.37659),
        ("refine scan-varying · expt 2", 17, 0.16697, 0.20793, 0.32276),
        ("refine scan-varying · expt 3", 14, 0.54895, 0.87997, 0.60223),
    ]
    assert rows[-5] == ("index cycle 5 · expt 3", 17, 0.74349, 0.77654, 2.9048)


def test_scan_varying_cell_per_experiment() -> None:
    from thas_tui.core import panel_data

    model = panel_data.cell_model(FOUR)
    assert model is not None and len(model.experiments) == 4
    # refined.expt: 16 scan points per crystal (15 images each), README of the fixture.
    assert [len(m.images) for m in model.experiments] == [16, 16, 16, 16]
    assert [m.label for m in model.experiments] == [
        f"experiment {i} of 4 (l-cyst_0{i}_#####.cbf.gz)" for i in (1, 2, 3, 4)
    ]
    assert model.experiments[0] is model and model.images[0] == 1.0 and model.images[-1] == 16.0


def test_integration_per_sweep(tmp_path: Path) -> None:
    import shutil

    from thas_tui.core import panel_data

    for name in ("integrated.expt", "integrated.refl"):
        shutil.copy(FOUR / name, tmp_path / name)
    shutil.copy(FOUR / "logs" / "dials.integrate.log", tmp_path / "dials.integrate.log")
    data = panel_data.integration(tmp_path)
    assert data is not None and len(data.per_sweep) == 4
    # "Summary for experiment 0" of the real log: 71 by summation, 43 profile-fitted.
    assert data.per_sweep[0] == (1, 71, 43, 21.12, 33.95)
    assert [row[0] for row in data.per_sweep] == [1, 2, 3, 4]
    # Resolution shells: the first experiment's 20, not the four tables run together.
    assert len(data.bins) == 20 and data.bins[0][1] == 0.6


def test_live_strong_pixels_follow_the_imageset_under_way() -> None:
    from thas_tui.core.panel_data import LiveStrongPixels

    lines = (FOUR / "logs" / "dials.find_spots.log").read_text().splitlines()
    live = LiveStrongPixels()
    live.set_ranges([(1, 15)] * 4)
    first_of_2 = lines.index("Finding strong spots in imageset 1")
    live.feed(lines[:first_of_2])
    spots = live.spots()
    assert spots is not None and spots.label == "sweep 1 of 4"
    assert spots.counts[0] == 89 and spots.counts[-1] == 213  # imageset 0: images 1 and 15
    live.feed(lines[first_of_2:])  # imagesets 1-3 in one batch: the last one is shown
    spots = live.spots()
    assert spots is not None and spots.label == "sweep 4 of 4"
    assert spots.counts[0] == 117 and spots.counts[-1] == 156 and len(spots.counts) == 15

"""The lattice view's numpy mapping against DIALS's own (centroid_px_to_mm + map_centroids_to_reciprocal_space)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from thas_tui.core.dials_env import locate_dials
from thas_tui.core.readers import refl
from thas_tui.core.readers.expt import read_expt
from thas_tui.core.reciprocal import REFL_COLUMNS, lattice_from

pytestmark = pytest.mark.integration

DATA = Path(__file__).parents[1] / "data"
DEMO = DATA / "dials-3.12_thas_demo_lattice"
L_CYS = DATA / "dials-3.12_l_cysteine"
QUARTZ = DATA / "dials-3.12_quartz"

# Runs under DIALS's Python: one process for every case (its start-up is most of the cost).
DIALS_SCRIPT = """
import json, sys
import numpy as np
from dxtbx.model.experiment_list import ExperimentListFactory
from dials.array_family import flex
out = {}
for name, expt, refl_path, npy in json.loads(sys.argv[1]):
    expts = ExperimentListFactory.from_json_file(expt, check_format=False)
    t = flex.reflection_table.from_file(refl_path)
    n_indexed = t.get_flags(t.flags.indexed).count(True)
    t.centroid_px_to_mm(expts)
    t.map_centroids_to_reciprocal_space(expts)
    np.save(npy, t["rlp"].as_numpy_array())
    out[name] = {"rows": len(t), "indexed": n_indexed}
print(json.dumps(out))
"""

CASES = {
    "demo strong": (DEMO / "imported.expt", DEMO / "strong.refl", "strong"),
    "demo indexed": (DEMO / "indexed.expt", DEMO / "indexed.refl", "indexed"),
    "L-cysteine strong (multi-axis)": (L_CYS / "imported.expt", L_CYS / "strong.refl", "strong"),
    "L-cysteine indexed (multi-axis)": (L_CYS / "indexed.expt", L_CYS / "indexed.refl", "indexed"),
    "quartz strong (hierarchy)": (QUARTZ / "imported.expt", QUARTZ / "strong.refl", "strong"),
    "quartz indexed (hierarchy)": (QUARTZ / "indexed.expt", QUARTZ / "indexed.refl", "indexed"),
    "demo as stills": (None, DEMO / "strong.refl", "strong"),
}


def _stills_expt(path: Path) -> Path:
    """The demo's imported.expt with its goniometer and scan taken away: a stills imageset."""
    d = json.loads((DEMO / "imported.expt").read_text())
    for e in d["experiment"]:
        e.pop("goniometer", None)
        e.pop("scan", None)
    d["goniometer"], d["scan"] = [], []
    iset = d["imageset"][0]
    template = iset.pop("template")
    iset["__id__"] = "ImageSet"
    iset["images"] = [template.replace("#####", f"{i:05d}") for i in range(1, 37)]
    path.write_text(json.dumps(d))
    return path


@pytest.fixture(scope="module")
def dials_rlp(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[np.ndarray, dict]]:
    tmp = tmp_path_factory.mktemp("rlp")
    cases = []
    for name, (expt, refl_path, _) in CASES.items():
        expt = expt or _stills_expt(tmp / "stills.expt")
        cases.append((name, str(expt), str(refl_path), str(tmp / f"{len(cases)}.npy")))
    res = subprocess.run(
        [locate_dials().python, "-c", DIALS_SCRIPT, json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    counts = json.loads(res.stdout.strip().splitlines()[-1])
    return {name: (np.load(npy), counts[name]) for name, _, _, npy in cases}


@pytest.mark.parametrize("name", list(CASES))
def test_rlp_agrees_with_dials(dials_rlp, tmp_path: Path, name: str) -> None:
    expt, refl_path, source = CASES[name]
    expt = expt or _stills_expt(tmp_path / "stills.expt")
    lat = lattice_from(refl.read_refl(refl_path, columns=REFL_COLUMNS), read_expt(expt), source)
    ref, counts = dials_rlp[name]
    assert lat.rlp.shape == ref.shape
    assert np.abs(lat.rlp - ref).max() < 1e-6
    # Far tighter in fact: the same floating-point steps in the same order.
    assert np.abs(lat.rlp - ref).max() < 1e-13
    # The legend's counts are the file's own.
    assert len(lat.rlp) == counts["rows"] == lat.n_rows
    if source == "indexed":
        assert lat.n_indexed == counts["indexed"]
        assert lat.n_unindexed == counts["rows"] - counts["indexed"]
    assert lat.still == (name == "demo as stills")


def test_legend_counts_of_the_demo(dials_rlp) -> None:
    lat = lattice_from(
        refl.read_refl(DEMO / "indexed.refl", columns=REFL_COLUMNS),
        read_expt(DEMO / "indexed.expt"),
        "indexed",
    )
    _, counts = dials_rlp["demo indexed"]
    assert counts == {"rows": 28223, "indexed": 26758}
    assert lat.legend() == "28,223 spots · 26,758 indexed · 1,465 unindexed"

"""The Mask stage on real DIALS: the tutorial's commands typed in a shell give the same mask and
spots; the numpy mask equals dials.generate_mask's pixels.mask; bad masks and edits are shown."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from thas_tui.core.dials_env import find_dials
from thas_tui.core.errors import ThasError
from thas_tui.core.mask_spec import MaskSpec, mask_array
from thas_tui.core.pipeline import State
from thas_tui.core.readers.refl import read_refl
from thas_tui.core.rundir import read_rundir

pytestmark = pytest.mark.integration

ARRAYS = Path(__file__).with_name("dials_mask_arrays.py")

# The L-cysteine Pilatus 2M (1475x1679, beam at x 193, y 865): the backstop and its arm, a
# polygon and a triangle on the detector, and a border.
MASK = """\
border = 3
untrusted {
  circle = 193 865 40
}
untrusted {
  rectangle = 0 193 855 876
}
untrusted {
  polygon = 900 100 1100 150 1050 400 880 380
}
untrusted {
  polygon = 300 1300 500 1300 400 1500 300 1300
}
"""


def _dials_python() -> str:
    try:
        return find_dials().python
    except ThasError:
        pytest.skip("DIALS is not installed")


def _run(argv: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{argv}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def _dials_arrays(mode: str, cwd: Path, *inputs: Path) -> dict[str, np.ndarray]:
    """DIALS's masks (and d map) as numpy, converted in one run of DIALS's Python."""
    out = cwd / f"{mode}.npz"
    _run([_dials_python(), str(ARRAYS), mode, str(out), *map(str, inputs)], cwd)
    with np.load(out) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def images(l_cysteine_sweep1: list[str]) -> list[str]:
    return l_cysteine_sweep1[:3]


@pytest.fixture(scope="module")
def thas_run(images, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """thas-tui run IMAGES --mask mask.phil, headless, to find_spots."""
    root = tmp_path_factory.mktemp("thas")
    (root / "backstop.phil").write_text(MASK)
    proc = root / "proc"
    res = subprocess.run(
        [sys.executable, "-m", "thas_tui", "run", *images, "--mask", str(root / "backstop.phil")]
        + ["--dir", str(proc), "--no-tui", "--until", "find_spots", "--nproc", "2"],
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    return proc, res


@pytest.fixture(scope="module")
def shell_run(images, tmp_path_factory) -> Path:
    """The same, typed as the tutorial types it."""
    work = tmp_path_factory.mktemp("shell")
    (work / "mask.phil").write_text(MASK)
    _run(["dials.import", *images], work)
    _run(["dials.generate_mask", "imported.expt", "mask.phil"], work)
    _run(["dials.apply_mask", "imported.expt", "mask=pixels.mask"], work)
    _run(["dials.find_spots", "masked.expt", "nproc=2"], work)
    return work


def test_headless_mask_run_prints_and_journals_both_commands(thas_run) -> None:
    proc, res = thas_run
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert (proc / "mask.phil").read_text() == MASK
    start = next(ln for ln in res.stdout.splitlines() if "start  mask" in ln)
    assert start.endswith(
        "dials.generate_mask imported.expt mask.phil && "
        f"{shutil.which('dials.apply_mask')} imported.expt mask=pixels.mask"
    )
    assert "/dials.find_spots masked.expt nproc=2" in res.stdout
    log = (proc / "thas-tui" / "logs" / "mask.1.log").read_text().splitlines()
    assert log[0] == "$ dials.generate_mask imported.expt mask.phil"
    assert "$ dials.apply_mask imported.expt mask=pixels.mask" in log
    assert log[-1] == "Writing experiments to masked.expt"
    rd = read_rundir(proc)
    assert list(rd.stages)[:3] == ["import", "mask", "find_spots"]
    assert [rd.stages[n].state for n in ("import", "mask", "find_spots")] == [State.DONE] * 3


def test_same_mask_and_spots_as_the_commands_typed_in_a_shell(thas_run, shell_run) -> None:
    proc, res = thas_run
    assert res.returncode == 0, res.stdout[-3000:]
    got = _dials_arrays(
        "arrays",
        proc,
        proc / "masked.expt",
        shell_run / "masked.expt",
        proc / "imported.expt",
        proc / "pixels.mask",
    )
    ours, theirs, detector, pixels = (got[f"mask_{i}"] for i in range(4))
    assert str(got["filename_0"]) == str(proc / "pixels.mask")
    assert str(got["filename_1"]) == str(shell_run / "pixels.mask")
    assert np.array_equal(ours, theirs)
    # pixels.mask is the numpy mask of mask.phil, pixel for pixel; masked.expt applies it on
    # top of the detector's own mask (the Pilatus 2M's module gaps)
    drawn = mask_array(MaskSpec.from_phil(MASK), detector.shape)
    assert np.array_equal(pixels, drawn)
    assert np.array_equal(ours, detector & drawn)
    assert (int((~detector).sum()), int((~drawn).sum())) == (197_632, 97_301)
    n_ours = read_refl(proc / "strong.refl", columns=()).nrows
    n_theirs = read_refl(shell_run / "strong.refl", columns=()).nrows
    assert n_ours == n_theirs == 13
    # the mask acts on pixels: find_spots' strong pixels per image are the same too
    assert _strong_pixels(proc) == _strong_pixels(shell_run) == [89, 132, 107]


def _strong_pixels(work: Path) -> list[int]:
    log = (work / "dials.find_spots.log").read_text()
    return [int(n) for n in re.findall(r"^Found (\d+) strong pixels on image", log, re.M)]


def test_numpy_mask_equals_generate_mask_for_every_kind(thas_run, tmp_path) -> None:
    """Each kind against dials.generate_mask's own function (dials.util.masking.generate_mask,
    the one the command calls), on the L-cysteine geometry, in one DIALS process."""
    proc, res = thas_run
    assert res.returncode == 0, res.stdout[-3000:]
    specs = {
        "shapes": MaskSpec.from_phil(MASK),
        "resolution": MaskSpec.from_phil(
            "d_min = 0.9\nd_max = 8\nresolution_range = 2.6 2.4\nresolution_range = 1.5 1.52\n"
        ),
        "ice": MaskSpec(ice_rings=True),
    }
    for name, spec in specs.items():
        (tmp_path / f"{name}.phil").write_text(spec.to_phil())
    phils = [tmp_path / f"{name}.phil" for name in specs]
    got = _dials_arrays("generate", tmp_path, proc / "imported.expt", *phils)
    masked = {}
    for i, (name, spec) in enumerate(specs.items()):
        dials = got[f"mask_{i}"]
        ours = mask_array(spec, dials.shape, d_map=got["d_map"], ice_d_min=float(got["corners"]))
        assert np.array_equal(ours, dials), f"{name}: {(ours != dials).sum()} pixels differ"
        masked[name] = int((~dials).sum())
    assert masked == {"shapes": 97_301, "resolution": 1_137_410, "ice": 232_430}


def test_a_bad_mask_shows_generate_masks_message(thas_run, tmp_path) -> None:
    """A mask.phil saved into an imported directory, then resumed: DIALS refuses it."""
    proc, res = thas_run
    assert res.returncode == 0, res.stdout[-3000:]
    work = tmp_path / "proc"
    work.mkdir()
    shutil.copy(proc / "imported.expt", work / "imported.expt")
    (work / "mask.phil").write_text("untrusted {\n  rectangle = 1400 1500 0 10\n}\n")
    res = subprocess.run(
        [sys.executable, "-m", "thas_tui", "resume", str(work), "--auto-bravais"],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode != 0
    assert f"resuming {work} at mask" in res.stdout
    assert (
        "dials.generate_mask refused mask.phil: dxtbx Internal Error: "
        "./dxtbx/src/dxtbx/masking/masking.h(44): DXTBX_ASSERT(x1 <= width) failure."
    ) in res.stdout
    assert (
        "In mask.phil: Untrusted region 1 (rectangle 1400 1500 0 10) passes the panel's edge "
        "(the panel is 1475×1679 pixels): x1 must be ≤ 1475, y1 ≤ 1679."
    ) in res.stdout
    assert "Traceback" not in res.stdout + res.stderr
    assert not (work / "strong.refl").exists() and not (work / "masked.expt").exists()
    assert read_rundir(work).stages["mask"].state is State.FAILED


def test_changing_the_mask_marks_find_spots_and_after_stale(thas_run, tmp_path, thas_summary):
    proc, res = thas_run
    assert res.returncode == 0, res.stdout[-3000:]
    copy = tmp_path / "proc"
    shutil.copytree(proc, copy)
    summary = thas_summary(copy)
    assert summary["stages"]["mask"]["state"] == "done"
    assert summary["stages"]["mask"]["key_result"] == (
        "97,301 px masked: 1 circle, 1 rectangle, 2 polygons, border 3"
    )
    (copy / "mask.phil").write_text(MASK + "border = 5\n")
    later = time.time() + 10
    os.utime(copy / "mask.phil", (later, later))
    rd = read_rundir(copy)
    assert rd.stages["mask"].state is State.STALE
    assert rd.stages["find_spots"].state is State.STALE
    assert rd.stages["find_spots"].note == "upstream mask is stale"
    assert thas_summary(copy)["stages"]["find_spots"]["state"] == "stale"

"""The EIGER demo (an NXmx master file and data files) on real DIALS, and bad master files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from thas_cli import thas

from thas_tui.core import demo, master_check, stage_info
from thas_tui.core.dials_env import locate_dials
from thas_tui.core.readers import refl
from thas_tui.core.readers.expt import read_expt

pytestmark = pytest.mark.integration

TRUE_CELL = (57.10, 102.19, 112.16)
DATA = [f"thas_eiger_data_{i:06d}.h5" for i in (1, 2, 3)]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment whose demo cache holds the small EIGER sweep (generated once)."""
    root = tmp_path_factory.mktemp("eiger-cache")
    python = locate_dials().python  # h5py and dxtbx import only under DIALS's own Python
    env = {**os.environ, "XDG_CACHE_HOME": str(root), "PYTHONUNBUFFERED": "1"}
    out = root / "thas-tui" / "sweep"
    res = subprocess.run(
        demo.generation_argv(python, "eiger-small", out),
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    env["THAS_TEST_SWEEP"] = str(out)
    env["THAS_TEST_DIALS_PYTHON"] = python
    return env


def _thas(env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return thas(*args, "--no-tui", "--auto-bravais", timeout=timeout, env=env)


def _dials_python(env: dict[str, str], script: str, *args: str) -> str:
    res = subprocess.run(
        [env["THAS_TEST_DIALS_PYTHON"], "-c", textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout


def test_generated_geometry_reads_back_with_dxtbx(cache) -> None:
    sweep = Path(cache["THAS_TEST_SWEEP"])
    info = json.loads((sweep / "sweep_info.json").read_text())
    assert (info["detector"], info["n_images"], info["data_files"]) == ("EIGER X 1M", 24, DATA)
    out = _dials_python(
        cache,
        """
        import json, sys
        from dxtbx.model.experiment_list import ExperimentListFactory
        e = ExperimentListFactory.from_filenames([sys.argv[1]])[0]
        p = e.detector[0]
        mask = e.imageset.get_mask(0)[0]
        print(json.dumps({
            "format": e.imageset.get_format_class().__name__,
            "images": len(e.imageset),
            "centre": p.get_beam_centre_px(e.beam.get_s0()),
            "distance": p.get_distance(),
            "size": p.get_image_size(),
            "pixel": p.get_pixel_size(),
            "wavelength": e.beam.get_wavelength(),
            "axis": e.goniometer.get_rotation_axis(),
            "oscillation": e.scan.get_oscillation(),
            "masked": mask.count(False),
            "first_sum": sum(e.imageset.get_raw_data(0)[0]),
        }))
        """,
        str(sweep / "thas_eiger_master.h5"),
    )
    got = json.loads(out)
    assert got["format"] == "FormatNXmx"
    assert got["images"] == 24
    assert got["centre"] == pytest.approx(info["beam_centre_px"], abs=1e-6)
    assert got["centre"] == pytest.approx([502.7, 550.1], abs=1e-6)
    assert got["distance"] == pytest.approx(130.0)
    assert got["size"] == [1030, 1065] and got["pixel"] == [0.075, 0.075]
    assert got["wavelength"] == pytest.approx(0.9763)
    assert got["axis"] == [1.0, 0.0, 0.0]
    assert got["oscillation"] == [0.0, 1.0]
    assert got["masked"] == 37 * 1030  # the gap between the two modules, from pixel_mask
    assert got["first_sum"] > 0


@pytest.fixture(scope="module")
def eiger_run(cache, tmp_path_factory: pytest.TempPathFactory):
    proc = tmp_path_factory.mktemp("eiger-run") / "proc"
    master = Path(cache["THAS_TEST_SWEEP"]) / "thas_eiger_master.h5"
    t0 = time.monotonic()
    res = _thas(cache, "run", str(master), "--dir", str(proc))
    return proc, res, time.monotonic() - t0


def test_master_file_runs_through_merge(eiger_run) -> None:
    proc, res, _ = eiger_run
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "Traceback" not in res.stdout + res.stderr
    assert re.search(r"done\s+import\s+.*24 images, λ 0\.9763 Å", res.stdout)
    # Live progress from the image numbers: a master file names no images.
    assert re.search(r"find_spots\s+Done 24/24", res.stdout)
    assert refl.count(proc / "strong.refl") == 11281
    crystal = read_expt(proc / "refined.expt").experiments[0].crystal
    assert crystal.unit_cell.parameters[:3] == pytest.approx(TRUE_CELL, rel=3e-3)
    for name in ("integrated.refl", "scaled.mtz", "merged.mtz"):
        assert (proc / name).stat().st_size > 0


def test_header_reads_detector_and_image_count(eiger_run) -> None:
    proc, res, _ = eiger_run
    assert res.returncode == 0, res.stdout[-4000:]
    (report,) = master_check.load(proc)
    assert (report.detector, report.n_images, report.frames) == (
        "Dectris EIGER X 1M (simulated)",
        24,
        24,
    )
    assert report.data_files == DATA
    assert report.filters == [{"id": 1, "name": "gzip", "package": None}]
    assert stage_info.dataset_label(proc) == (
        "thas_eiger_master.h5 · 24 images · EIGER X 1M (simulated) · λ 0.9763 Å · "
        "1030×1065 px at 130 mm"
    )


def _copy_sweep(cache, dest: Path, files=("thas_eiger_master.h5", *DATA)) -> Path:
    dest.mkdir()
    for name in files:
        shutil.copy(Path(cache["THAS_TEST_SWEEP"]) / name, dest / name)
    return dest / "thas_eiger_master.h5"


def _refused(cache, master: Path, tmp_path: Path, env=None) -> str:
    """Run on a bad master file: it must stop at import, before DIALS, without a traceback."""
    res = _thas(env or cache, "run", str(master), "--dir", str(tmp_path / "proc"), timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    assert "Traceback" not in out
    assert re.search(r"FAILED import", res.stdout)
    assert not (tmp_path / "proc" / "imported.expt").exists()
    return res.stderr


def test_missing_data_files_are_named(cache, tmp_path: Path) -> None:
    master = _copy_sweep(cache, tmp_path / "x", ("thas_eiger_master.h5", DATA[0]))
    err = _refused(cache, master, tmp_path)
    assert (
        f"thas_eiger_master.h5 names 2 data file(s) that are not in {master.parent}:\n"
        f"    {DATA[1]}\n    {DATA[2]}\n"
    ) in err


_REWRITE = """
    import sys, h5py, numpy as np
    path, frames, codec = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    shape = (frames, 1065, 1030)
    with h5py.File(path, "w") as f:
        if codec == "bitshuffle":
            # chunks declaring bitshuffle/LZ4 (filter 32008), as an EIGER writes them
            ds = f.create_dataset("entry/data/data", shape=shape, dtype="uint32",
                chunks=(1, 1065, 1030), compression=32008, compression_opts=(0, 2),
                allow_unknown_filter=True)
            for k in range(frames):
                ds.id.write_direct_chunk((k, 0, 0), bytes(64))
        else:
            f.create_dataset("entry/data/data", data=np.zeros(shape, "uint32"),
                chunks=(1, 1065, 1030), compression="gzip")
"""


def _rewrite(env: dict[str, str], path: Path, frames: int, codec: str) -> None:
    _dials_python(env, _REWRITE, str(path), str(frames), codec)


def test_unloadable_compression_names_filter_and_package(cache, tmp_path: Path) -> None:
    master = _copy_sweep(cache, tmp_path / "x", ("thas_eiger_master.h5",))
    for name, frames in zip(DATA, (10, 10, 4), strict=True):
        _rewrite(cache, master.parent / name, frames, "bitshuffle")
    err = _refused(cache, master, tmp_path)
    assert (
        f"{master.parent / DATA[0]} is compressed with bitshuffle/LZ4 (HDF5 filter 32008), "
        "which DIALS cannot decode here: "
    ) in err
    assert "Install the Debian package bitshuffle (apt-get install bitshuffle)" in err

    # A plugin folder that exists but lacks the filter: HDF5 says "not registered".
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    env = {**cache, "HDF5_PLUGIN_PATH": str(plugins)}
    (tmp_path / "proc").rename(tmp_path / "proc-1")
    err = _refused(cache, master, tmp_path, env)
    assert "which DIALS cannot decode here: no plugin for it is installed." in err


def test_truncated_data_file_is_still_being_written(cache, tmp_path: Path) -> None:
    master = _copy_sweep(cache, tmp_path / "x")
    data = master.parent / DATA[1]
    data.write_bytes(data.read_bytes()[:3_000_000])
    err = _refused(cache, master, tmp_path)
    assert (
        f"{data} is shorter than its HDF5 header says: it is still being written, or was "
        "copied incompletely."
    ) in err


def test_fewer_frames_than_omega_angles_is_still_being_written(cache, tmp_path: Path) -> None:
    master = _copy_sweep(cache, tmp_path / "x")
    _rewrite(cache, master.parent / DATA[2], 2, "gzip")
    err = _refused(cache, master, tmp_path)
    assert (
        "thas_eiger_master.h5 describes 24 images but its data files hold 22: the collection "
        "is still being written (or stopped early)."
    ) in err


def test_master_file_open_for_writing_is_refused(cache, tmp_path: Path) -> None:
    master = _copy_sweep(cache, tmp_path / "x")
    env = {k: v for k, v in cache.items() if k != "HDF5_USE_FILE_LOCKING"}
    writer = subprocess.Popen(
        [
            cache["THAS_TEST_DIALS_PYTHON"],
            "-c",
            "import sys, h5py, time\n"
            "f = h5py.File(sys.argv[1], 'a')\nprint('open', flush=True)\ntime.sleep(120)",
            str(master),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert writer.stdout.readline().strip() == "open"
        err = _refused(cache, master, tmp_path, env)
    finally:
        writer.kill()
        writer.wait()
    assert (
        f"{master} is open for writing by another program (its HDF5 file lock is held): "
        "the collection or copy is still going on."
    ) in err


def test_a_data_file_given_instead_of_the_master(cache, tmp_path: Path) -> None:
    data = Path(cache["THAS_TEST_SWEEP"]) / DATA[0]
    err = _refused(cache, data, tmp_path)
    assert f"{data} is an EIGER data file" in err
    assert "Give its master file (NAME_master.h5) instead" in err

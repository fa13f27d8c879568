"""`thas-tui session --run-arg=--executor=slurm`: a dataset of the session processed as jobs of the
real single-node Slurm (the session's `slurm_cluster` fixture) on real DIALS."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from thas_cli import thas

from thas_tui.core import demo
from thas_tui.core.dials_env import find_dials
from thas_tui.core.journal import Journal

pytestmark = pytest.mark.integration

PRESET = "small"  # 24 images; the local run of it: P 2 2 21 (test_slurm_cluster.py)


@pytest.fixture(scope="module")
def small_images() -> list[Path]:
    if not demo.is_cached(PRESET):
        argv = demo.generation_argv(find_dials(None).python, PRESET)
        subprocess.run(argv, check=True, capture_output=True, timeout=900)
    return demo.image_paths(PRESET)


def test_session_dataset_processed_through_slurm(
    slurm_cluster, small_images: list[Path], tmp_path: Path, thas_summary
) -> None:
    data, proc = tmp_path / "visit", tmp_path / "proc"
    data.mkdir()
    # A sweep collected an hour ago: complete on disk, queued as soon as it is found.
    old = time.time() - 3600
    for i, src in enumerate(small_images, start=1):
        dest = data / f"xtal1_1_{i:05d}.cbf"
        shutil.copyfile(src, dest)
        os.utime(dest, (old, old))
    res = subprocess.run(
        [sys.executable, "-m", "thas_tui", "session", str(data), "--proc", str(proc)]
        + ["--no-tui", "--no-live-spots", "--exit-when-done", "--nproc", "2"]
        + ["--run-arg=--executor=slurm"],
        capture_output=True,
        text=True,
        timeout=1800,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "xtal1_1: processing 24 images" in res.stdout
    summary = thas("session", str(data), "--proc", str(proc), "--summary", "--json", timeout=300)
    assert summary.returncode == 0, summary.stderr
    (row,) = json.loads(summary.stdout)["datasets"]
    assert row["name"] == "xtal1_1" and row["state"] == "done", row
    assert row["images"] == 24
    assert row["space_group"] == "P 2 2 21"  # as the same sweep processed locally
    run_dir = proc / "xtal1_1"
    assert (run_dir / "merged.mtz").is_file()
    # Every stage ran as a Slurm job, and Slurm says each one completed.
    attempts = Journal(run_dir).attempts()
    stages = {a.stage for a in attempts}
    assert {"import", "find_spots", "index", "integrate", "scale", "merge"} <= stages
    for a in attempts:
        assert a.job_id, (a.stage, a)
        assert a.slurm_state == "COMPLETED", (a.stage, a.slurm_state)
    assert thas_summary(run_dir)["symmetry"]["space_group"] == "P 2 2 21"

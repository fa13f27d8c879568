"""Integration tests run real DIALS; they are skipped where DIALS is not installed."""

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

L_CYSTEINE = Path(__file__).resolve().parents[1] / "data" / "images" / "l_cysteine"


def pytest_collection_modifyitems(config, items):
    if shutil.which("dials.import"):
        return
    skip = pytest.mark.skip(reason="DIALS is not installed (dials.import not on PATH)")
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def l_cysteine_sweep1() -> list[str]:
    images = sorted(str(p) for p in L_CYSTEINE.glob("l-cyst_01_*.cbf.gz"))
    if len(images) != 15:
        pytest.skip(f"L-cysteine images not found in {L_CYSTEINE}")
    return images


@pytest.fixture(scope="session")
def thas_summary():
    """``thas-tui summary DIR --json`` of a processing directory, decoded."""

    def summary(proc_dir: Path) -> dict:
        res = thas("summary", str(proc_dir), "--json", timeout=120)
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)

    return summary


@pytest.fixture(scope="session")
def demo_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str], float]:
    """`thas-tui demo --no-tui --auto-bravais` once per session (its own cache: the sweep is
    generated too); shared by the demo and compare tests, which must not change its files.

    THAS_TEST_DEMO_DIR=DIR reuses a directory this same command finished earlier (for running
    one test file again without minutes of DIALS; the demo tests that read the run's output
    then have none to read)."""
    reuse = os.environ.get("THAS_TEST_DEMO_DIR")
    if reuse:
        done = subprocess.CompletedProcess(["thas-tui", "demo"], 0, "", "")
        return Path(reuse), done, 0.0
    root = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "XDG_CACHE_HOME": str(root / "cache"), "PYTHONUNBUFFERED": "1"}
    t0 = time.monotonic()
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "thas_tui",
            "demo",
            "--no-tui",
            "--auto-bravais",
            "--dir",
            str(root / "proc"),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    return root / "proc", res, time.monotonic() - t0


ROOT = Path(__file__).resolve().parents[2]
SLURM_SCRIPT = ROOT / "scripts" / "slurm-test-cluster.sh"


@pytest.fixture(scope="session")
def slurm_cluster() -> dict:
    """The single-node Slurm test cluster, installed (apt-get) and started by its script.

    Skips, with the script's one-line reason, only when it cannot run here (not root, no
    apt-get). Also submits, once, a `sleep` job with a 1-minute limit: it times out in the
    background of the session, and the TIMEOUT test reads it at the end."""
    res = subprocess.run(["bash", str(SLURM_SCRIPT)], capture_output=True, text=True, timeout=900)
    if res.returncode == 77:
        pytest.skip(res.stdout.strip().splitlines()[-1])
    assert res.returncode == 0, res.stdout + res.stderr
    out = subprocess.run(
        [
            "sbatch",
            "--parsable",
            "--job-name=thas-test.timeout",
            "--time=1",
            "--cpus-per-task=1",
            "--mem=50M",
            "--output=/dev/null",
            "--wrap=sleep 300",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return {"timeout_job": out.stdout.strip().split(";")[0]}


@pytest.fixture(scope="session")
def slurm_spots(slurm_cluster, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo sweep imported and spot-found through Slurm (`--until find_spots`):
    the Slurm tests copy it and go on from there."""
    proc = tmp_path_factory.mktemp("slurm") / "spots"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "thas_tui",
            "demo",
            "--preset",
            "small",
            "--no-tui",
            "--auto-bravais",
            "--nproc",
            "2",
            "--executor",
            "slurm",
            "--until",
            "find_spots",
            "--dir",
            str(proc),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    return proc

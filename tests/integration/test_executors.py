"""One Executor interface, two implementations: the same job through the local and the Slurm one;
peak memory of a real DIALS stage; the pre-submit checks of a Slurm chain."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from thas_cli import thas

from thas_tui.core.commands import RunConfig
from thas_tui.core.dials_env import find_dials
from thas_tui.core.executor import ExecutorSettings, JobState, Resources, make_executor
from thas_tui.core.journal import Journal
from thas_tui.core.orchestrator import Orchestrator
from thas_tui.core.pipeline import Pipeline

pytestmark = pytest.mark.integration

# Prints, holds 200 MiB (every page touched) for 8 s, prints, exits 3: long enough for the
# Slurm executor's sstat, which samples 2 s after the job is seen running, then every 5 s.
PROBE = (
    "import sys, time; print('holding', flush=True); a = bytearray(200 << 20); "
    "a[::4096] = b'x' * len(a[::4096]); time.sleep(8); print('done', flush=True); sys.exit(3)"
)
SLEEPER = "import time; print('sleeping', flush=True); time.sleep(120)"


def _executor(kind: str, request: pytest.FixtureRequest):
    if kind == "slurm":
        request.getfixturevalue("slurm_cluster")
    return make_executor(ExecutorSettings(kind, Resources(mem="600M", cpus=1)))


def _poll_until_ended(executor, job, every: float, limit: float = 180.0) -> list[JobState]:
    """Poll as the followers do (the Slurm one once a second: its whole budget)."""
    seen, deadline = [job.state], time.monotonic() + limit
    while job.state is not JobState.ENDED:
        assert time.monotonic() < deadline, f"{job} never ended"
        time.sleep(every)
        executor.poll([job])
        seen.append(job.state)
    return seen


@pytest.mark.parametrize("kind", ["local", "slurm"])
def test_one_interface_two_executors(kind: str, request, tmp_path: Path) -> None:
    executor = _executor(kind, request)
    log = tmp_path / "thas-tui" / "logs" / "probe.1.log"
    job = executor.start("integrate", 1, ["/usr/bin/python3", "-c", PROBE], log, tmp_path)
    assert job.job_id.isdigit() and executor.exit_status(job) is None
    seen = _poll_until_ended(executor, job, 0.1 if kind == "local" else 1.0)
    assert JobState.RUNNING in seen and seen[-1] is JobState.ENDED
    assert executor.exit_status(job) == 3 and not job.cancelled
    assert log.read_text().splitlines()[-2:] == ["holding", "done"]
    # 200 MiB of bytearray and the interpreter: the kernel's ru_maxrss here, sstat's MaxRSS
    # (slurmd's jobacct_gather/linux, no slurmdbd) there.
    peak = executor.peak_memory(job)
    assert peak is not None and 200 < peak < 240, peak
    if kind == "slurm":
        assert executor.accounting is True
        assert (
            (tmp_path / "thas-tui" / "jobs" / "integrate.1.sh")
            .read_text()
            .splitlines()[-1]
            .startswith("exec /usr/bin/python3 -c ")
        )


@pytest.mark.parametrize("kind", ["local", "slurm"])
def test_cancel_through_the_interface(kind: str, request, tmp_path: Path) -> None:
    executor = _executor(kind, request)
    log = tmp_path / "index.1.log"
    job = executor.start("index", 1, ["/usr/bin/python3", "-c", SLEEPER], log, tmp_path)
    deadline = time.monotonic() + 120
    while not (log.is_file() and "sleeping" in log.read_text()):
        assert time.monotonic() < deadline, "the sleeper never started"
        time.sleep(0.5)
        executor.poll([job])
    executor.cancel([job])
    _poll_until_ended(executor, job, 0.1 if kind == "local" else 1.0, limit=60)
    assert job.cancelled
    if kind == "local":
        assert executor.exit_status(job) == -15  # SIGTERM, its group's
    else:
        assert job.info.base_state == "CANCELLED"


def test_a_local_dials_stage_records_its_peak_memory(l_cysteine_sweep1, tmp_path: Path) -> None:
    """import and find_spots on 15 real L-cysteine images: each stage's peak in the journal."""
    config = RunConfig(images=l_cysteine_sweep1, nproc=2)
    orch = Orchestrator(
        tmp_path / "proc", config, find_dials(None), lambda e: None, None, Pipeline()
    )
    ok = asyncio.run(orch.run(stop_after="find_spots"))
    assert ok
    ends = {a.stage: a for a in Journal(tmp_path / "proc").attempts()}
    for stage in ("import", "find_spots"):
        peak = ends[stage].peak_rss_mb
        # A DIALS program under Python with cctbx loaded: tens to hundreds of MB, not GB.
        assert peak is not None and 80 < peak < 1500, (stage, peak)
        assert orch.pipeline[stage].peak_rss_mb == peak


def test_slurm_checks_the_master_file_before_submitting(slurm_cluster, tmp_path: Path) -> None:
    """A master file that is not HDF5: refused on this node, under DIALS's Python, no job sent."""
    master = tmp_path / "x_master.h5"
    master.write_bytes(b"not an HDF5 file\n" * 4)
    proc = tmp_path / "proc"
    res = thas("run", str(master), "--dir", str(proc), "--no-tui", "--auto-bravais")
    local = res.stdout + res.stderr
    res = thas(
        "run", str(master), "--dir", str(tmp_path / "sp"), "--no-tui", "--auto-bravais",
        "--executor", "slurm",
    )  # fmt: skip
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    assert f"{master} is not an HDF5 file (no HDF5 signature at its start)." in out
    assert f"{master} is not an HDF5 file" in local  # the same words as the local run
    assert "Traceback" not in out
    assert not (tmp_path / "sp" / "thas-tui" / "jobs").exists()
    assert Journal(tmp_path / "sp").open_slurm_jobs() == []


def test_slurm_stops_on_a_single_image_as_a_local_run_does(
    slurm_cluster, l_cysteine_sweep1, tmp_path: Path
) -> None:
    """One image: the import job runs; its end is checked (not a sweep) and the chain after it
    cancelled; a resume through Slurm stops before submitting anything (the check on this node)."""
    proc = tmp_path / "proc"
    args = ("--no-tui", "--auto-bravais", "--executor", "slurm", "--nproc", "1")
    res = thas("run", l_cysteine_sweep1[0], "--dir", str(proc), *args)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Not a rotation sweep: one image (0.1° wide)." in res.stdout
    assert "DIALS processes stills with dials.stills_process" in res.stdout
    journal = Journal(proc)
    attempts = {a.stage: a for a in journal.attempts()}
    assert attempts["import"].slurm_state == "COMPLETED"
    # Slurm starts find_spots the moment import ends; the follower learns of that end within
    # ~2 s (squeue, then scontrol) and cancels the chain there, so on one image find_spots may
    # have finished by then (seen in CI). index needs longer than that just to start Python, so
    # from index on every job is cancelled, running or pending.
    assert attempts["find_spots"].slurm_state in ("CANCELLED", "COMPLETED")
    if attempts["find_spots"].slurm_state == "CANCELLED":
        assert journal.cancelled_by(attempts["find_spots"].job_id) == (
            "thas-tui: import found no rotation sweep"
        )
    for stage in ("index", "integrate", "merge"):
        assert attempts[stage].slurm_state == "CANCELLED", stage
        assert journal.cancelled_by(attempts[stage].job_id) == (
            "thas-tui: import found no rotation sweep"
        )
    assert not (proc / "indexed.expt").exists()
    jobs = sorted((proc / "thas-tui" / "jobs").iterdir())
    again = thas("resume", str(proc), "--executor", "slurm", "--auto-bravais")
    assert again.returncode == 1 and "Not a rotation sweep" in again.stdout
    # Where the resume starts depends on the race above; it stops there either way.
    first = "index" if attempts["find_spots"].slurm_state == "COMPLETED" else "find_spots"
    assert f"stopped at {first}" in again.stdout, again.stdout
    assert sorted((proc / "thas-tui" / "jobs").iterdir()) == jobs  # nothing submitted

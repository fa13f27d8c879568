"""Stages as jobs of a real single-node Slurm (started by the session's fixture) on real DIALS."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from thas_cli import thas

from thas_tui.core.commands import RunConfig
from thas_tui.core.dials_env import find_dials
from thas_tui.core.executor import ExecutorSettings
from thas_tui.core.journal import Journal
from thas_tui.core.orchestrator import Orchestrator, StageFinished, StageStarted
from thas_tui.core.pipeline import State
from thas_tui.core.slurm import SlurmClient, explain_end, parse_scontrol
from thas_tui.core.watcher import pipeline_from_dir

pytestmark = pytest.mark.integration

# The small demo sweep through the local executor (benchmarks/bench_slurm.py's local run, and
# `thas-tui demo --preset small`): 12070 spots, space group P 2 2 21.
LOCAL_SPOTS = 12070
LOCAL_SPACE_GROUP = "P 2 2 21"


def copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def orchestrator(proc: Path, events: list, extra: dict | None = None) -> Orchestrator:
    """The core's run of ``proc`` through Slurm, its events collected in ``events``."""
    settings = Journal(proc).last_settings() or {}
    config = RunConfig(nproc=2, extra=extra or {})
    config.extra.update(
        {k: v for k, v in (settings.get("extra") or {}).items() if k not in config.extra}
    )
    pipeline, _ = pipeline_from_dir(proc)
    return Orchestrator(
        proc, config, find_dials(None), events.append, None, pipeline, ExecutorSettings("slurm")
    )


async def test_cancel_running_stage_and_its_dependants(slurm_spots: Path, tmp_path: Path):
    proc = copy_run(slurm_spots, tmp_path / "proc")
    events: list = []
    orch = orchestrator(proc, events)
    task = asyncio.create_task(orch.run(start="index", stop_after="refine_bravais_settings"))
    for _ in range(600):
        if any(isinstance(e, StageStarted) and e.stage == "index" for e in events):
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("index never started")
    jobs = {j.stage: j.job_id for j in orch.chain.jobs}
    await orch.cancel()
    ok = await asyncio.wait_for(task, 120)
    assert ok is False
    index, rbs = orch.pipeline["index"], orch.pipeline["refine_bravais_settings"]
    assert index.state is State.CANCELLED and rbs.state is State.CANCELLED
    assert index.error.startswith(f"Slurm job {jobs['index']} CANCELLED by ")
    assert "with thas-tui on" in index.error
    client = SlurmClient()
    for stage, job_id in jobs.items():
        info = client.show(job_id)
        assert info is not None and info.base_state == "CANCELLED", stage
    ends = {a.stage: a for a in Journal(proc).attempts() if a.stage in jobs}
    assert ends["index"].cancelled and ends["index"].slurm_state == "CANCELLED"


async def test_failed_stage_cancels_its_dependants(slurm_spots: Path, tmp_path: Path):
    """index on spots that cannot index (max_cell=5 Å): FAILED, and Slurm cancels the rest."""
    proc = copy_run(slurm_spots, tmp_path / "proc")
    events: list = []
    orch = orchestrator(proc, events, {"index": ["max_cell=5"]})
    ok = await asyncio.wait_for(orch.run(start="index", stop_after="reindex"), 600)
    assert ok is False
    finished = {e.stage: e for e in events if isinstance(e, StageFinished)}
    index = finished["index"]
    assert index.run.state is State.FAILED
    assert "No suitable lattice could be found" in index.failure.text()
    assert f"Slurm job {index.run.job_id} FAILED, exit 1" in index.failure.text()
    rbs = finished["refine_bravais_settings"].run
    assert rbs.state is State.CANCELLED
    assert rbs.error == (
        f"Slurm job {rbs.job_id} CANCELLED by Slurm: an earlier stage did not succeed "
        "(DependencyNeverSatisfied)"
    )
    assert orch.pipeline["reindex"].state is State.CANCELLED


def test_driver_killed_chain_reaches_merged_mtz_and_attach_follows(
    slurm_spots: Path, tmp_path: Path, thas_summary
):
    """index to merge submitted at once as afterok jobs; the headless driver SIGKILLed once
    they are queued. The chain goes on with no thas-tui anywhere (the Bravais choice made by
    the reindex job), an attached dashboard rebuilds the state from the journal, the logs and
    squeue, and the result is the local run's."""
    proc = copy_run(slurm_spots, tmp_path / "proc")
    driver = subprocess.Popen(
        [sys.executable, "-m", "thas_tui", "resume", str(proc), "--executor", "slurm"]
        + ["--auto-bravais"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    journal = Journal(proc)
    for _ in range(600):
        if len(journal.open_slurm_jobs()) == 9:
            break
        time.sleep(0.1)
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    assert [a.stage for a in journal.open_slurm_jobs()] == [
        "index",
        "refine_bravais_settings",
        "reindex",
        "refine",
        "integrate",
        "symmetry",
        "scale",
        "export",
        "merge",
    ]
    asyncio.run(_attach_until_done(proc))
    assert (proc / "merged.mtz").is_file()
    facts = thas_summary(proc)
    assert facts["find_spots"]["n_spots"] == LOCAL_SPOTS
    assert facts["symmetry"]["space_group"] == LOCAL_SPACE_GROUP
    assert facts["bravais_choice"] == {"solution": 5, "cb_op": "a,b,c"}
    attempts = {a.stage: a for a in journal.attempts()}
    for stage in ("import", "find_spots", "index", "reindex", "integrate", "merge"):
        a = attempts[stage]
        assert a.job_id and a.ended is not None and a.exit_code == 0, stage
        assert a.slurm_state == "COMPLETED" and a.node == attempts["import"].node, stage
        assert (proc / "thas-tui" / "jobs" / f"{stage}.1.sh").is_file()
    # Memory from sstat while the jobs ran (followed by the attached dashboard; no slurmdbd):
    # integrate, the longest stage, is always sampled; its DIALS process holds ~1 GB here.
    assert 300 < attempts["integrate"].peak_rss_mb < 4000
    # The choice was made by the reindex job, under DIALS's Python, and recorded by it.
    choices = [r for r in journal.records() if r.get("event") == "bravais_choice"]
    assert [(c["solution"], c["by"]) for c in choices] == [(5, "slurm job")]
    script = (proc / "thas-tui" / "jobs" / "integrate.1.sh").read_text().splitlines()
    assert script[-1] == (
        "exec /usr/bin/dials.integrate refined.expt refined.refl nproc=2 "
        "output.report=integration_report.json"
    )
    assert "--dependency=afterok:" in script[2] and "--cpus-per-task=2" in script[2]
    reasons = {(r["stage"], r["reason"]) for r in journal.records() if r.get("event") == "slurm"}
    assert ("merge", "Dependency") in reasons


async def _attach_until_done(proc: Path) -> None:
    from thas_tui.launch import attach_app
    from thas_tui.widgets.stage_tree import StageTree

    app = attach_app(proc, None)
    seen_running = None
    async with app.run_test(size=(160, 50)) as pilot:
        pipeline = app.dashboard.pipeline
        for _ in range(6000):
            await pilot.pause(0.2)
            for run in pipeline:
                if run.state is State.RUNNING and run.node:
                    seen_running = (run.name, run.queue_note)
            if pipeline["merge"].state in (State.DONE, State.FAILED, State.CANCELLED):
                break
        await pilot.pause(0.5)  # the last StageFinished drawn
        assert [r.name for r in pipeline if r.state is not State.DONE] == []
        assert seen_running is not None
        assert seen_running[1].startswith("running on ") and "CPUs), job " in seen_running[1]
        tree = app.dashboard.query_one(StageTree)
        assert tree.get_cell("refine_bravais_settings", "result").plain == "oP chosen (#5)"
        # (a ⚠ before it when the expert checks have a concern about the merged data)
        assert tree.get_cell("merge", "result").plain.endswith("merged.mtz (0.6 MB)")


def test_bad_slurm_requests_are_refused_with_slurms_words(slurm_cluster, tmp_path: Path):
    sweep = _small_images()
    res = thas(
        "run",
        *sweep[:2],
        "--dir",
        str(tmp_path / "a"),
        "--no-tui",
        "--executor",
        "slurm",
        "--partition",
        "nosuch",
        "--until",
        "import",
    )
    assert res.returncode == 2
    assert "Invalid partition name specified" in res.stderr
    assert "sinfo -s" in res.stderr and "Traceback" not in res.stderr
    res = thas(
        "run",
        *sweep[:2],
        "--dir",
        str(tmp_path / "b"),
        "--no-tui",
        "--executor",
        "slurm",
        "--cpus",
        "64",
        "--until",
        "import",
    )
    assert res.returncode == 2
    assert "More processors requested than permitted" in res.stderr
    assert "more CPUs or memory than any node" in res.stderr


def test_no_sbatch_suggests_the_local_executor(tmp_path: Path):
    # DIALS found through THAS_DIALS_DIR; Slurm's tools nowhere on PATH.
    env = {**os.environ, "PATH": str(tmp_path), "THAS_DIALS_DIR": "/usr/bin"}
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "thas_tui",
            "run",
            *_small_images()[:2],
            "--no-tui",
            "--executor",
            "slurm",
            "--dir",
            str(tmp_path / "p"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 2
    assert "sbatch is not installed here" in res.stderr
    assert "--executor local" in res.stderr


def test_timeout_state_from_a_real_timed_out_job(slurm_cluster):
    """The session's 1-minute `sleep 300` job: TIMEOUT, explained with its limit."""
    job = slurm_cluster["timeout_job"]
    deadline = time.monotonic() + 240
    info = None
    while time.monotonic() < deadline:
        out = subprocess.run(["scontrol", "show", "job", job], capture_output=True, text=True)
        info = parse_scontrol(out.stdout)
        if info is not None and info.finished:
            break
        time.sleep(2)
    assert info is not None and info.base_state == "TIMEOUT"
    assert info.reason == "TimeLimit" and info.time_limit == "00:01:00"
    assert explain_end(info) == (
        f"Slurm job {job} TIMEOUT: stopped at its time limit (00:01:00); "
        "ask for more (--time, or --slurm STAGE:time=...)"
    )


def _small_images() -> list[str]:
    from thas_tui.core import demo

    paths = demo.image_paths("small")
    if not paths or not demo.is_cached("small"):
        pytest.skip("the small demo sweep is not cached")
    return [str(p) for p in paths]


async def test_directory_not_on_a_shared_filesystem(slurm_cluster, tmp_path: Path):
    """The job waits behind a 2-CPU job; the directory vanishes before it starts, as
    one the compute node does not mount: Slurm's 0:53, explained."""
    blocker = subprocess.run(
        [
            "sbatch",
            "--parsable",
            "--cpus-per-task=2",
            "--mem=50M",
            "--output=/dev/null",
            "--job-name=thas-test.blocker",
            "--wrap=sleep 6",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    proc = tmp_path / "proc"
    events: list = []
    config = RunConfig(images=_small_images()[:2], nproc=2)
    from thas_tui.core.pipeline import Pipeline

    orch = Orchestrator(
        proc, config, find_dials(None), events.append, None, Pipeline(), ExecutorSettings("slurm")
    )
    task = asyncio.create_task(orch.run(stop_after="import"))
    from thas_tui.core.orchestrator import StageQueued

    for _ in range(300):
        # Queued behind the blocker: Resources, or Priority while the blocker itself waits.
        if any(isinstance(e, StageQueued) and e.stage == "import" for e in events):
            break
        await asyncio.sleep(0.1)
    else:
        task.cancel()
        pytest.fail(f"import never queued behind job {blocker}: {events}")
    proc.rename(tmp_path / "elsewhere")
    ok = await asyncio.wait_for(task, 120)
    assert ok is False
    run = orch.pipeline["import"]
    assert run.state is State.FAILED
    assert run.error.startswith(
        f"Slurm job {run.job_id} FAILED 0:53: the directory is not on a shared filesystem"
    )


async def test_chain_stops_for_the_users_bravais_choice(slurm_spots: Path, tmp_path: Path):
    """Without --auto-bravais the chain ends at refine_bravais_settings; the choice (here the
    user's pick of solution 4) submits the rest with that cb_op in the argv."""
    proc = copy_run(slurm_spots, tmp_path / "proc")
    events: list = []
    orch = orchestrator(proc, events)
    offered: list = []

    async def choose(solutions):
        offered.append([s.solution for s in solutions])
        assert [a.stage for a in Journal(proc).open_slurm_jobs()] == []  # nothing queued
        return 4

    orch.choose_bravais = choose
    ok = await asyncio.wait_for(orch.run(start="index", stop_after="reindex"), 900)
    assert ok is True
    assert offered == [[5, 4, 3, 2, 1]]
    script = (proc / "thas-tui" / "jobs" / "reindex.1.sh").read_text().splitlines()
    assert script[-1] == "exec /usr/bin/dials.reindex indexed.refl change_of_basis_op=-b,-a,-c"
    assert "--dependency" not in script[2]  # the first job of the second submission
    assert Journal(proc).last_choice() == (4, "-b,-a,-c")

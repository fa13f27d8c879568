"""Slurm's squeue/scontrol output (real, captured from the test cluster) parsed and explained."""

from __future__ import annotations

from pathlib import Path

import pytest

from thas_tui.core.slurm import (
    exit_code_of,
    explain_end,
    explain_pending,
    parse_scontrol,
    parse_size_mb,
    parse_squeue,
    parse_sstat,
    submit_rejected,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "slurm-22.05"


def scontrol(name: str):
    info = parse_scontrol((DATA / name).read_text())
    assert info is not None
    return info


def test_scontrol_timeout() -> None:
    info = scontrol("scontrol_timeout.txt")
    assert (info.job_id, info.state, info.reason) == ("1", "TIMEOUT", "TimeLimit")
    assert (info.exit_status, info.exit_signal) == (0, 15)
    assert (info.elapsed, info.time_limit, info.node, info.cpus) == (
        "00:01:26",
        "00:01:00",
        "vm",
        1,
    )
    assert info.finished
    assert explain_end(info) == (
        "Slurm job 1 TIMEOUT: stopped at its time limit (00:01:00); "
        "ask for more (--time, or --slurm STAGE:time=...)"
    )
    assert exit_code_of(info) == -15


def test_scontrol_completed_and_failed() -> None:
    ok = scontrol("scontrol_completed.txt")
    assert (ok.state, ok.exit_status, ok.exit_signal, ok.name) == ("COMPLETED", 0, 0, "ok")
    assert explain_end(ok) is None and exit_code_of(ok) == 0
    failed = scontrol("scontrol_failed_exit3.txt")
    assert (failed.state, failed.reason, failed.exit_status) == ("FAILED", "NonZeroExitCode", 3)
    assert explain_end(failed) == "Slurm job 3 FAILED, exit 3"
    assert exit_code_of(failed) == 3
    assert failed.work_dir == "/tmp/sl" and failed.std_out == "/tmp/sl/f.3.log"


def test_scontrol_cancelled() -> None:
    dep = scontrol("scontrol_dependency_never_satisfied.txt")
    assert (dep.state, dep.reason, dep.dependency) == (
        "CANCELLED",
        "DependencyNeverSatisfied",
        "afterok:3(failed)",
    )
    assert dep.node is None
    assert explain_end(dep) == (
        "Slurm job 4 CANCELLED by Slurm: an earlier stage did not succeed "
        "(DependencyNeverSatisfied)"
    )
    user = scontrol("scontrol_cancelled_running.txt")
    assert (user.state, user.exit_status, user.exit_signal) == ("CANCELLED", 0, 15)
    assert explain_end(user) == (
        "Slurm job 5 CANCELLED outside thas-tui (scancel, or an administrator)"
    )
    assert explain_end(user, "by ann with thas-tui on login1") == (
        "Slurm job 5 CANCELLED by ann with thas-tui on login1"
    )


def test_scontrol_launch_failure_is_the_shared_filesystem() -> None:
    info = scontrol("scontrol_launch_failure_0_53.txt")
    assert (info.state, info.reason, info.exit_status, info.exit_signal) == (
        "FAILED",
        "JobLaunchFailure",
        0,
        53,
    )
    text = explain_end(info)
    assert text.startswith("Slurm job 24 FAILED 0:53: the directory is not on a shared filesystem")


def test_scontrol_running_and_pending() -> None:
    run = scontrol("scontrol_running.txt")
    assert (run.state, run.node, run.cpus, run.exit_signal) == ("RUNNING", "vm", 2, 0)
    assert not run.finished
    pend = scontrol("scontrol_pending_resources.txt")
    assert (pend.state, pend.reason, pend.node, pend.cpus) == ("PENDING", "Resources", None, 2)


def test_squeue_live_and_finished() -> None:
    live = parse_squeue((DATA / "squeue_live.txt").read_text())
    assert sorted(live) == ["20", "21", "22", "23"]
    assert (live["20"].state, live["20"].node, live["20"].elapsed, live["20"].cpus) == (
        "RUNNING",
        "vm",
        "0:02",
        2,
    )
    assert [live[i].reason for i in ("21", "22", "23")] == ["Resources", "Priority", "Dependency"]
    assert live["23"].name == "dep" and live["21"].time_limit == "UNLIMITED"
    done = parse_squeue((DATA / "squeue_finished.txt").read_text())
    assert {k: v.state for k, v in done.items()} == {
        "1": "TIMEOUT",
        "2": "COMPLETED",
        "3": "FAILED",
        "4": "CANCELLED",
        "5": "CANCELLED",
    }
    assert all(v.finished for v in done.values())
    assert done["1"].time_limit == "1:00" and done["1"].elapsed == "1:26"


def test_garbage_never_raises() -> None:
    assert parse_scontrol("") is None
    assert parse_scontrol("slurm_load_jobs error: Invalid job id specified") is None
    assert parse_squeue("nonsense\n1|RUN") == {}
    half = parse_scontrol("JobId=7 JobName=x\n   JobState=RUNNING Reason=None")
    assert half is not None and (half.state, half.exit_status, half.cpus) == ("RUNNING", None, None)


@pytest.mark.parametrize(
    ("reason", "never", "start"),
    [
        ("Resources", False, "Resources: waiting for CPUs or memory"),
        ("Priority", False, "Priority: other jobs are ahead"),
        ("Dependency", False, "Dependency: waiting for the stage before it"),
        ("DependencyNeverSatisfied", True, "DependencyNeverSatisfied: an earlier stage"),
        ("PartitionConfig", True, "PartitionConfig: the request does not fit"),
    ],
)
def test_pending_reasons(reason: str, never: bool, start: str) -> None:
    text, clears_never = explain_pending(reason)
    assert clears_never is never
    assert text.startswith(start)


def test_submit_rejected_keeps_slurms_words() -> None:
    # sbatch's stderr for --cpus-per-task=64 on the 2-CPU test node, as captured.
    msg = submit_rejected(
        "sbatch: error: Batch job submission failed: More processors requested than permitted\n",
        ["--job-name=thas.integrate", "--cpus-per-task=64"],
    )
    assert msg.splitlines()[0] == "Slurm refused the job (--cpus-per-task=64):"
    assert msg.splitlines()[1] == (
        "sbatch: error: Batch job submission failed: More processors requested than permitted"
    )
    assert "more CPUs or memory than any node" in msg
    part = submit_rejected(
        "sbatch: error: invalid partition specified: nosuch\n"
        "sbatch: error: Batch job submission failed: Invalid partition name specified\n",
        ["--partition=nosuch"],
    )
    assert "Invalid partition name specified" in part and "sinfo -s" in part


def test_sstat_max_rss_of_a_running_job() -> None:
    """Real sstat output (no slurmdbd): the 300 MiB the job's python held, plus its own."""
    text = (DATA / "sstat_running.txt").read_text()
    assert text == "171.batch|317712K\n"
    assert parse_sstat(text) == {"171": 317712 / 1024}
    # Two steps of one job: the larger; a line of another shape, and an ended job's nothing.
    assert parse_sstat("7.batch|1000K\n7.0|2.50G\nsstat: error\n8.batch|\n") == {"7": 2560.0}
    assert parse_sstat("") == {}


@pytest.mark.parametrize(
    ("text", "mb"),
    [("219796K", 219796 / 1024), ("1.50G", 1536.0), ("12M", 12.0), ("1048576", 1.0)],
)
def test_slurm_sizes_in_mb(text: str, mb: float) -> None:
    assert parse_size_mb(text) == mb


@pytest.mark.parametrize("text", ["", "N/A", "12Q", None, "-3K"])
def test_not_a_slurm_size(text) -> None:
    assert parse_size_mb(text) is None

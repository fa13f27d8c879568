"""Executor settings: --slurm overrides, config files, the job script and its Bravais step."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from thas_tui.core.errors import ThasError
from thas_tui.core.executor import (
    Resources,
    job_script,
    load_settings,
    parse_stage_override,
    settings_from_args,
    with_nproc,
)
from thas_tui.core.pipeline import STAGE_NAMES
from thas_tui.core.slurm_chain import choice_body, shown_argv

STAGES = list(STAGE_NAMES)
DEMO = Path(__file__).resolve().parents[2] / "data" / "dials-3.12_thas_demo"


def args(**kw) -> argparse.Namespace:
    base = dict(
        executor=None, partition=None, account=None, time=None, mem=None, cpus=None, slurm=[]
    )
    base.update(kw)
    return argparse.Namespace(**base)


def test_stage_override() -> None:
    stage, res = parse_stage_override("integrate:cpus=16,mem=32G,time=2:00:00", STAGES)
    assert stage == "integrate"
    assert res == Resources(cpus=16, mem="32G", time="2:00:00")
    assert res.sbatch_options() == ["--time=2:00:00", "--mem=32G", "--cpus-per-task=16"]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("integrat:cpus=2", "STAGE one of"),
        ("integrate:cpus=two", "not a whole number"),
        ("integrate:mem=lots", "give a size"),
        ("integrate:time=2h", "give minutes"),
        ("integrate:gpus=1", "unknown Slurm setting 'gpus'"),
        ("integrate:cpus", "is not name=value"),
    ],
)
def test_bad_overrides(spec: str, words: str) -> None:
    with pytest.raises(ThasError, match=words):
        parse_stage_override(spec, STAGES)


def test_config_files_then_command_line(tmp_path, monkeypatch) -> None:
    home = tmp_path / "xdg"
    (home / "thas-tui").mkdir(parents=True)
    (home / "thas-tui" / "config.toml").write_text(
        '[executor]\nkind = "slurm"\n[slurm]\npartition = "short"\naccount = "mx"\ncpus = 4\n'
        '[slurm.stages.integrate]\ncpus = 16\nmem = "32G"\n'
    )
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "thas-tui.toml").write_text('[slurm]\npartition = "long"\ntime = "1:00:00"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    s = load_settings(proc, STAGES)
    assert s.kind == "slurm"
    assert s.for_stage("index") == Resources("long", "mx", "1:00:00", None, 4)
    assert s.for_stage("integrate") == Resources("long", "mx", "1:00:00", "32G", 16)
    s = settings_from_args(args(partition="debug", slurm=["integrate:time=2:00:00"]), proc, STAGES)
    assert s.for_stage("integrate") == Resources("debug", "mx", "2:00:00", "32G", 16)
    assert s.for_stage("scale").time == "1:00:00"


def test_slurm_options_need_the_slurm_executor(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    with pytest.raises(ThasError, match="add --executor slurm"):
        settings_from_args(args(partition="debug"), tmp_path, STAGES)
    assert settings_from_args(args(), tmp_path, STAGES).kind == "local"


def test_bad_config_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
    (tmp_path / "thas-tui.toml").write_text('[executor]\nkind = "pbs"\n')
    with pytest.raises(ThasError, match=r"kind = 'pbs': use one of"):
        load_settings(tmp_path, STAGES)
    (tmp_path / "thas-tui.toml").write_text("[slurm\n")
    with pytest.raises(ThasError, match="Cannot read the config file"):
        load_settings(tmp_path, STAGES)


def test_tiny_toml_reader() -> None:
    from thas_tui.core.executor import _tiny_toml

    assert _tiny_toml(
        '# site\n[slurm]\npartition = "short" # comment\ncpus = 8\n[slurm.stages.integrate]\nmem = "64G"\n'
    ) == {"slurm": {"partition": "short", "cpus": 8, "stages": {"integrate": {"mem": "64G"}}}}


def test_job_script_is_the_argv_quoted() -> None:
    argv = ["/usr/bin/dials.index", "imported.expt", "strong.refl", "unit_cell=57 102 112 90 90 90"]
    text = job_script("index", 2, argv, ["--job-name=thas.index", "--chdir=/data/my proc"])
    lines = text.splitlines()
    assert lines[0] == "#!/bin/sh"
    assert lines[1].startswith("# thas-tui: stage index, attempt 2, written ")
    assert lines[2] == "# Submitted as: sbatch --job-name=thas.index '--chdir=/data/my proc'"
    assert lines[3] == (
        "exec /usr/bin/dials.index imported.expt strong.refl 'unit_cell=57 102 112 90 90 90'"
    )
    assert with_nproc(["dials.integrate", "a", "nproc=2"], 8) == ["dials.integrate", "a", "nproc=8"]


def test_bravais_step_picks_the_recommended_solution(tmp_path) -> None:
    """The reindex job's own choice, run by /bin/sh and a real Python on a real summary."""
    python = shutil.which("python3")
    (tmp_path / "thas-tui").mkdir()
    shutil.copy(DEMO / "bravais_summary.json", tmp_path)
    argv = ["/bin/echo", "indexed.refl", "change_of_basis_op=@CB_OP@", "bravais_setting_-1.expt"]
    body = choice_body(argv, python, record=True)
    out = subprocess.run(
        ["/bin/sh", "-c", body], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.splitlines() == [
        "thas-tui: Bravais solution 5 (recommended, chosen automatically), cb_op a,b,c",
        "indexed.refl change_of_basis_op=a,b,c bravais_setting_5.expt",
    ]
    rec = json.loads((tmp_path / "thas-tui" / "journal.jsonl").read_text())
    assert (rec["event"], rec["solution"], rec["cb_op"], rec["by"]) == (
        "bravais_choice",
        5,
        "a,b,c",
        "slurm job",
    )
    assert shown_argv(argv) == [
        "/bin/echo",
        "indexed.refl",
        "change_of_basis_op=<recommended>",
        "bravais_setting_<recommended>.expt",
    ]
    assert shown_argv(shown_argv(argv), (5, "a,b,c"))[2:] == [
        "change_of_basis_op=a,b,c",
        "bravais_setting_5.expt",
    ]


def test_mask_job_runs_both_programs() -> None:
    argv = ["/usr/bin/dials.generate_mask", "imported.expt", "mask.phil", "&&"]
    argv += ["/usr/bin/dials.apply_mask", "imported.expt", "mask=pixels.mask"]
    lines = job_script("mask", 1, argv, ["--job-name=thas.mask"]).splitlines()
    assert lines[3:] == [
        "/usr/bin/dials.generate_mask imported.expt mask.phil || exit $?",
        "exec /usr/bin/dials.apply_mask imported.expt mask=pixels.mask",
    ]

"""Re-running a stage with changed PHIL keeps the earlier attempt (real DIALS, L-cysteine)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from thas_tui.core.commands import RunConfig
from thas_tui.core.dials_env import find_dials
from thas_tui.core.journal import Journal
from thas_tui.core.orchestrator import Orchestrator
from thas_tui.core.pipeline import Pipeline, State
from thas_tui.core.rundir import read_rundir

pytestmark = pytest.mark.integration


def test_rerun_index_with_max_cell(tmp_path: Path, l_cysteine_sweep1: list[str]) -> None:
    proc = tmp_path / "proc"
    res = subprocess.run(
        [sys.executable, "-m", "thas_tui", "run", *l_cysteine_sweep1, "--dir", str(proc)]
        + ["--no-tui", "--until", "index"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert res.returncode == 0, res.stdout + res.stderr
    first = (proc / "indexed.expt").read_bytes()

    # As the dashboard does: the finished stages from the directory, then index again.
    pipeline = Pipeline()
    state = read_rundir(proc)
    for name, st in state.stages.items():
        if name in pipeline.runs:
            pipeline[name].state = st.state
    assert pipeline["index"].state is State.DONE
    config = RunConfig(images=l_cysteine_sweep1)
    config.set_extra("index", ["max_cell=20"])
    events: list = []
    orch = Orchestrator(proc, config, find_dials(), events.append, None, pipeline)
    assert asyncio.run(orch.run(start="index", stop_after="index"))

    assert (proc / "indexed.expt").is_file()
    archived = proc / "thas-tui" / "attempts" / "index.1"
    assert (archived / "indexed.expt").read_bytes() == first
    assert (archived / "indexed.refl").is_file()
    assert (archived / "dials.index.log").is_file()
    assert (proc / "thas-tui" / "logs" / "index.2.log").is_file()
    # DIALS was given the new value, and its own log says it used it.
    attempts = [a for a in Journal(proc).attempts() if a.stage == "index"]
    assert [a.attempt for a in attempts] == [1, 2]
    assert "max_cell=20" in attempts[1].argv and "max_cell=20" not in attempts[0].argv
    assert attempts[1].exit_code == 0
    assert "max_cell = 20" in (proc / "dials.index.log").read_text()
    # Only index ran: nothing before it was repeated.
    starts = [
        json.loads(line)["stage"]
        for line in (proc / "thas-tui" / "journal.jsonl").read_text().splitlines()
        if json.loads(line)["event"] == "start"
    ]
    assert starts == ["import", "find_spots", "index", "index"]

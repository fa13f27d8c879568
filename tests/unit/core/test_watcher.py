"""The directory watcher: state from files, a stage run elsewhere seen starting, streaming, ending."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from thas_tui.core.orchestrator import StageFinished, StageOutput, StageProgress, StageStarted
from thas_tui.core.pipeline import State
from thas_tui.core.watcher import DirectoryWatcher, pipeline_from_dir

DATA = Path(__file__).parents[2] / "data" / "dials-3.12_l_cysteine"
LOGS = Path(__file__).parents[2] / "data" / "dials-3.12_l_cysteine_logs"


def test_pipeline_from_a_manual_directory(tmp_path: Path) -> None:
    for name in ("imported.expt", "strong.refl", "indexed.expt", "indexed.refl"):
        shutil.copy(DATA / name, tmp_path / name)
    pipeline, state = pipeline_from_dir(tmp_path)
    assert state.kind == "manual"
    assert [r.state for r in pipeline][:4] == [State.DONE, State.DONE, State.DONE, State.PENDING]
    # 160 rows: what DIALS's own flex.reflection_table.from_file counts in this strong.refl (4 sweeps).
    assert pipeline["find_spots"].key_result == "160 spots"
    assert pipeline["index"].key_result.startswith("P1 5.5 8.2 12.2 90.14 89.71 89.82")


async def test_sees_a_stage_run_by_hand(tmp_path: Path) -> None:
    shutil.copy(DATA / "imported.expt", tmp_path / "imported.expt")
    pipeline, _ = pipeline_from_dir(tmp_path)
    events: list[object] = []
    watcher = DirectoryWatcher(tmp_path, pipeline, events.append, poll=0.05)
    task = asyncio.create_task(watcher.run())

    async def until(pred, timeout: float = 15.0) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not pred():
            assert loop.time() < end, f"timed out; events: {[type(e).__name__ for e in events]}"
            await asyncio.sleep(0.05)

    try:
        await asyncio.sleep(0.5)
        # dials.find_spots starts elsewhere: its log appears and grows line by line.
        lines = (LOGS / "dials.find_spots.log").read_text().splitlines()
        log = tmp_path / "dials.find_spots.log"
        with open(log, "w") as fh:
            for line in lines[:40]:
                fh.write(line + "\n")
        await until(lambda: any(isinstance(e, StageStarted) for e in events))
        assert pipeline["find_spots"].state is State.RUNNING
        with open(log, "a") as fh:
            for line in lines[40:]:
                fh.write(line + "\n")
        shutil.copy(DATA / "strong.refl", tmp_path / "strong.refl")
        await until(lambda: pipeline["find_spots"].state is State.DONE)
        await until(
            lambda: any(isinstance(e, StageFinished) and e.stage == "find_spots" for e in events)
        )
    finally:
        watcher.stop()
        await asyncio.wait_for(task, 5)
    streamed = [ln for e in events if isinstance(e, StageOutput) for ln in e.lines]
    assert streamed == lines  # every line, once, in order
    assert any(isinstance(e, StageProgress) for e in events)
    # 160 rows: what DIALS's own flex.reflection_table.from_file counts in this strong.refl (4 sweeps).
    assert pipeline["find_spots"].key_result == "160 spots"


def test_attach_shows_a_slurm_stages_job_and_node(tmp_path: Path) -> None:
    from thas_tui.core.journal import Journal

    for name in ("imported.expt", "strong.refl"):
        shutil.copy(DATA / name, tmp_path / name)
    journal = Journal(tmp_path)
    for stage, job in (("import", "41"), ("find_spots", "42")):
        journal.submitted(stage, 1, [f"dials.{stage}"], f"thas-tui/logs/{stage}.1.log", job, "")
        journal.slurm_state(stage, 1, job, "RUNNING", None, "vm")
        journal.ended(stage, 1, 0, peak_rss_mb=748.0)
    pipeline, _ = pipeline_from_dir(tmp_path)
    run = pipeline["find_spots"]
    assert (run.job_id, run.node, run.peak_rss_mb) == ("42", "vm", 748.0)
    assert pipeline["import"].job_id == "41"

"""A directory processed by typing the tutorial's commands in a shell: attach shows it, live."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _dials(cwd: Path, *argv: str) -> subprocess.Popen:
    return subprocess.Popen(
        list(argv), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def test_attach_to_tutorial_commands_run_by_hand(
    tmp_path: Path, l_cysteine_sweep1: list[str]
) -> None:
    from thas_tui.core.pipeline import State
    from thas_tui.launch import attach_app
    from thas_tui.widgets.stage_tree import StageTree

    work = tmp_path / "by-hand"
    work.mkdir()
    for argv in (
        ["dials.import", *l_cysteine_sweep1],
        ["dials.find_spots", "imported.expt"],
        ["dials.index", "imported.expt", "strong.refl"],
    ):
        assert _dials(work, *argv).wait(300) == 0, argv
    app = attach_app(work, None)
    assert not (work / "thas-tui").exists()  # opening a directory writes nothing into it
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        screen = app.dashboard
        tree = screen.query_one(StageTree)
        assert [screen.pipeline[n].state for n in ("import", "find_spots", "index")] == [
            State.DONE
        ] * 3
        assert "15 images" in str(tree.get_cell("import", "result"))
        assert str(tree.get_cell("index", "result")).startswith("P1 5.")
        assert screen.pipeline["refine_bravais_settings"].state is State.PENDING
        # The user types the next command in their shell: the dashboard follows, no key pressed.
        proc = _dials(work, "dials.refine_bravais_settings", "indexed.expt", "indexed.refl")
        seen_running = False
        deadline = time.time() + 300
        while time.time() < deadline:
            await pilot.pause(0.2)
            state = screen.pipeline["refine_bravais_settings"].state
            seen_running |= state is State.RUNNING
            if state in (State.DONE, State.WAITING) and proc.poll() is not None:
                break
        assert proc.wait(60) == 0
        await pilot.pause(1.0)
        assert seen_running, "the stage run by hand never showed as running"
        assert screen.pipeline["refine_bravais_settings"].state in (State.DONE, State.WAITING)
        assert "solutions" in str(tree.get_cell("refine_bravais_settings", "result"))

"""The optional Mask stage: its commands, its place in the pipeline, staleness, failures, --mask."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from thas_tui.core.commands import RunConfig, split_chain, stage_argv
from thas_tui.core.errors import ThasError
from thas_tui.core.failures import Failure, classify, mask_failure
from thas_tui.core.journal import Journal
from thas_tui.core.pipeline import DEMO_STAGE_NAMES, STAGE_NAMES, Pipeline, State, with_mask
from thas_tui.core.rundir import read_rundir
from thas_tui.core.runner import run_commands
from thas_tui.launch import install_mask, read_mask_file

DATA = Path(__file__).resolve().parents[2] / "data" / "dials-3.12_mask"


def test_mask_commands_are_the_tutorials() -> None:
    config = RunConfig(mask=True, nproc=2)
    argv = stage_argv("mask", config, "/usr/bin/dials.generate_mask")
    assert split_chain(argv) == [
        ["/usr/bin/dials.generate_mask", "imported.expt", "mask.phil"],
        ["/usr/bin/dials.apply_mask", "imported.expt", "mask=pixels.mask"],
    ]
    assert stage_argv("find_spots", config)[:2] == ["dials.find_spots", "masked.expt"]
    assert stage_argv("index", config) == ["dials.index", "masked.expt", "strong.refl"]
    # without a mask nothing changes
    plain = RunConfig(nproc=2)
    assert stage_argv("find_spots", plain)[:2] == ["dials.find_spots", "imported.expt"]
    assert split_chain(stage_argv("index", plain)) == [
        ["dials.index", "imported.expt", "strong.refl"]
    ]
    # the user's extra PHIL goes to generate_mask, not to apply_mask
    config.set_extra("mask", ["disable_parallax_correction=True"])
    assert split_chain(stage_argv("mask", config))[0][-1] == "disable_parallax_correction=True"


def test_default_pipelines_are_unchanged_and_mask_goes_after_import() -> None:
    assert len(STAGE_NAMES) == 11 and len(DEMO_STAGE_NAMES) == 12
    assert "mask" not in Pipeline().names and not Pipeline().has_mask
    assert with_mask(DEMO_STAGE_NAMES)[:4] == ("simulate", "import", "mask", "find_spots")
    assert with_mask(with_mask(STAGE_NAMES)) == with_mask(STAGE_NAMES)


def test_saving_a_mask_later_makes_find_spots_and_after_stale() -> None:
    pipeline = Pipeline()
    for run in pipeline:
        run.state = State.DONE
    pipeline["merge"].state = State.PENDING
    stale = pipeline.mask_changed()
    assert pipeline.names[:3] == ["import", "mask", "find_spots"]
    assert pipeline["mask"].state is State.PENDING
    assert pipeline["import"].state is State.DONE
    assert stale == [
        "find_spots", "index", "refine_bravais_settings", "reindex", "refine", "integrate",
        "symmetry", "scale", "export",
    ]  # fmt: skip
    assert pipeline.first_unfinished().name == "mask"
    # editing it again after it ran: Mask itself is stale too
    pipeline["mask"].state = State.DONE
    pipeline["find_spots"].state = State.DONE
    assert pipeline.mask_changed() == ["find_spots"]
    assert pipeline["mask"].state is State.STALE


def test_journal_step_moves_the_pid_to_the_second_command(tmp_path) -> None:
    j = Journal(tmp_path)
    j.started("mask", 1, ["g", "&&", "a"], "log", 111)
    j.step("mask", 1, ["a"], 222)
    (a,) = j.attempts()
    assert a.pid == 222 and a.argv == ["g", "&&", "a"] and a.ended is None
    j.ended("mask", 1, 0)
    assert j.unfinished_attempt() is None


def _py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_run_commands_logs_each_after_a_dollar_line_and_stops_at_a_failure(tmp_path) -> None:
    log = tmp_path / "mask.1.log"
    seen: list[str] = []
    starts: list[int] = []
    commands = [_py("print('one')"), _py("import sys; print('two'); sys.exit(3)"), _py("print(3)")]
    result, last = asyncio.run(
        run_commands(commands, tmp_path, log, seen.extend, None, lambda h, i: starts.append(i))
    )
    assert (result.exit_code, last, starts) == (3, 1, [0, 1])
    text = log.read_text().splitlines()
    assert text == [f"$ {Path(sys.executable).name} -c print('one')", "one", text[2], "two"]
    assert text[2].startswith(f"$ {Path(sys.executable).name} -c import sys")
    assert seen == text  # every line reached the dashboard once, in order
    assert not result.ok


def test_run_commands_stops_between_commands_when_asked(tmp_path) -> None:
    result, last = asyncio.run(
        run_commands(
            [_py("print(1)"), _py("print(2)")], tmp_path, tmp_path / "l", stop=lambda: True
        )
    )
    assert last == 0 and result.cancelled and result.exit_code == 0


def _failure(log: str, workdir: Path) -> Failure:
    tail = (DATA / log).read_text().splitlines()
    first = classify("dials.generate_mask", 1, tail)
    return mask_failure("dials.generate_mask", first, tail, workdir)


def test_a_bad_mask_shows_generate_masks_own_message(tmp_path) -> None:
    shutil.copy(DATA / "imported.expt", tmp_path / "imported.expt")
    shutil.copy(DATA / "mask_past_edge.phil", tmp_path / "mask.phil")
    f = _failure("generate_mask_past_edge.log", tmp_path)
    assert f.reason == (
        "dials.generate_mask refused mask.phil: dxtbx Internal Error: "
        "./dxtbx/src/dxtbx/masking/masking.h(44): DXTBX_ASSERT(x1 <= width) failure."
    )
    assert f.hint.splitlines() == [
        "In mask.phil: Untrusted region 1 (rectangle 0 3000 0 10) passes the panel's edge "
        "(the panel is 2463×2527 pixels): x1 must be ≤ 2463, y1 ≤ 2527.",
        "Fix mask.phil (or draw the mask again in the image view), then run Mask again.",
    ]
    shutil.copy(DATA / "mask_unknown_name.phil", tmp_path / "mask.phil")
    f = _failure("generate_mask_unknown_name.log", tmp_path)
    assert f.reason == (
        "dials.generate_mask refused mask.phil: The following definitions were not recognised"
    )
    assert f.detail == ["  rectangel = 0 30 0 10"]
    assert f.hint.startswith(
        "In mask.phil: mask.phil line 2: unknown parameter 'untrusted.rectangel' (ignored)."
    )


def _hand_run(tmp_path: Path) -> Path:
    """A directory processed by typing the tutorial's commands: import, then the mask."""
    for name in ("imported.expt", "masked.expt", "mask.phil", "dials.generate_mask.log"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


def test_hand_run_directory_shows_mask_done_with_its_result(tmp_path) -> None:
    rd = read_rundir(_hand_run(tmp_path))
    assert list(rd.stages)[:3] == ["import", "mask", "find_spots"]
    mask = rd.stages["mask"]
    assert mask.state is State.DONE and mask.outputs == ["masked.expt"]
    assert mask.log.name == "dials.generate_mask.log"
    from thas_tui.core.stage_info import key_result

    # a circle of radius 40 (5,025 px) and a 2-px border (19,932 px) on the 2463x2527 panel
    assert key_result("mask", tmp_path) == "24,957 px masked: 1 circle, border 2"


def test_editing_mask_phil_makes_mask_stale(tmp_path) -> None:
    work = _hand_run(tmp_path)
    later = time.time() + 10
    os.utime(work / "mask.phil", (later, later))
    mask = read_rundir(work).stages["mask"]
    assert mask.state is State.STALE
    assert mask.note == "mask.phil changed since masked.expt: run Mask again"


def test_a_mask_saved_after_find_spots_makes_it_stale(tmp_path) -> None:
    (tmp_path / "imported.expt").write_bytes((DATA / "imported.expt").read_bytes())
    # a real strong.refl (rundir checks its header); find_spots ran without a mask
    shutil.copy(
        Path(__file__).resolve().parents[2] / "data" / "dials-3.12_l_cysteine" / "strong.refl",
        tmp_path / "strong.refl",
    )
    before = read_rundir(tmp_path)
    assert "mask" not in before.stages and before.stages["find_spots"].state is State.DONE
    shutil.copy(DATA / "mask.phil", tmp_path / "mask.phil")
    later = time.time() + 10
    os.utime(tmp_path / "mask.phil", (later, later))
    rd = read_rundir(tmp_path)
    assert rd.stages["mask"].state is State.PENDING
    assert rd.stages["find_spots"].state is State.STALE
    assert (
        rd.stages["find_spots"].note
        == "mask.phil saved since strong.refl: run Mask, then find_spots"
    )


def test_mask_option_is_checked_before_anything_runs(tmp_path) -> None:
    with pytest.raises(ThasError, match="no such file"):
        read_mask_file(str(tmp_path / "nope.phil"))
    (tmp_path / "empty.phil").write_text("\n")
    with pytest.raises(ThasError, match="the file is empty"):
        read_mask_file(str(tmp_path / "empty.phil"))
    (tmp_path / "comments.phil").write_text("# border = 2\nborder = 0\n")
    with pytest.raises(ThasError, match="it masks nothing"):
        read_mask_file(str(tmp_path / "comments.phil"))
    (tmp_path / "bin.phil").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ThasError, match="not a text file"):
        read_mask_file(str(tmp_path / "bin.phil"))
    # a mask with a mistake is DIALS's to judge: it is passed on as written
    text = read_mask_file(str(DATA / "mask_unknown_name.phil"))
    assert text == (DATA / "mask_unknown_name.phil").read_text()


def test_install_mask_archives_a_different_mask_phil(tmp_path) -> None:
    (tmp_path / "mask.phil").write_text("border = 1\n")
    install_mask(tmp_path, "border = 2\n")
    assert (tmp_path / "mask.phil").read_text() == "border = 2\n"
    assert (tmp_path / "thas-tui" / "masks" / "mask.1.phil").read_text() == "border = 1\n"
    install_mask(tmp_path, "border = 2\n")
    assert sorted(p.name for p in (tmp_path / "thas-tui" / "masks").iterdir()) == ["mask.1.phil"]

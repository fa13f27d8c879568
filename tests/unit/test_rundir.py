"""rundir: stage states, logs and outputs read from real processing directories and damaged ones."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from thas_tui.core.errors import ThasError
from thas_tui.core.journal import Journal
from thas_tui.core.pipeline import STAGE_NAMES, State
from thas_tui.core.rundir import check_directory, output_issue, read_rundir

DATA = Path(__file__).resolve().parents[1] / "data"
LOGS = DATA / "dials-logs"
QUARTZ = DATA / "dials-files" / "quartz_processed"


def states(rd) -> dict[str, str]:
    return {n: s.state.value for n, s in rd.stages.items()}


def test_logs_only_betalactamase_prefers_main_logs():
    rd = read_rundir(LOGS / "dials-3.dev.832_betalactamase")
    assert rd.kind == "logs-only"
    assert list(rd.stages) == list(STAGE_NAMES)
    assert rd.stages["refine"].log.name == "dials.refine.log"  # not dials.sv_refine.log
    assert rd.stages["scale"].log.name == "dials.scale.log"  # not dials.scale_cut.log
    assert rd.stages["reindex"].log.name == "dials.reindex.log"
    s = states(rd)
    assert all(s[n] == "done" for n in STAGE_NAMES if n != "merge")
    assert s["merge"] == "pending"
    assert rd.issues == []


def test_logs_only_thaumatin_and_multi_crystal():
    s = states(read_rundir(LOGS / "dials-3.dev.832_thaumatin"))
    assert s["integrate"] == "done" and s["symmetry"] == "pending" and s["scale"] == "pending"
    s = states(read_rundir(LOGS / "dials-3.dev.1460_multi_crystal"))
    assert [n for n, v in s.items() if v == "done"] == ["symmetry", "scale", "merge"]


def test_structured_quartz():
    rd = read_rundir(QUARTZ)
    assert rd.kind == "manual"
    s = states(rd)
    # a git checkout writes every file within a second: nothing is stale
    assert s["import"] == s["find_spots"] == s["index"] == s["refine"] == s["integrate"] == "done"
    assert s["scale"] == "done" and s["symmetry"] == "pending" and s["merge"] == "pending"
    assert rd.stages["index"].outputs == ["indexed.expt", "indexed.refl"]
    assert rd.issues == []


def _copy(src: Path, dst: Path, names: list[str]) -> None:
    for n in names:
        shutil.copy(src / n, dst / n)


def test_stale_when_upstream_output_is_newer(tmp_path):
    _copy(QUARTZ, tmp_path, ["imported.expt", "strong.refl", "indexed.expt", "indexed.refl"])
    old = time.time() - 100
    for n in ("imported.expt", "indexed.expt", "indexed.refl"):
        os.utime(tmp_path / n, (old, old))
    os.utime(tmp_path / "strong.refl", (old + 50, old + 50))
    rd = read_rundir(tmp_path)
    assert rd.stages["find_spots"].state is State.DONE
    assert rd.stages["index"].state is State.STALE
    assert "find_spots" in rd.stages["index"].note


def test_corrupt_outputs_are_issues_not_errors(tmp_path):
    _copy(QUARTZ, tmp_path, ["imported.expt", "integrated.expt"])
    text = (QUARTZ / "indexed.expt").read_text()
    (tmp_path / "indexed.expt").write_text(text[: len(text) // 2])
    (tmp_path / "strong.refl").write_bytes(b"\x00garbage" * 100)
    rd = read_rundir(tmp_path)
    assert "indexed.expt: unreadable (truncated JSON)" in rd.issues
    assert "strong.refl: unreadable (not a DIALS msgpack reflection table)" in rd.issues
    assert rd.stages["index"].state is State.FAILED
    assert rd.stages["import"].state is State.DONE
    assert rd.stages["integrate"].state is State.DONE


def test_output_issue_kinds(tmp_path):
    (tmp_path / "a.expt").write_text("")
    (tmp_path / "b.json").write_text("not json")
    (tmp_path / "c.expt").write_text('{"a": 1}\n')
    (tmp_path / "merged.mtz").write_bytes(b"XXXX")
    assert output_issue(tmp_path / "a.expt") == "a.expt: unreadable (empty file)"
    assert output_issue(tmp_path / "b.json") == "b.json: unreadable (not JSON)"
    assert output_issue(tmp_path / "c.expt") is None
    assert output_issue(tmp_path / "merged.mtz") == "merged.mtz: unreadable (not an MTZ file)"
    if (DATA / "dials-3.12_l_cysteine" / "old_pickle.refl").is_file():
        issue = output_issue(DATA / "dials-3.12_l_cysteine" / "old_pickle.refl")
        assert issue == "old_pickle.refl: unreadable (old pickle format)"


def test_journal_states(tmp_path):
    j = Journal(tmp_path)
    log = tmp_path / "thas-tui" / "logs" / "import.1.log"
    log.parent.mkdir(parents=True)
    log.write_text("DIALS 3.12\n")
    j.started("import", 1, ["dials.import"], str(log), pid=os.getpid())
    j.ended("import", 1, exit_code=0)
    (tmp_path / "imported.expt").write_text("{}")
    j.started("find_spots", 1, ["dials.find_spots"], "", pid=os.getpid())  # this process: alive
    j.started("index", 1, ["dials.index"], "", pid=2**22 + 12345)  # no such process
    j.started("refine_bravais_settings", 1, ["x"], "", pid=1)
    j.ended("refine_bravais_settings", 1, exit_code=1)
    j.choice(5, "a,b,c")
    rd = read_rundir(tmp_path)
    assert rd.kind == "thas-tui"
    assert rd.stages["import"].state is State.DONE
    assert rd.stages["import"].log == log
    assert len(rd.stages["import"].attempts) == 1
    assert rd.stages["find_spots"].state is State.RUNNING
    assert rd.running.name == "find_spots"
    assert rd.stages["index"].state is State.FAILED
    assert "interrupted" in rd.stages["index"].failure
    assert rd.stages["refine_bravais_settings"].state is State.FAILED
    assert rd.stages["refine_bravais_settings"].failure == "exit code 1"
    assert rd.bravais_choice == (5, "a,b,c")


def test_failed_log_without_output(tmp_path):
    src = DATA / "dials-3.12_l_cysteine_logs" / "failures" / "index_max_cell4.stdout"
    (tmp_path / "imported.expt").write_text("{}")
    shutil.copy(src, tmp_path / "dials.index.log")
    st = read_rundir(tmp_path).stages["index"]
    assert st.state is State.FAILED and st.failure


def test_log_without_output_in_a_directory_with_outputs(tmp_path):
    (tmp_path / "imported.expt").write_text("{}")
    (tmp_path / "dials.find_spots.log").write_text("DIALS 3.12\nFinding spots in image 1 to 10\n")
    st = read_rundir(tmp_path).stages["find_spots"]
    assert st.state is State.PENDING
    assert "no strong.refl" in st.note


def test_check_directory_errors(tmp_path):
    with pytest.raises(ThasError, match="does not exist"):
        check_directory(tmp_path / "nope")
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(ThasError, match="is a file"):
        check_directory(f)
    empty = read_rundir(tmp_path)
    assert empty.kind == "empty" and all(s.state is State.PENDING for s in empty.stages.values())
    assert json.dumps(empty.issues) == "[]"

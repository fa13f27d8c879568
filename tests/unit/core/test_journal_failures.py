"""The journal's attempts and choice; failure classification."""

from __future__ import annotations

from pathlib import Path

from thas_tui.core.failures import classify, signal_name
from thas_tui.core.journal import Journal


def test_attempts_round_trip(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    assert j.next_attempt("index") == 1
    j.started("index", 1, ["dials.index", "imported.expt"], "thas-tui/logs/index.1.log", 1234)
    j.ended("index", 1, 1)
    j.started("index", 2, ["dials.index", "imported.expt", "max_cell=200"], "l2", 1300)
    j.choice(5, "b,c,a")
    atts = j.attempts()
    assert [(a.stage, a.attempt, a.exit_code) for a in atts] == [
        ("index", 1, 1),
        ("index", 2, None),
    ]
    assert atts[1].argv[-1] == "max_cell=200" and atts[1].pid == 1300
    assert j.next_attempt("index") == 3
    assert j.last_choice() == (5, "b,c,a")


def test_corrupt_journal_lines_are_skipped(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    j.started("import", 1, ["dials.import"], "l", 1)
    with open(j.path, "a") as fh:
        fh.write('{"event": "end", "stage": "imp\n[1,2]\n')
    assert [a.stage for a in j.attempts()] == ["import"]


def test_signal_names() -> None:
    assert signal_name(-9) == "SIGKILL"
    assert signal_name(137) == "SIGKILL"
    assert signal_name(-15) == "SIGTERM"
    assert signal_name(0) is None and signal_name(1) is None


def test_success_is_not_a_failure() -> None:
    assert classify("dials.index", 0, ["ok"]) is None


def test_plain_exit_shows_last_lines() -> None:
    f = classify("dials.scale", 2, ["a", "", "b", "c"])
    assert f is not None and f.kind == "exit" and f.detail == ["a", "b", "c"]
    assert "exit code 2" in f.reason


def test_disk_full_is_named_with_advice() -> None:
    tail = [
        "Saving 28223 reflections to strong.refl",
        "Traceback (most recent call last):",
        '  File "/usr/lib/python3/dist-packages/dials/array_family/flex_ext.py", line 1, in as_file',
        "OSError: [Errno 28] No space left on device",
    ]
    f = classify("dials.find_spots", 1, tail)
    assert f is not None and f.kind == "disk"
    assert "disk is full" in f.reason and "df -h" in f.hint
    assert "No space left on device" in f.detail[0]
    efbig = classify("dials.integrate", 1, ["OSError: [Errno 27] File too large"])
    assert efbig is not None and efbig.kind == "disk"


def test_memory_error_is_out_of_memory() -> None:
    f = classify("dials.integrate", 1, ["Traceback (most recent call last):", "MemoryError"])
    assert f is not None and f.kind == "oom" and "out of memory" in f.reason
    killed = classify("dials.integrate", -9, ["Integrating block 2"], peak_rss_mb=3071.6)
    assert killed is not None and killed.kind == "oom" and "3072 MB" in killed.reason

"""Tailing a growing file: partial lines, truncation, replacement, large files."""

from __future__ import annotations

from pathlib import Path

from thas_tui.core.tail import LineTailer, tail_lines


def test_partial_lines_wait_for_their_newline(tmp_path: Path) -> None:
    f = tmp_path / "x.log"
    f.write_bytes(b"one\ntw")
    t = LineTailer(f)
    assert t.read_new() == ["one"]
    with open(f, "ab") as fh:
        fh.write(b"o\nthree\r\n")
    assert t.read_new() == ["two", "three"]
    assert t.read_new() == []


def test_final_read_returns_the_partial_line(tmp_path: Path) -> None:
    f = tmp_path / "x.log"
    f.write_bytes(b"a\nb")
    t = LineTailer(f)
    assert t.read_new(final=True) == ["a", "b"]


def test_truncation_restarts(tmp_path: Path) -> None:
    f = tmp_path / "x.log"
    f.write_text("first\nsecond\n")
    t = LineTailer(f)
    assert t.read_new() == ["first", "second"]
    f.write_text("new\n")
    assert t.read_new() == ["new"]


def test_missing_file_gives_nothing(tmp_path: Path) -> None:
    assert LineTailer(tmp_path / "none.log").read_new() == []


def test_reads_are_bounded(tmp_path: Path) -> None:
    f = tmp_path / "x.log"
    f.write_text("".join(f"line {i}\n" for i in range(10000)))
    t = LineTailer(f, max_bytes=1000)
    got = t.read_new()
    assert 0 < len(got) < 200 and not t.caught_up
    while not t.caught_up:
        got += t.read_new()
    assert got == [f"line {i}" for i in range(10000)]


def test_invalid_utf8_is_replaced(tmp_path: Path) -> None:
    f = tmp_path / "x.log"
    f.write_bytes(b"ok \xff\xfe\n")
    assert LineTailer(f).read_new() == ["ok \ufffd\ufffd"]


def test_tail_lines_reads_from_the_end(tmp_path: Path) -> None:
    f = tmp_path / "x.log"
    f.write_text("".join(f"line {i}\n" for i in range(100000)))
    assert tail_lines(f, 3) == ["line 99997", "line 99998", "line 99999"]
    assert tail_lines(tmp_path / "missing", 3) == []

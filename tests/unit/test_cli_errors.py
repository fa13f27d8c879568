"""Bad input: a clear one-screen message on stderr, exit code 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from thas_tui.cli import main


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "thas_tui", *args],
        capture_output=True,
        text=True,
        env=env or dict(os.environ),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def test_dials_missing_says_how_to_get_it(tmp_path: Path) -> None:
    img = tmp_path / "x_0001.cbf"
    img.write_bytes(b"not really")
    env = {k: v for k, v in os.environ.items() if k != "THAS_DIALS_DIR"}
    env["PATH"] = str(tmp_path)  # nothing of DIALS here
    res = run_cli("run", str(img), "--no-tui", "--dir", str(tmp_path / "p"), env=env)
    assert res.returncode == 2
    assert "DIALS is not installed" in res.stderr and "apt-get install" in res.stderr
    assert "Traceback" not in res.stderr


def test_dials_dir_without_dials(tmp_path: Path) -> None:
    res = run_cli("run", "x.cbf", "--no-tui", "--dials-dir", str(tmp_path))
    assert res.returncode == 2
    assert f"DIALS not found in {tmp_path}" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.fixture
def have_dials() -> None:
    import shutil

    if not shutil.which("dials.import"):
        pytest.skip("needs DIALS on PATH (the error comes after DIALS is found)")


def test_no_image_matches(tmp_path: Path, capsys, have_dials) -> None:
    code = main(["run", str(tmp_path / "*.cbf"), "--no-tui", "--dir", str(tmp_path / "p")])
    err = capsys.readouterr().err
    assert code == 2
    assert "No image matches" in err and "*.cbf" in err


def test_missing_image_file(tmp_path: Path, capsys, have_dials) -> None:
    code = main(["run", str(tmp_path / "nothing.cbf"), "--no-tui", "--dir", str(tmp_path / "p")])
    assert code == 2
    assert "Image file or directory not found" in capsys.readouterr().err


def test_dir_is_a_file(tmp_path: Path, capsys, have_dials) -> None:
    img = tmp_path / "a.cbf"
    img.write_text("x")
    (tmp_path / "file").write_text("x")
    code = main(["run", str(img), "--no-tui", "--dir", str(tmp_path / "file")])
    assert code == 2
    assert "exists but is not a directory" in capsys.readouterr().err


def test_dir_cannot_be_created(tmp_path: Path, capsys, have_dials) -> None:
    img = tmp_path / "a.cbf"
    img.write_text("x")
    (tmp_path / "file").write_text("x")
    code = main(["run", str(img), "--no-tui", "--dir", str(tmp_path / "file" / "sub")])
    assert code == 2
    assert "Cannot create the processing directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--until", "nowhere"], "--until 'nowhere' is not a stage"),
        (["--phil", "index"], "give it as STAGE:NAME=VALUE"),
        (["--phil", "index:--help"], "is not of the form name=value"),
        (["--phil", "index:x=-rf"], "would be read as a flag"),
        (["--nproc", "0"], "--nproc must be at least 1"),
    ],
)
def test_bad_options(tmp_path: Path, capsys, have_dials, args: list[str], message: str) -> None:
    img = tmp_path / "a.cbf"
    img.write_text("x")
    code = main(["run", str(img), "--no-tui", "--dir", str(tmp_path / "p"), *args])
    assert code == 2
    assert message in capsys.readouterr().err


def test_headless_without_terminal_needs_auto_bravais(tmp_path: Path, have_dials) -> None:
    img = tmp_path / "a.cbf"
    img.write_text("x")
    res = run_cli("run", str(img), "--no-tui", "--dir", str(tmp_path / "p"))
    assert res.returncode == 2
    assert "--auto-bravais" in res.stderr


def test_attach_missing_directory(tmp_path: Path) -> None:
    res = run_cli("attach", str(tmp_path / "none"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert str(tmp_path / "none") in res.stderr


def test_compare_with_nothing_readable_says_why_on_its_own(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run_cli("compare", str(tmp_path / "none"), str(empty), "--no-recompute")
    assert res.returncode == 2 and "Traceback" not in res.stderr and res.stdout == ""
    lines = res.stderr.splitlines()
    assert lines[0] == "thas-tui: error: Nothing to compare: no input could be read."
    assert lines[1] == f"  {tmp_path / 'none'}: no such file or directory"
    assert lines[2].startswith(f"  {empty}: ")
    assert "unmerged scaled MTZ" in lines[3]
    # JSON, for scripts, still gives the record of each input (and exit 1).
    json_out = run_cli("compare", str(tmp_path / "none"), "--json", "--no-recompute")
    assert json_out.returncode == 1 and '"inputs"' in json_out.stdout


def test_collect_demo_refuses_a_bad_folder_before_simulating(tmp_path: Path, have_dials) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    res = run_cli("collect-demo", str(blocker / "visit"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert f"Cannot make the data directory {blocker / 'visit'}" in res.stderr
    assert "simulating" not in res.stdout and "wrote" not in res.stdout
    visit = tmp_path / "visit"
    visit.mkdir()
    (visit / "xtal2_1_00001.cbf").write_bytes(b"")
    res = run_cli("collect-demo", str(visit), "--seeds", "1,2")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert f"{visit} already holds xtal2_1_00001.cbf" in res.stderr and "--start" in res.stderr
    assert "simulating" not in res.stdout and (visit / "xtal2_1_00001.cbf").read_bytes() == b""


def test_help_lists_commands() -> None:
    res = run_cli("--help")
    assert res.returncode == 0
    for word in ("demo", "run", "summary", "attach"):
        assert word in res.stdout


def test_dials_older_than_supported(tmp_path: Path) -> None:
    """A DIALS 2.2 installation: its own version banner (from a real 2.2.11 log) is refused."""
    bin_dir = tmp_path / "dials-2.2" / "bin"
    bin_dir.mkdir(parents=True)
    for name, body in (
        ("dials.import", "exit 0"),
        ("dials.version", "echo 'DIALS 2.2.11-gad03a188b-release'"),
    ):
        exe = bin_dir / name
        exe.write_text(f"#!/bin/sh\n{body}\n")
        exe.chmod(0o755)
    img = tmp_path / "x_0001.cbf"
    img.write_bytes(b"x")
    res = run_cli(
        "run", str(img), "--no-tui", "--dials-dir", str(bin_dir), "--dir", "p", cwd=tmp_path
    )
    assert res.returncode == 2
    assert "DIALS 2.2.11-gad03a188b-release in" in res.stderr and "is too old" in res.stderr
    assert "3.0 or newer" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "p").exists()  # nothing written before DIALS was accepted

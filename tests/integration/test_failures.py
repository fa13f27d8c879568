"""Failures of real DIALS stages: disk full, a stage killed by a signal; earlier results kept."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _thas(args: list[str], cwd: Path, preexec=None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "thas_tui", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        preexec_fn=preexec,
    )


def test_disk_full_while_writing(
    tmp_path: Path, l_cysteine_sweep1: list[str], thas_summary
) -> None:
    """A 60 kB file-size limit: dials.find_spots cannot write strong.refl (~90 kB)."""

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))

    proc = _thas(
        ["run", *l_cysteine_sweep1, "--dir", "proc", "--no-tui", "--until", "index"],
        tmp_path,
        small_disk,
    )
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, out + err
    assert "FAILED find_spots" in out
    assert "find_spots failed" in err and "the disk is full" in err
    assert "File too large" in err and "df -h" in err
    assert "Traceback" not in err and "thas_tui" not in err
    work = tmp_path / "proc"
    # import's result and the failed stage's log are kept; nothing after it ran.
    assert (work / "imported.expt").is_file()
    assert "File too large" in (work / "thas-tui" / "logs" / "find_spots.1.log").read_text()
    assert not (work / "indexed.expt").exists()
    states = thas_summary(work)["stages"]
    assert states["import"]["state"] == "done" and states["find_spots"]["state"] == "failed"


def test_stage_killed_by_a_signal_says_so_with_its_memory(
    tmp_path: Path, l_cysteine_sweep1: list[str]
) -> None:
    """SIGKILL to dials.index itself, as the kernel's out-of-memory killer would send it."""
    proc = _thas(
        ["run", *l_cysteine_sweep1, "--dir", "proc", "--no-tui", "--until", "index"], tmp_path
    )
    journal = tmp_path / "proc" / "thas-tui" / "journal.jsonl"
    pid = None
    deadline = time.time() + 120
    while pid is None and time.time() < deadline:
        if journal.exists():
            for line in journal.read_text().splitlines():
                rec = json.loads(line)
                if rec.get("event") == "start" and rec.get("stage") == "index":
                    pid = rec["pid"]
        time.sleep(0.1)
    assert pid is not None, "index never started"
    time.sleep(3)  # long enough for the runner to have sampled its memory
    os.kill(pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "FAILED index" in out
    assert "dials.index was killed (SIGKILL) after reaching" in err and " MB" in err
    assert "ran out of memory" in err or "out of memory" in err
    assert "Traceback" not in err
    work = tmp_path / "proc"
    assert (work / "strong.refl").is_file() and (work / "imported.expt").is_file()
    assert (work / "thas-tui" / "logs" / "index.1.log").is_file()


def test_non_image_and_truncated_image_are_named(
    tmp_path: Path, l_cysteine_sweep1: list[str]
) -> None:
    import gzip

    notes = tmp_path / "notes_0001.cbf"
    notes.write_text("beamline notes, not an image\n")
    proc = _thas(["run", str(notes), "--dir", "p1", "--no-tui", "--until", "import"], tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "dials.import could not read 1 input(s) as diffraction images." in err
    assert str(notes) in err and "dials.show FILE" in err
    assert "Traceback" not in err

    # A compressed CBF cut short, as a copy still in progress leaves it.
    cut = tmp_path / "cut_00001.cbf.gz"
    cut.write_bytes(Path(l_cysteine_sweep1[0]).read_bytes()[:20000])
    proc = _thas(["run", str(cut), "--dir", "p2", "--no-tui", "--until", "import"], tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "import failed" in err and "Compressed file ended" in err
    assert "may be truncated" in err
    assert notes.read_text() == "beamline notes, not an image\n"  # inputs untouched
    assert gzip.decompress(Path(l_cysteine_sweep1[0]).read_bytes())  # the original intact

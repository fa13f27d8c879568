"""One image is not a rotation sweep: thas-tui stops after import and says what DIALS offers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from thas_cli import thas

pytestmark = pytest.mark.integration


def test_single_image_stops_after_import(
    tmp_path: Path, l_cysteine_sweep1: list[str], thas_summary
) -> None:
    res = thas(
        "run", l_cysteine_sweep1[0], "--dir", "proc", "--no-tui", "--auto-bravais", cwd=tmp_path
    )
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Not a rotation sweep: one image (0.1° wide)." in res.stdout
    assert "DIALS processes stills with dials.stills_process" in res.stdout
    assert "Traceback" not in res.stderr
    proc = tmp_path / "proc"
    assert (proc / "imported.expt").is_file() and not (proc / "strong.refl").exists()
    recs = [json.loads(ln) for ln in (proc / "thas-tui" / "journal.jsonl").read_text().splitlines()]
    assert {r["stage"] for r in recs if r["event"] == "start"} == {"import"}
    # Resuming does not go on to find spots on it either.
    again = thas("resume", "proc", "--auto-bravais", cwd=tmp_path)
    assert again.returncode == 1 and "Not a rotation sweep" in again.stdout
    recs = [json.loads(ln) for ln in (proc / "thas-tui" / "journal.jsonl").read_text().splitlines()]
    assert {r["stage"] for r in recs if r["event"] == "start"} == {"import"}
    [w] = thas_summary(proc)["warnings"]
    assert w["stage"] == "import" and w["what"].startswith("not a rotation sweep: one image")
    assert "dials.stills_process" in w["try"]
    # find_spots run on it anyway (by hand here; a Slurm chain can get that far before its
    # follower cancels it): a resume from index stops with the same words, and runs nothing.
    subprocess.run(["dials.find_spots", "imported.expt"], cwd=proc, check=True, capture_output=True)
    again = thas("resume", "proc", "--auto-bravais", cwd=tmp_path)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "Not a rotation sweep: one image (0.1° wide)." in again.stdout
    assert "stopped at index" in again.stdout
    recs = [json.loads(ln) for ln in (proc / "thas-tui" / "journal.jsonl").read_text().splitlines()]
    assert {r["stage"] for r in recs if r["event"] == "start"} == {"import"}
    assert not (proc / "indexed.expt").exists()

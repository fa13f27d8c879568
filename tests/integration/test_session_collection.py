"""`thas-tui session` on a simulated collection: two sweeps arrive image by image, are spot-checked
live by DIALS's per-image analysis, and are processed hands off to merged.mtz (real DIALS)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from thas_cli import thas

pytestmark = pytest.mark.integration

PRESET = "session"


def _thas(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "thas_tui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        **kw,
    )


@pytest.fixture(scope="module")
def session_run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("session")
    data, proc = root / "visit", root / "proc"
    data.mkdir()
    # The session first, watching an empty folder, as at the start of a visit.
    session = _thas(
        "session",
        str(data),
        "--proc",
        str(proc),
        "--no-tui",
        "--idle",
        "4",
        "--exit-when-done",
        "--nproc",
        "2",
    )
    time.sleep(1.0)
    # Two crystals, one after the other; each image half-written for 0.4 s, as a detector does.
    collect = subprocess.run(
        [
            sys.executable,
            "-m",
            "thas_tui",
            "collect-demo",
            str(data),
            "--preset",
            PRESET,
            "--seeds",
            "1,1",
            "--rate",
            "5",
            "--partial",
            "0.4",
            "--pause",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert collect.returncode == 0, collect.stdout + collect.stderr
    out, _ = session.communicate(timeout=3600)
    summary = thas("session", str(data), "--proc", str(proc), "--summary", "--json", timeout=300)
    return data, proc, session.returncode, out, summary


def test_both_datasets_processed_hands_off_to_merged_mtz(session_run) -> None:
    data, proc, code, out, summary = session_run
    assert code == 0, out
    assert summary.returncode == 0, summary.stderr
    rows = {r["name"]: r for r in json.loads(summary.stdout)["datasets"]}
    assert sorted(rows) == ["xtal1_1", "xtal2_1"]
    for name, row in rows.items():
        assert row["state"] == "done", (name, row, out)
        assert row["images"] == 28
        assert row["space_group"] == "P 21 21 21"
        assert (proc / name / "merged.mtz").is_file()
        assert row["cc_half"] > 0.9
    # Found as they arrived, and queued only once no image had come for --idle seconds.
    assert out.index("new dataset xtal1_1") < out.index("xtal1_1: queued")
    assert out.index("xtal1_1: processing 28 images") < out.index("xtal1_1: done")


def test_live_counts_are_dials_find_spots_counts(session_run, tmp_path: Path) -> None:
    data, proc, _, out, _ = session_run
    memory = json.loads((proc / ".thas-session" / "state.json").read_text())
    live = memory["datasets"]["xtal1_1"]["spots"]
    # Every image was analysed (newest first while collecting, the rest after).
    assert sorted(int(n) for n in live) == list(range(1, 29))
    # No image was read half-written: DIALS read each one without an error (a truncated CBF
    # fails to decode, and its count would be missing).
    assert all(isinstance(v[0], int) for v in live.values()), live
    for number in (1, 14, 28):
        image = data / f"xtal1_1_{number:05d}.cbf"
        work = tmp_path / str(number)
        work.mkdir()
        res = subprocess.run(
            ["dials.find_spots", str(image)], cwd=work, capture_output=True, text=True, timeout=300
        )
        assert res.returncode == 0, res.stdout + res.stderr
        saved = int(re.search(r"Saved (\d+) reflections", res.stdout).group(1))
        assert live[str(number)][0] == saved, (number, live[str(number)], saved)

"""The session on an EIGER collection (real DIALS): the master file's image count, each data
file's frames counted once it is complete, live spot counts of NeXus images equal to
`dials.find_spots` on the same image, and the sweep queued for processing when every image is
present (without the idle wait a CBF series needs)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from thas_tui.core.dials_env import find_dials
from thas_tui.core.session.engine import SessionConfig, SessionEngine
from thas_tui.core.session.model import DState

pytestmark = pytest.mark.integration

N_IMAGES = 24  # the eiger-small preset: 24 images in data files of 10, 10 and 4


async def _session_on_collection(data: Path, proc: Path) -> tuple[SessionEngine, list, str]:
    said: list[tuple[float, str]] = []
    config = SessionConfig(
        data,
        proc,
        idle=3600,  # never: the sweep must be complete by the master file's count alone
        autoprocess=False,
    )
    engine = SessionEngine(config, find_dials(None), lambda t: said.append((time.time(), t)))
    task = asyncio.create_task(engine.run())
    await asyncio.sleep(1.0)
    collect = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "thas_tui",
        "collect-demo",
        str(data),
        "--detector",
        "eiger",
        "--preset",
        "small",
        "--seeds",
        "1",
        "--rate",
        "8",
        "--partial",
        "0.4",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(collect.communicate(), 900)
    assert collect.returncode == 0, out.decode()
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            ds = next(iter(engine.datasets.values()), None)
            if ds and len(ds.spots) == N_IMAGES and ds.state is DState.QUEUED:
                break
            await asyncio.sleep(0.2)
    finally:
        engine.stop()
        await task
    return engine, said, out.decode()


@pytest.fixture(scope="module")
def eiger_session(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("nexus-session")
    data, proc = root / "visit", root / "proc"
    data.mkdir()
    engine, said, out = asyncio.run(_session_on_collection(data, proc))
    return data, proc, engine, said, out


def test_frames_count_as_their_data_files_complete(eiger_session) -> None:
    data, _, engine, said, out = eiger_session
    (ds,) = engine.datasets.values()
    assert ds.name == "xtal1_1" and ds.files.master == str(data / "xtal1_1_master.h5")
    assert ds.expected == N_IMAGES and ds.n_present == N_IMAGES
    assert ds.data_complete == {f"xtal1_1_data_00000{i}.h5" for i in (1, 2, 3)}
    lines = [t for _, t in said if "complete (" in t]
    assert lines == [
        "xtal1_1: images 1–10 complete (10 of 24)",
        "xtal1_1: images 11–20 complete (20 of 24)",
        "xtal1_1: images 21–24 complete (24 of 24)",
    ]
    # Each data file's frames were made ready only after the file's last byte was written.
    when = {t: at for at, t in said}
    for line, k in zip(lines, (1, 2, 3), strict=True):
        assert when[line] > (data / f"xtal1_1_data_00000{k}.h5").stat().st_mtime


def test_live_counts_of_nexus_images_are_dials_find_spots_counts(eiger_session, tmp_path) -> None:
    data, _, engine, _, _ = eiger_session
    (ds,) = engine.datasets.values()
    assert sorted(ds.spots) == list(range(1, N_IMAGES + 1))
    assert all(s.error is None and s.n_spots is not None for s in ds.spots.values()), ds.spots
    master = data / "xtal1_1_master.h5"
    for number in (1, 12, 24):
        work = tmp_path / str(number)
        work.mkdir()
        res = subprocess.run(
            ["dials.find_spots", str(master), f"scan_range={number},{number}"],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert res.returncode == 0, res.stdout + res.stderr
        saved = int(re.search(r"Saved (\d+) reflections", res.stdout).group(1))
        assert ds.spots[number].n_spots == saved, (number, ds.spots[number], saved)


def test_queued_once_every_listed_image_is_present(eiger_session) -> None:
    _, _, engine, said, _ = eiger_session
    (ds,) = engine.datasets.values()
    texts = [t for _, t in said]
    # With an idle time of an hour, only the master file's image count can complete the sweep.
    last = texts.index("xtal1_1: images 21–24 complete (24 of 24)")
    assert texts.index("xtal1_1: queued") > last
    assert ds.state is DState.QUEUED and ds.image_paths() == [ds.files.master]

"""The session's core: sweeps found by template, completeness of files, states, rows, sparklines."""

from __future__ import annotations

import os
import time
from pathlib import Path

from thas_tui.core.session import discovery, report
from thas_tui.core.session.model import (
    Dataset,
    DState,
    Pending,
    decide,
    describe_gaps,
    file_complete,
    pick_next,
)
from thas_tui.core.session.spot_server import parse_response, request_path
from thas_tui.widgets.sparkline_text import sparkline

CBF_TAIL = b"\r\n--CIF-BINARY-FORMAT-SECTION----\r\n;\r\n"


def test_templates_tell_sweeps_apart(tmp_path: Path) -> None:
    for name in (
        "xtal1_1_00001.cbf",
        "xtal1_1_00002.cbf",
        "xtal1_2_00001.cbf",
        "xtal1_1_0001.img",
        "lyso_master.h5",
        "lyso_data_000001.h5",
        "notes.txt",
    ):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x_001.cbf.gz").write_bytes(b"x")
    sweeps, folders = discovery.scan(tmp_path)
    assert folders == [str(tmp_path), str(tmp_path / "sub")]
    by_name = {s.name: s for s in sweeps.values()}
    assert sorted(by_name) == ["lyso", "sub_x", "xtal1_1", "xtal1_1-2", "xtal1_2"]
    assert by_name["xtal1_1"].numbers == {1, 2}
    assert by_name["xtal1_1"].template.pattern == str(tmp_path / "xtal1_1_#####.cbf")
    assert by_name["xtal1_1-2"].template.ext == ".img"
    assert by_name["lyso"].master == str(tmp_path / "lyso_master.h5")
    assert by_name["sub_x"].template.path(7) == str(tmp_path / "sub" / "x_007.cbf.gz")
    # The data files of a NeXus master are not sweeps of their own.
    assert not any("data" in n for n in by_name)


def test_gaps_are_described_as_ranges() -> None:
    assert describe_gaps([5, 6, 7, 12]) == "5–7, 12"
    assert describe_gaps([3]) == "3"
    assert describe_gaps([]) == ""


def test_a_half_written_cbf_is_never_complete(tmp_path: Path) -> None:
    path = tmp_path / "x_00001.cbf"
    path.write_bytes(b"###CBF: VERSION 1.5\r\n" + b"\0" * 1000)
    pending: dict[str, Pending] = {}
    t = time.time()
    # Its size holds for longer than the settle time, but its binary section is not closed.
    assert not file_complete(str(path), pending, 0.5, t)
    assert not file_complete(str(path), pending, 0.5, t + 10)
    with open(path, "ab") as fh:
        fh.write(CBF_TAIL)
    # The size changed: the settle clock starts again; a closed CBF needs only a moment.
    assert not file_complete(str(path), pending, 0.5, t + 11)
    assert not file_complete(str(path), pending, 0.5, t + 11.05)
    assert file_complete(str(path), pending, 0.5, t + 11.15)
    assert str(path) not in pending


def test_a_growing_compressed_image_waits_for_its_size_to_hold(tmp_path: Path) -> None:
    path = tmp_path / "x_00001.cbf.gz"
    path.write_bytes(b"a" * 10)
    pending: dict[str, Pending] = {}
    t = time.time()
    assert not file_complete(str(path), pending, 1.0, t)
    path.write_bytes(b"a" * 20)
    assert not file_complete(str(path), pending, 1.0, t + 2)
    assert not file_complete(str(path), pending, 1.0, t + 2.5)
    assert file_complete(str(path), pending, 1.0, t + 3.1)


def _dataset(tmp_path: Path, numbers: set[int], last_new: float) -> Dataset:
    t = discovery.Template(str(tmp_path), "x_", 5, ".cbf")
    files = discovery.SweepFiles(t.pattern, "x", t, None, set(numbers))
    return Dataset(files, tmp_path / "proc", 0.0, last_new, ready=set(numbers))


def test_states_follow_the_images_and_the_clock(tmp_path: Path) -> None:
    ds = _dataset(tmp_path, {1, 2, 3}, last_new=100.0)
    decide(ds, now=110.0, idle=30.0)
    assert ds.state is DState.COLLECTING
    decide(ds, now=131.0, idle=30.0)
    assert ds.state is DState.QUEUED
    gap = _dataset(tmp_path, {1, 2, 5, 6, 7}, last_new=100.0)
    decide(gap, now=200.0, idle=30.0)
    assert gap.state is DState.WAITING
    assert "images 3–4 missing" in gap.reason
    gap.force = True
    decide(gap, now=200.0, idle=30.0)
    assert gap.state is DState.QUEUED
    one = _dataset(tmp_path, {1}, last_new=100.0)
    decide(one, now=200.0, idle=30.0)
    assert one.state is DState.WAITING and "not a rotation sweep" in one.reason
    skipped = _dataset(tmp_path, {1, 2}, last_new=100.0)
    skipped.skipped = True
    decide(skipped, now=200.0, idle=30.0)
    assert skipped.state is DState.SKIPPED


def test_the_newest_queued_dataset_goes_first(tmp_path: Path) -> None:
    old = _dataset(tmp_path, {1, 2}, last_new=100.0)
    new = _dataset(tmp_path, {1, 2}, last_new=200.0)
    running = _dataset(tmp_path, {1, 2}, last_new=300.0)
    old.state = new.state = DState.QUEUED
    running.state = DState.PROCESSING
    assert pick_next([old, new, running]) is new
    assert pick_next([running]) is None


def test_server_answers_are_read_without_raising() -> None:
    good = parse_response(
        "/d/x_00002.cbf",
        '{"image": "/d/x_00002.cbf", "estimated_d_min": 2.99, "n_spots_no_ice": 650,'
        ' "n_spots_total": 711}',
    )
    assert (good.n_spots, good.n_spots_no_ice, good.d_min, good.error) == (711, 650, 2.99, None)
    bad = parse_response("/d/x.cbf", "<html>")
    assert bad.n_spots is None and "unreadable" in bad.error
    err = parse_response("/d/x.cbf", '{"image": "/d/x.cbf", "error": "Could not find a format"}')
    assert err.n_spots is None and err.error == "Could not find a format"


def test_request_paths_keep_plain_paths_and_quote_others() -> None:
    assert request_path("/data/x_00001.cbf") == "/data/x_00001.cbf"
    quoted = request_path("/data/my visit/x_00001.cbf")
    assert quoted.startswith("/file%3A//") and " " not in quoted


def test_sparkline_groups_images_by_their_maximum() -> None:
    series = [(i, 100) for i in range(1, 9)] + [(9, 0), (10, 0)]
    assert sparkline(series, 1, 10, 10) == "████████▁▁"
    # Two images per column: each column shows the larger count.
    assert sparkline([(1, 0), (2, 50), (3, 100), (4, 0)], 1, 4, 2) == "▅█"
    # Images not yet analysed are blank, never a low bar.
    assert sparkline([(1, 10), (4, 10)], 1, 4, 4) == "█  █"
    assert sparkline([(1, 10)], 1, 1, 4, ascii_only=True) == "#"


def test_summary_rows_carry_the_results(tmp_path: Path) -> None:
    ds = _dataset(tmp_path, {1, 2, 3}, last_new=100.0)
    ds.state = DState.DONE
    ds.results = {
        "space_group": "P 21 21 21",
        "unit_cell": [57.1, 102.19, 112.16, 90.0, 90.0, 90.0],
        "d_min": 2.5794,
        "cc_half": 0.99470,
        "completeness": 63.43,
    }
    row = report.row(ds, 11)
    assert row["state"] == "done" and row["space_group"] == "P 21 21 21"
    assert (row["d_min"], row["cc_half"], row["completeness"]) == (2.58, 0.9947, 63.4)
    assert tuple(row) == report.SUMMARY_KEYS
    text = report.render_text([row])
    assert "P 21 21 21" in text and "57.1 102.2 112.2" in text


def test_a_sweep_written_before_the_session_needs_no_idle_wait(tmp_path: Path) -> None:
    from thas_tui.core.dials_env import NO_DIALS
    from thas_tui.core.session.engine import SessionConfig, SessionEngine

    data = tmp_path / "data"
    data.mkdir()
    old = time.time() - 3600
    for n in (1, 2, 3):
        path = data / f"x_{n:05d}.cbf"
        path.write_bytes(b"###CBF" + CBF_TAIL)
        os.utime(path, (old, old))
    (data / "y_00001.cbf").write_bytes(b"###CBF" + CBF_TAIL)  # just written
    (data / "y_00002.cbf").write_bytes(b"###CBF")  # still being written
    config = SessionConfig(data, tmp_path / "proc", idle=60.0, settle=0.0, live_spots=False)
    engine = SessionEngine(config, NO_DIALS)
    engine.initial_scan()
    now = time.time()
    engine.check_pending(now)  # sizes seen
    engine.check_pending(now + 0.1)  # sizes held
    by_name = {d.name: d for d in engine.datasets.values()}
    assert by_name["x"].state is DState.QUEUED
    assert by_name["x"].ready == {1, 2, 3}
    assert by_name["y"].state is DState.COLLECTING
    assert by_name["y"].ready == {1}  # image 2 has no closed binary section yet


async def test_an_error_in_a_loop_is_said_and_the_session_goes_on(tmp_path: Path) -> None:
    import asyncio

    from thas_tui.core.dials_env import NO_DIALS
    from thas_tui.core.session.engine import SessionConfig, SessionEngine

    said: list[str] = []
    data = tmp_path / "data"
    data.mkdir()
    config = SessionConfig(data, tmp_path / "proc", live_spots=False, autoprocess=False)
    engine = SessionEngine(config, NO_DIALS, said.append)
    calls = []

    def broken(now: float) -> None:
        calls.append(now)
        raise RuntimeError("boom")

    engine.check_pending = broken  # type: ignore[method-assign]
    task = asyncio.create_task(engine.run())
    await asyncio.sleep(0.5)
    engine.stop()
    await task
    assert calls and any("session error (RuntimeError: boom)" in s for s in said)


def test_eiger_data_files_belong_to_their_master(tmp_path: Path) -> None:
    for name in ("lyso_master.h5", "lyso_data_000002.h5", "lyso_data_000001.h5", "lys_data_1.h5"):
        (tmp_path / name).write_bytes(b"x")
    master = str(tmp_path / "lyso_master.h5")
    assert discovery.master_of(str(tmp_path / "lyso_data_000007.h5")) == master
    assert discovery.master_of(master) is None
    assert discovery.master_of(str(tmp_path / "x_00001.cbf")) is None
    assert discovery.data_files(master) == [
        str(tmp_path / "lyso_data_000001.h5"),
        str(tmp_path / "lyso_data_000002.h5"),
    ]


def test_a_data_file_counts_once_complete_and_its_master_known(tmp_path: Path) -> None:
    from thas_tui.core.dials_env import NO_DIALS
    from thas_tui.core.session.engine import SessionConfig, SessionEngine

    data = tmp_path / "data"
    data.mkdir()
    config = SessionConfig(data, tmp_path / "proc", settle=1.0, live_spots=False)
    engine = SessionEngine(config, NO_DIALS)
    engine.initial_scan()
    now = time.time()
    first = data / "x_data_000001.h5"
    first.write_bytes(b"\x89HDF" + b"\0" * 100)
    engine._add_path(str(first), now)  # before its master: nothing to count it into
    assert engine.pending == {} and engine.datasets == {}
    (data / "x_master.h5").write_bytes(b"\x89HDF" + b"\0" * 50)
    engine._add_path(str(data / "x_master.h5"), now)
    (ds,) = engine.datasets.values()
    assert ds.is_nexus and ds.name == "x"
    engine.check_pending(now)
    engine.check_pending(now + 1.1)  # the master's size held for --settle: its data files taken
    assert ds.master_ready and ds.nexus_check
    assert str(first) in engine.pending
    ds.nexus_check = False
    engine.check_pending(now + 1.2)
    assert ds.data_complete == set() and not ds.nexus_check  # its size not yet held for 1 s
    engine.check_pending(now + 2.3)
    assert ds.data_complete == {"x_data_000001.h5"} and ds.nexus_check
    # Its frames are counted by the master file's check (under DIALS's Python), not here.
    assert ds.n_present == 0 and ds.state is DState.COLLECTING


def test_a_nexus_sweep_is_complete_when_its_master_files_images_are(tmp_path: Path) -> None:
    files = discovery.SweepFiles("/d/x_master.h5", "x", None, "/d/x_master.h5")
    ds = Dataset(files, tmp_path / "proc", 0.0, 100.0, master_ready=True, n_expected=24)
    ds.ready = set(range(1, 21))
    decide(ds, now=101.0, idle=60.0)
    assert ds.state is DState.COLLECTING and ds.expected == 24
    ds.ready |= {21, 22, 23, 24}
    decide(ds, now=101.0, idle=60.0)  # all 24 present: no idle wait
    assert ds.state is DState.QUEUED
    short = Dataset(files, tmp_path / "proc", 0.0, 100.0, master_ready=True, n_expected=24)
    short.ready = set(range(1, 11))
    decide(short, now=200.0, idle=60.0)
    assert short.state is DState.WAITING
    assert short.reason.startswith("10 of the 24 images the master file lists are written")
    bad = Dataset(files, tmp_path / "proc", 0.0, 100.0, master_ready=True)
    bad.problem = "x_data_000001.h5 is compressed with bitshuffle/LZ4 (HDF5 filter 32008) ..."
    decide(bad, now=101.0, idle=60.0)
    assert bad.state is DState.WAITING and bad.reason == bad.problem
    row = report.row(ds, 11)
    assert (row["images"], row["images_expected"]) == (24, 24)
    assert report.render_text([row]).splitlines()[1].split()[1] == "24/24"


def test_an_image_of_a_sweep_is_asked_for_by_its_scan_range() -> None:
    from thas_tui.core.session.spot_server import request_url

    assert request_url(4000, "/d/x_00001.cbf") == "http://127.0.0.1:4000/d/x_00001.cbf"
    assert (
        request_url(4000, "/d/x_master.h5", 7)
        == "http://127.0.0.1:4000/d/x_master.h5;scan_range=7,7"
    )


def test_master_check_reports_carry_each_data_files_frames() -> None:
    from thas_tui.core.master_check import parse_reports

    (r,) = parse_reports(
        '[{"master": "/d/x_master.h5", "n_images": 24, "frames": 20,'
        ' "frame_ranges": {"x_data_000001.h5": [1, 10], "x_data_000002.h5": [11, 20],'
        ' "bad": [1], "worse": ["a", 2]}}]'
    )
    assert r.n_images == 24
    assert r.frame_ranges == {"x_data_000001.h5": (1, 10), "x_data_000002.h5": (11, 20)}


async def test_the_spot_server_starts_while_a_sweep_collects_before_its_first_image(
    tmp_path: Path, monkeypatch
) -> None:
    """An EIGER's master file comes seconds before its first data file: the server's DIALS
    start-up is paid in between, not added to the first frame's spot count."""
    import asyncio

    from thas_tui.core.dials_env import NO_DIALS
    from thas_tui.core.session import engine as engine_mod
    from thas_tui.core.session.engine import SessionConfig, SessionEngine

    started: list[float] = []

    class RecordingServer:  # stands in for dials.find_spots_server: only its start is looked at
        def __init__(self, *args) -> None:
            pass

        def start(self) -> None:
            started.append(time.time())

        def stop(self) -> None:
            pass

    monkeypatch.setattr(engine_mod, "SpotServer", RecordingServer)
    data = tmp_path / "data"
    data.mkdir()
    config = SessionConfig(data, tmp_path / "proc", autoprocess=False)
    engine = SessionEngine(config, NO_DIALS)
    task = asyncio.create_task(engine._analyse_loop())
    await asyncio.sleep(0.5)
    assert started == []  # no dataset: no server
    (data / "x_master.h5").write_bytes(b"\x89HDF" + b"\0" * 50)
    engine._add_path(str(data / "x_master.h5"), time.time())
    (ds,) = engine.datasets.values()
    assert ds.state is DState.COLLECTING and ds.ready == set() and not engine._to_analyse
    for _ in range(50):
        if started:
            break
        await asyncio.sleep(0.05)
    engine.stop()
    await task
    assert len(started) == 1

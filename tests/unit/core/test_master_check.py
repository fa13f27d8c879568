"""The pre-import check of HDF5 master files: its JSON read back, each problem's message."""

from __future__ import annotations

import json
from pathlib import Path

from thas_tui.core import master_check
from thas_tui.core.master_check import MasterReport, parse_reports, problem_text

MASTER = "/data/x/thas_eiger_master.h5"
NO_PLUGIN = "Can't read data (can't open directory: /usr/lib/x86_64-linux-gnu/hdf5/serial/plugins)"
BITSHUFFLE = {"id": 32008, "name": "bitshuffle/LZ4", "package": "bitshuffle"}


def _report(*problems: dict, **kw) -> MasterReport:
    return MasterReport(MASTER, problems=list(problems), **kw)


def test_hdf5_inputs_by_suffix() -> None:
    images = ["/d/a_master.h5", "/d/b.cbf", "/d/c.NXS", "/d/d.cbf.gz", "/d/e.hdf5"]
    assert master_check.hdf5_inputs(images) == ["/d/a_master.h5", "/d/c.NXS", "/d/e.hdf5"]


def test_parse_reports_reads_the_checks_output() -> None:
    text = json.dumps(
        [
            {
                "master": MASTER,
                "detector": "Dectris EIGER X 1M (simulated)",
                "n_images": 24,
                "frames": 24,
                "data_files": ["thas_eiger_data_000001.h5", "thas_eiger_data_000002.h5"],
                "filters": [{"id": 1, "name": "gzip", "package": None}],
                "problems": [],
            }
        ]
    )
    (r,) = parse_reports(text)
    assert (r.detector, r.n_images, r.frames) == ("Dectris EIGER X 1M (simulated)", 24, 24)
    assert r.data_files == ["thas_eiger_data_000001.h5", "thas_eiger_data_000002.h5"]
    assert problem_text(r) is None


def test_parse_reports_never_raises_on_garbage() -> None:
    assert parse_reports("Traceback (most recent call last):") == []
    assert parse_reports('{"master": 1}') == []
    (r,) = parse_reports('[{"master": "m.h5", "n_images": "x", "problems": [3, {"kind": "a"}]}]')
    assert r.n_images is None and r.problems == [{"kind": "a"}]


def test_missing_data_files_are_named_with_the_folder() -> None:
    text = problem_text(
        _report({"kind": "missing", "files": ["x_data_000002.h5", "x_data_000003.h5"]})
    )
    assert text.splitlines()[:3] == [
        "thas_eiger_master.h5 names 2 data file(s) that are not in /data/x:",
        "  x_data_000002.h5",
        "  x_data_000003.h5",
    ]
    assert "Copy them beside the master file" in text


def test_filter_names_the_filter_and_the_debian_package() -> None:
    text = problem_text(
        _report(
            {
                "kind": "filter",
                "file": "x_data_000001.h5",
                "error": NO_PLUGIN,
                "filters": [BITSHUFFLE],
            }
        )
    )
    assert text.splitlines() == [
        "/data/x/x_data_000001.h5 is compressed with bitshuffle/LZ4 (HDF5 filter 32008), which "
        "DIALS cannot decode here: no HDF5 filter plugins are installed "
        "(/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins does not exist).",
        "Install the Debian package bitshuffle (apt-get install bitshuffle), or set "
        "HDF5_PLUGIN_PATH to a folder holding the filter's plugin.",
    ]


def test_unregistered_and_broken_plugin_reasons() -> None:
    unregistered = problem_text(
        _report(
            {
                "kind": "filter",
                "error": "Can't read data (required filter 'bitshuffle; see "
                "https://github.com/kiyo-masui/bitshuffle' is not registered)",
                "filters": [BITSHUFFLE],
            }
        )
    )
    assert "DIALS cannot decode here: no plugin for it is installed." in unregistered
    broken = problem_text(
        _report(
            {
                "kind": "filter",
                "error": "Can't read data (can't dlopen:/usr/lib/x86_64-linux-gnu/hdf5/serial/"
                "plugins/liblzf_filter.so: undefined symbol: H5E_CALLBACK_g)",
                "filters": [BITSHUFFLE],
            }
        )
    )
    assert "an installed HDF5 plugin fails to load" in broken
    assert broken.endswith("Remove Debian's hdf5-plugin-lzf (its plugin cannot be loaded).")


def test_still_being_written() -> None:
    truncated = problem_text(
        _report(
            {
                "kind": "truncated",
                "file": "x_data_000002.h5",
                "error": "Unable to open file (truncated file: eof = 3000000, "
                "sblock->base_addr = 0, stored_eof = 8172651)",
            }
        )
    )
    assert truncated.startswith(
        "/data/x/x_data_000002.h5 is shorter than its HDF5 header says: it is still being written"
    )
    locked = problem_text(_report({"kind": "locked", "file": MASTER, "error": "unable to lock"}))
    assert locked.startswith(f"{MASTER} is open for writing by another program")
    incomplete = problem_text(_report({"kind": "incomplete", "n_images": 24, "frames": 14}))
    assert incomplete.startswith(
        "thas_eiger_master.h5 describes 24 images but its data files hold 14: the collection is "
        "still being written"
    )


def test_saved_reports_round_trip(tmp_path: Path) -> None:
    report = _report(detector="Dectris EIGER X 4M", n_images=90, data_files=["a.h5", "b.h5"])
    master_check.save(tmp_path, [report])
    assert master_check.load(tmp_path) == [report]
    assert master_check.load(tmp_path / "elsewhere") == []


def test_hdf5_inputs_of_a_directory_are_its_master_files(tmp_path: Path) -> None:
    for name in ("x_master.h5", "x_data_000001.h5", "y.nxs", "z.cbf"):
        (tmp_path / name).write_bytes(b"")
    assert master_check.hdf5_inputs([str(tmp_path)]) == [
        str(tmp_path / "x_master.h5"),
        str(tmp_path / "y.nxs"),
    ]


def test_a_data_file_given_instead_of_its_master() -> None:
    text = problem_text(_report({"kind": "data_file", "file": "/data/x/x_data_000001.h5"}))
    assert text.splitlines() == [
        "/data/x/x_data_000001.h5 is an EIGER data file (it holds images but no beam, detector "
        "or goniometer).",
        "Give its master file (NAME_master.h5) instead: DIALS reads the data files through it.",
    ]


def test_data_files_beside_their_master_are_passed_over() -> None:
    """`thas-tui run x_*.h5` gives the master file and its data files, as DIALS accepts."""
    master = _report(n_images=24)
    data = MasterReport("/data/x/x_data_000001.h5", problems=[{"kind": "data_file"}])
    assert master_check.problem_texts([master, data]) == []
    (alone,) = master_check.problem_texts([data])
    assert alone.startswith("/data/x/x_data_000001.h5 is an EIGER data file")

"""Parsers and failure texts on DIALS 3.12 logs of a simulated EIGER (NXmx master file) sweep."""

from __future__ import annotations

import shutil
from pathlib import Path

from thas_tui.core import master_check, stage_info
from thas_tui.core.failures import classify
from thas_tui.core.parsers import find_spots

EIGER = Path(__file__).resolve().parents[2] / "data" / "dials-3.12_eiger"


def _lines(name: str) -> list[str]:
    return (EIGER / name).read_text(encoding="utf-8").splitlines()


def test_find_spots_log_of_a_master_file() -> None:
    log = find_spots.parse((EIGER / "dials.find_spots.log").read_text(encoding="utf-8"))
    assert (log.version, log.image_ranges, log.nproc) == ("3.12", [(1, 24)], 2)
    assert len(log.strong_pixels) == 24
    assert (log.strong_pixels[1], log.strong_pixels[24]) == (12413, 12541)
    assert (log.n_extracted, log.n_filtered, log.n_saved) == (12042, 11281, 11281)
    (h,) = log.histograms
    assert (h.n_spots, h.n_images, h.max_per_bin, h.first_image, h.last_image) == (
        11281,
        24,
        728,
        1,
        24,
    )


def test_find_spots_progress_counts_the_images_of_a_master_file() -> None:
    """No image file names in a NeXus run: progress comes from the image numbers alone."""
    lines = _lines("dials.find_spots.log")
    seen = []
    tracker = find_spots.FindSpotsProgress()
    for line in lines:
        p = tracker.feed(line)
        if p is not None:
            seen.append((p.phase, p.done, p.total))
    assert seen[0] == ("Finding spots", 0, 24)
    assert ("Finding spots", 12, 24) in seen
    assert seen[-2:] == [("Filtering spots", 24, 24), ("Done", 24, 24)]
    batch = find_spots.FindSpotsProgress()
    last = batch.feed_lines(lines[:40])
    # lines 25-40 of the log are "Found N strong pixels on image 1" to "... image 16"
    assert (last.phase, last.done, last.total) == ("Finding spots", 16, 24)


def test_dials_failure_without_a_filter_plugin() -> None:
    f = classify("dials.find_spots", 1, _lines("find_spots_no_filter_plugin.log")[-40:])
    assert f.reason == (
        "dials.find_spots could not decode the images: they are compressed with a filter that "
        "needs an HDF5 plugin, and none is installed "
        "(/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins does not exist)."
    )
    assert "apt-get install bitshuffle" in f.hint


def test_dials_failure_with_a_missing_data_file() -> None:
    f = classify("dials.find_spots", 1, _lines("find_spots_missing_data_file.log")[-40:])
    assert f.reason == (
        "dials.find_spots could not open the data file thas_eiger_data_000001.h5 that the "
        "master file links to."
    )


def test_dials_failure_texts_from_eiger_notes() -> None:
    """The exact exception lines EIGER-NOTES.md records for the other HDF5 failures."""
    dectris = classify(
        "dials.import",
        1,
        [
            "Traceback (most recent call last):",
            "KeyError: 'Please report this error to dials-support@lists.sourceforge.net: "
            "data_000001'",
        ],
    )
    assert dectris.reason == (
        "dials.import could not follow the master file's link data_000001: its data file is "
        "missing."
    )
    unregistered = classify(
        "dials.find_spots",
        1,
        [
            "OSError: Please report this error to dials-support@lists.sourceforge.net: Can't "
            "read data (required filter 'bitshuffle; see https://github.com/kiyo-masui/"
            "bitshuffle' is not registered)"
        ],
    )
    assert unregistered.reason == (
        "dials.find_spots could not decode the images: they are compressed with bitshuffle, "
        "and no HDF5 plugin for it is installed."
    )
    unnamed = classify(
        "dials.find_spots",
        1,
        ["OSError: Can't read data (required filter (name unavailable) is not registered)"],
    )
    assert "compressed with a filter HDF5 does not know by name" in unnamed.reason
    lzf = classify(
        "dials.find_spots",
        1,
        [
            "OSError: Please report this error to dials-support@lists.sourceforge.net: Can't "
            "read data (can't dlopen:/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins/"
            "liblzf_filter.so: undefined symbol: H5E_CALLBACK_g)"
        ],
    )
    assert lzf.reason.startswith(
        "dials.find_spots could not decode the images: the HDF5 plugin "
        "/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins/liblzf_filter.so fails to load"
    )
    assert "hdf5-plugin-lzf" in lzf.hint


def test_header_names_the_detector_and_image_count(tmp_path: Path) -> None:
    shutil.copy(EIGER / "imported.expt", tmp_path)
    assert stage_info.dataset_label(tmp_path) == (
        "thas_eiger_master.h5 · 24 images · λ 0.9763 Å · 1030×1065 px at 130 mm"
    )
    master = "/tmp/eiger-work/small/thas_eiger_master.h5"  # as imported.expt stores it
    master_check.save(
        tmp_path,
        [master_check.MasterReport(master, detector="Dectris EIGER X 1M (simulated)", n_images=24)],
    )
    assert stage_info.dataset_label(tmp_path) == (
        "thas_eiger_master.h5 · 24 images · EIGER X 1M (simulated) · λ 0.9763 Å · "
        "1030×1065 px at 130 mm"
    )

"""integrate's progress between its block lines: the images it opens (real log, real inotify)."""

from __future__ import annotations

from pathlib import Path

from thas_tui.core.image_reads import ImageReads
from thas_tui.core.parsers.integrate import IntegrateProgress

LOG = Path(__file__).resolve().parents[2] / "data" / "dials-3.12_thas_demo" / "dials.integrate.log"


def _feed_until(tracker: IntegrateProgress, lines: list[str], text: str) -> int:
    """Feed lines up to and including the first that contains ``text``; its index."""
    for i, line in enumerate(lines):
        tracker.feed(line)
        if text in line:
            return i
    raise AssertionError(text)


def test_reads_move_the_bar_between_block_lines() -> None:
    lines = LOG.read_text().splitlines()
    tracker = IntegrateProgress()
    # Reads before a pass's blocks table cannot be placed.
    assert tracker.images_read(3) is None
    i = _feed_until(tracker, lines, "Using multiprocessing with 2 parallel job")
    # Modelling: blocks 1-20 and 17-36 (inclusive), 20 + 20 images to read; none done yet.
    assert (tracker.progress().done, tracker.progress().total) == (0, 2)
    p = tracker.images_read(5)
    assert p is not None and (p.phase, p.done, p.total) == (
        "Modelling profiles, images read",
        5,
        40,
    )
    assert (p.phase_index, p.detail) == (0, "block 0/2 done")
    # More opens than frames: held one short of the end until DIALS says the blocks are done.
    p = tracker.images_read(41)
    assert p is not None and (p.done, p.total) == (39, 40)
    rest = lines[i + 1 :]
    j = _feed_until(tracker, rest, "Frames: 1 -> 20")
    assert tracker.progress().done == 39
    _feed_until(tracker, rest[j + 1 :], "Frames: 17 -> 36")
    assert (tracker.progress().done, tracker.progress().total) == (40, 40)
    # Integration pass: a new table (1-20 and 17-36 again), reads counted afresh.
    k = _feed_until(tracker, rest, "Integrating reflections")
    p = tracker.progress()
    assert (p.phase, p.done, p.total, p.phase_index) == ("Integrating", 0, None, 1)
    assert tracker.images_read(2) is None  # its table is not out yet
    _feed_until(tracker, rest[k + 1 :], "Using multiprocessing with 2 parallel job")
    p = tracker.images_read(10)
    assert p is not None and (p.phase, p.done, p.total) == ("Integrating, images read", 10, 40)
    _feed_until(tracker, rest[k + 1 :], "Saving")
    p = tracker.progress()
    assert (p.phase, p.done, p.total) == ("Done", 2, 2)


def test_image_reads_counts_opens_of_the_images_only(tmp_path: Path) -> None:
    images = [tmp_path / f"x_{i:05d}.cbf" for i in range(1, 4)]
    for p in images:
        p.write_bytes(b"###CBF")
    (tmp_path / "other.txt").write_text("not an image")
    watcher = ImageReads(images)
    assert watcher.active
    assert watcher.poll() == 0
    for p in (images[0], images[1], images[0], images[2], images[2]):
        p.read_bytes()
    (tmp_path / "other.txt").read_text()
    # The kernel merges an unread event identical to the one before it: a file opened twice in
    # a row (dxtbx reads a header, then the data) counts once, as one image read.
    assert watcher.poll() == 4
    assert watcher.poll() == 0
    watcher.close()
    assert not watcher.active and watcher.poll() == 0


def test_image_reads_of_a_directory_count_any_file_in_it(tmp_path: Path) -> None:
    (tmp_path / "a.cbf.gz").write_bytes(b"x")
    (tmp_path / ".hidden").write_bytes(b"x")
    watcher = ImageReads([tmp_path])
    (tmp_path / "a.cbf.gz").read_bytes()
    (tmp_path / ".hidden").read_bytes()
    assert watcher.poll() == 1
    watcher.close()


def test_image_reads_ignore_a_nexus_master_file(tmp_path: Path) -> None:
    master = tmp_path / "x_master.h5"
    master.write_bytes(b"\x89HDF")
    watcher = ImageReads([master])
    assert not watcher.active
    master.read_bytes()
    assert watcher.poll() == 0

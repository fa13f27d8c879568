"""The MTZ header reader on real DIALS 3.12 files of the demo (dials.export and dials.merge)."""

from __future__ import annotations

from pathlib import Path

import pytest

from thas_tui.core.errors import UnreadableFile
from thas_tui.core.readers.mtz import read_mtz_header

DATA = Path(__file__).resolve().parents[2] / "data" / "dials-3.12_thas_demo_mtz"
CELL = (57.0995, 102.1892, 112.1591, 90.0, 90.0, 90.0)


def test_unmerged_scaled_mtz() -> None:
    h = read_mtz_header(DATA / "scaled_200.mtz")
    assert (h.version, h.title, h.complete) == ("MTZ:V1.1", "From None", True)
    assert (h.n_columns, h.n_reflections, h.n_batches) == (17, 200, 36)
    assert (h.space_group, h.space_group_number, h.point_group) == ("P212121", 19, "222")
    assert h.unit_cell == CELL and h.dataset_cells == {1: CELL}
    assert (h.wavelengths, h.wavelength) == ({1: 1.282}, 1.282)
    assert h.datasets == {1: "DIALS/XTAL/FROMDIALS"}
    assert h.batches == tuple(range(1, 37))
    assert [(c.label, c.type) for c in h.columns[:7]] == [
        ("H", "H"), ("K", "H"), ("L", "H"), ("M/ISYM", "Y"), ("BATCH", "B"), ("I", "J"), ("SIGI", "Q"),
    ]  # fmt: skip
    assert h.merged is False
    # RESO 0.0305971894413233 0.1488221883773804 (1/d², the kept reflections' range)
    assert h.d_max == pytest.approx(0.0305971894413233**-0.5)
    assert h.d_min == pytest.approx(0.1488221883773804**-0.5)


def test_merged_mtz() -> None:
    h = read_mtz_header(DATA / "merged_200.mtz")
    assert (h.n_columns, h.n_reflections, h.n_batches, h.batches) == (19, 200, 0, ())
    assert (h.space_group, h.unit_cell, h.wavelength) == ("P212121", CELL, 1.282)
    assert h.datasets == {1: "AUTOMATIC/XTAL/NATIVE"}
    assert h.merged is True
    assert [c.label for c in h.columns[3:7]] == ["IMEAN", "SIGIMEAN", "I(+)", "SIGI(+)"]
    assert (h.columns[3].min, h.columns[3].max) == (-31.8681927, 3962.5647)


def test_truncated_and_foreign(tmp_path: Path) -> None:
    raw = (DATA / "merged_200.mtz").read_bytes()
    (tmp_path / "cut.mtz").write_bytes(raw[:4000])
    with pytest.raises(
        UnreadableFile,
        match=r"cut.mtz: the MTZ file is truncated \(its header should start at byte \d+, the file has 4000 bytes\)",
    ):
        read_mtz_header(tmp_path / "cut.mtz")
    (tmp_path / "x.mtz").write_text("not an mtz\n" * 10)
    with pytest.raises(UnreadableFile, match="x.mtz: not an MTZ file"):
        read_mtz_header(tmp_path / "x.mtz")
    # Cut inside the header: the records before the cut, and not complete.
    whole = read_mtz_header(DATA / "merged_200.mtz")
    offset = len(raw) - (len(raw) - raw.index(b"VERS MTZ:V1.1"))
    (tmp_path / "head.mtz").write_bytes(raw[: offset + 80 * 6])
    part = read_mtz_header(tmp_path / "head.mtz")
    assert part.complete is False and part.columns == () and part.unit_cell == whole.unit_cell

"""Tests of the msgpack reflection-table reader on real DIALS output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reader_fixtures import LCYS, resolve

from thas_tui.core.errors import UnreadableFile
from thas_tui.core.readers.refl import (
    DEFAULT_COLUMNS,
    FLAG_INDEXED,
    count,
    count_flag,
    indexed_fraction,
    read_refl,
    spots_per_image,
)

# Reference numbers from DIALS 3.12's own reader (/usr/bin/python3:
# flex.reflection_table.from_file(f); t.size(); t.get_flags(t.flags.indexed).count(True);
# flex.sum of each column / of each part of vec3 columns; sum of all bbox values).
# (file, nrows, n_indexed, n_experiments, sum intensity.sum.value, sums of xyzobs.px.value, sum bbox)
REFL_CASES = [
    (
        "lcys:strong.refl",
        160,
        0,
        4,
        261224.0,
        (117590.46715720402, 129829.85487982651, 1321.5827105673152),
        497472,
    ),
    (
        "lcys:indexed.refl",
        160,
        129,
        4,
        261224.0,
        (117590.46715720404, 129829.85487982653, 1321.5827105673152),
        497472,
    ),
    (
        "lcys:integrated.refl",
        252,
        79,
        4,
        276770.02604162693,
        (226164.74767643271, 203968.1614950597, 1920.360793370638),
        864083,
    ),
    (
        "lcys:scaled.refl",
        252,
        79,
        4,
        276770.02604162693,
        (226164.74767643271, 203968.1614950597, 1920.360793370638),
        864083,
    ),
    ("lcys:empty_strong.refl", 0, 0, 1, 0.0, (0.0, 0.0, 0.0), 0),
    (
        "shared:quartz_processed/strong.refl",
        505,
        0,
        1,
        4753559.0,
        (257337.94235484223, 267115.0583982862, 24970.472911432),
        1099019,
    ),
    (
        "shared:quartz_processed/indexed.refl",
        505,
        444,
        1,
        4753559.0,
        (257337.94235484223, 267115.05839828623, 24970.47291143198),
        1099019,
    ),
    (
        "shared:quartz_processed/integrated.refl",
        1653,
        406,
        1,
        5405292.320678711,
        (844888.1511468121, 835664.170422117, 82402.69955601152),
        3525631,
    ),
    (
        "shared:quartz_processed/scaled.refl",
        1620,
        393,
        1,
        5405292.320678711,
        (826084.5975049585, 818851.4831836235, 80596.44150793855),
        3450758,
    ),
]


@pytest.mark.parametrize(("spec", "nrows", "n_indexed", "n_exp", "isum", "xyz", "bbox"), REFL_CASES)
def test_refl_matches_dials(spec, nrows, n_indexed, n_exp, isum, xyz, bbox) -> None:
    t = read_refl(resolve(spec))
    assert t.nrows == nrows == len(t)
    assert len(t.identifiers) == n_exp
    assert int(np.count_nonzero(t["flags"] & FLAG_INDEXED)) == n_indexed
    assert count_flag(t, FLAG_INDEXED) == n_indexed
    assert float(t["intensity.sum.value"].sum()) == pytest.approx(isum, rel=1e-12)
    assert t["xyzobs.px.value"].shape == (nrows, 3)
    assert t["xyzobs.px.value"].sum(axis=0) == pytest.approx(xyz, rel=1e-12, abs=1e-9)
    assert int(t["bbox"].sum()) == bbox


def test_integrated_columns_and_miller_indices() -> None:
    # miller_index sums from DIALS: flex.sum of each part of as_vec3_double().
    t = read_refl(LCYS / "integrated.refl")
    assert t.missing == ()
    assert set(DEFAULT_COLUMNS) <= set(t.columns)
    assert t["miller_index"].dtype == np.int32
    assert t["miller_index"].sum(axis=0).tolist() == [-109, 888, -1361]
    assert t["bbox"].shape == (252, 6)
    assert t["flags"].dtype == np.uint64
    assert t.identifiers[0] == "3c7fd76e-6101-e7a4-6f48-0c5cbbb176fa"
    assert indexed_fraction(t) == pytest.approx(79 / 252)


def test_only_requested_columns_are_read() -> None:
    t = read_refl(LCYS / "strong.refl", columns=["id", "shoebox", "nonexistent"])
    assert set(t.columns) == {"id"}
    # shoebox cannot be decoded into numpy and the other is absent: both reported, not raised.
    assert t.missing == ("nonexistent", "shoebox")
    assert "shoebox" in t.column_names
    assert count(LCYS / "strong.refl") == 160


def test_spots_per_image_matches_find_spots() -> None:
    # Per-image counts of experiment 0..3, from DIALS's z centroids (floor(z) = 0-based frame);
    # the totals agree with dials.find_spots' "N spots found on 15 images" lines (53, 32, 43, 30... ).
    t = read_refl(LCYS / "strong.refl")
    expected = {
        0: [2, 3, 1, 1, 4, 5, 1, 5, 1, 6, 1, 3, 4, 9, 8],
        1: [5, 1, 2, 1, 1, 1, 1, 1, 2, 2, 5, 2, 2, 0, 7],
        2: [2, 3, 3, 3, 2, 5, 3, 2, 3, 0, 3, 2, 7, 2, 3],
        3: [6, 1, 2, 3, 1, 2, 0, 1, 1, 1, 3, 1, 2, 0, 6],
    }
    for exp_id, counts in expected.items():
        assert spots_per_image(t, (1, 15), exp_id).tolist() == counts
    assert spots_per_image(t, (1, 15)).sum() == 160


def test_spots_per_image_scan_not_starting_at_one() -> None:
    # A scan of images 11..20 has array range 10..20: z in [10, 11) is image 11.
    t = read_refl(LCYS / "strong.refl", columns=["xyzobs.px.value"])
    shifted = type(t)(
        t.path, t.nrows, t.identifiers, {"xyzobs.px.value": t["xyzobs.px.value"] + [0, 0, 10]}
    )
    assert spots_per_image(shifted, (11, 25)).tolist() == spots_per_image(t, (1, 15)).tolist()


def test_empty_table() -> None:
    t = read_refl(LCYS / "empty_strong.refl")
    assert t.nrows == 0
    assert spots_per_image(t, (1, 2)).tolist() == [0, 0]
    assert indexed_fraction(t) is None


def test_pickle_is_unsupported() -> None:
    with pytest.raises(UnreadableFile, match=r"unsupported \(pickle\)"):
        read_refl(LCYS / "old_pickle.refl")


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="cannot open"):
        read_refl(tmp_path / "absent.refl")
    (tmp_path / "zero.refl").write_bytes(b"")
    with pytest.raises(UnreadableFile, match="empty"):
        read_refl(tmp_path / "zero.refl")


@pytest.mark.parametrize("cut", [1, 10, 30, 100, 1000, 50_000, 264_000])
def test_truncated_file_raises_unreadable(tmp_path: Path, cut: int) -> None:
    data = (LCYS / "strong.refl").read_bytes()
    p = tmp_path / "cut.refl"
    p.write_bytes(data[:cut])
    with pytest.raises(UnreadableFile, match="truncated|not a readable"):
        read_refl(p)


_STRONG = (LCYS / "strong.refl").read_bytes()


@settings(
    max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(data=st.data())
def test_garbage_only_raises_unreadable(tmp_path: Path, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["random", "truncated", "corrupted"]))
    if kind == "random":
        raw = data.draw(st.binary(max_size=4096))
    elif kind == "truncated":
        raw = _STRONG[: data.draw(st.integers(0, len(_STRONG)))]
    else:
        pos = data.draw(st.integers(0, 2000))
        raw = _STRONG[:pos] + data.draw(st.binary(min_size=1, max_size=8)) + _STRONG[pos + 1 :]
    p = tmp_path / "x.refl"
    p.write_bytes(raw)
    try:
        t = read_refl(p)
    except UnreadableFile:
        return
    for name, arr in t.columns.items():
        assert len(arr) == t.nrows, name

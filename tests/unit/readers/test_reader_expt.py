"""Tests of the experiment-list reader on real DIALS output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reader_fixtures import LCYS, resolve, shared

from thas_tui.core.errors import UnreadableFile
from thas_tui.core.readers.expt import cell_volume, read_expt, space_group_symbol

# Reference numbers from DIALS 3.12 (/usr/bin/python3, ExperimentListFactory.from_json_file(f,
# check_format=False)): beam.get_wavelength(), detector[0].get_directed_distance(),
# scan.get_image_range(), scan.get_oscillation(), goniometer.get_rotation_axis(),
# crystal.get_unit_cell().parameters(), get_space_group().type().lookup_symbol(),
# crystal.num_scan_points — all of experiment 0.
EXPT_CASES = [
    # spec, n_exp, wavelength, distance, image_range, oscillation, axis, cell, space group, n_scan_points
    (
        "lcys:imported.expt",
        4,
        0.6889,
        159.9999999999887,
        (1, 15),
        (-145.0, 0.1),
        (1.0, 0.0, 0.0),
        None,
        None,
        0,
    ),
    (
        "lcys:indexed.expt",
        4,
        0.688899999999999,
        161.89262986903086,
        (1, 15),
        (-145.0, 0.1),
        (1.0, 0.0, 0.0),
        (
            5.495698046105409,
            8.207543408362376,
            12.16237809891392,
            90.13728708005736,
            89.70591647164409,
            89.81623951634536,
        ),
        "P 1",
        0,
    ),
    (
        "lcys:bravais_setting_5.expt",
        4,
        0.688899999999999,
        161.6081803712144,
        (1, 15),
        (-145.0, 0.1),
        (1.0, 0.0, 0.0),
        (
            5.488490793052523,
            8.194158309339219,
            12.141610592269199,
            89.99999999999999,
            90.00000000000001,
            90.00000000000001,
        ),
        "P 2 2 2",
        0,
    ),
    (
        "lcys:refined.expt",
        4,
        0.688899999999999,
        159.49058637900123,
        (1, 15),
        (-145.0, 0.1),
        (1.0, 0.0, 0.0),
        (5.488490793052523, 8.194158309339224, 12.141610592269204, 89.99999999999999, 90.0, 90.0),
        "P 2 2 2",
        16,
    ),
    (
        "lcys:integrated.expt",
        4,
        0.688899999999999,
        159.49058637900123,
        (1, 15),
        (-145.0, 0.1),
        (1.0, 0.0, 0.0),
        (
            5.488490793052522,
            8.194158309339226,
            12.141610592269208,
            89.99999999999999,
            90.00000000000001,
            90.0,
        ),
        "P 2 2 2",
        16,
    ),
    (
        "lcys:scaled.expt",
        4,
        0.688899999999999,
        159.49058637900123,
        (1, 15),
        (-145.0, 0.1),
        (1.0, 0.0, 0.0),
        (
            5.488490793052521,
            8.194158309339224,
            12.141610592269204,
            90.00000000000001,
            90.00000000000003,
            90.0,
        ),
        "P 2 2 2",
        16,
    ),
    (
        "shared:quartz_processed/imported.expt",
        1,
        0.02508,
        280.0,
        (1, 100),
        (-50.0, 1.0),
        (0.9999570551912293, 0.009267565661199248, 0.0),
        None,
        None,
        0,
    ),
    (
        "shared:quartz_processed/indexed.expt",
        1,
        0.025079999999999995,
        280.0,
        (1, 100),
        (-50.0, 1.0),
        (0.9999570551912293, 0.009267565661199248, 0.0),
        (
            4.92470038567309,
            4.92470038567309,
            5.400739596811096,
            90.0,
            90.00000000000001,
            120.00000000000001,
        ),
        "P 31 2 1",
        0,
    ),
    (
        "shared:quartz_processed/scaled.expt",
        1,
        0.025079999999999995,
        280.0,
        (1, 100),
        (-50.0, 1.0),
        (0.9999570551912293, 0.009267565661199248, 0.0),
        (
            4.924887351825672,
            4.924887351825672,
            5.401371026345213,
            90.00000000000003,
            90.0,
            119.99999999999999,
        ),
        "P 31 2 1",
        101,
    ),
    (
        "shared:l_cysteine_dials_output/indexed.expt",
        4,
        0.6889,
        161.5359441509712,
        (1, 1700),
        (-145.0, 0.1),
        (1.0, 0.0, 0.0),
        (
            5.475311885546763,
            8.210654222202338,
            12.158448306537167,
            89.8955025456113,
            90.04833107972885,
            90.00206538814308,
        ),
        "P 1",
        0,
    ),
]


@pytest.mark.parametrize(
    ("spec", "n", "wl", "dist", "irange", "osc", "axis", "cell", "sg", "nsp"), EXPT_CASES
)
def test_expt_matches_dials(spec, n, wl, dist, irange, osc, axis, cell, sg, nsp) -> None:
    el = read_expt(resolve(spec))
    assert el.format == "ExperimentList"
    assert len(el) == n
    e = el[0]
    assert e.beam.wavelength == pytest.approx(wl, rel=1e-12)
    assert e.detector.distance == pytest.approx(dist, rel=1e-12)
    assert e.scan.image_range == irange
    assert (e.scan.oscillation_start, e.scan.oscillation_width) == pytest.approx(osc, rel=1e-12)
    assert e.goniometer.rotation_axis == pytest.approx(axis, rel=1e-12, abs=1e-15)
    if cell is None:
        assert e.crystal is None
    else:
        assert e.crystal.unit_cell.parameters == pytest.approx(cell, rel=1e-12)
        assert e.crystal.space_group == sg
        assert e.crystal.num_scan_points == nsp
        assert e.crystal.unit_cell.volume == pytest.approx(cell_volume(cell), rel=1e-12)
    assert el.warnings == ()


def test_lcys_integrated_details() -> None:
    el = read_expt(LCYS / "integrated.expt")
    e = el[0]
    assert el.identifiers[0] == "3c7fd76e-6101-e7a4-6f48-0c5cbbb176fa"
    assert e.imageset.kind == "ImageSequence"
    assert e.imageset.template == "/work/shared/fixtures/images/l_cysteine/l-cyst_01_#####.cbf.gz"
    panel = e.detector.panels[0]
    assert panel.image_size == (1475, 1679)
    assert panel.pixel_size == (0.172, 0.172)
    assert e.scan.exposure_time == 0.0964
    assert e.scan.num_images == 15
    # sigma_b / sigma_m: e.profile.sigma_b(deg=True), sigma_m(deg=True) in DIALS 3.12.
    assert e.profile.sigma_b == pytest.approx(0.04820852996265854, rel=1e-12)
    assert e.profile.sigma_m == pytest.approx(0.07395849024872715, rel=1e-12)
    assert e.crystal.hall_symbol == " P 2 2"
    assert e.crystal.space_group_number == 16
    # Four sweeps, four crystal models (dials.index indexed each sweep with its own crystal).
    assert len(el.crystals) == 4
    assert [x.scan.image_range for x in el] == [(1, 15)] * 4


def test_scan_varying_cells_and_orientation_match_dials() -> None:
    # DIALS: crystal.get_unit_cell_at_scan_point(t).parameters(); angles as
    # dials.plot_scan_varying_model computes them: U(t)·U0⁻¹ decomposed with
    # solve_r3_rotation_for_angles_given_axes(U, e3, e2, e1, deg=True) -> (phi3, phi2, phi1).
    sv = read_expt(LCYS / "integrated.expt")[0].crystal.scan_varying
    assert sv.cells.shape == (16, 6)
    assert sv.cells[0] == pytest.approx(
        [
            5.425861039007755,
            8.139210720975873,
            12.026329937758925,
            90.00000000000003,
            90.00000000000003,
            90.00000000000001,
        ],
        rel=1e-12,
    )
    assert sv.cells[-1] == pytest.approx(
        [
            5.425305740555882,
            8.134923757932311,
            12.037754695263514,
            90.00000000000003,
            90.0,
            90.00000000000001,
        ],
        rel=1e-12,
    )
    assert sv.orientation[-1] == pytest.approx(
        [0.6274199199646062, -0.365124968595611, 1.7126337699647516], abs=1e-10
    )
    assert sv.phi[0] == -145.0
    assert sv.phi[-1] == pytest.approx(-143.5, abs=1e-12)
    assert np.all(sv.volumes > 0)
    # Drift from the first scan point (our decomposition of U(t)·U(0)⁻¹; DIALS plots only the
    # static-relative one): zero there; U is orthonormal at every point.
    assert sv.orientation_from_first[0] == pytest.approx([0, 0, 0], abs=1e-12)
    assert np.abs(sv.orientation_from_first[-1]).max() == pytest.approx(
        0.0632529980216533, rel=1e-9
    )
    assert np.einsum("nij,nkj->nik", sv.U, sv.U) == pytest.approx(
        np.broadcast_to(np.eye(3), (16, 3, 3)), abs=1e-12
    )


def test_scan_varying_quartz() -> None:
    sv = read_expt(shared("quartz_processed/integrated.expt"))[0].crystal.scan_varying
    assert len(sv.phi) == 101
    assert sv.phi[0] == -50.0 and sv.phi[-1] == pytest.approx(50.0)
    assert sv.orientation[-1] == pytest.approx(
        [-3.0400873523116633e-05, 3.1038491169884736e-05, 0.0001809047490827347], abs=1e-10
    )


def test_old_datablock_format() -> None:
    el = read_expt(shared("l_cysteine_dials_output/datablock.json"))
    assert el.format == "DataBlock"
    assert len(el) == 4
    assert el[0].beam.wavelength == 0.6889
    assert el[0].scan.image_range == (1, 10)
    assert el[0].imageset.template == "l-cyst_01_#####.cbf"
    assert el.warnings


def test_old_imported_experiments_json() -> None:
    el = read_expt(shared("l_cysteine_dials_output/imported_experiments.json"))
    assert len(el) == 4
    assert el[3].detector is not None and el[0].crystal is None


@pytest.mark.parametrize(
    ("hall", "hm", "number"),
    [
        (" P 2ac 2ab", "P 21 21 21", 19),
        (" P 1", "P 1", 1),
        (" C 2y", "C 1 2 1", 5),
        (" P 2yb", "P 1 21 1", 4),
        (" P 4abw 2nw", "P 41 21 2", 92),
        (' P 31 2"', "P 31 2 1", 152),
        (" I 2 2 3", "I 2 3", 197),
        (" R 3", "R 3 :H", 146),
        ("-P 2 2", "P m m m", 47),
        ("P 2ac 2ab", "P 21 21 21", 19),  # missing leading space tolerated
        (" P 2 2 (x,y,z+1/4)", "P 2 2 (x,y,z+1/4)", None),  # unknown: the Hall string, stripped
    ],
)
def test_space_group_symbols(hall: str, hm: str, number: int | None) -> None:
    assert space_group_symbol(hall) == (hm, number)


def test_all_65_sohncke_groups_mapped() -> None:
    from thas_tui.core.readers._hall_symbols import HALL_TO_HM

    numbers = {n for n, _ in HALL_TO_HM.values()}
    assert numbers == set(range(1, 231))


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "not valid JSON"),
        (b'{"__id__": "ExperimentList", "experiment": [', "not valid JSON"),
        (b"[1, 2, 3]", "unsupported format"),
        (b'{"foo": 1}', "unsupported format"),
    ],
)
def test_unusable_files(tmp_path: Path, content: bytes, match: str) -> None:
    p = tmp_path / "x.expt"
    p.write_bytes(content)
    with pytest.raises(UnreadableFile, match=match):
        read_expt(p)


def test_damaged_models_become_none(tmp_path: Path) -> None:
    doc = json.loads((LCYS / "integrated.expt").read_text())
    doc["crystal"][0]["real_space_a"] = "garbage"
    doc["scan"][1] = None
    doc["beam"] = []
    p = tmp_path / "damaged.expt"
    p.write_text(json.dumps(doc))
    el = read_expt(p)
    assert el[0].crystal is None and el[1].scan is None and el[0].beam is None
    assert el[2].crystal.space_group == "P 2 2 2"
    assert el.warnings


_INTEGRATED = (LCYS / "integrated.expt").read_bytes()


@settings(
    max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(data=st.data())
def test_garbage_only_raises_unreadable(tmp_path: Path, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["random", "truncated", "json"]))
    if kind == "random":
        raw = data.draw(st.binary(max_size=2048))
    elif kind == "truncated":
        raw = _INTEGRATED[: data.draw(st.integers(0, len(_INTEGRATED)))]
    else:
        # Valid JSON of the right kind with arbitrary values in the model lists.
        junk = st.recursive(
            st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
            lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=5), c, max_size=4),
            max_leaves=20,
        )
        doc = {
            "__id__": "ExperimentList",
            "experiment": [{"beam": 0, "crystal": 0, "scan": 0, "detector": 0, "goniometer": 0}],
        }
        for key in ("beam", "detector", "goniometer", "scan", "crystal", "profile"):
            doc[key] = data.draw(junk)
        raw = json.dumps(doc).encode()
    p = tmp_path / "x.expt"
    p.write_bytes(raw)
    try:
        read_expt(p)
    except UnreadableFile:
        pass

"""xia2 (0.3.6.3 text, 3.x table and JSON), ispyb.xml and aimless (0.2.17, 0.7.1, 0.7.2) read back exactly."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from thas_tui.core.errors import UnreadableFile
from thas_tui.core.readers.aimless import read_aimless_log, read_aimless_xml
from thas_tui.core.readers.ispyb import read_ispyb_xml
from thas_tui.core.readers.shells import Shell
from thas_tui.core.readers.xia2 import (
    read_xia2_error,
    read_xia2_json,
    read_xia2_summary,
    read_xia2_txt,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "xia2-outputs"
RUN = DATA / "xia2-0.3.6.3_3daii-run"
FAILED = DATA / "xia2-0.3.6.3_2da-run"
XCHEM = DATA / "aimless-0.7.1_xchem"
XDSME = DATA / "aimless-0.7.2_xdsme"

# xia2.txt 0.3.6.3 "For nt5073v16/xBAZ2BAx8281/SAD" (Overall, Low, High), as printed.
BAZ2B_OVERALL = Shell(
    d_max=42.66, d_min=1.90, completeness=99.9, multiplicity=6.7, i_over_sigma=19.3,
    r_merge=0.048, r_meas=0.057, r_pim=0.022, anom_completeness=99.4, anom_multiplicity=3.4,
    anom_correlation=0.016, n_obs=125167, n_unique=18787, r_meas_anom=0.056, r_pim_anom=0.030,
)  # fmt: skip
BAZ2B_LOW = Shell(
    d_max=42.66, d_min=8.50, completeness=99.2, multiplicity=6.1, i_over_sigma=55.0,
    r_merge=0.028, r_meas=0.034, r_pim=0.013, anom_completeness=100.0, anom_multiplicity=3.8,
    anom_correlation=-0.059, n_obs=1512, n_unique=247, r_meas_anom=0.032, r_pim_anom=0.016,
)  # fmt: skip
BAZ2B_HIGH = Shell(
    d_max=1.95, d_min=1.90, completeness=99.9, multiplicity=7.0, i_over_sigma=2.6,
    r_merge=0.648, r_meas=0.767, r_pim=0.288, anom_completeness=99.8, anom_multiplicity=3.5,
    anom_correlation=0.031, n_obs=9679, n_unique=1388, r_meas_anom=0.763, r_pim_anom=0.398,
)  # fmt: skip


def test_xia2_txt_0_3_6_3() -> None:
    t = read_xia2_txt(RUN / "xia2.txt")
    assert (t.version, t.status, t.error) == ("0.3.6.3", "normal termination", None)
    assert t.command_line.startswith("xia2 -min_images 3 -3daii -xparallel -1 -atom s -blend")
    (ds,) = t.datasets
    assert ds.name == "nt5073v16/xBAZ2BAx8281/SAD"
    assert ds.shells.overall == BAZ2B_OVERALL
    assert ds.shells.low == BAZ2B_LOW
    assert ds.shells.high == BAZ2B_HIGH
    assert ds.extra == {
        "Wilson B factor": (29.862,),
        "Anomalous slope": (1.025, 0.0, 0.0),
        "dF/F": (0.047,),
        "dI/s(dI)": (0.841,),
    }
    assert (t.space_group, t.alternative_space_groups) == ("C 2 2 21", ())
    assert t.unit_cell == (83.090, 96.790, 57.950, 90.0, 90.0, 90.0)
    assert t.wavelengths == {"SAD": 0.92}
    (sw,) = t.sweeps
    assert (sw.name, sw.wavelength, sw.images, sw.template) == (
        "SWEEP1",
        "SAD",
        (1, 1800),
        "BAZ2BA-x828_1_####.cbf",
    )
    assert sw.directory == "/dls/i04-1/data/2014/nt5073-16/BAZ2BA/BAZ2BA-x828"
    assert set(t.reflection_files) == {"mtz", "sca", "hkl", "sca_unmerged"}
    assert t.reflection_files["sca_unmerged"][0].endswith(
        "DataFiles/nt5073v16_xBAZ2BAx8281_scaled_unmerged.sca"
    )


def test_xia2_txt_failed_run_and_its_error_file() -> None:
    t = read_xia2_txt(FAILED / "xia2.txt")
    assert (t.version, t.status, t.error, t.datasets) == (
        "0.3.6.3",
        "error",
        "error in indexing",
        (),
    )
    e = read_xia2_error(FAILED / "xia2.error")
    assert e.error == "RuntimeError: error in indexing"
    assert e.traceback[0] == "Traceback (most recent call last):"
    assert len(e.traceback) == 36  # its non-blank lines


def test_xia2_3x_aligned_table() -> None:
    """xia2 3.x's layout (Overall/Low/High header, space-aligned), written by its formatter."""
    t = read_xia2_txt(DATA / "xia2-3.x_json" / "xia2-3.x_table.txt")
    (ds,) = t.datasets
    assert ds.name == "AUTOMATIC/DEFAULT/NATIVE"
    assert ds.shells.overall == Shell(
        d_max=48.94, d_min=1.81, completeness=100.0, multiplicity=10.4, i_over_sigma=8.5,
        r_merge=0.115, r_meas=0.121, r_pim=0.037, cc_half=0.999, anom_completeness=100.0,
        anom_multiplicity=5.4, anom_correlation=-0.079, n_obs=508400, n_unique=48948,
        r_merge_anom=0.110, r_meas_anom=0.121, r_pim_anom=0.051,
    )  # fmt: skip
    assert ds.shells.high == Shell(
        d_max=1.84, d_min=1.81, completeness=100.0, multiplicity=10.4, i_over_sigma=0.1,
        r_merge=7.273, r_meas=7.650, r_pim=2.359, cc_half=0.326, anom_completeness=100.0,
        anom_multiplicity=5.4, anom_correlation=-0.003, n_obs=25426, n_unique=2442,
        r_merge_anom=6.954, r_meas_anom=7.711, r_pim_anom=3.307,
    )  # fmt: skip
    assert ds.shells.low.d_max == 48.96 and ds.shells.low.i_over_sigma == 55.6
    assert ds.extra == {
        "Wilson B factor": (28.2,),
        "Anomalous slope": (0.306,),
        "dF/F": (0.08,),
        "dI/s(dI)": (0.31,),
    }


def test_xia2_summary_dat() -> None:
    s = read_xia2_summary(RUN / "xia2-summary.dat")
    (ds,) = s.datasets
    assert ds.shells.overall == Shell(
        d_max=42.66, d_min=1.9, completeness=99.9, multiplicity=6.7, i_over_sigma=19.3,
        r_merge=0.048, anom_completeness=99.4, anom_multiplicity=3.4,
    )  # fmt: skip
    assert ds.shells.low == Shell(
        d_max=42.66, d_min=8.5, completeness=99.2, multiplicity=6.1, i_over_sigma=55.0,
        r_merge=0.028, anom_completeness=100.0, anom_multiplicity=3.8,
    )  # fmt: skip
    assert ds.shells.high == Shell(
        d_max=1.95, d_min=1.9, completeness=99.9, multiplicity=7.0, i_over_sigma=2.6,
        r_merge=0.648, anom_completeness=99.8, anom_multiplicity=3.5,
    )  # fmt: skip
    assert s.wavelengths == {"SAD": 0.92}
    assert [(w.name, w.wavelength, w.images) for w in s.sweeps] == [("SWEEP1", "SAD", (1, 1800))]
    assert s.unit_cell == (83.09, 96.79, 57.95, 90.0, 90.0, 90.0)
    assert s.space_group == "C 2 2 21"


def test_ispyb_xml() -> None:
    r = read_ispyb_xml(RUN / "ispyb.xml")
    assert r.space_group == "C 2 2 21"
    assert r.unit_cell == (83.089996, 96.790001, 57.950001, 90.0, 90.0, 90.0)
    assert r.images == ((1, 1800),)
    assert r.wavelength is None
    assert r.command_line.endswith("BAZ2BA-x828_1_0001.cbf")
    # The same numbers as xia2.txt (no ccHalf, ccAnomalous or rMeasWithinIPlusIMinus in this file).
    for got, want in ((r.shells.overall, BAZ2B_OVERALL), (r.shells.low, BAZ2B_LOW)):
        assert got == Shell(**{**want.as_dict(), "anom_correlation": None, "r_meas_anom": None})
    assert r.shells.high.r_merge == 0.648 and r.shells.high.n_obs == 9679


def test_xia2_json() -> None:
    j = read_xia2_json(DATA / "xia2-3.x_json" / "xia2.json")
    assert (j.project, j.crystal, j.space_group) == ("AUTOMATIC", "DEFAULT", "P 31 2 1")
    assert j.unit_cell == (
        82.48251096944551, 82.48251096944553, 134.4068941912613,
        90.00000000000001, 90.00000000000001, 119.99999999999999,
    )  # fmt: skip
    assert j.wavelengths == {"NATIVE": 1.0332}
    assert [(s.name, s.wavelength, s.images, s.template) for s in j.sweeps] == [
        ("SWEEP1", "NATIVE", (1, 1000), "PLpr_7309_0_001_#####.cbf")
    ]
    assert j.resolution_limits == {"NATIVE/SWEEP1": 1.81}
    assert j.unmerged_mtz == {
        "NATIVE": "/output-data/DEFAULT/scale/AUTOMATIC_DEFAULT_scaled_unmerged.mtz"
    }
    assert j.merged_mtz == "/output-data/DEFAULT/scale/AUTOMATIC_DEFAULT_free.mtz"
    (ds,) = j.datasets
    assert ds.name == "AUTOMATIC/DEFAULT/NATIVE"
    o, lo, hi = ds.shells.overall, ds.shells.low, ds.shells.high
    assert (o.d_max, o.d_min, o.cc_half) == (
        48.9394573212881,
        1.810001557708131,
        0.9990237620977851,
    )
    assert (o.r_merge, o.r_merge_anom) == (0.1148903970335763, 0.1097956086207857)
    assert (o.r_meas, o.r_meas_anom) == (0.12086281709621294, 0.1214318013925064)
    assert (o.r_pim, o.r_pim_anom) == (0.0371965316935666, 0.05148935698886784)
    assert (o.i_over_sigma, o.multiplicity, o.completeness) == (
        8.475974848421618,
        10.386532646890577,
        100.0,
    )
    assert (o.anom_completeness, o.anom_multiplicity) == (100.0, 5.4493225861773285)
    assert (o.anom_correlation, o.n_obs, o.n_unique) == (-0.07894262737209787, 508400, 48948)
    assert (lo.d_max, lo.d_min, lo.cc_half, lo.n_obs) == (
        48.95733178318208,
        4.911526239058523,
        0.9992938792749001,
        26097,
    )
    assert (hi.d_min, hi.cc_half, hi.i_over_sigma, hi.n_unique) == (
        1.8100006539459375,
        0.3257843514037121,
        0.09760632805873715,
        2442,
    )
    assert ds.extra == {
        "dI/s(dI)": (0.3101918802779456,),
        "Anomalous slope": (0.3062055110996707,),
        "dF/F": (0.08040445123494588,),
        "Wilson B factor": (28.2,),
    }


def test_aimless_0_2_17_log() -> None:
    r = read_aimless_log(RUN / "LogFiles" / "nt5073v16_xBAZ2BAx8281_aimless.log")
    assert (r.version, r.source, r.dataset, r.complete) == (
        "0.2.17",
        "log",
        "nt5073v16/xBAZ2BAx8281/SAD",
        True,
    )
    assert (r.space_group, r.unit_cell) == ("C 2 2 21", (83.09, 96.79, 57.95, 90.0, 90.0, 90.0))
    assert (r.wavelength, r.n_batches, r.runs) == (0.92001, 1800, ((1, 1800),))
    # aimless's "all I+ and I-" R values are r_*, the "within I+/I-" ones r_*_anom.
    assert r.shells.overall == Shell(
        d_max=42.66, d_min=1.90, completeness=99.9, multiplicity=6.7, i_over_sigma=19.3,
        r_merge=0.052, r_meas=0.057, r_pim=0.022, cc_half=0.999, anom_completeness=99.4,
        anom_multiplicity=3.4, anom_correlation=0.016, n_obs=125167, n_unique=18787,
        r_merge_anom=0.048, r_meas_anom=0.056, r_pim_anom=0.030,
    )  # fmt: skip
    assert r.shells.low == Shell(
        d_max=42.66, d_min=8.50, completeness=99.2, multiplicity=6.1, i_over_sigma=55.0,
        r_merge=0.031, r_meas=0.034, r_pim=0.013, cc_half=0.999, anom_completeness=100.0,
        anom_multiplicity=3.8, anom_correlation=-0.059, n_obs=1512, n_unique=247,
        r_merge_anom=0.028, r_meas_anom=0.032, r_pim_anom=0.016,
    )  # fmt: skip
    assert r.shells.high == Shell(
        d_max=1.95, d_min=1.90, completeness=99.9, multiplicity=7.0, i_over_sigma=2.6,
        r_merge=0.710, r_meas=0.767, r_pim=0.288, cc_half=0.865, anom_completeness=99.8,
        anom_multiplicity=3.5, anom_correlation=0.031, n_obs=9679, n_unique=1388,
        r_merge_anom=0.648, r_meas_anom=0.763, r_pim_anom=0.398,
    )  # fmt: skip
    assert r.extra == {
        "Rmerge in top intensity bin": (0.027, None, None),
        "Mid-Slope of Anom Normal Probability": (1.025, None, None),
    }
    b = r.bins
    assert len(b) == 20
    # Bins: CC½ from "Correlations CC(1/2)", ⟨I/σ⟩ and Rmeas(Ov) from the resolution tables.
    assert list(b["cc_half"][[0, 9, 19]]) == [0.999, 0.997, 0.865]
    assert list(b["i_over_sigma"][[0, 19]]) == [55.0, 2.6]
    assert list(b["r_meas"][[0, 19]]) == [0.034, 0.767]  # RmeasOv (all I+ and I-)
    assert list(b["completeness"][[0, 3, 19]]) == [99.2, 99.5, 99.9]
    assert list(b["n_obs"][[0, 19]]) == [1512, 9679] and list(b["n_uniq"][[0, 19]]) == [247, 1388]
    assert list(b["cc_anom"][[0, 19]]) == [-0.059, 0.031]
    # Edges halfway between the printed 1/d² centres (0.0069 ... 0.2701).
    assert math.isinf(b.d_max[0]) and b.d_min[19] == pytest.approx(
        1 / math.sqrt(0.2701 + (0.2701 - 0.2562) / 2)
    )
    assert b.d_star_sq[19] == pytest.approx(0.2701)


@pytest.mark.parametrize(
    ("name", "overall", "high", "cell", "batches"),
    [
        (
            "dials-run",
            (78.37, 1.89, 96.4, 1.7, 7.3, 0.052, 0.074, 0.052, 0.995, 116598, 67116),
            (1.94, 1.89, 95.5, 1.7, 1.0, 0.557, 0.788, 0.557, 0.310, 8574, 4947),
            (49.39, 59.83, 80.18, 79.36, 81.70, 75.76),
            ((1, 1000),),
        ),
        (
            "3dii-runP1",
            (22.05, 1.33, 44.6, 1.5, 0.0, 8.078, 11.424, 8.078, -0.017, 155830, 105873),
            (1.36, 1.33, 6.6, 1.1, -0.0, -1730.216, -2446.895, -1730.216, -0.073, 1266, 1152),
            (55.70, 68.01, 79.07, 76.12, 73.76, 69.82),
            ((4, 998),),
        ),
    ],
)
def test_aimless_0_7_1_logs(name, overall, high, cell, batches) -> None:
    r = read_aimless_log(XCHEM / f"{name}.aimless.log")
    assert (r.version, r.dataset, r.space_group) == ("0.7.1", "lb18145v79/xNUDT5Ax01141/SAD", "P 1")
    assert (r.unit_cell, r.wavelength, r.runs) == (cell, 0.91587, batches)
    keys = ("d_max", "d_min", "completeness", "multiplicity", "i_over_sigma", "r_merge", "r_meas", "r_pim", "cc_half", "n_obs", "n_unique")  # fmt: skip
    assert tuple(getattr(r.shells.overall, k) for k in keys) == overall
    assert tuple(getattr(r.shells.high, k) for k in keys) == high
    assert r.hklin.endswith("lb18145v79_xNUDT5Ax01141_sorted.mtz")
    assert len(r.bins) == 20


def test_aimless_xml_and_its_summary_block_agree() -> None:
    x = read_aimless_xml(XDSME / "splTsm_2_aimless.xml")
    s = read_aimless_log(XDSME / "splTsm_2_aimless.SUMM.log")
    assert (x.version, x.source, x.dataset) == ("0.7.2", "xml", "XDSproject/XDScrystal/XDSdataset")
    assert (x.space_group, x.unit_cell) == (
        "P 41 2 2",
        (103.453, 103.453, 224.593, 90.0, 90.0, 90.0),
    )
    assert (x.wavelength, x.n_batches, x.runs, x.hklin) == (
        0.91942,
        1199,
        ((1, 1199),),
        "splTsm_2_pointless.mtz",
    )
    assert x.shells.overall == Shell(
        d_max=49.35, d_min=4.58, completeness=99.2, multiplicity=8.1, i_over_sigma=5.8,
        r_merge=0.258, r_meas=0.276, r_pim=0.096, cc_half=0.993, anom_completeness=98.8,
        anom_multiplicity=4.4, anom_correlation=0.242, n_obs=59454, n_unique=7352,
        r_merge_anom=0.239, r_meas_anom=0.271, r_pim_anom=0.126,
    )  # fmt: skip
    assert x.shells.low == Shell(
        d_max=49.35, d_min=20.49, completeness=92.9, multiplicity=4.3, i_over_sigma=12.1,
        r_merge=0.074, r_meas=0.083, r_pim=0.036, cc_half=0.996, anom_completeness=86.1,
        anom_multiplicity=3.0, anom_correlation=0.945, n_obs=448, n_unique=104,
        r_merge_anom=0.057, r_meas_anom=0.066, r_pim_anom=0.033,
    )  # fmt: skip
    assert x.shells.high == Shell(
        d_max=4.70, d_min=4.58, completeness=90.5, multiplicity=7.6, i_over_sigma=1.3,
        r_merge=1.563, r_meas=1.673, r_pim=0.585, cc_half=0.457, anom_completeness=86.2,
        anom_multiplicity=4.2, anom_correlation=-0.008, n_obs=3744, n_unique=490,
        r_merge_anom=1.480, r_meas_anom=1.686, r_pim_anom=0.796,
    )  # fmt: skip
    # The summary block cut out of the same run's log: the same Table 1, the cell to 0.01 Å.
    assert (s.version, s.source, s.shells) == (None, "summary log", x.shells)
    assert (s.space_group, s.unit_cell) == ("P 41 2 2", (103.45, 103.45, 224.59, 90.0, 90.0, 90.0))
    assert s.extra["Mean(Chi^2)"] == (0.96, 1.06, 0.85)
    assert list(x.bins["cc_half"][[0, 1]]) == [0.996, 0.995]
    assert list(x.bins["completeness"][[0, 1]]) == [92.9, 100.0]


def test_truncated_and_foreign_files(tmp_path: Path) -> None:
    """Cut short: what was read so far; not the format at all: UnreadableFile naming the file."""
    text = (RUN / "xia2.txt").read_text()
    cut = tmp_path / "xia2.txt"
    cut.write_text(text[: text.index("Rmeas(I+/-)")])
    t = read_xia2_txt(cut)
    assert t.status is None and t.version == "0.3.6.3"
    assert (
        t.datasets[0].shells.overall.r_meas == 0.057 and t.datasets[0].shells.overall.r_pim is None
    )
    xml = (XDSME / "splTsm_2_aimless.xml").read_bytes()
    (tmp_path / "a.xml").write_bytes(xml[: len(xml) // 2])
    x = read_aimless_xml(tmp_path / "a.xml")
    assert x.version == "0.7.2" and x.shells.overall.cc_half is None and x.complete is False
    log = (RUN / "LogFiles" / "nt5073v16_xBAZ2BAx8281_aimless.log").read_text()
    (tmp_path / "a.log").write_text(log[: len(log) // 2])
    a = read_aimless_log(tmp_path / "a.log")
    assert a.version == "0.2.17" and a.shells.empty and a.complete is False
    shutil.copy(RUN / "ispyb.xml", tmp_path / "ispyb.xml")
    (tmp_path / "ispyb.xml").write_bytes((RUN / "ispyb.xml").read_bytes()[:500])
    with pytest.raises(UnreadableFile, match="ispyb.xml: the ISPyB XML is not well-formed"):
        read_ispyb_xml(tmp_path / "ispyb.xml")
    with pytest.raises(UnreadableFile, match="not an aimless log"):
        read_aimless_log(RUN / "xia2.txt")
    with pytest.raises(UnreadableFile, match="not aimless XML output"):
        read_aimless_xml(RUN / "ispyb.xml")
    (tmp_path / "xia2.json").write_text('{"_crystals": {"DEFAULT": {"_scaler": ')
    with pytest.raises(UnreadableFile, match="not valid JSON"):
        read_xia2_json(tmp_path / "xia2.json")


def test_xia2_json_every_statistic() -> None:
    """Every value of _scalr_statistics read back, each under its Table 1 key or in `extra`."""
    import json

    from thas_tui.core.readers.xia2 import LABELS

    doc = json.loads((DATA / "xia2-3.x_json" / "xia2.json").read_text())
    (stats,) = doc["_crystals"]["DEFAULT"]["_scaler"]["_scalr_statistics"].values()
    (ds,) = read_xia2_json(DATA / "xia2-3.x_json" / "xia2.json").datasets
    assert len(stats) == 21
    for label, values in stats.items():
        key = LABELS.get(label)
        if key is None:
            assert ds.extra[label] == tuple(values)
            continue
        got = [getattr(ds.shells[s], key) for s in ("overall", "low", "high")]
        assert got == values, label

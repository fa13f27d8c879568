"""Pilot and snapshot tests of the display panels fed THAS1-like numbers."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widget import Widget

from thas_tui.widgets.cell_plots import CellPlots, PanelPlot, nice_ticks
from thas_tui.widgets.histogram import SpotHistogram, format_ranges, image_ranges
from thas_tui.widgets.integration_panel import IntegrationPanel, judge_sigma_m
from thas_tui.widgets.merging_plots import MergingPlots, d_ticks, normalise_series
from thas_tui.widgets.rmsd_table import RmsdRow, RmsdTable, trend
from thas_tui.widgets.symmetry_panel import SymmetryPanel
from thas_tui.widgets.table_one import TableOne

SIZES = [(80, 24), (160, 50)]

# -- THAS1-like numbers (P 21 21 21, a b c = 57.1 102.2 112.2 Å, 800 images) -------------------

BLANK_IMAGES = (31, 32, 33)


def spot_counts(n: int = 800) -> list[int]:
    rng = random.Random(7)
    counts = [int(420 - 0.15 * i + 25 * math.sin(i / 40) + rng.gauss(0, 12)) for i in range(n)]
    for image in BLANK_IMAGES:
        counts[image - 1] = rng.randint(0, 6)
    return counts


RMSD_ROWS = [
    ("macrocycle 1", 31_244, 0.612, 0.544, 0.402),
    ("macrocycle 2", 41_907, 0.354, 0.331, 0.229),
    ("macrocycle 3", 48_310, 0.291, 0.283, 0.183),
    ("scan-varying", 48_322, 0.290, 0.282, 0.182),
]


def scan_model(n: int = 800, step: int = 10):
    images = list(range(1, n + 1, step))
    cells = [
        (
            57.10 + 0.03 * (i - 1) / n,
            102.20 + 0.02 * (i - 1) / n,
            112.20 - 0.01 * (i - 1) / n,
            90.0,
            90.0,
            90.0,
        )
        for i in images
    ]
    angles = [(0.04 * (i - 1) / n, -0.015 * math.sin(i / 200), 0.01 * (i - 1) / n) for i in images]
    return images, cells, angles


D_MAX = [56.1, 4.31, 3.42, 2.99, 2.72, 2.52, 2.37, 2.25, 2.15, 2.07]
D_MIN = [4.31, 3.42, 2.99, 2.72, 2.52, 2.37, 2.25, 2.15, 2.07, 2.00]
MERGING = {
    "cc_half": [0.998, 0.997, 0.994, 0.985, 0.962, 0.921, 0.852, 0.733, 0.584, 0.412],
    "cc_anom": [0.21, 0.12, 0.05, 0.02, 0.01, 0.00, -0.01, 0.01, 0.00, -0.02],
    "i_over_sigma": [48.2, 35.1, 22.4, 14.9, 10.2, 7.1, 4.9, 3.3, 2.2, 1.4],
    "completeness": [99.1, 99.9, 100.0, 100.0, 100.0, 100.0, 99.9, 99.8, 99.5, 98.7],
    "multiplicity": [6.7, 6.9, 6.9, 6.8, 6.8, 6.7, 6.6, 6.5, 6.3, 5.9],
    "r_meas": [0.031, 0.042, 0.066, 0.104, 0.158, 0.231, 0.338, 0.502, 0.742, 1.101],
    "r_pim": [0.012, 0.016, 0.025, 0.040, 0.061, 0.089, 0.131, 0.196, 0.296, None],
}
TABLE_ONE = {
    "High resolution limit": (2.00, 5.43, 2.00),
    "Low resolution limit": (56.12, 56.12, 2.03),
    "Completeness": (99.7, 99.0, 98.1),
    "Multiplicity": (6.6, 6.5, 5.7),
    "I/sigma": (12.8, 46.9, 1.3),
    "Rmerge(I)": (0.091, 0.027, 1.012),
    "Rmeas(I)": (0.099, 0.030, 1.112),
    "Rpim(I)": (0.038, 0.012, 0.458),
    "CC half": (0.998, 0.998, 0.391),
    "Anomalous completeness": (98.9, 98.5, 96.0),
    "Anomalous multiplicity": (3.4, 3.5, 3.0),
    "Anomalous correlation": (0.081, 0.224, -0.013),
}
LAUE = [
    {
        "patterson_group": "P m m m",
        "likelihood": 0.947,
        "z_cc_for": 9.87,
        "cc_for": 0.99,
        "z_cc_net": 9.87,
        "max_angular_difference": 0.0,
        "cb_op": "a,b,c",
    },
    {
        "patterson_group": "P 1 2/m 1",
        "likelihood": 0.021,
        "z_cc_for": 9.91,
        "cc_for": 0.99,
        "z_cc_net": 0.05,
        "max_angular_difference": 0.0,
        "cb_op": "-b,-a,-c",
    },
    {
        "patterson_group": "P -1",
        "likelihood": 0.011,
        "z_cc_for": 9.90,
        "cc_for": 0.99,
        "z_cc_net": 0.0,
        "max_angular_difference": 0.0,
        "cb_op": "a,b,c",
    },
]
SCREW = [
    ("21a", 1.000, 12, 14, 1093.2, 0.42, 31.6, 0.52),
    ("21b", 1.000, 25, 26, 842.7, 0.88, 27.9, 0.71),
    ("21c", 0.999, 27, 28, 665.1, 1.95, 24.4, 1.03),
]
INTEGRATION_BINS = [
    (56.1, 4.31, 9412, 38.1, 40.2),
    (4.31, 3.42, 9355, 24.6, 26.0),
    (3.42, 2.99, 9301, 13.3, 14.1),
    (2.99, 2.00, 46_538, 3.1, 3.4),
]


def fill_histogram(w: SpotHistogram) -> None:
    w.set_counts(1, spot_counts(), "spots")


def fill_rmsd(w: RmsdTable) -> None:
    w.set_rows(RMSD_ROWS)


def fill_cell(w: CellPlots) -> None:
    w.set_model(*scan_model())


def fill_merging(w: MergingPlots) -> None:
    w.set_stats(D_MIN, D_MAX, MERGING)


def fill_table_one(w: TableOne) -> None:
    w.set_table(TABLE_ONE)


def fill_symmetry(w: SymmetryPanel) -> None:
    w.set_results(LAUE, SCREW, space_group="P 21 21 21")


def fill_integration(w: IntegrationPanel) -> None:
    w.set_results(0.031, 0.042, 389_215, 381_907, INTEGRATION_BINS)


PANELS: dict[str, tuple[type[Widget], Callable[[Widget], None]]] = {
    "histogram": (SpotHistogram, fill_histogram),
    "rmsd": (RmsdTable, fill_rmsd),
    "cell": (CellPlots, fill_cell),
    "merging": (MergingPlots, fill_merging),
    "table_one": (TableOne, fill_table_one),
    "symmetry": (SymmetryPanel, fill_symmetry),
    "integration": (IntegrationPanel, fill_integration),
}


class PanelApp(App):
    """Hosts one panel filling the screen, optionally fed data on mount."""

    def __init__(self, panel: str, filled: bool = True, ascii_only: bool = False) -> None:
        super().__init__()
        self.panel_cls, self.fill = PANELS[panel]
        self.filled = filled
        self.ascii_only = ascii_only

    def compose(self) -> ComposeResult:
        yield self.panel_cls(ascii_only=self.ascii_only, id="panel")

    def on_mount(self) -> None:
        if self.filled:
            self.fill(self.query_one("#panel"))


def rendered_text(widget: Widget) -> str:
    """The characters a widget and its visible descendants put on screen."""
    leaves = [widget] if not widget.children else [w for w in widget.query("*") if not w.children]
    chunks = []
    for leaf in leaves:
        if not leaf.display or not leaf.size.area:
            continue
        strips = leaf.render_lines(Region(0, 0, leaf.size.width, leaf.size.height))
        chunks.append("\n".join(strip.text.rstrip() for strip in strips))
    return "\n".join(chunks)


async def shown(panel: str, size: tuple[int, int], **kwargs) -> str:
    app = PanelApp(panel, **kwargs)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        return rendered_text(app.query_one("#panel"))


# -- pure helpers ----------------------------------------------------------------------------


def test_image_ranges_group_consecutive_images():
    assert image_ranges([31, 32, 33, 400, 512, 513]) == [(31, 33), (400, 400), (512, 513)]
    assert format_ranges([(31, 33), (400, 400)], 40) == "31–33, 400"
    assert format_ranges([(i, i) for i in range(1, 200, 2)], 20).endswith("more")


def test_trend_uses_mean_relative_change():
    a = RmsdRow("1", 10, 0.5, 0.5, 0.3)
    assert trend(a, RmsdRow("2", 10, 0.3, 0.3, 0.2)) == "down"
    assert trend(a, RmsdRow("2", 10, 0.6, 0.6, 0.4)) == "up"
    assert trend(a, RmsdRow("2", 10, 0.5005, 0.4998, 0.3)) == "same"


def test_sigma_m_judgement():
    assert judge_sigma_m(0.042)[1] == "good"
    assert judge_sigma_m(0.09)[1] == "fair"
    assert judge_sigma_m(0.25)[1] == "high"


def test_d_ticks_are_round_d_values_at_their_1_over_d_squared():
    ticks = d_ticks(1 / 56.1**2, 1 / 2.0**2, 4)
    labels = [label for _, label in ticks]
    assert labels[0] == "56" and labels[-1] == "2.00"
    for position, label in ticks:
        assert position == pytest.approx(1 / float(label) ** 2)


def test_completeness_fraction_becomes_percent():
    assert normalise_series({"completeness": [0.99, 1.0]})["completeness"] == [99.0, 100.0]
    assert normalise_series({"cc_one_half": [0.9]}) == {"cc_half": [0.9]}


def test_nice_ticks():
    assert nice_ticks(-0.0119, 0.0316, 6) == pytest.approx([-0.01, 0.0, 0.01, 0.02, 0.03])
    assert nice_ticks(0, 100, 5) == [0.0, 25.0, 50.0, 75.0, 100.0]


# -- what each panel shows -------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_histogram_shows_totals_and_blank_images(size):
    text = await shown("histogram", size)
    counts = spot_counts()
    assert "Spots per image" in text
    assert "800 images (1–800)" in text
    assert f"total {sum(counts):,}" in text
    # More images than columns: DIALS's own 60 bars (dials.find_spots' "max N / bin"), 13.3
    # images each, the first and last image labelled under the axis.
    assert "max 6,051 / bin" in text and "bar = 13.3 images" in text
    axis = next(ln for ln in text.splitlines() if ln.lstrip().startswith("1 "))
    assert axis.split()[0] == "1" and axis.split()[-1] == "800"
    assert "blank/weak images (< 10% of median): 31–33" in text
    assert "▲" in text and "█" in text


async def test_histogram_ascii_and_live_kind():
    app = PanelApp("histogram", filled=False, ascii_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        widget = app.query_one(SpotHistogram)
        widget.set_counts(1, [120, 130, 0, 125, 128, 131] * 10, "strong pixels (live)")
        await pilot.pause()
        text = rendered_text(widget)
    assert "Strong pixels per image (live)" in text
    assert "60 images (1-60)" in text
    assert "#" in text and "^" in text
    assert not set(text) & set("▁▂▃▄▅▆▇█│▲")
    assert "blank/weak images (< 10% of median): 3, 9, 15" in text


async def test_histogram_counts_fewer_than_columns_one_bar_per_image():
    app = PanelApp("histogram", filled=False)
    async with app.run_test(size=(80, 24)) as pilot:
        widget = app.query_one(SpotHistogram)
        widget.set_counts(101, [50, 60, 70], "spots")
        await pilot.pause()
        text = rendered_text(widget)
    assert "3 images (101–103)" in text and "bar = 1 image" in text
    assert "blank/weak" not in text


@pytest.mark.parametrize("size", SIZES)
async def test_rmsd_table_shows_values_and_trend(size):
    text = await shown("rmsd", size)
    assert "Refinement RMSDs — 48,322 reflections" in text
    assert "macrocycle 3" in text and "scan-varying" in text
    assert "0.291" in text and "0.283" in text and "0.183" in text
    lines = text.splitlines()
    assert next(line for line in lines if "macrocycle 2" in line).rstrip().endswith("↓")
    assert next(line for line in lines if "scan-varying" in line).rstrip().endswith("=")


@pytest.mark.parametrize("size", SIZES)
async def test_cell_plots_state_total_change(size):
    text = await shown("cell", size)
    assert "Scan-varying cell and orientation — 80 points, images 1–791" in text
    assert "a b c = 57.100 102.200 112.200 Å" in text
    assert "Δa = +0.030 Å (+0.05 %)" in text
    assert "Δc = -0.010 Å (-0.01 %)" in text
    assert "α β γ fixed by symmetry" in text  # orthorhombic angles do not refine
    assert "max |Δφ| = 0.040°" in text
    assert "Δa Δb Δc (Å)" in text and "φ1 φ2 φ3 (°)" in text


async def test_cell_plots_fit_at_80x24():
    app = PanelApp("cell")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        plots = [p for p in app.query(PanelPlot) if p.display]
        assert [p.id for p in plots] == ["cell-lengths", "orientation"]  # angles fixed: hidden
        assert all(p.size.width >= 30 and p.size.height >= 12 for p in plots)


async def test_cell_plots_show_refined_angles_when_they_move():
    app = PanelApp("cell", filled=False)
    async with app.run_test(size=(80, 24)) as pilot:
        images, cells, _angles = scan_model()
        cells = [(a, b, c, 90.0, 90.0 + 0.001 * k, 90.0) for k, (a, b, c, *_r) in enumerate(cells)]
        app.query_one(CellPlots).set_model(images, cells, None)
        await pilot.pause()
        text = rendered_text(app.query_one(CellPlots))
        assert len([p for p in app.query(PanelPlot) if p.display]) == 3
    assert "Δβ = +0.079°" in text and "orientation: not given" in text


@pytest.mark.parametrize("size", SIZES)
async def test_merging_plots_show_resolution_in_angstrom(size):
    text = await shown("merging", size)
    assert "Merging statistics vs resolution — 10 bins, 56.10–2.00 Å" in text
    for title in ("CC½", "⟨I/σ⟩", "completeness (%)", "multiplicity", "Rmeas, Rpim"):
        assert title in text
    assert "CC anom" in text and "d (Å)" in text
    assert "2.00" in text and "56" in text


@pytest.mark.parametrize("size", SIZES)
async def test_table_one_values(size):
    text = await shown("table_one", size)
    assert "Summary of merging statistics" in text
    lines = text.splitlines()

    def row(label: str) -> list[str]:
        line = next(line for line in lines if line.startswith(label))
        return line[len(label) :].split()

    assert row("Resolution range (Å)") == ["56.12–2.00", "56.12–5.43", "2.03–2.00"]
    assert row("Completeness (%)") == ["99.7", "99.0", "98.1"]
    assert row("Multiplicity") == ["6.6", "6.5", "5.7"]
    assert row("⟨I/σ(I)⟩") == ["12.8", "46.9", "1.3"]
    assert row("Rmeas(I)") == ["0.099", "0.030", "1.112"]
    assert row("CC½") == ["0.998", "0.998", "0.391"]
    assert row("CC anom") == ["0.081", "0.224", "-0.013"]


@pytest.mark.parametrize("size", SIZES)
async def test_symmetry_panel(size):
    text = await shown("symmetry", size)
    assert "Space group: P 21 21 21" in text
    chosen = next(line for line in text.splitlines() if "P m m m" in line and "0.947" in line)
    assert chosen.lstrip().startswith("▶") and "0.947" in chosen and "9.87" in chosen
    screw = next(line for line in text.splitlines() if line.startswith("21b"))
    assert "842.7 / 0.88" in screw and "27.9 / 0.71" in screw


@pytest.mark.parametrize("size", SIZES)
async def test_integration_panel(size):
    text = await shown("integration", size)
    assert "σb (spot spread) 0.031°" in text
    assert "σm (mosaicity) 0.042° good (well under 0.1°)" in text
    assert "381,907 profile-fitted, 389,215 by summation" in text
    assert "56.10–4.31" in text and "38.10" in text and "40.20" in text


@pytest.mark.parametrize(
    ("panel", "stage"),
    [
        ("histogram", "find_spots"),
        ("rmsd", "refine"),
        ("cell", "refine"),
        ("merging", "scale"),
        ("table_one", "scale"),
        ("symmetry", "symmetry"),
        ("integration", "integrate"),
    ],
)
async def test_empty_state_says_when_data_appears(panel, stage):
    text = await shown(panel, (80, 24), filled=False)
    assert "no data yet" in text and stage in text


@pytest.mark.parametrize(
    "panel", ["rmsd", "cell", "merging", "table_one", "symmetry", "integration"]
)
async def test_ascii_only_panels_avoid_unicode_frames(panel):
    text = await shown(panel, (160, 50), ascii_only=True)
    assert not set(text) & set("│─┌┐└┘┤├⢕⟨⟩σ½Åφ"), panel


# -- snapshots -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x50"])
@pytest.mark.parametrize("panel", list(PANELS))
def test_panel_snapshot(snap_compare, panel, size):
    """Each panel with THAS1-like data at 80×24 and 160×50."""
    assert snap_compare(PanelApp(panel), terminal_size=size)


def test_histogram_ascii_snapshot(snap_compare):
    """The spot histogram in ASCII for terminals without Unicode."""
    assert snap_compare(PanelApp("histogram", ascii_only=True), terminal_size=(80, 24))


async def test_cell_plots_of_an_800_image_scan_show_all_801_points():
    # dials.refine's scan-varying model of 800 images has 801 scan points (image edges).
    app = PanelApp("cell", filled=False)
    async with app.run_test(size=(160, 50)) as pilot:
        images, cells, angles = scan_model(801, 1)
        app.query_one(CellPlots).set_model(images, cells, angles)
        await pilot.pause()
        text = rendered_text(app.query_one(CellPlots))
    assert "Scan-varying cell and orientation — 801 points, images 1–801" in text
    assert "Δa = +0.030 Å (+0.05 %)" in text and "max |Δφ| = 0.040°" in text
    axis = next(ln for ln in text.splitlines() if ln.strip().startswith("1 "))
    assert axis.split()[0] == "1" and axis.split()[-1] == "801"


@pytest.mark.parametrize("size", SIZES)
async def test_histogram_one_per_sweep_from_a_real_four_sweep_run(size):
    from thas_tui.core import panel_data

    data = panel_data.spots(Path(__file__).resolve().parents[1] / "data" / "dials-3.12_l_cysteine")
    app = PanelApp("histogram", filled=False)
    async with app.run_test(size=size) as pilot:
        app.query_one(SpotHistogram).set_sweeps(data.sweeps, data.kind)
        await pilot.pause()
        text = rendered_text(app.query_one(SpotHistogram))
    flat = " ".join(text.split())
    # Totals and "max N / bin" as dials.find_spots' log prints them for each imageset.
    parts = flat.split("sweep ")[1:]
    assert len(parts) == 4
    for part, n, total, peak in zip(
        parts, (1, 2, 3, 4), (54, 33, 43, 30), (10, 7, 5, 7), strict=True
    ):
        assert part.startswith(f"{n} (l-cyst_0{n}_#####.cbf.gz): Spots per image")
        assert f"15 images (1–15) · total {total}" in part and f"max {peak} / bin" in part


async def test_rmsd_table_per_experiment_of_a_real_four_sweep_run(tmp_path):
    from thas_tui.core import panel_data

    logs = Path(__file__).resolve().parents[1] / "data" / "dials-3.12_l_cysteine" / "logs"
    for name in ("dials.index.log", "dials.refine.log"):
        (tmp_path / name).write_bytes((logs / name).read_bytes())
    app = PanelApp("rmsd", filled=False)
    async with app.run_test(size=(160, 50)) as pilot:
        app.query_one(RmsdTable).set_rows(panel_data.rmsds(tmp_path).rows)
        await pilot.pause()
        text = rendered_text(app.query_one(RmsdTable))
    # The last step's four experiments: 30 + 19 + 17 + 14 reflections.
    assert "— 80 reflections" in text
    # Each experiment's trend against its own previous step (static -> scan-varying, all down
    # for expt 1: 0.257/0.742/0.510 -> 0.241/0.628/0.377).
    row = next(ln for ln in text.splitlines() if "refine scan-varying · expt 1" in ln)
    assert row.split()[-1] == "↓" and "0.241" in row and "0.628" in row

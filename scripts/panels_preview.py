"""Preview the dashboard's display panels with THAS1-like numbers: `python scripts/panels_preview.py`."""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Footer, TabbedContent, TabPane

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from thas_tui.widgets.cell_plots import CellPlots  # noqa: E402
from thas_tui.widgets.histogram import SpotHistogram  # noqa: E402
from thas_tui.widgets.integration_panel import IntegrationPanel  # noqa: E402
from thas_tui.widgets.merging_plots import MergingPlots  # noqa: E402
from thas_tui.widgets.rmsd_table import RmsdTable  # noqa: E402
from thas_tui.widgets.symmetry_panel import SymmetryPanel  # noqa: E402
from thas_tui.widgets.table_one import TableOne  # noqa: E402

# Resolution shells of a 2.0 Å orthorhombic data set (P 21 21 21, 57.1 102.2 112.2 Å).
D_MAX = [56.1, 4.31, 3.42, 2.99, 2.72, 2.52, 2.37, 2.25, 2.15, 2.07]
D_MIN = [4.31, 3.42, 2.99, 2.72, 2.52, 2.37, 2.25, 2.15, 2.07, 2.00]
MERGING = {
    "cc_half": [0.998, 0.997, 0.994, 0.985, 0.962, 0.921, 0.852, 0.733, 0.584, 0.412],
    "cc_anom": [0.21, 0.12, 0.05, 0.02, 0.01, 0.00, -0.01, 0.01, 0.00, -0.02],
    "i_over_sigma": [48.2, 35.1, 22.4, 14.9, 10.2, 7.1, 4.9, 3.3, 2.2, 1.4],
    "completeness": [99.1, 99.9, 100.0, 100.0, 100.0, 100.0, 99.9, 99.8, 99.5, 98.7],
    "multiplicity": [6.7, 6.9, 6.9, 6.8, 6.8, 6.7, 6.6, 6.5, 6.3, 5.9],
    "r_meas": [0.031, 0.042, 0.066, 0.104, 0.158, 0.231, 0.338, 0.502, 0.742, 1.101],
    "r_pim": [0.012, 0.016, 0.025, 0.040, 0.061, 0.089, 0.131, 0.196, 0.296, 0.452],
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
    "Total observations": (467_211, 25_102, 20_114),
    "Total unique": (70_795, 3_861, 3_528),
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
        "patterson_group": "P 1 1 2/m",
        "likelihood": 0.016,
        "z_cc_for": 9.88,
        "cc_for": 0.99,
        "z_cc_net": 0.02,
        "max_angular_difference": 0.0,
        "cb_op": "a,b,c",
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
BINS = [
    (56.1, 4.31, 9412, 38.1, 40.2),
    (4.31, 3.42, 9355, 24.6, 26.0),
    (3.42, 2.99, 9301, 13.3, 14.1),
    (2.99, 2.72, 9288, 8.0, 8.5),
    (2.72, 2.52, 9269, 5.1, 5.5),
    (2.52, 2.37, 9250, 3.4, 3.7),
    (2.37, 2.25, 9230, 2.3, 2.5),
    (2.25, 2.00, 18301, 1.2, 1.4),
]


def spot_counts(n: int = 800, blanks: tuple[int, ...] = (31, 32, 33)) -> list[int]:
    """Counts per image falling slowly with dose, with a few blank images."""
    rng = random.Random(7)
    counts = [int(420 - 0.15 * i + 25 * math.sin(i / 40) + rng.gauss(0, 12)) for i in range(n)]
    for image in blanks:
        counts[image - 1] = rng.randint(0, 6)
    return counts


def scan_model(n: int = 800, step: int = 10):
    """A slowly drifting orthorhombic cell and orientation, one point per `step` images."""
    images = list(range(1, n + 1, step))
    cells = [
        (
            57.10 + 0.03 * i / n,
            102.20 + 0.02 * i / n,
            112.20 - 0.01 * i / n + 0.004 * math.sin(i / 90),
            90.0,
            90.0,
            90.0,
        )
        for i in images
    ]
    angles = [(0.04 * i / n, -0.015 * math.sin(i / 200), 0.01 * i / n) for i in images]
    return images, cells, angles


def fill(app: App) -> None:
    """Feed every panel in `app` the sample numbers."""
    for widget in app.query(SpotHistogram):
        widget.set_counts(1, spot_counts(), "spots")
    for widget in app.query(RmsdTable):
        widget.set_rows(
            [
                ("macrocycle 1", 31_244, 0.612, 0.544, 0.402),
                ("macrocycle 2", 41_907, 0.354, 0.331, 0.229),
                ("macrocycle 3", 48_310, 0.291, 0.283, 0.183),
                ("macrocycle 4", 48_322, 0.290, 0.282, 0.182),
            ]
        )
    for widget in app.query(CellPlots):
        widget.set_model(*scan_model())
    for widget in app.query(MergingPlots):
        widget.set_stats(D_MIN, D_MAX, MERGING)
    for widget in app.query(TableOne):
        widget.set_table(TABLE_ONE)
    for widget in app.query(SymmetryPanel):
        widget.set_results(LAUE, SCREW, space_group="P 21 21 21")
    for widget in app.query(IntegrationPanel):
        widget.set_results(0.031, 0.042, 389_215, 381_907, BINS)


class PanelsPreview(App):
    """One tab per panel; `a` toggles ASCII. With --empty the panels show their empty states."""

    BINDINGS = [("a", "toggle_ascii", "ASCII"), ("q", "quit", "quit")]

    def __init__(self, empty: bool = False) -> None:
        super().__init__()
        self._ascii = False
        self._empty = empty

    def compose(self) -> ComposeResult:
        with TabbedContent():
            with TabPane("spots"):
                yield SpotHistogram()
            with TabPane("RMSD"):
                yield RmsdTable()
            with TabPane("cell"):
                yield CellPlots()
            with TabPane("integrate"), VerticalScroll():
                yield IntegrationPanel()
            with TabPane("symmetry"), VerticalScroll():
                yield SymmetryPanel()
            with TabPane("merging"):
                yield MergingPlots()
            with TabPane("Table 1"), VerticalScroll():
                yield TableOne()
        yield Footer()

    def on_mount(self) -> None:
        if not self._empty:
            fill(self)

    def action_toggle_ascii(self) -> None:
        self._ascii = not self._ascii
        for cls in (
            SpotHistogram,
            RmsdTable,
            CellPlots,
            MergingPlots,
            TableOne,
            SymmetryPanel,
            IntegrationPanel,
        ):
            for widget in self.query(cls):
                widget.ascii_only = self._ascii


if __name__ == "__main__":
    PanelsPreview(empty="--empty" in sys.argv).run()

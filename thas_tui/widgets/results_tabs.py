"""The tabbed panel area: log, spots, RMSDs, cell, integration, symmetry, merging statistics."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Tab, Tabs

from thas_tui.core import panel_data, reciprocal
from thas_tui.core.errors import UnreadableFile
from thas_tui.widgets.cell_plots import CellPlots
from thas_tui.widgets.frame import FRAME, Beat
from thas_tui.widgets.histogram import SpotHistogram
from thas_tui.widgets.image_view import ImageView
from thas_tui.widgets.integration_panel import IntegrationBin, IntegrationPanel
from thas_tui.widgets.lattice_view import LatticeView, make_scene
from thas_tui.widgets.log_pane import LogPane
from thas_tui.widgets.merging_plots import MergingPlots
from thas_tui.widgets.rmsd_table import RmsdTable
from thas_tui.widgets.symmetry_panel import SymmetryPanel
from thas_tui.widgets.table_one import TableOne

# Which panels a stage's outputs feed.
PANELS_OF_STAGE: dict[str, tuple[str, ...]] = {
    "import": ("spots",),
    # The last is the one Enter on the stage opens.
    "find_spots": ("lattice", "spots"),
    "index": ("lattice", "rmsd"),
    "refine": ("rmsd", "cell"),
    "integrate": ("integration",),
    "symmetry": ("symmetry",),
    "scale": ("merging",),
    "merge": ("merging",),
}
# At most this often (s) is the live strong-pixel histogram redrawn.
LIVE_SPOTS_INTERVAL = FRAME
# Every pane and its tab's label, in tab order.
PANES = {
    "log": "Log",
    "spots": "Spots",
    "rmsd": "RMSD",
    "cell": "Cell",
    "integration": "Integration",
    "symmetry": "Symmetry",
    "merging": "Merging",
    "image": "Image",
    "lattice": "Lattice",
}
# The panes fed from files: all but the log and the image (read by its own helper). The
# lattice is mapped when first shown (its mapping is the heaviest read of all, and most looks
# at a run never need it).
ALL_PANELS = tuple(pane for pane in PANES if pane not in ("log", "image", "lattice"))


class Pane(Vertical):
    """One tab's content, as wide as the strip; focusable inside only while it is shown."""

    def allow_focus_children(self) -> bool:
        strip = self.parent
        return isinstance(strip, PaneStrip) and strip.shown == self.id


class PaneStrip(Horizontal):
    """The panes side by side, scrolled to the one shown.

    Textual lays out the whole screen when a widget is shown or hidden (``display``), as a
    tabbed switcher does at every tab change: 14 ms a switch while DIALS floods the log, the
    largest part of a key press. A scroll only redraws what comes into view.
    """

    DEFAULT_CSS = """
    PaneStrip { overflow: hidden hidden; height: 1fr; }
    PaneStrip > Pane { width: 100%; height: 1fr; }
    """

    shown = "log"

    def show(self, pane: str) -> None:
        self.shown = pane
        self._scroll()
        # As when a tabbed switcher hides the pane with the focus: nothing keeps it.
        focused = self.screen.focused
        if focused is not None and any(
            isinstance(node, Pane) and node.id != pane for node in focused.ancestors
        ):
            focused.blur()

    def _scroll(self) -> None:
        index = list(PANES).index(self.shown)
        self.scroll_to(x=index * self.size.width, animate=False, force=True, immediate=True)

    def on_resize(self) -> None:
        self._scroll()


class ResultsTabs(Vertical):
    """Panels fed from the processing directory's files; the log is the first tab."""

    def __init__(self, ascii_only: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ascii_only = ascii_only
        self.live_pixels = panel_data.LiveStrongPixels()
        self._live_beat = Beat(self, self._show_live_spots, LIVE_SPOTS_INTERVAL)
        # Data read for a panel whose tab is not shown: drawn when the tab is. A panel whose
        # size changes lays out the whole screen, scrolled out of view or not, and during a run
        # most panels change while the log is what is looked at.
        self._waiting: dict[str, object] = {}
        self._lattice = LatticeLoader(self)

    @property
    def active(self) -> str:
        return self.query_one(PaneStrip).shown

    @active.setter
    def active(self, tab: str) -> None:
        if tab not in PANES:
            raise ValueError(f"no such tab: {tab}")
        self._switch(tab)
        self.query_one(Tabs).active = f"tab-{tab}"

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        # A tab clicked with the mouse or chosen with the arrow keys on the tab bar.
        event.stop()
        tab = (event.tab.id or "").removeprefix("tab-")
        if tab in PANES and tab != self.active:
            self._switch(tab)

    def on_lattice_view_source_requested(self, message: LatticeView.SourceRequested) -> None:
        message.stop()
        self.lattice.request(message.source)

    def _switch(self, tab: str) -> None:
        # The pane shows at once and its waiting data is drawn right after that frame: a new
        # 801-point cell plot or Table 1 takes ~100 ms to build, and the key that asked for the
        # tab must not wait for it (a frame of the previous figure is the price).
        data = self._waiting.pop(tab, None)
        if data is not None:
            self.call_after_refresh(self._draw_if_current, tab, data)
        self.query_one(PaneStrip).show(tab)
        if tab == "lattice":
            self.lattice.shown()

    @property
    def lattice(self) -> LatticeLoader:
        return self._lattice

    def compose(self) -> ComposeResult:
        a = self.ascii_only
        yield Tabs(*(Tab(label, id=f"tab-{pane}") for pane, label in PANES.items()))
        with PaneStrip():
            with Pane(id="log"):
                yield LogPane(id="log-pane")
            with Pane(id="spots"):
                yield SpotHistogram(ascii_only=a, id="spot-histogram")
            with Pane(id="rmsd"):
                yield RmsdTable(id="rmsd-table")
            with Pane(id="cell"):
                yield CellPlots(ascii_only=a, id="cell-plots")
            with Pane(id="integration"):
                yield IntegrationPanel(id="integration-panel")
            with Pane(id="symmetry"):
                with VerticalScroll():
                    yield SymmetryPanel(id="symmetry-panel")
            with Pane(id="merging"):
                with VerticalScroll():
                    yield TableOne(id="table-one")
                    yield MergingPlots(ascii_only=a, id="merging-plots")
            with Pane(id="image"):
                yield ImageView(id="image-view")
            with Pane(id="lattice"):
                yield LatticeView(ascii_only=a, id="lattice-view")

    _cell_models: list = []
    _cell_index = 0

    def next_cell_experiment(self) -> None:
        """Several experiments: the cell plots show the next one."""
        if len(self._cell_models) < 2:
            return
        self._cell_index = (self._cell_index + 1) % len(self._cell_models)
        m = self._cell_models[self._cell_index]
        self.query_one(CellPlots).set_model(m.images, m.cells, m.angles, m.label)

    # -- live find_spots ------------------------------------------------------------------------
    def start_live_spots(self, workdir: Path) -> None:
        self._live_beat.cancel()
        self._waiting.pop("spots", None)  # the live counts replace an earlier run's
        self.live_pixels = panel_data.LiveStrongPixels()
        ranges = [r for r, _label in panel_data.sweep_ranges(workdir)]
        if ranges:
            self.live_pixels.set_ranges(ranges)
        self.query_one(SpotHistogram).clear()

    def feed_live_spots(self, lines: list[str]) -> None:
        # Latest value wins: the histogram is redrawn at most LIVE_SPOTS_INTERVAL apart however
        # fast find_spots writes (the first batch shows at once).
        if self.live_pixels.feed(lines):
            self._live_beat.poke()

    def _show_live_spots(self) -> None:
        data = self.live_pixels.spots()
        if data is not None:
            self.query_one(SpotHistogram).set_counts(
                data.first_image, data.counts, data.kind, label=data.label
            )

    # -- from files ----------------------------------------------------------------------------
    async def load(self, workdir: Path, panels: tuple[str, ...] = ALL_PANELS) -> list[str]:
        """Read the files behind ``panels`` off the event loop, then show them; return problems."""
        problems: list[str] = []
        self.lattice.workdir = workdir
        for panel in panels:
            if panel == "lattice":
                self.lattice.changed(self.active == "lattice")
                continue
            try:
                data = await asyncio.to_thread(_READERS[panel], workdir)
            except (UnreadableFile, OSError) as exc:
                problems.append(f"{panel}: {str(exc).splitlines()[0]}")
                continue
            if data is not None:
                self._show(panel, data)
        return problems

    def _show(self, panel: str, data) -> None:
        if panel != self.active:
            self._waiting[panel] = data
            return
        self._waiting.pop(panel, None)
        self._draw(panel, data)

    def _draw_if_current(self, panel: str, data) -> None:
        if panel == self.active:
            self._draw(panel, data)
        elif panel not in self._waiting:
            self._waiting[panel] = data  # switched away within the frame: still to draw

    def _draw(self, panel: str, data) -> None:
        if panel == "spots":
            if len(data.sweeps) > 1:
                self.query_one(SpotHistogram).set_sweeps(data.sweeps, data.kind)
            else:
                self.query_one(SpotHistogram).set_counts(
                    data.first_image, data.counts, data.kind, data.z
                )
        elif panel == "rmsd":
            self.query_one(RmsdTable).set_rows(data.rows)
        elif panel == "cell":
            self._cell_models = data.experiments or [data]
            self._cell_index = 0
            self.query_one(CellPlots).set_model(data.images, data.cells, data.angles, data.label)
        elif panel == "integration":
            bins = [IntegrationBin(*b) for b in data.bins]
            self.query_one(IntegrationPanel).set_results(
                data.sigma_b,
                data.sigma_m,
                data.n_summation,
                data.n_profile_fitted,
                bins,
                data.per_sweep,
            )
        elif panel == "symmetry":
            self.query_one(SymmetryPanel).set_results(
                data.laue_groups, data.screw_axes, data.space_group
            )
        elif panel == "merging":
            if data.table1:
                self.query_one(TableOne).set_table(data.table1)
            if data.d_min:
                self.query_one(MergingPlots).set_stats(data.d_min, data.d_max, data.series)


_READERS = {
    "spots": panel_data.spots,
    "rmsd": panel_data.rmsds,
    "cell": panel_data.cell_model,
    "integration": panel_data.integration,
    "symmetry": panel_data.symmetry,
    "merging": panel_data.merging,
}


class LatticeLoader:
    """Reads and maps the lattice in a worker thread when its pane is shown and its files
    changed since; the view keeps its own state (the keys never wait for a read)."""

    def __init__(self, tabs: ResultsTabs) -> None:
        self.tabs = tabs
        self.workdir: Path | None = None
        self.source: str | None = None  # None: indexed.refl when there is one, else strong.refl
        self.stale = True

    def view(self) -> LatticeView:
        return self.tabs.query_one(LatticeView)

    def shown(self) -> None:
        self.view().focus()
        if self.stale:
            self.load()

    def changed(self, shown: bool) -> None:
        self.stale = True
        if shown:
            self.load()

    def request(self, source: str) -> None:
        self.source = source
        self.load()

    def load(self) -> None:
        if self.workdir is None:
            return
        self.stale = False
        self.tabs.run_worker(self._read(self.workdir, self.source), exclusive=True, group="lattice")

    async def _read(self, workdir: Path, source: str | None) -> None:
        view = self.view()
        if source is None:
            source = "indexed" if (workdir / "indexed.refl").exists() else "strong"
        if view.scene is None:
            view.set_message(f"Mapping the spots of {reciprocal.SOURCES[source][1]} …")
        try:
            found = await asyncio.to_thread(reciprocal.load_lattice, workdir, source)
            if isinstance(found, str):
                view.set_message(found)
                return
            scene = await asyncio.to_thread(make_scene, found)
        except (UnreadableFile, OSError) as exc:
            view.set_message(str(exc).splitlines()[0])
            self.tabs.notify(str(exc), title="Lattice", severity="warning")
            return
        except (ValueError, IndexError, KeyError, np.linalg.LinAlgError) as exc:
            # A model the mapping cannot use (a singular goniometer matrix, a panel index past
            # the detector's): say so in the pane, the rest of the dashboard goes on.
            refl_name = reciprocal.SOURCES[source][1]
            view.set_message(f"{workdir / refl_name}: its spots could not be mapped ({exc}).")
            return
        view.set_scene(scene)

"""The diffraction image in the terminal: half-block colour cells, zoom, overlays, threshold, mask."""

from __future__ import annotations

import asyncio
import functools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from thas_tui.core import image_render as ir
from thas_tui.core import pixel_font
from thas_tui.core import threshold_params as tp
from thas_tui.core.image_client import Answer, ImageClient, ImageError
from thas_tui.core.image_mode import GRAPHICS, pick_mode
from thas_tui.core.image_mode import NAMES as MODE_NAMES
from thas_tui.core.image_overlays import Spots, read_overlays
from thas_tui.widgets import image_graphics
from thas_tui.widgets.mask_editor import MaskEditor
from thas_tui.widgets.threshold_panel import WIDTH as PANEL_WIDTH
from thas_tui.widgets.threshold_panel import ThresholdPanel

OUTSIDE = (24, 24, 24)
# Every segment has a style: Textual's NO_COLOR filter reads each one's colours.
PLAIN = Style()
HEADER_STYLE = Style(bold=True)
STATUS_STYLE = Style(reverse=True)
# Spots are ringed (their pixels left visible) from this zoom (pixels per bin) in.
RING_BIN = 4
# Miller indices are printed beside spots from this zoom (pixels per bin) in.
HKL_BIN = 2
DEFAULT_THRESHOLD = tp.DEFAULTS


@dataclass
class ViewState:
    """What the user asked to see; a change of the first group re-reads, the rest remaps."""

    index: int = 0
    bin: int = 0  # 0: fit the detector
    x0: int = 0
    y0: int = 0
    threshold: dict | None = None
    brightness: int = ir.DEFAULT_BRIGHTNESS
    scheme: str = "grey"
    rings: bool = False
    beam: bool = True
    spots: bool = True
    predicted: bool = True
    params: dict = field(default_factory=lambda: dict(DEFAULT_THRESHOLD))


class ImageView(Widget, can_focus=True):
    """The images of ``imported.expt`` (or ``masked.expt``) read by the image helper."""

    DEFAULT_CSS = """
    ImageView { height: 1fr; width: 1fr; }
    ImageView:focus { background-tint: $foreground 0%; }
    """

    BINDINGS = [
        Binding("n,pagedown", "step(1)", "Next image"),
        Binding("N,pageup", "step(-1)", "Previous image"),
        Binding("home", "first", "First image", show=False),
        Binding("end", "last", "Last image", show=False),
        Binding("g", "goto", "Go to image", show=False),
        Binding("plus,equals_sign", "zoom(1)", "Zoom in"),
        Binding("minus", "zoom(-1)", "Zoom out", show=False),
        Binding("0", "fit", "Fit", show=False),
        Binding("up", "move(0,-1)", "Cursor up", show=False),
        Binding("down", "move(0,1)", "Cursor down", show=False),
        Binding("left", "move(-1,0)", "Cursor left", show=False),
        Binding("right", "move(1,0)", "Cursor right", show=False),
        Binding("shift+up", "pan(0,-1)", "Pan up", show=False),
        Binding("shift+down", "pan(0,1)", "Pan down", show=False),
        Binding("shift+left", "pan(-1,0)", "Pan left", show=False),
        Binding("shift+right", "pan(1,0)", "Pan right", show=False),
        Binding("b", "brightness(1)", "Brighter", show=False),
        Binding("B", "brightness(-1)", "Dimmer", show=False),
        Binding("k", "scheme", "Colours", show=False),
        Binding("o", "toggle('rings')", "Rings", show=False),
        Binding("x", "toggle('beam')", "Beam centre", show=False),
        Binding("d", "toggle('spots')", "Spots", show=False),
        Binding("D", "toggle('predicted')", "Predictions", show=False),
        Binding("t", "threshold", "Threshold"),
        Binding("T", "threshold_panel", "Threshold params", show=False),
        # The threshold panel's: live only while it is open (check_action).
        Binding("F", "threshold_use", "Use in find_spots", show=False),
        Binding("M", "mask", "Mask editor"),
        # The mask editor's keys, live only while it is on (check_action).
        Binding("1", "mask_shape('rectangle')", "Rectangle", show=False),
        Binding("2", "mask_shape('circle')", "Circle", show=False),
        Binding("3", "mask_shape('polygon')", "Polygon", show=False),
        Binding("4", "mask_resolution", "Resolution range", show=False),
        Binding("5", "mask_ice", "Ice rings", show=False),
        Binding("right_square_bracket", "mask_border(1)", "Border +", show=False),
        Binding("left_square_bracket", "mask_border(-1)", "Border -", show=False),
        Binding("enter", "enter_key", "Point / type", show=False),
        Binding("u", "mask_undo", "Undo", show=False),
        Binding("escape", "escape_key", "Cancel / close", show=False),
        Binding("w", "mask_save", "Save mask", show=False),
    ]

    class Shown(Message):
        """An image was drawn (tests and the benchmark wait for it)."""

        def __init__(self, index: int, strong: int | None) -> None:
            super().__init__()
            self.index = index
            self.strong = strong

    class ThresholdToFindSpots(Message):
        """The user asked to run find_spots with the threshold parameters shown."""

        def __init__(self, params: dict) -> None:
            super().__init__()
            self.params = params

    class MaskSaved(Message):
        """mask.phil was written; the screen adds the Mask stage."""

        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def __init__(self, mode: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.forced_mode = mode
        self.mode = "halfblock"
        self.mode_reason = "auto"
        self.python: str | None = None
        self.workdir: Path | None = None
        self.client: ImageClient | None = None
        self.state = ViewState()
        self.cursor = (0, 0)  # (col, row) in bins of the view
        self.answer: Answer | None = None
        self.view: ir.View | None = None
        self.error: str | None = None
        self.strong_count: int | None = None
        self.overlays: dict[str, Spots] = {}
        self.overlay_problems: list[str] = []
        self.editor = MaskEditor()
        self.panel = ThresholdPanel()
        self.mask_reason: str | None = None  # why mask editing is off
        self._rgb: np.ndarray | None = None
        self._picture = None  # textual-image's widget in kitty/sixel mode
        self._fine: np.ndarray | None = None
        self._under_cursor: tuple[tuple[int, int], np.ndarray] | None = None
        self._labels: dict[tuple[int, int], tuple[str, tuple[int, int, int]]] = {}
        self._lines: dict[int, Strip] = {}
        self._styles: dict[int, Style] = {}
        self._want: dict | None = None
        self._fetching = False
        self._shown_req: dict | None = None
        self._counts: dict[tuple, int] = {}
        self.timings: list[float] = []
        self._keep_pixel: tuple[int, int] | None = None
        # Opened by the user: until then (a prefetched view) the spot files are not read, and a
        # stage's end only marks the overlays stale: strong.refl, indexed.refl and
        # integrated.refl of an 800-image sweep are 108-165 MB each.
        self._opened = False
        self._overlays_stale = False

    # -- source --------------------------------------------------------------------------------
    def set_source(self, python: str, workdir: Path, read_only: str | None = None) -> None:
        """The processing directory to show; its masked.expt when there is one."""
        self.python = python
        self.workdir = Path(workdir)
        expt = self.expt_path()
        if self.client is None or self.client.python != python:
            self.client = ImageClient(python, expt)
        else:
            self.client.reopen(expt)
        if read_only:
            self.mask_reason = f"mask editing is off: this dashboard is {read_only}"
        elif not os.access(self.workdir, os.W_OK):
            self.mask_reason = f"mask editing is off: {self.workdir} is read-only"
        else:
            self.mask_reason = None

    def files_changed(self, stage: str) -> None:
        """A stage finished: masked.expt or the spot files may be new; redraw if shown."""
        if self.client is None or self.python is None or self.workdir is None:
            return
        if stage in ("mask", "find_spots", "index", "integrate"):
            self.client.reopen(self.expt_path())
            if not self._opened:
                self._overlays_stale = True
                return
            self.load_overlays()
            self.request()

    def expt_path(self) -> Path:
        assert self.workdir is not None
        masked = self.workdir / "masked.expt"
        return masked if masked.is_file() else self.workdir / "imported.expt"

    def on_mount(self) -> None:
        self.mode, self.mode_reason = pick_mode(
            self.forced_mode,
            bool(self.app.no_color),
            image_graphics.answered(),
            image_graphics.graphics_ok(),
        )
        if self.mode in GRAPHICS:
            self._picture = image_graphics.picture_widget(self.mode)
            self._place_picture()
            self.mount(self._picture)

    def _place_picture(self) -> None:
        """The picture covers the image lines (between header and status), left of the panel."""
        picture = self._picture
        if picture is None:
            return
        width = self.size.width - (PANEL_WIDTH if self.panel.open else 0)
        picture.styles.width = max(1, width)
        picture.styles.height = max(1, self.size.height - 2)

    def open(self) -> None:
        """Draw the shown image (the first time: start the helper and read the overlays)."""
        if self.workdir is None:
            self.error = "No processing directory."
            self.refresh()
            return
        if not (self.workdir / "imported.expt").is_file():
            self.error = (
                f"No images yet: {self.workdir / 'imported.expt'} does not exist.\n"
                "The image view opens once Import has run."
            )
            self.refresh()
            return
        self.error = None if self.error and "No images yet" in self.error else self.error
        self._opened = True
        if self._overlays_stale:
            self._overlays_stale = False
            self.load_overlays()
            self.request()
            return
        if self.answer is not None and self.error is None:
            # Drawn already (prefetched while the dashboard was idle, or shown before).
            self.refresh()
            return
        self.load_overlays()
        self.request()

    def prefetch(self) -> None:
        """Start the helper and draw the first image while the view is hidden, so that opening
        it shows the image at once (the helper's start and dxtbx's imports take ~0.5 s)."""
        if self.answer is not None or self._fetching or self.workdir is None:
            return
        if not (self.workdir / "imported.expt").is_file():
            return
        if self.size.width < 8 or self.size.height < 4:
            self._start_helper()  # not laid out yet: the helper only
            return
        self._overlays_stale = True  # read when the view is opened
        self.request()

    @work(group="image-fetch")
    async def _start_helper(self) -> None:
        if self.client is not None:
            try:
                await self.client.request({"op": "ping"})
            except ImageError:
                pass  # said when the view is opened

    @work(exclusive=True, group="image-overlays")
    async def load_overlays(self) -> None:
        if self.workdir is None:
            return
        self.overlays, self.overlay_problems = await asyncio.to_thread(read_overlays, self.workdir)
        self._recompose()

    # -- geometry of the view ---------------------------------------------------------------
    @property
    def detector(self) -> tuple[int, int] | None:
        meta = self.client.meta if self.client else None
        if not meta:
            return None
        k = self._imageset()[0]
        w, h = meta["imagesets"][k]["size"]
        return w, h

    @property
    def n_images(self) -> int:
        meta = self.client.meta if self.client else None
        return meta["n_images"] if meta else 0

    def _imageset(self) -> tuple[int, int]:
        """(imageset, frame in it) of the shown image."""
        meta = self.client.meta if self.client else None
        if not meta:
            return 0, self.state.index
        i = self.state.index
        for k, s in enumerate(meta["imagesets"]):
            if i < s["n"]:
                return k, i
            i -= s["n"]
        return 0, 0

    def _grid(self) -> tuple[int, int]:
        """Bins the view shows: the widget's width, two per line between header and status."""
        return max(1, self.size.width), max(2, 2 * (self.size.height - 2))

    def _make_view(self) -> ir.View | None:
        det = self.detector
        if det is None:
            return None
        cols, rows = self._grid()
        fit_bin = ir.fit(det[0], det[1], cols, rows)
        if self.state.bin == 0 or self.state.bin >= fit_bin:
            return ir.View(0, 0, fit_bin, cols, rows)
        b = self.state.bin
        x0 = min(max(0, self.state.x0), max(0, det[0] - cols * b))
        y0 = min(max(0, self.state.y0), max(0, det[1] - rows * b))
        return ir.View(x0, y0, b, cols, rows)

    # -- fetching ------------------------------------------------------------------------------
    def request(self) -> None:
        """Ask for what the state shows; the latest wish wins, one exchange at a time."""
        self._want = {"state": replace(self.state), "size": self._grid()}
        if not self._fetching:
            self._fetching = True
            self._fetch_loop()

    @work(group="image-fetch")
    async def _fetch_loop(self) -> None:
        try:
            while self._want is not None:
                want, self._want = self._want, None
                await self._fetch(want["state"])
        finally:
            self._fetching = False

    async def _fetch(self, state: ViewState) -> None:
        if self.client is None:
            return
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        try:
            if self.client.meta is None:
                await self.client.request({"op": "ping"})
            n = self.n_images
            state.index = min(max(0, state.index), max(0, n - 1))
            self.state.index = state.index
            view = self._make_view()
            if view is None:
                return
            req = {
                "op": "image",
                "index": state.index,
                "bin": view.bin,
                "region": list(view.region),
                "threshold": state.params if state.threshold is not None else None,
                "fine_bin": self._fine_bin(view),
            }
            answer = await self.client.request(req)
        except ImageError as exc:
            self.error = _error_text(exc)
            self.answer = None
            self.refresh()
            return
        self.error = None
        if self.answer is None and self.view is None:
            self._cursor_to_beam(view)
        elif self._keep_pixel is not None:
            c, r = view.to_bin(*self._keep_pixel)
            self.cursor = (min(max(0, c), view.cols - 1), min(max(0, r), view.rows - 1))
        self._keep_pixel = None
        self.answer, self.view = answer, view
        self.strong_count = None
        if "strong_in_region" in answer.header:
            key = (state.index, repr(sorted(state.params.items())))
            if answer.header.get("whole"):
                self._counts[key] = answer.header["strong_in_region"]
            self.strong_count = self._counts.get(key)
        self._recompose()
        self.timings.append(loop.time() - t0)
        self.post_message(self.Shown(state.index, self.strong_count))
        if state.threshold is not None and self.strong_count is None and self._want is None:
            # Zoomed in: the view's pixels came first; the image's count follows.
            try:
                got = await self.client.request(
                    {"op": "count", "index": state.index, "threshold": state.params}
                )
            except ImageError:
                return
            self.strong_count = got.header["strong_count"]
            self._counts[(state.index, repr(sorted(state.params.items())))] = self.strong_count
            self._lines.pop(self.size.height - 1, None)
            self.refresh()

    def _fine_bin(self, view: ir.View) -> int:
        """kitty/sixel: the bin that gives each terminal pixel about one bin (0: none finer)."""
        if self.mode not in GRAPHICS or view.bin <= 1:
            return 0
        cw, ch = image_graphics.cell_pixels()
        per_bin = max(1, min(cw, ch // 2, 8))  # screen pixels a half-block bin spans
        fine = -(-view.bin // per_bin)
        return fine if fine < view.bin else 0

    # -- composing the picture (no read) --------------------------------------------------------
    def _recompose(self) -> None:
        self._lines.clear()
        self._labels = {}
        answer, view = self.answer, self.view
        if answer is None or view is None:
            self._rgb = None
            self.refresh()
            return
        cols, rows = view.cols, view.rows
        rgb = np.empty((rows, cols, 3), dtype=np.uint8)
        rgb[:] = OUTSIDE
        data = answer.arrays["data"]
        k = self._imageset()[0]
        meta = self.client.meta if self.client else None
        trusted_hi = meta["imagesets"][k]["trusted"][1] if meta else None
        part = ir.colours(
            data,
            answer.arrays["masked"],
            self.state.brightness,
            answer.header.get("p90", 0.0),
            self.state.scheme,
            trusted_hi,
        )
        h, w = min(rows, data.shape[0]), min(cols, data.shape[1])
        rgb[:h, :w] = part[:h, :w]
        inside = (slice(0, h), slice(0, w))
        if self.state.threshold is not None and "strong" in answer.arrays:
            ir.paint(rgb[inside], answer.arrays["strong"][:h, :w], ir.STRONG[self.state.scheme])
        base = rgb.copy() if self._picture is not None else None
        if self.editor.active or not self.editor.spec.is_empty():
            self._paint_mask(rgb, view, answer)
        d = answer.arrays["d"]
        if self.state.rings:
            for value in ir.ring_values(d):
                ir.paint(rgb[inside], ir.ring_mask(d, value)[:h, :w], ir.RING)
                at = ir.ring_label_at(d, value)
                if at is not None:
                    label = f"{value:g} Å"
                    col = _label_col(at[1] + 1, label, cols)
                    self._labels[(at[0] // 2, col)] = (label, ir.RING)
        self._paint_spots(rgb, view)
        if self.state.beam and meta and meta["imagesets"][k]["beam_centre"]:
            bx, by = meta["imagesets"][k]["beam_centre"]
            for c, r in ir.bins_of(view, [(bx, by)]):
                rgb[r, max(0, c - 1) : c + 2] = ir.BEAM
                rgb[max(0, r - 1) : r + 2, c] = ir.BEAM
        self.editor.paint_pending(rgb, view)
        c, r = self.cursor
        c, r = min(c, cols - 1), min(r, rows - 1)
        self.cursor = (c, r)
        self._under_cursor = ((r, c), rgb[r, c].copy())
        rgb[r, c] = ir.CURSOR
        self._rgb = rgb
        if base is not None:
            self._draw_picture(base, rgb, view, answer, trusted_hi)
        self.refresh()

    def _draw_picture(self, base, rgb, view: ir.View, answer: Answer, trusted_hi) -> None:
        """kitty/sixel: the finer pixels with the coarse picture's marks, to textual-image."""
        assert self._picture is not None
        fine = answer.arrays.get("fine")
        bf = int(answer.header.get("fine_bin") or 0)
        picture = rgb
        if fine is not None and bf:
            frgb = ir.colours(
                fine,
                answer.arrays["fine_masked"],
                self.state.brightness,
                answer.header.get("p90", 0.0),
                self.state.scheme,
                trusted_hi,
            )
            if self.state.threshold is not None and "fine_strong" in answer.arrays:
                ir.paint(frgb, answer.arrays["fine_strong"], ir.STRONG[self.state.scheme])
            # The fine bins of the whole view (off the detector: the background).
            shape = (-(-view.rows * view.bin // bf), -(-view.cols * view.bin // bf), 3)
            canvas = np.empty(shape, dtype=np.uint8)
            canvas[:] = OUTSIDE
            h, w = min(canvas.shape[0], frgb.shape[0]), min(canvas.shape[1], frgb.shape[1])
            canvas[:h, :w] = frgb[:h, :w]
            picture = ir.overlay_fine(canvas, base, rgb, view.bin, bf)
        # No text cell shows through a picture: the ring and hkl labels are drawn into it.
        picture = pixel_font.labels_into(
            picture,
            self._labels,
            picture.shape[1] / max(1, view.cols),
            2 * picture.shape[0] / max(1, view.rows),
        )
        if self.panel.open and self.size.width > PANEL_WIDTH:
            keep = picture.shape[1] * (self.size.width - PANEL_WIDTH) // max(1, self.size.width)
            picture = picture[:, : max(1, keep)]
        self._fine = picture
        self._place_picture()
        self._picture.image = image_graphics.pil_image(np.ascontiguousarray(picture))

    def _cursor_to_beam(self, view: ir.View) -> None:
        meta = self.client.meta if self.client else None
        centre = meta["imagesets"][self._imageset()[0]]["beam_centre"] if meta else None
        if centre:
            c, r = view.to_bin(*centre)
            self.cursor = (min(max(0, c), view.cols - 1), min(max(0, r), view.rows - 1))

    def _paint_spots(self, rgb: np.ndarray, view: ir.View) -> None:
        k, frame = self._imageset()
        meta = self.client.meta if self.client else None
        first = meta["imagesets"][k]["first"] if meta else 1
        z = first - 1 + frame
        kinds = []
        if self.state.spots and "spots" in self.overlays:
            kinds.append(self.overlays["spots"])
        if self.state.predicted and "predicted" in self.overlays:
            kinds.append(self.overlays["predicted"])
        maps = self._panel_maps()
        for spots in kinds:
            idx = spots.on_frame(k, z)
            xs, ys = spots.x[idx], spots.y[idx]
            if maps is not None and spots.panel is not None:
                # Panel pixels to the tiled picture's.
                m = maps[np.clip(spots.panel[idx], 0, len(maps) - 1)]
                xs, ys = (
                    m[:, 0] + m[:, 2] * xs + m[:, 3] * ys,
                    m[:, 1] + m[:, 4] * xs + m[:, 5] * ys,
                )
            for j, i in enumerate(idx):
                cc, rr = view.to_bin(xs[j], ys[j])
                if not (0 <= cc < view.cols and 0 <= rr < view.rows):
                    continue
                kind = spots.kind
                if kind == "indexed":
                    kind = (
                        "indexed" if spots.indexed is not None and spots.indexed[i] else "unindexed"
                    )
                colour = ir.SPOT_COLOURS[kind]
                if kind == "predicted" or view.bin > RING_BIN:
                    # Zoomed out a spot is a bin or two: its mark replaces it, or a ring of
                    # marks round every spot would cover the image.
                    rgb[rr, cc] = colour
                    continue
                # A ring of the spot's colour round the centroid, its pixels left visible.
                for dc, dr in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                    if 0 <= cc + dc < view.cols and 0 <= rr + dr < view.rows:
                        rgb[rr + dr, cc + dc] = colour
                if view.bin <= HKL_BIN and spots.hkl is not None and kind == "indexed":
                    h, kk, ll = (int(v) for v in spots.hkl[i])
                    label = f"{h},{kk},{ll}"
                    self._labels[(rr // 2, _label_col(cc + 2, label, view.cols))] = (label, colour)

    def _paint_mask(self, rgb: np.ndarray, view: ir.View, answer: Answer) -> None:
        det = self.detector
        if det is None:
            return
        bad = self.editor.masked_bins(det, view, answer.arrays["d"], answer.header)
        if bad is not None:
            h, w = min(bad.shape[0], rgb.shape[0]), min(bad.shape[1], rgb.shape[1])
            tint = rgb[:h, :w].astype(np.uint16)
            tint = (tint + np.array(ir.SPOT_COLOURS["mask"])) // 2
            rgb[:h, :w][bad[:h, :w]] = tint[bad[:h, :w]].astype(np.uint8)

    # -- drawing -------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._text_line(self._header(), width, HEADER_STYLE)
        if y == self.size.height - 1:
            return self._text_line(self._status(), width, STATUS_STYLE)
        if self.error or self._rgb is None:
            lines = (self.error or self._waiting_text()).splitlines()
            i = y - 2
            text = lines[i] if 0 <= i < len(lines) else ""
            return self._text_line(text, width, Style())
        cached = self._lines.get(y)
        if cached is None:
            # kitty/sixel: the picture widget covers these lines; blank under it.
            blank = self._picture is not None
            cached = Strip.blank(width) if blank else self._image_line(y - 1, width)
            self._lines[y] = cached
        if self.panel.open and 1 <= y <= self.panel.height() and width > PANEL_WIDTH:
            # Drawn over the image's right edge: the image keeps its size and pixels (no read).
            side = self.panel.line(y - 1, self.state.params, self._strong_text())
            return Strip.join([cached.crop(0, width - PANEL_WIDTH), side])
        return cached

    def _strong_text(self) -> str:
        if self.state.threshold is None:
            return "off (t turns it on)"
        if self.strong_count is not None:
            return f"{self.strong_count} strong pixels"
        answer = self.answer
        if answer is not None and "strong_in_region" in answer.header:
            return f"{answer.header['strong_in_region']} in view; counting…"
        return "computing…"

    def _refresh_panel(self) -> None:
        """Only the panel's rows (and the status line): the image is unchanged."""
        width = self.size.width
        self.refresh(Region(0, 1, width, self.panel.height() + 4))
        self.refresh(Region(0, self.size.height - 1, width, 1))

    def _waiting_text(self) -> str:
        if self.workdir is None:
            return ""
        return f"Reading {self.expt_path().name} through DIALS's dxtbx…"

    def _text_line(self, text: str, width: int, style: Style) -> Strip:
        text = text[:width].ljust(width)
        return Strip([Segment(text, style)], width)

    def _style(self, top: int, bottom: int) -> Style:
        key = (top << 24) | bottom
        style = self._styles.get(key)
        if style is None:
            if len(self._styles) > 20_000:
                self._styles.clear()
            style = Style.from_color(_colour(top), _colour(bottom))
            self._styles[key] = style
        return style

    def _image_line(self, row: int, width: int) -> Strip:
        rgb = self._rgb
        assert rgb is not None
        if 2 * row + 1 >= rgb.shape[0]:
            return Strip.blank(width)
        top = rgb[2 * row].astype(np.int64)
        bottom = rgb[2 * row + 1].astype(np.int64)
        labels = {c: v for (r, c), v in self._labels.items() if r == row}
        if self.mode == "ascii":
            chars = ir.density(rgb[2 * row], rgb[2 * row + 1])
            beyond = (rgb[2 * row] == OUTSIDE).all(axis=-1) & (rgb[2 * row + 1] == OUTSIDE).all(
                axis=-1
            )
            chars[beyond] = " "  # off the detector: blank, not the darkest character
            text = "".join(chars[:width])
            text = _put_labels(text, labels)
            return Strip([Segment(text, PLAIN)], width)
        t = (top[:, 0] << 16) | (top[:, 1] << 8) | top[:, 2]
        b = (bottom[:, 0] << 16) | (bottom[:, 1] << 8) | bottom[:, 2]
        n = min(width, len(t))
        key = ((t << 24) | b)[:n]
        # One segment per run of equal cells; the run's key (its two colours) as a Python int
        # picks the cached style (numpy scalars in the loop cost more than the rest of it).
        starts = (np.flatnonzero(key[1:] != key[:-1]) + 1).tolist()
        bounds = [0, *starts, n]
        styles = self._styles
        segments = []
        for a, z, k in zip(bounds, bounds[1:], key[bounds[:-1]].tolist(), strict=False):
            style = styles.get(k)
            if style is None:
                style = self._style(k >> 24, k & 0xFFFFFF)
            segments.append(Segment(_blocks(z - a), style))
        if labels:
            segments = _label_segments(segments, labels)
        if n < width:
            segments.append(Segment(" " * (width - n), PLAIN))
        return Strip(segments, width)

    def _header(self) -> str:
        meta = self.client.meta if self.client else None
        mode = MODE_NAMES[self.mode]
        if self.mode_reason != "auto":
            mode += f" ({self.mode_reason})"
        if not meta:
            return f"Image · {mode}"
        view = self.view
        zoom = "fit" if self.state.bin == 0 else f"{view.bin if view else '?'} px/bin"
        parts = [
            f"{self.expt_path().name}",
            mode,
            zoom,
            f"brightness {self.state.brightness}",
            self.state.scheme,
        ]
        if self.state.rings:
            parts.append("rings")
        n_spots = self._spot_count()
        if n_spots is not None:
            parts.append(f"{n_spots} spots on this image")
        return " · ".join(parts)

    def _spot_count(self) -> int | None:
        spots = self.overlays.get("spots")
        if spots is None or not self.state.spots:
            return None
        k, frame = self._imageset()
        meta = self.client.meta if self.client else None
        first = meta["imagesets"][k]["first"] if meta else 1
        return len(spots.on_frame(k, first - 1 + frame))

    def _status(self) -> str:
        if self.editor.active:
            return self.editor.status()
        n = self.n_images
        if not n:
            return "image –"
        parts = [f"image {self.state.index + 1}/{n}"]
        answer, view = self.answer, self.view
        if answer is not None and view is not None:
            c, r = self.cursor
            cent = answer.arrays["centre"]
            x, y = view.pixel(c, r)
            det = self.detector
            if det and x < det[0] and y < det[1] and r < cent.shape[0] and c < cent.shape[1]:
                value = int(cent[r, c])
                d = float(answer.arrays["d"][r, c])
                masked = bool(answer.arrays["masked"][r, c]) and view.bin > 1 or value < 0
                parts.append(self._where_text(answer, r, c, x, y))
                parts.append(f"value {value}" + (" masked" if masked else ""))
                parts.append(f"{d:.2f} Å" if np.isfinite(d) else "d –")
        if self.state.threshold is not None:
            if self.strong_count is not None:
                parts.append(f"{self.strong_count} strong pixels")
            elif answer is not None and "strong_in_region" in answer.header:
                parts.append(f"{answer.header['strong_in_region']} strong pixels in view")
        if self.mask_reason and self.editor.wanted:
            parts.append(self.mask_reason)
        return " · ".join(parts)

    def _where_text(self, answer: Answer, r: int, c: int, x: int, y: int) -> str:
        """The cursor's pixel: (x, y), and on a multi-panel detector its panel and the
        panel's own pixel (as DIALS numbers them in .refl files)."""
        owner = answer.arrays.get("panel")
        if owner is None:
            return f"({x}, {y})"
        p = int(owner[r, c])
        if p < 0:
            return f"({x}, {y}) between panels"
        lx, ly = self._panel_xy(p, x + 0.5, y + 0.5)
        return f"panel {p} ({int(np.floor(lx))}, {int(np.floor(ly))})"

    def _panel_maps(self) -> np.ndarray | None:
        """Each panel's map into the picture, (cx, cy, m00, m01, m10, m11); None for one panel."""
        meta = self.client.meta if self.client else None
        if not meta:
            return None
        maps = meta["imagesets"][self._imageset()[0]].get("panel_maps")
        return np.asarray(maps, dtype=float) if maps and len(maps) > 1 else None

    def _panel_xy(self, p: int, x: float, y: float) -> tuple[float, float]:
        maps = self._panel_maps()
        assert maps is not None
        cx, cy, a, b, cc, d = maps[p]
        inv = np.linalg.inv(np.array([[a, b], [cc, d]]))
        return tuple(inv @ (x - cx, y - cy))  # type: ignore[return-value]

    # -- keys ----------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action.startswith("mask_"):
            return self.editor.active
        if action == "threshold_use":
            return self.panel.open
        if action in ("enter_key", "escape_key"):
            return self.editor.active or self.panel.open
        return True

    def action_enter_key(self) -> None:
        if self.panel.open:
            self._panel_enter()
        elif self.editor.active:
            self.action_mask_point()

    def action_escape_key(self) -> None:
        if self.panel.open:
            if self.panel.typing is not None:
                self.panel.typing = None
                self.panel.problem = None
                self._refresh_panel()
            else:
                self.action_threshold_panel()
        elif self.editor.active:
            self.action_mask_cancel()

    def on_key(self, event: events.Key) -> None:
        """Typing a value in the threshold panel: the keys are text, not commands."""
        if not self.panel.open or self.panel.typing is None or event.key in ("enter", "escape"):
            return
        if event.key == "backspace":
            self.panel.typing = self.panel.typing[:-1]
        elif event.character and event.character.isprintable():
            self.panel.typing += event.character
        else:
            return
        event.stop()
        event.prevent_default()
        self._refresh_panel()

    def on_resize(self) -> None:
        self._place_picture()
        if self.client is not None and self.client.meta is not None:
            if self.view is not None:
                # A new size changes the bin: the cursor stays on its pixel.
                self._keep_pixel = self.view.pixel(*self.cursor)
            self.request()

    def action_step(self, delta: int) -> None:
        self._go(self.state.index + delta)

    def action_first(self) -> None:
        self._go(0)

    def action_last(self) -> None:
        self._go(self.n_images - 1)

    def _go(self, index: int) -> None:
        n = self.n_images
        if not n:
            return
        self.state.index = min(max(0, index), n - 1)
        self.request()

    def action_goto(self) -> None:
        from thas_tui.screens.image_dialogs import GotoImage

        def chosen(number: int | None) -> None:
            if number is not None:
                self._go(number - 1)

        self.app.push_screen(GotoImage(self.state.index + 1, self.n_images), chosen)

    def action_zoom(self, direction: int) -> None:
        if self.panel.open:
            self._panel_step(direction)
            return
        view = self._make_view() if self.view is not None else None
        det = self.detector
        if view is None or det is None:
            return
        cols, rows = self._grid()
        fit_bin = ir.fit(det[0], det[1], cols, rows)
        b = view.bin
        new = max(1, b // 2) if direction > 0 else b * 2
        if new >= fit_bin:
            self.action_fit()
            return
        if new == b:
            return
        px, py = view.pixel(*self.cursor)
        c, r = self.cursor
        self.state.bin = new
        self.state.x0 = px - c * new - new // 2
        self.state.y0 = py - r * new - new // 2
        x0 = min(max(0, self.state.x0), max(0, det[0] - cols * new))
        y0 = min(max(0, self.state.y0), max(0, det[1] - rows * new))
        # The cursor stays on its pixel when the view cannot be centred there (an edge).
        self.cursor = ((px - x0) // new, (py - y0) // new)
        self.state.x0, self.state.y0 = x0, y0
        self.request()

    def action_fit(self) -> None:
        view = self._make_view() if self.view is not None else None
        if view is not None:
            px, py = view.pixel(*self.cursor)
        self.state.bin = 0
        self.state.x0 = self.state.y0 = 0
        det = self.detector
        if view is not None and det is not None:
            cols, rows = self._grid()
            fb = ir.fit(det[0], det[1], cols, rows)
            self.cursor = (min(px // fb, cols - 1), min(py // fb, rows - 1))
        self.request()

    def action_move(self, dc: int, dr: int) -> None:
        if self.panel.open:
            # The panel has the arrows: up/down choose a parameter, left/right step it.
            if dr:
                self.panel.choose(dr)
                self._refresh_panel()
            else:
                self._panel_step(dc)
            return
        view = self._make_view() if self.view is not None else None
        if view is None:
            return
        c, r = self.cursor
        c, r = c + dc, r + dr
        if 0 <= c < view.cols and 0 <= r < view.rows:
            self.cursor = (c, r)
            self._move_cursor()
            return
        # Off the edge of a zoomed view: the view follows the cursor.
        if self.state.bin:
            self.state.x0 = view.x0 + dc * view.bin
            self.state.y0 = view.y0 + dr * view.bin
            self.request()

    def _move_cursor(self) -> None:
        # The cursor is one bin: redraw from the pixels already here, no read.
        if self.editor.active or self._picture is not None:
            self._recompose()
        else:
            self._recompose_cursor()

    def _recompose_cursor(self) -> None:
        """The cursor's old and new cells repainted, their two lines and the status redrawn."""
        rgb, under = self._rgb, self._under_cursor
        if rgb is None or under is None:
            self._recompose()
            return
        (r0, c0), colour = under
        rgb[r0, c0] = colour
        c, r = self.cursor
        c, r = min(c, rgb.shape[1] - 1), min(r, rgb.shape[0] - 1)
        self._under_cursor = ((r, c), rgb[r, c].copy())
        rgb[r, c] = ir.CURSOR
        width = self.size.width
        for y in {r0 // 2 + 1, r // 2 + 1}:
            self._lines.pop(y, None)
            self.refresh(Region(0, y, width, 1))
        self.refresh(Region(0, self.size.height - 1, width, 1))

    def action_pan(self, dx: int, dy: int) -> None:
        view = self._make_view() if self.view is not None else None
        if view is None or not self.state.bin:
            return
        self.state.x0 = view.x0 + dx * max(1, view.cols // 4) * view.bin
        self.state.y0 = view.y0 + dy * max(1, view.rows // 4) * view.bin
        self.request()

    def action_brightness(self, direction: int) -> None:
        b = self.state.brightness
        step = 1 if b < 10 else 5 if b < 50 else 25
        if direction < 0:
            step = 1 if b <= 10 else 5 if b <= 50 else 25
        self.state.brightness = int(min(500, max(1, b + direction * step)))
        self._recompose()

    def action_scheme(self) -> None:
        i = ir.SCHEMES.index(self.state.scheme)
        self.state.scheme = ir.SCHEMES[(i + 1) % len(ir.SCHEMES)]
        self._recompose()

    def action_toggle(self, what: str) -> None:
        setattr(self.state, what, not getattr(self.state, what))
        self._recompose()

    def action_threshold(self) -> None:
        self.state.threshold = None if self.state.threshold is not None else dict(self.state.params)
        self.request()

    def set_threshold_params(self, params: dict) -> None:
        """New threshold parameters: redrawn at once (threshold turned on)."""
        self.state.params = dict(params)
        self.state.threshold = dict(params)
        self.request()

    def action_threshold_panel(self) -> None:
        """Open (threshold on) or close the side panel of threshold parameters."""
        self.panel.open = not self.panel.open
        self.panel.typing = None
        self.panel.problem = None
        self.refresh_bindings()
        if self.panel.open and self.state.threshold is None:
            self.state.threshold = dict(self.state.params)
            self.request()
        self._lines.clear()
        if self._picture is not None:
            self._recompose()  # the picture narrows to leave the panel its columns
        self.refresh()

    def _panel_step(self, direction: int) -> None:
        self.panel.problem = None
        self.panel.typing = None
        self.set_threshold_params(tp.step(self.state.params, self.panel.name, direction))
        self._refresh_panel()

    def _panel_enter(self) -> None:
        panel = self.panel
        if panel.typing is None:
            panel.typing = ""
            panel.problem = None
            self._refresh_panel()
            return
        value, problem = tp.parse(panel.name, panel.typing)
        if problem is not None:
            panel.problem = problem
        else:
            panel.typing = None
            panel.problem = None
            self.set_threshold_params({**self.state.params, panel.name: value})
        self._refresh_panel()

    def action_threshold_use(self) -> None:
        """Copy the parameters into find_spots' PHIL; the dashboard offers to re-run it."""
        self.post_message(self.ThresholdToFindSpots(dict(self.state.params)))

    # -- mask editor -----------------------------------------------------------------------------
    def action_mask(self) -> None:
        self.editor.wanted = not self.editor.wanted
        maps = self._panel_maps()
        if self.editor.wanted and maps is not None:
            self.editor.wanted = False
            self.app.notify(
                f"The mask editor draws on single-panel detectors; this one has {len(maps)} "
                "panels. Write mask.phil by hand (untrusted { panel = N ... }): the Mask stage "
                "runs it.",
                severity="warning",
            )
            return
        if self.editor.wanted and self.mask_reason:
            self.editor.wanted = False
            self.app.notify(self.mask_reason, severity="warning")
            return
        if self.editor.wanted and self.workdir is not None and not self.editor.loaded:
            self.editor.load(self.workdir)
        self.editor.active = self.editor.wanted
        self.refresh_bindings()
        self._recompose()

    def _cursor_pixel(self) -> tuple[int, int] | None:
        return self.view.pixel(*self.cursor) if self.view is not None else None

    def action_mask_shape(self, kind: str) -> None:
        pixel = self._cursor_pixel()
        if pixel is not None:
            self.editor.start(kind, pixel)
            self._recompose()

    def action_mask_point(self) -> None:
        pixel = self._cursor_pixel()
        if pixel is None:
            return
        problem = self.editor.point(pixel, self.detector)
        if problem:
            self.app.notify(problem, severity="warning")
        self._recompose()

    def action_mask_undo(self) -> None:
        self.editor.undo()
        self._recompose()

    def action_mask_cancel(self) -> None:
        if self.editor.pending is None:
            self.action_mask()
            return
        self.editor.cancel()
        self._recompose()

    def action_mask_border(self, delta: int) -> None:
        self.editor.spec.border = max(0, self.editor.spec.border + delta)
        self._recompose()

    def action_mask_ice(self) -> None:
        self.editor.spec.ice_rings = not self.editor.spec.ice_rings
        self._recompose()

    def action_mask_resolution(self) -> None:
        from thas_tui.screens.image_dialogs import ResolutionRangeDialog

        def chosen(pair: tuple[float | None, float | None, bool] | None) -> None:
            if pair is None:
                return
            self.editor.set_resolution(*pair)
            self._recompose()

        self.app.push_screen(ResolutionRangeDialog(), chosen)

    def action_mask_save(self) -> None:
        det = self.detector
        if det is None or self.workdir is None:
            return
        answer = self.answer
        d_fit = answer.arrays["d"] if answer is not None and self.state.bin == 0 else None
        try:
            path, problems = self.editor.save(self.workdir, det, d_fit)
        except OSError as exc:
            self.app.notify(f"mask.phil not saved: {exc}", severity="error")
            return
        if problems:
            self.app.notify("\n".join(problems), title="Mask not saved", severity="error")
            return
        assert path is not None
        self.app.notify(f"Saved {path}", title="Mask")
        self.post_message(self.MaskSaved(path))

    async def on_unmount(self) -> None:
        if self.client is not None:
            await self.client.close(timeout=1.0)

    def close_helper(self) -> None:
        """The helper exits at the end of its input (it would when this process ends, too)."""
        if self.client is not None:
            self.client.close_input()


@functools.lru_cache(maxsize=512)
def _blocks(n: int) -> str:
    return "▀" * n


@functools.lru_cache(maxsize=4096)
def _colour(rgb: int) -> Color:
    return Color.from_rgb(rgb >> 16, (rgb >> 8) & 255, rgb & 255)


def _label_col(col: int, label: str, cols: int) -> int:
    """``col``, moved left where the label would run off the view's right edge."""
    return max(0, min(col, cols - len(label)))


def _put_labels(text: str, labels: dict[int, tuple[str, tuple[int, int, int]]]) -> str:
    chars = list(text)
    for col, (label, _) in sorted(labels.items()):
        for i, ch in enumerate(label):
            if 0 <= col + i < len(chars):
                chars[col + i] = ch
    return "".join(chars)


def _label_segments(segments, labels) -> list[Segment]:
    """Print each label's characters over the cells they cover, in the label's colour."""
    cells: list[Segment] = []
    for seg in segments:
        cells.extend(Segment(ch, seg.style) for ch in seg.text)
    for col, (label, colour) in labels.items():
        fg = (colour[0] << 16) | (colour[1] << 8) | colour[2]
        for i, ch in enumerate(label):
            j = col + i
            if 0 <= j < len(cells):
                # A dark ground: the label stays readable on the ring or spot it names.
                cells[j] = Segment(ch, Style.parse(f"bold #{fg:06x} on #181818"))
    return cells


def _error_text(exc: ImageError) -> str:
    what = {
        "missing": "The images cannot be shown",
        "unreadable": "The image cannot be read",
        "crashed": "The image helper stopped twice",
        "nodials": "DIALS's Python is missing",
    }.get(exc.kind, "The image cannot be shown")
    todo = {
        "missing": "Put the images back where dials.import found them, or import them again.",
        "unreadable": "The file may be truncated or still being written: press n for the next.",
        "crashed": "Press n or N to try again; the rest of the dashboard is not affected.",
        "nodials": "Install DIALS (apt-get install -y dials) or pass --dials-dir.",
    }.get(exc.kind, "")
    return f"{what}:\n{exc}\n{todo}"

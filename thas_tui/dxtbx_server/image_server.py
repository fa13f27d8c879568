"""A persistent image helper under DIALS's Python: reads images through dxtbx, sends numpy arrays.

Never imported by the dashboard (it needs dxtbx); started by ``thas_tui.core.image_client``.
Protocol: one JSON request a line on stdin; each answer on stdout is a 4-byte big-endian length,
that many bytes of JSON header, then the ``.npy`` blobs it lists (``arrays``, ``sizes``).
The helper exits when stdin closes (the dashboard has gone).
"""

from __future__ import annotations

import io
import json
import os
import select
import struct
import sys
import traceback
from collections import OrderedDict

import numpy as np

# Frames kept decoded: the shown one and its neighbours, for next/previous without a re-read.
FRAME_CACHE = 2
THRESHOLD_CACHE = 4
ANSWER_CACHE = 12
# Pixels around a viewport recomputed with it: the 7x7 box of the default kernel needs 3; a
# kernel_size up to 8 is exact with this margin (DIALS-VIEWERS.md §2).
MARGIN = 8
DEFAULT_THRESHOLD = {
    "gain": 1.0,
    "kernel_size": [3, 3],
    "sigma_background": 6.0,
    "sigma_strong": 3.0,
    "global_threshold": 0.0,
    "min_local": 2,
    "algorithm": "dispersion_extended",
}


class Failure(Exception):
    """A request that cannot be answered; ``kind`` tells the dashboard which message to show."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _image_paths(experiments) -> list[str]:
    paths: list[str] = []
    for iset in experiments.imagesets():
        try:
            paths.extend(iset.paths())
        except Exception:
            for i in range(len(iset)):
                paths.append(iset.get_path(i))
    return paths


class Layout:
    """Where each panel's pixels go in one picture of the detector, tiled by their positions
    projected on panel 0's plane (in panel 0's pixels); the gaps between panels stay masked."""

    def __init__(self, detector) -> None:
        panels = list(detector)
        p0 = panels[0]
        f0, s0 = np.array(p0.get_fast_axis()), np.array(p0.get_slow_axis())
        px, py = p0.get_pixel_size()
        maps, corners = [], []
        # Measured from panel 0's first pixel: a one-panel detector maps onto itself exactly.
        o0 = np.array(p0.get_origin())
        for p in panels:
            o = np.array(p.get_origin()) - o0
            f, s = np.array(p.get_fast_axis()), np.array(p.get_slow_axis())
            qx, qy = p.get_pixel_size()
            c = np.array([o @ f0 / px, o @ s0 / py])
            m = np.array(
                [[qx * (f @ f0) / px, qy * (s @ f0) / px], [qx * (f @ s0) / py, qy * (s @ s0) / py]]
            )
            w, h = p.get_image_size()
            maps.append((c, m, (w, h)))
            for x, y in ((0, 0), (w, 0), (0, h), (w, h)):
                corners.append(c + m @ (x, y))
        lo = np.floor(np.min(corners, axis=0) + 1e-6)
        hi = np.ceil(np.max(corners, axis=0) - 1e-6)
        self.maps = [(c - lo, m, size) for c, m, size in maps]
        self.size = (int(hi[0] - lo[0]), int(hi[1] - lo[1]))  # (fast, slow) as dxtbx's
        self.single = len(panels) == 1
        self.places = [self._place(c, m, size) for c, m, size in self.maps]
        self.panel_of = None
        if not self.single:
            self.panel_of = np.full((self.size[1], self.size[0]), -1, dtype=np.int16)
            for k, (_, _, (w, h)) in enumerate(self.maps):
                self.paste(self.panel_of, k, np.full((h, w), k, dtype=np.int16))

    def _place(self, c, m, size):
        """Slices (and flips) for a panel whose axes follow panel 0's; else flat indices."""
        w, h = size
        i, j = np.arange(w) + 0.5, np.arange(h) + 0.5
        if abs(m[0, 1]) < 1e-6 and abs(m[1, 0]) < 1e-6:
            ix = np.floor(c[0] + m[0, 0] * i).astype(np.int64)
            iy = np.floor(c[1] + m[1, 1] * j).astype(np.int64)
            dx, dy = np.diff(ix), np.diff(iy)
            if (dx == dx[:1]).all() and abs(dx[:1]).sum() <= 1 and (dy == dy[:1]).all():
                if abs(dy[:1]).sum() <= 1:
                    fx = bool(w > 1 and dx[0] < 0)
                    fy = bool(h > 1 and dy[0] < 0)
                    sx = slice(int(ix.min()), int(ix.min()) + w)
                    sy = slice(int(iy.min()), int(iy.min()) + h)
                    return ("slice", sy, sx, fy, fx)
        gi, gj = np.meshgrid(i, j)
        gx = np.floor(c[0] + m[0, 0] * gi + m[0, 1] * gj).astype(np.int64)
        gy = np.floor(c[1] + m[1, 0] * gi + m[1, 1] * gj).astype(np.int64)
        ok = (gx >= 0) & (gx < self.size[0]) & (gy >= 0) & (gy < self.size[1])
        return ("scatter", (gy * self.size[0] + gx)[ok], ok)

    def paste(self, out: np.ndarray, k: int, a: np.ndarray) -> None:
        """Put panel ``k``'s array ``a`` (slow, fast) into the picture ``out``."""
        place = self.places[k]
        if place[0] == "slice":
            _, sy, sx, fy, fx = place
            out[sy, sx] = a[:: -1 if fy else 1, :: -1 if fx else 1]
        else:
            _, flat, ok = place
            out.reshape(-1)[flat] = a[ok]

    def local(self, k: int, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Panel ``k``'s pixel coordinates of picture coordinates (x, y)."""
        c, m, _ = self.maps[k]
        inv = np.linalg.inv(m)
        dx, dy = x - c[0], y - c[1]
        return inv[0, 0] * dx + inv[0, 1] * dy, inv[1, 0] * dx + inv[1, 1] * dy

    def wire(self) -> list[list[float]]:
        """Each panel's map for the dashboard: picture (x, y) = (cx, cy) + M (x, y)."""
        return [[*map(float, c), *map(float, m.ravel())] for c, m, _ in self.maps]


class Images:
    """One experiment list's images, in order across its imagesets, every panel tiled."""

    def __init__(self, expt: str) -> None:
        from dxtbx.model.experiment_list import ExperimentListFactory

        if not os.path.isfile(expt):
            raise Failure("missing", f"{expt} does not exist")
        try:
            geometry = ExperimentListFactory.from_json_file(expt, check_format=False)
        except Exception as exc:
            raise Failure("unreadable", f"{expt} cannot be read: {exc}") from exc
        for path in _image_paths(geometry):
            if not os.path.exists(path):
                raise Failure(
                    "missing",
                    f"image {path} is missing: the images were moved or deleted since import",
                )
        try:
            experiments = ExperimentListFactory.from_json_file(expt, check_format=True)
        except Exception as exc:
            raise Failure("unreadable", f"the images of {expt} cannot be read: {exc}") from exc
        self.imagesets = list(experiments.imagesets())
        if not self.imagesets:
            raise Failure("unreadable", f"{expt} lists no images")
        self.index: list[tuple[int, int]] = [
            (k, i) for k, iset in enumerate(self.imagesets) for i in range(len(iset))
        ]
        self.frames: OrderedDict[int, tuple] = OrderedDict()
        self.thresholds: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self.dmaps: dict[tuple, np.ndarray] = {}
        self.layouts = [Layout(iset.get_detector()) for iset in self.imagesets]
        self.panel_static = [self._static_masks(iset) for iset in self.imagesets]
        self.static = []
        for k, masks in enumerate(self.panel_static):
            if self.layouts[k].single:
                self.static.append(masks[0])
                continue
            w, h = self.layouts[k].size
            whole = np.zeros((h, w), dtype=bool)
            for p, mk in enumerate(masks):
                self.layouts[k].paste(whole, p, mk)
            self.static.append(whole)

    def _static_masks(self, iset) -> list[np.ndarray]:
        # get_mask(i) = panel gaps AND external mask AND trusted range; the first two do not
        # change from image to image, so only the trusted range is applied per frame.
        lookup = iset.external_lookup.mask
        out = []
        for p, panel in enumerate(iset.get_detector()):
            fast, slow = panel.get_image_size()
            good = np.ones((slow, fast), dtype=bool)
            for x0, y0, x1, y1 in panel.get_mask():
                good[y0:y1, x0:x1] = False
            if lookup.filename:
                good &= lookup.data.tile(p).data().as_numpy_array().astype(bool)
            out.append(good)
        return out

    def meta(self) -> dict:
        sets = []
        for k, iset in enumerate(self.imagesets):
            panel = iset.get_detector()[0]
            beam = iset.get_beam()
            scan = iset.get_scan()
            first = scan.get_image_range()[0] if scan is not None else 1
            layout = self.layouts[k]
            try:
                # On panel 0's plane, placed in the picture as panel 0 is.
                c, m, _ = layout.maps[0]
                bx, by = panel.get_beam_centre_px(beam.get_s0())
                centre = (c + m @ (bx, by)).tolist()
            except Exception:  # beam parallel to the panel: no centre on it
                centre = None
            sets.append(
                {
                    "n": len(iset),
                    "first": first,
                    "size": list(layout.size),
                    "panel_maps": layout.wire(),
                    "trusted": list(panel.get_trusted_range()),
                    "beam_centre": list(centre) if centre else None,
                    "wavelength": beam.get_wavelength(),
                    "panels": len(iset.get_detector()),
                    "template": iset.get_template() if hasattr(iset, "get_template") else "",
                }
            )
        return {"n_images": len(self.index), "imagesets": sets}

    def frame(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Raw int32 pixels of every panel tiled and where they are good (``get_mask``'s)."""
        data, good = self.panels(index)[:2]
        return data, good

    def shown(self, index: int) -> np.ndarray:
        """The frame with its masked pixels -1: what is binned for every view of it, made once."""
        entry = self.panels(index)
        if entry[4] is None:
            entry = (
                *entry[:4],
                np.where(entry[1], entry[0], np.int32(-1)).astype(np.int32, copy=False),
            )
            self.frames[index] = entry
        return entry[4]

    def panels(self, index: int) -> tuple:
        """The tiled (data, good) and each panel's own (raw, good) lists."""
        cached = self.frames.get(index)
        if cached is not None:
            self.frames.move_to_end(index)
            return cached
        k, i = self._where(index)
        iset = self.imagesets[k]
        try:
            raws = iset.get_raw_data(i)
        except Exception as exc:
            raise Failure(
                "unreadable", f"image {iset.get_path(i)} cannot be read: {_first_line(exc)}"
            ) from exc
        datas, goods = [], []
        for p, (raw, panel) in enumerate(zip(raws, iset.get_detector(), strict=False)):
            data = raw.as_numpy_array().astype(np.int32, copy=False)
            static = self.panel_static[k][p]
            if data.shape != static.shape:
                raise Failure(
                    "unreadable",
                    f"image {iset.get_path(i)} panel {p} is {data.shape[1]}x{data.shape[0]} "
                    f"pixels, the detector's {static.shape[1]}x{static.shape[0]}",
                )
            lo, hi = panel.get_trusted_range()
            datas.append(data)
            good = np.greater(data, lo)
            good &= np.less(data, hi)
            good &= static
            goods.append(good)
        layout = self.layouts[k]
        if layout.single:
            entry = (datas[0], goods[0], datas, goods, None)
        else:
            w, h = layout.size
            data = np.full((h, w), -1, dtype=np.int32)
            good = np.zeros((h, w), dtype=bool)
            for p in range(len(datas)):
                layout.paste(data, p, datas[p])
                layout.paste(good, p, goods[p])
            entry = (data, good, datas, goods, None)
        self.frames[index] = entry
        while len(self.frames) > FRAME_CACHE:
            self.frames.popitem(last=False)
        return entry

    def _where(self, index: int) -> tuple[int, int]:
        if not 0 <= index < len(self.index):
            raise Failure("request", f"no image {index + 1}: there are {len(self.index)}")
        return self.index[index]

    def dmap(self, index: int, region: tuple[int, int, int, int], b: int) -> np.ndarray:
        """Resolution (Å) at the centre pixel of each bin, parallax included (dxtbx's own)."""
        k, _ = self._where(index)
        key = (k, region, b)
        cached = self.dmaps.get(key)
        if cached is not None:
            return cached
        iset = self.imagesets[k]
        layout = self.layouts[k]
        s0 = np.array(iset.get_beam().get_s0())
        x0, y0, x1, y1 = region
        from dxtbx.flumpy import vec_from_numpy

        xs = x0 + centres(x1 - x0, b) + 0.5
        ys = y0 + centres(y1 - y0, b) + 0.5
        gx, gy = np.meshgrid(xs, ys)
        gx, gy = gx.ravel(), gy.ravel()
        # Each bin's panel (a gap: panel 0's plane carried on, so rings cross the gaps).
        if layout.single:
            owner = np.zeros(gx.shape, dtype=np.int64)
        else:
            owner = layout.panel_of[gy.astype(np.int64), gx.astype(np.int64)].astype(np.int64)
            owner[owner < 0] = 0
        lab = np.empty((gx.size, 3))
        for p in np.unique(owner):
            sel = owner == p
            lx, ly = layout.local(int(p), gx[sel], gy[sel])
            panel = iset.get_detector()[int(p)]
            xy = vec_from_numpy(np.ascontiguousarray(np.stack([lx, ly], axis=1)))
            lab[sel] = panel.get_lab_coord(panel.pixel_to_millimeter(xy)).as_numpy_array()
        s1 = lab / np.linalg.norm(lab, axis=1)[:, None] / iset.get_beam().get_wavelength()
        with np.errstate(divide="ignore"):
            d = 1.0 / np.linalg.norm(s1 - s0, axis=1)
        out = d.reshape(len(ys), len(xs)).astype(np.float32)
        if len(self.dmaps) > 16:
            self.dmaps.clear()
        self.dmaps[key] = out
        return out

    def strong(self, index: int, params: dict, region: tuple[int, int, int, int]) -> np.ndarray:
        """The strong pixels of ``region`` by find_spots' own threshold classes."""
        key = (index, json.dumps(params, sort_keys=True))
        x0, y0, x1, y1 = region
        whole = self.thresholds.get(key)
        if whole is not None:
            self.thresholds.move_to_end(key)
            return whole[y0:y1, x0:x1]
        k = self._where(index)[0]
        layout = self.layouts[k]
        shape = self.static[k].shape
        if layout.single and region != (0, 0, shape[1], shape[0]):
            return self._threshold(index, 0, params, region)
        # The whole image; several panels: each thresholded whole, as find_spots does, tiled.
        if layout.single:
            whole = self._threshold(index, 0, params, None)
        else:
            whole = np.zeros(shape, dtype=bool)
            for p in range(len(layout.maps)):
                layout.paste(whole, p, self._threshold(index, p, params, None))
        self.thresholds[key] = whole
        while len(self.thresholds) > THRESHOLD_CACHE:
            self.thresholds.popitem(last=False)
        return whole[y0:y1, x0:x1]

    def _threshold(self, index: int, panel: int, params: dict, region) -> np.ndarray:
        from dials.algorithms.image import threshold
        from dials.array_family import flex
        from dxtbx.flumpy import from_numpy

        classes = {
            "dispersion": threshold.DispersionThreshold,
            "dispersion_extended": threshold.DispersionExtendedThreshold,
        }
        p = {**DEFAULT_THRESHOLD, **params}
        if p["algorithm"] not in classes:
            raise Failure("request", f"unknown threshold algorithm {p['algorithm']!r}")
        good = self.panels(index)[3][panel]
        if region is not None:
            x0, y0, x1, y1 = region
            h, w = good.shape
            cx0, cy0 = max(0, x0 - MARGIN), max(0, y0 - MARGIN)
            cx1, cy1 = min(w, x1 + MARGIN), min(h, y1 + MARGIN)
            crop = (slice(cy0, cy1), slice(cx0, cx1))
        else:
            crop = (slice(None), slice(None))
        corrected = np.ascontiguousarray(self._corrected(index, panel, crop))
        good = np.ascontiguousarray(good[crop])
        im = from_numpy(np.ascontiguousarray(corrected, dtype=np.float64))
        mk = from_numpy(np.ascontiguousarray(good))
        alg = classes[p["algorithm"]](
            im.all(),
            tuple(int(v) for v in p["kernel_size"]),
            float(p["sigma_background"]),
            float(p["sigma_strong"]),
            float(p["global_threshold"]),
            int(p["min_local"]),
        )
        res = flex.bool(flex.grid(im.all()))
        alg(im, mk, flex.double(im.accessor(), float(p["gain"])), res)
        out = res.as_numpy_array()
        if region is not None:
            out = out[y0 - cy0 : y1 - cy0, x0 - cx0 : x1 - cx0]
        return out

    def _corrected(self, index: int, p: int, crop: tuple[slice, slice]) -> np.ndarray:
        """(raw - pedestal) / gain over ``crop``, as ``get_corrected_data`` (twice as slow)."""
        k, i = self._where(index)
        iset = self.imagesets[k]
        lookup = iset.external_lookup
        if lookup.gain.filename or lookup.pedestal.filename:
            try:
                corr = iset.get_corrected_data(i)[p].as_numpy_array()
            except Exception as exc:
                raise Failure("unreadable", f"image {index + 1}: {_first_line(exc)}") from exc
            return corr[crop]
        panel = iset.get_detector()[p]
        data = self.panels(index)[2][p]
        return (data[crop] - float(panel.get_pedestal())) / float(panel.get_gain())


def centres(n: int, b: int) -> np.ndarray:
    """The pixel shown for each ``b``-wide bin of ``n`` pixels: its middle (the edge one clipped)."""
    return np.minimum(np.arange(0, n, b) + b // 2, n - 1)


def _blocks(a: np.ndarray, b: int, reduce, fill, dtype=None) -> np.ndarray:
    """``reduce`` over each ``b`` x ``b`` block of ``a``; the short blocks of the right and
    bottom edges reduced as they are (views and four reductions: no padded copy of a 6M)."""
    h, w = a.shape
    nh, nw = h // b, w // b
    out = np.full((-(-h // b), -(-w // b)), fill, dtype=dtype or a.dtype)
    hh, ww = nh * b, nw * b
    if nh and nw:
        out[:nh, :nw] = reduce(a[:hh, :ww].reshape(nh, b, nw, b), axis=(1, 3))
    if ww < w and nh:
        out[:nh, nw] = reduce(a[:hh, ww:].reshape(nh, b, w - ww), axis=(1, 2))
    if hh < h and nw:
        out[nh, :nw] = reduce(a[hh:, :ww].reshape(h - hh, nw, b), axis=(0, 2))
    if hh < h and ww < w:
        out[nh, nw] = reduce(a[hh:, ww:])
    return out


def max_bin(a: np.ndarray, b: int, fill) -> np.ndarray:
    """The largest value of each ``b`` x ``b`` block (the edge blocks are shorter)."""
    if b == 1:
        return a
    return _blocks(a, b, np.max, fill)


def _count(a: np.ndarray, axis=None):
    return np.add.reduce(a, axis=axis, dtype=np.int32)


def mostly_masked(good: np.ndarray, b: int) -> np.ndarray:
    """1 where at least half a block's pixels are masked (gaps stay visible when binned); an
    edge block counts the pixels it lacks as masked, as the padded count did."""
    if b == 1:
        return (~good).astype(np.uint8)
    n = _blocks(good.view(np.uint8), b, _count, 0, dtype=np.int32)
    return (n * 2 < b * b).astype(np.uint8)


def p90(data: np.ndarray, good: np.ndarray) -> float:
    """90th percentile of the good pixels: dials.image_viewer's brightness reference."""
    # A regular sample of ~200,000 pixels: the percentile to a count or so, and no 6M copy.
    step = max(1, data.size // 200_000)
    values = data.ravel()[::step][good.ravel()[::step]]
    if values.size == 0:
        return 0.0
    k = int(0.9 * (values.size - 1))
    return float(np.partition(values, k)[k])


class Server:
    """Answers requests for one experiment list at a time."""

    def __init__(self) -> None:
        self.images: Images | None = None
        self.p90: dict[int, float] = {}
        # Recent answers: zooming back out, panning back, the next image shown again.
        self.answers: OrderedDict[str, tuple[dict, dict[str, np.ndarray]]] = OrderedDict()

    def read_ahead(self, index: int) -> None:
        """Read image ``index`` into the frame cache (nothing when there is none or it fails:
        asked for, it is read again and the failure said then)."""
        images = self.images
        if images is None or not 0 <= index < len(images.index):
            return
        try:
            images.shown(index)
            if index not in self.p90:
                self.p90[index] = p90(*images.frame(index))
        except Exception:
            return

    def handle(self, req: dict) -> tuple[dict, dict[str, np.ndarray]]:
        op = req.get("op")
        if op == "open":
            self.images = Images(req["expt"])
            self.p90 = {}
            self.answers.clear()
            return self.images.meta(), {}
        if op == "ping":
            return {"pid": os.getpid()}, {}
        if self.images is None:
            raise Failure("request", "no experiment list opened")
        if op == "image":
            key = json.dumps(req, sort_keys=True)
            answer = self.answers.get(key)
            if answer is None:
                answer = self.answers[key] = self._image(req)
                while len(self.answers) > ANSWER_CACHE:
                    self.answers.popitem(last=False)
            self.answers.move_to_end(key)
            return answer
        if op == "count":
            index = int(req["index"])
            shape = self.images.static[self.images._where(index)[0]].shape
            strong = self.images.strong(
                index, req.get("threshold") or {}, (0, 0, shape[1], shape[0])
            )
            return {"strong_count": int(strong.sum())}, {}
        if op == "raw":
            data, good = self.images.frame(int(req["index"]))
            return {}, {"data": data, "good": good}
        raise Failure("request", f"unknown request {op!r}")

    def _image(self, req: dict) -> tuple[dict, dict[str, np.ndarray]]:
        images = self.images
        assert images is not None
        index = int(req["index"])
        b = max(1, int(req.get("bin", 1)))
        data, good = images.frame(index)
        h, w = data.shape
        x0, y0, x1, y1 = req.get("region") or (0, 0, w, h)
        x0, y0 = max(0, int(x0)), max(0, int(y0))
        x1, y1 = min(w, int(x1)), min(h, int(y1))
        if x1 <= x0 or y1 <= y0:
            raise Failure("request", f"empty region {x0},{y0} to {x1},{y1}")
        region = (x0, y0, x1, y1)
        crop = data[y0:y1, x0:x1]
        gcrop = good[y0:y1, x0:x1]
        scrop = images.shown(index)[y0:y1, x0:x1]
        binned = max_bin(scrop, b, -1)
        centre = crop[np.ix_(centres(y1 - y0, b), centres(x1 - x0, b))]
        arrays = {
            "data": binned.astype(np.int32, copy=False),
            "masked": mostly_masked(gcrop, b),
            "centre": centre.astype(np.int32, copy=False),
            "d": images.dmap(index, region, b),
        }
        layout = images.layouts[images._where(index)[0]]
        if layout.panel_of is not None:
            arrays["panel"] = layout.panel_of[y0:y1, x0:x1][
                np.ix_(centres(y1 - y0, b), centres(x1 - x0, b))
            ]
        if index not in self.p90:
            self.p90[index] = p90(data, good)
        header = {
            "index": index,
            "region": list(region),
            "bin": b,
            "p90": self.p90[index],
            "good_pixels": int(good.sum()) if b == 1 else None,
        }
        # A terminal that draws pixels (kitty graphics, sixel): the same region finer.
        fine = int(req.get("fine_bin") or 0)
        if 0 < fine < b:
            arrays["fine"] = max_bin(scrop, fine, -1)
            arrays["fine_masked"] = mostly_masked(gcrop, fine)
            header["fine_bin"] = fine
        params = req.get("threshold")
        if params is not None:
            strong = images.strong(index, params, region)
            arrays["strong"] = max_bin(strong.astype(np.uint8), b, 0)
            if "fine" in arrays:
                arrays["fine_strong"] = max_bin(strong.astype(np.uint8), fine, 0)
            header["strong_in_region"] = int(strong.sum())
            header["whole"] = region == (0, 0, w, h)
        return header, arrays


def _trim() -> None:
    """Give freed memory back to the system: frames and thresholds leave 100-200 MB of freed
    glibc arenas otherwise, counted in the helper's RSS."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def send(out, header: dict, arrays: dict[str, np.ndarray]) -> None:
    blobs = [_npy(a) for a in arrays.values()]
    header = {**header, "arrays": list(arrays), "sizes": [len(b) for b in blobs]}
    text = json.dumps(header).encode()
    out.write(struct.pack(">I", len(text)))
    out.write(text)
    for blob in blobs:
        out.write(blob)
    out.flush()


def _import_dxtbx() -> None:
    """dxtbx's models, without scikit-learn: dxtbx.model.detector_helpers imports it (0.45 s of
    the helper's 1 s start here) only for a detector-plotting function this helper never calls;
    it takes its own "not installed" branch, and sklearn imports normally afterwards."""
    blocked = "sklearn" not in sys.modules
    if blocked:
        sys.modules["sklearn"] = None  # type: ignore[assignment]
    try:
        from dxtbx.model.experiment_list import ExperimentListFactory  # noqa: F401
    finally:
        if blocked:
            del sys.modules["sklearn"]


def main() -> int:
    out = sys.stdout.buffer
    # Anything DIALS prints must not corrupt the answers: stdout is ours, the rest goes to stderr.
    sys.stdout = sys.stderr
    _import_dxtbx()
    server = Server()
    warm = False
    shown, step = None, 1  # the last image shown, and which way the user goes
    send(out, {"ok": True, "ready": True, "pid": os.getpid()}, {})
    for line in sys.stdin.buffer:
        req: dict = {}
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            header, arrays = server.handle(req)
            send(out, {"ok": True, **header}, arrays)
            del arrays
            _trim()
        except Failure as exc:
            send(out, {"ok": False, "kind": exc.kind, "error": str(exc)}, {})
        except MemoryError:
            send(
                out,
                {"ok": False, "kind": "memory", "error": "the image helper ran out of memory"},
                {},
            )
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            send(out, {"ok": False, "kind": "internal", "error": _first_line(exc)}, {})
        if req.get("op") != "image" or select.select([sys.stdin], [], [], 0)[0]:
            continue
        index = int(req.get("index", 0))
        if shown is not None and index != shown:
            step = 1 if index > shown else -1
        shown = index
        # Idle: the next image the way the user goes, read and masked now (the frame cache
        # keeps it beside the shown one), so that n or N costs a binning, not a read.
        server.read_ahead(index + step)
        _trim()  # the frame it pushed out of the cache
        if not warm and not select.select([sys.stdin], [], [], 0)[0]:
            # Then DIALS's threshold code (~0.5 s), not when strong pixels are first asked for.
            warm = True
            import dials.algorithms.image.threshold  # noqa: F401
    return 0


if __name__ == "__main__":
    sys.exit(main())

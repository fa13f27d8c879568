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


class Images:
    """One experiment list's images, in order across its imagesets (panel 0 of each)."""

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
        self.frames: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self.thresholds: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self.dmaps: dict[tuple, np.ndarray] = {}
        self.static = [self._static_mask(iset) for iset in self.imagesets]

    def _static_mask(self, iset) -> np.ndarray:
        # get_mask(i) = panel gaps AND external mask AND trusted range; the first two do not
        # change from image to image, so only the trusted range is applied per frame.
        panel = iset.get_detector()[0]
        fast, slow = panel.get_image_size()
        good = np.ones((slow, fast), dtype=bool)
        for x0, y0, x1, y1 in panel.get_mask():
            good[y0:y1, x0:x1] = False
        lookup = iset.external_lookup.mask
        if lookup.filename:
            good &= lookup.data.tile(0).data().as_numpy_array().astype(bool)
        return good

    def meta(self) -> dict:
        sets = []
        for iset in self.imagesets:
            panel = iset.get_detector()[0]
            beam = iset.get_beam()
            scan = iset.get_scan()
            first = scan.get_image_range()[0] if scan is not None else 1
            try:
                centre = panel.get_beam_centre_px(beam.get_s0())
            except Exception:  # beam parallel to the panel: no centre on it
                centre = None
            sets.append(
                {
                    "n": len(iset),
                    "first": first,
                    "size": list(panel.get_image_size()),
                    "trusted": list(panel.get_trusted_range()),
                    "beam_centre": list(centre) if centre else None,
                    "wavelength": beam.get_wavelength(),
                    "panels": len(iset.get_detector()),
                    "template": iset.get_template() if hasattr(iset, "get_template") else "",
                }
            )
        return {"n_images": len(self.index), "imagesets": sets}

    def frame(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Raw int32 pixels of panel 0 and where they are good (the mask of ``get_mask``)."""
        cached = self.frames.get(index)
        if cached is not None:
            self.frames.move_to_end(index)
            return cached
        k, i = self._where(index)
        iset = self.imagesets[k]
        try:
            raw = iset.get_raw_data(i)[0]
        except Exception as exc:
            raise Failure(
                "unreadable", f"image {iset.get_path(i)} cannot be read: {_first_line(exc)}"
            ) from exc
        data = raw.as_numpy_array().astype(np.int32, copy=False)
        lo, hi = iset.get_detector()[0].get_trusted_range()
        if data.shape != self.static[k].shape:
            raise Failure(
                "unreadable",
                f"image {iset.get_path(i)} is {data.shape[1]}x{data.shape[0]} pixels, "
                f"the detector {self.static[k].shape[1]}x{self.static[k].shape[0]}",
            )
        good = self.static[k] & (data > lo) & (data < hi)
        self.frames[index] = (data, good)
        while len(self.frames) > FRAME_CACHE:
            self.frames.popitem(last=False)
        return data, good

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
        panel = iset.get_detector()[0]
        s0 = np.array(iset.get_beam().get_s0())
        x0, y0, x1, y1 = region
        from dxtbx.flumpy import vec_from_numpy

        xs = x0 + centres(x1 - x0, b) + 0.5
        ys = y0 + centres(y1 - y0, b) + 0.5
        gx, gy = np.meshgrid(xs, ys)
        xy = vec_from_numpy(np.ascontiguousarray(np.stack([gx.ravel(), gy.ravel()], axis=1)))
        lab = panel.get_lab_coord(panel.pixel_to_millimeter(xy)).as_numpy_array()
        s1 = lab / np.linalg.norm(lab, axis=1)[:, None] / iset.get_beam().get_wavelength()
        with np.errstate(divide="ignore"):
            d = 1.0 / np.linalg.norm(s1 - s0, axis=1)
        out = d.reshape(gy.shape).astype(np.float32)
        if len(self.dmaps) > 16:
            self.dmaps.clear()
        self.dmaps[key] = out
        return out

    def strong(self, index: int, params: dict, region: tuple[int, int, int, int]) -> np.ndarray:
        """The strong pixels of ``region`` by find_spots' own threshold classes."""
        key = (index, json.dumps(params, sort_keys=True))
        whole = self.thresholds.get(key)
        if whole is not None:
            self.thresholds.move_to_end(key)
            x0, y0, x1, y1 = region
            return whole[y0:y1, x0:x1]
        shape = self.static[self._where(index)[0]].shape
        if region == (0, 0, shape[1], shape[0]):
            out = self._threshold(index, params, None)
            self.thresholds[key] = out
            while len(self.thresholds) > THRESHOLD_CACHE:
                self.thresholds.popitem(last=False)
            return out
        return self._threshold(index, params, region)

    def _threshold(self, index: int, params: dict, region) -> np.ndarray:
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
        _, good = self.frame(index)
        if region is not None:
            x0, y0, x1, y1 = region
            h, w = good.shape
            cx0, cy0 = max(0, x0 - MARGIN), max(0, y0 - MARGIN)
            cx1, cy1 = min(w, x1 + MARGIN), min(h, y1 + MARGIN)
            crop = (slice(cy0, cy1), slice(cx0, cx1))
        else:
            crop = (slice(None), slice(None))
        corrected = np.ascontiguousarray(self._corrected(index, crop))
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

    def _corrected(self, index: int, crop: tuple[slice, slice]) -> np.ndarray:
        """(raw - pedestal) / gain over ``crop``, as ``get_corrected_data`` (twice as slow)."""
        k, i = self._where(index)
        iset = self.imagesets[k]
        lookup = iset.external_lookup
        if lookup.gain.filename or lookup.pedestal.filename:
            try:
                corr = iset.get_corrected_data(i)[0].as_numpy_array()
            except Exception as exc:
                raise Failure("unreadable", f"image {index + 1}: {_first_line(exc)}") from exc
            return corr[crop]
        panel = iset.get_detector()[0]
        data, _ = self.frame(index)
        return (data[crop] - float(panel.get_pedestal())) / float(panel.get_gain())


def centres(n: int, b: int) -> np.ndarray:
    """The pixel shown for each ``b``-wide bin of ``n`` pixels: its middle (the edge one clipped)."""
    return np.minimum(np.arange(0, n, b) + b // 2, n - 1)


def max_bin(a: np.ndarray, b: int, fill) -> np.ndarray:
    """The largest value of each ``b`` x ``b`` block (the edge padded with ``fill``)."""
    if b == 1:
        return a
    h, w = a.shape
    a = np.pad(a, ((0, -h % b), (0, -w % b)), constant_values=fill)
    return a.reshape(a.shape[0] // b, b, a.shape[1] // b, b).max(axis=(1, 3))


def mostly_masked(good: np.ndarray, b: int) -> np.ndarray:
    """1 where at least half a block's pixels are masked (gaps stay visible when binned)."""
    if b == 1:
        return (~good).astype(np.uint8)
    h, w = good.shape
    g = np.pad(good, ((0, -h % b), (0, -w % b)), constant_values=False)
    n = g.reshape(g.shape[0] // b, b, g.shape[1] // b, b).sum(axis=(1, 3))
    return (n * 2 < b * b).astype(np.uint8)


def p90(data: np.ndarray, good: np.ndarray) -> float:
    """90th percentile of the good pixels: dials.image_viewer's brightness reference."""
    values = data[good]
    if values.size == 0:
        return 0.0
    if values.size > 400_000:  # a regular sample: the percentile to a count or so, 10x faster
        values = values[:: values.size // 200_000]
    k = int(0.9 * (values.size - 1))
    return float(np.partition(values, k)[k])


class Server:
    """Answers requests for one experiment list at a time."""

    def __init__(self) -> None:
        self.images: Images | None = None
        self.p90: dict[int, float] = {}

    def handle(self, req: dict) -> tuple[dict, dict[str, np.ndarray]]:
        op = req.get("op")
        if op == "open":
            self.images = Images(req["expt"])
            self.p90 = {}
            return self.images.meta(), {}
        if op == "ping":
            return {"pid": os.getpid()}, {}
        if self.images is None:
            raise Failure("request", "no experiment list opened")
        if op == "image":
            return self._image(req)
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
        binned = max_bin(np.where(gcrop, crop, -1), b, -1)
        centre = crop[np.ix_(centres(y1 - y0, b), centres(x1 - x0, b))]
        arrays = {
            "data": binned.astype(np.int32, copy=False),
            "masked": mostly_masked(gcrop, b),
            "centre": centre.astype(np.int32, copy=False),
            "d": images.dmap(index, region, b),
        }
        if index not in self.p90:
            self.p90[index] = p90(data, good)
        header = {
            "index": index,
            "region": list(region),
            "bin": b,
            "p90": self.p90[index],
            "good_pixels": int(good.sum()) if b == 1 else None,
        }
        params = req.get("threshold")
        if params is not None:
            strong = images.strong(index, params, region)
            arrays["strong"] = max_bin(strong.astype(np.uint8), b, 0)
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


def main() -> int:
    out = sys.stdout.buffer
    # Anything DIALS prints must not corrupt the answers: stdout is ours, the rest goes to stderr.
    sys.stdout = sys.stderr
    server = Server()
    warm = False
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
        if not warm and req.get("op") == "image" and not select.select([sys.stdin], [], [], 0)[0]:
            # Idle after the first answer: load DIALS's threshold code now (~0.5 s), not
            # when the user first asks for strong pixels.
            warm = True
            import dials.algorithms.image.threshold  # noqa: F401
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Check HDF5/NeXus master files before dials.import: data files, compression, completeness (JSON out)."""

from __future__ import annotations

import json
import os
import sys

# HDF5 filter id -> (name, what provides its plugin on Debian 12). EIGER-NOTES.md: only the
# `bitshuffle` package ships filter 32008; `hdf5-filter-plugin` ships LZ4 and BZip2.
FILTERS = {
    1: ("gzip", None),
    2: ("shuffle", None),
    3: ("fletcher32", None),
    4: ("szip", None),
    32008: ("bitshuffle/LZ4", "bitshuffle"),
    32004: ("LZ4", "hdf5-filter-plugin"),
    307: ("BZip2", "hdf5-filter-plugin"),
    32000: ("LZF", None),
    32001: ("Blosc", None),
    32015: ("Zstandard", None),
}


def _text(value) -> str | None:
    if value is None:
        return None
    if hasattr(value, "shape") and value.shape == ():
        value = value[()]
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return str(value)


def _open_problem(path: str, exc: OSError) -> dict:
    """Why an HDF5 file would not open, as a problem entry."""
    text = str(exc)
    if "unable to lock file" in text:
        kind = "locked"
    elif "truncated file" in text:
        kind = "truncated"
    elif "file signature not found" in text:
        kind = "not_hdf5"
    elif not os.access(path, os.R_OK) and os.path.exists(path):
        kind = "unreadable"
    else:
        kind = "unopenable"
    return {"kind": kind, "file": path, "error": text}


def _filters(ds) -> list[dict]:
    plist = ds.id.get_create_plist()
    out = []
    for i in range(plist.get_nfilters()):
        code, _flags, _values, name = plist.get_filter(i)
        known = FILTERS.get(code)
        out.append(
            {
                "id": int(code),
                "name": known[0] if known else _text(name) or f"filter {code}",
                "package": known[1] if known else None,
            }
        )
    return out


def _try_read(ds, file: str, report: dict) -> None:
    """Decode one chunk of the first frame, as find_spots will: a missing filter shows here."""
    if ds.shape and ds.shape[0] == 0:
        return
    try:
        ds[(0,) + (slice(0, 1),) * (ds.ndim - 1)]
    except Exception as exc:  # h5py raises OSError, sometimes RuntimeError, for filter faults
        report["problems"].append(
            {"kind": "filter", "file": file, "error": str(exc), "filters": _filters(ds)}
        )


def _frame_range(report: dict, name: str, ds, n: int, vds: dict, last: int) -> None:
    """The image numbers a data file holds: where the virtual data set puts it, else its
    DECTRIS image_nr_low attribute, else after the previous file's (the links' order)."""
    if name in vds:
        first = vds[name][0]
    else:
        low = ds.attrs.get("image_nr_low")
        try:
            first = int(low) if low is not None else last + 1
        except (TypeError, ValueError):
            first = last + 1
    report["frame_ranges"][name] = [first, first + n - 1]


def check(master: str) -> dict:
    """What dials.import and find_spots will meet in master, as a JSON-ready dict."""
    import h5py

    report: dict = {
        "master": master,
        "detector": None,
        "n_images": None,
        "frames": None,
        "data_files": [],
        # Data file (as linked) -> [first, last] image numbers it holds, for the files read.
        "frame_ranges": {},
        "filters": [],
        "problems": [],
    }
    folder = os.path.dirname(os.path.abspath(master))
    try:
        f = h5py.File(master, "r")
    except OSError as exc:
        report["problems"].append(_open_problem(master, exc))
        return report
    with f:
        entry = f.get("entry")
        if not isinstance(entry, h5py.Group):
            report["problems"].append({"kind": "not_nexus", "file": master})
            return report
        if "instrument" not in entry and "sample" not in entry:
            # A DECTRIS data file: /entry/data/data and nothing to import it with.
            report["problems"].append({"kind": "data_file", "file": master})
            return report
        report["detector"] = _text(entry.get("instrument/detector/description"))
        omega = entry.get("sample/transformations/omega")
        if isinstance(omega, h5py.Dataset) and omega.shape:
            report["n_images"] = int(omega.shape[0])
        else:
            spec = entry.get("instrument/detector/detectorSpecific")
            if isinstance(spec, h5py.Group) and "nimages" in spec:
                trig = spec["ntrigger"][()] if "ntrigger" in spec else 1
                report["n_images"] = int(spec["nimages"][()]) * int(trig or 1)
        data = entry.get("data")
        if not isinstance(data, h5py.Group):
            report["problems"].append({"kind": "no_data", "file": master})
            return report

        missing: list[str] = []
        linked_frames = 0
        vds_ranges: dict[str, list[int]] = {}
        last_image = 0
        vds_frames: int | None = None
        linked = False
        first_ds = None
        for name in sorted(data):
            link = data.get(name, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                linked = True
                target = os.path.join(folder, link.filename)
                if link.filename not in report["data_files"]:
                    report["data_files"].append(link.filename)
                if not os.path.exists(target):
                    if link.filename not in missing:
                        missing.append(link.filename)
                    continue
                try:
                    with h5py.File(target, "r") as df:
                        ds = df.get(link.path)
                        if not isinstance(ds, h5py.Dataset):
                            report["problems"].append(
                                {"kind": "no_dataset", "file": link.filename, "path": link.path}
                            )
                            continue
                        n = int(ds.shape[0]) if ds.shape else 0
                        linked_frames += n
                        _frame_range(report, link.filename, ds, n, vds_ranges, last_image)
                        last_image = report["frame_ranges"][link.filename][1]
                        if first_ds is None:
                            first_ds = True
                            report["filters"] = _filters(ds)
                            _try_read(ds, link.filename, report)
                except OSError as exc:
                    report["problems"].append(_open_problem(link.filename, exc))
                continue
            obj = data.get(name)
            if isinstance(obj, h5py.Dataset) and obj.is_virtual:
                vds_missing = []
                for src in obj.virtual_sources():
                    fname = src.file_name
                    if fname == ".":
                        continue
                    if fname not in report["data_files"]:
                        report["data_files"].append(fname)
                    try:
                        start, end = src.vspace.get_select_bounds()
                        vds_ranges[fname] = [int(start[0]) + 1, int(end[0]) + 1]
                    except (TypeError, ValueError, IndexError):
                        pass  # a selection with no bounds: the file's place from the links
                    if not os.path.exists(os.path.join(folder, fname)) and fname not in missing:
                        vds_missing.append(fname)
                # A virtual data set reads a missing source as zeros, silently (EIGER-NOTES).
                missing.extend(vds_missing)
                vds_frames = int(obj.shape[0]) if obj.shape else None
            elif isinstance(obj, h5py.Dataset) and first_ds is None and obj.ndim == 3:
                first_ds = True
                linked_frames = int(obj.shape[0])
                if linked_frames:
                    report["frame_ranges"][os.path.basename(master)] = [1, linked_frames]
                report["filters"] = _filters(obj)
                _try_read(obj, os.path.basename(master), report)
        if missing:
            report["problems"].append({"kind": "missing", "files": missing})
        report["frames"] = linked_frames if (linked or first_ds) else vds_frames
        n = report["n_images"]
        if not report["problems"] and n is not None and report["frames"] is not None:
            if report["frames"] < n:
                report["problems"].append(
                    {"kind": "incomplete", "n_images": n, "frames": report["frames"]}
                )
    return report


def main(argv: list[str]) -> int:
    reports = []
    for master in argv:
        try:
            reports.append(check(master))
        except Exception as exc:  # the dashboard shows this; a traceback would help nobody
            reports.append(
                {"master": master, "problems": [{"kind": "check_failed", "error": repr(exc)}]}
            )
    print(json.dumps(reports))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

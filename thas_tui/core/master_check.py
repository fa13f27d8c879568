"""HDF5/NeXus master files checked before dials.import (under DIALS's Python): problems as messages."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from thas_tui.core.journal import thas_dir

#: The check, run under DIALS's Python (h5py is there, not in the dashboard's venv).
CHECKER = Path(__file__).resolve().parent.parent / "sim" / "check_master.py"
HDF5_SUFFIXES = (".h5", ".nxs", ".hdf5", ".hdf", ".nx5")
SAVED_NAME = "master.json"
TIMEOUT_S = 120.0

_WAIT = "If the collection (or a copy) is still going on, wait until it ends, then re-run import."


@dataclass
class MasterReport:
    """What the check found in one master file."""

    master: str
    detector: str | None = None
    n_images: int | None = None
    frames: int | None = None
    data_files: list[str] = field(default_factory=list)
    # Data file -> (first, last) image number it holds, for each file the check could read.
    frame_ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    filters: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)


def hdf5_inputs(images: list[str]) -> list[str]:
    """The inputs DIALS will read as HDF5 master files: by name, and the ``*_master.h5`` and
    ``*.nxs`` files in a directory given (dials.import reads those and passes over the rest)."""
    out: list[str] = []
    for p in images:
        if os.path.isdir(p):
            names = sorted(os.listdir(p)) if os.access(p, os.R_OK | os.X_OK) else []
            out += [os.path.join(p, n) for n in names if n.endswith(("_master.h5", ".nxs", ".NXS"))]
        elif p.lower().endswith(HDF5_SUFFIXES):
            out.append(p)
    return out


def check_argv(python: str, masters: list[str]) -> list[str]:
    """The check's command under DIALS's ``python``."""
    return [python, str(CHECKER), *masters]


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_reports(text: str) -> list[MasterReport]:
    """The check's JSON output; an empty list when it is not that."""
    try:
        data = json.loads(text)
    except ValueError:
        return []
    if not isinstance(data, list):
        return []
    out = []
    for d in data:
        if not isinstance(d, dict) or not isinstance(d.get("master"), str):
            continue
        lists = {
            k: [x for x in d.get(k) or [] if isinstance(x, (dict, str))]
            for k in ("data_files", "filters", "problems")
        }
        detector = d.get("detector")
        ranges = d.get("frame_ranges") if isinstance(d.get("frame_ranges"), dict) else {}
        out.append(
            MasterReport(
                master=d["master"],
                detector=detector if isinstance(detector, str) else None,
                n_images=_int(d.get("n_images")),
                frames=_int(d.get("frames")),
                data_files=[x for x in lists["data_files"] if isinstance(x, str)],
                frame_ranges={
                    str(k): (v[0], v[1])
                    for k, v in ranges.items()
                    if isinstance(v, list) and len(v) == 2 and all(_int(x) is not None for x in v)
                },
                filters=[x for x in lists["filters"] if isinstance(x, dict)],
                problems=[x for x in lists["problems"] if isinstance(x, dict)],
            )
        )
    return out


async def run_check(
    python: str, masters: list[str], env: dict[str, str] | None = None, timeout=TIMEOUT_S
) -> list[MasterReport] | None:
    """Run the check; None when it could not run (then DIALS's own errors will have to do)."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *check_argv(python, masters),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
        )
    except OSError:
        return None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        return None
    reports = parse_reports(out.decode(errors="replace"))
    return reports if len(reports) == len(masters) else None


def save(workdir: Path, reports: list[MasterReport]) -> None:
    """Keep the reports in the run's thas-tui folder (the header reads them, attached or not)."""
    path = thas_dir(workdir) / SAVED_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps([r.__dict__ for r in reports], indent=1) + "\n")
    os.replace(tmp, path)


def load(workdir: Path) -> list[MasterReport]:
    """The saved reports, or an empty list."""
    try:
        return parse_reports((thas_dir(workdir) / SAVED_NAME).read_text())
    except OSError:
        return []


def _filter_names(filters: list[dict]) -> str:
    shown = [f for f in filters if f.get("id") not in (1, 2, 3)] or filters
    return ", ".join(f"{f.get('name')} (HDF5 filter {f.get('id')})" for f in shown) or "a filter"


def _filter_reason(error: str) -> str:
    if "can't dlopen" in error:
        return (
            "an installed HDF5 plugin fails to load, and HDF5 then gives up on every filter "
            f"({error.split('(', 1)[-1].rstrip(')')})"
        )
    if "can't open directory" in error:
        folder = error.split("can't open directory:", 1)[1].strip().rstrip(")").strip()
        return f"no HDF5 filter plugins are installed ({folder} does not exist)"
    if "not registered" in error:
        return "no plugin for it is installed"
    return error


def _filter_message(name: str, p: dict) -> str:
    filters = [f for f in p.get("filters") or [] if isinstance(f, dict)]
    packages = sorted({f["package"] for f in filters if isinstance(f.get("package"), str)})
    if packages:
        todo = (
            f"Install the Debian package {' and '.join(packages)} "
            f"(apt-get install {' '.join(packages)}), or set HDF5_PLUGIN_PATH to a folder "
            "holding the filter's plugin."
        )
    else:
        todo = "Set HDF5_PLUGIN_PATH to a folder holding the filter's HDF5 plugin."
    error = str(p.get("error", ""))
    text = (
        f"{name} is compressed with {_filter_names(filters)}, which DIALS cannot decode here: "
        f"{_filter_reason(error)}.\n{todo}"
    )
    if "can't dlopen" in error and "lzf" in error:
        text += "\nRemove Debian's hdf5-plugin-lzf (its plugin cannot be loaded)."
    return text


def problem_text(report: MasterReport) -> str | None:
    """One screen saying what is wrong with a master file, where, and what to do; None if fine."""
    master = Path(report.master)
    folder = master.parent
    lines: list[str] = []
    for p in report.problems:
        kind = p.get("kind")
        # Data files are named as the master file links them: relative to its folder.
        named = p.get("file")
        file = str(master if not named or named == report.master else folder / str(named))
        if kind == "missing":
            files = [str(f) for f in p.get("files") or []]
            shown = files[:8] + ([f"… and {len(files) - 8} more"] if len(files) > 8 else [])
            lines.append(
                f"{master.name} names {len(files)} data file(s) that are not in {folder}:\n"
                + "\n".join(f"  {f}" for f in shown)
                + "\nCopy them beside the master file (DIALS looks for them there). "
                + _WAIT
            )
        elif kind == "locked":
            lines.append(
                f"{file} is open for writing by another program (its HDF5 file lock is held): "
                f"the collection or copy is still going on.\n{_WAIT}"
            )
        elif kind == "truncated":
            lines.append(
                f"{file} is shorter than its HDF5 header says: it is still being written, or "
                f"was copied incompletely.\n({p.get('error', '')})\n{_WAIT}"
            )
        elif kind == "incomplete":
            lines.append(
                f"{master.name} describes {p.get('n_images')} images but its data files hold "
                f"{p.get('frames')}: the collection is still being written (or stopped early).\n"
                + _WAIT
            )
        elif kind == "filter":
            lines.append(_filter_message(file, p))
        elif kind == "unreadable":
            lines.append(f"Cannot read {file}: permission denied.\nCheck the file's permissions.")
        elif kind == "not_hdf5":
            lines.append(f"{file} is not an HDF5 file (no HDF5 signature at its start).")
        elif kind == "not_nexus":
            lines.append(
                f"{file} is an HDF5 file without an /entry group: not a NeXus/EIGER master file.\n"
                "Give the *_master.h5 file (not a data file)."
            )
        elif kind == "data_file":
            lines.append(
                f"{file} is an EIGER data file (it holds images but no beam, detector or "
                "goniometer).\nGive its master file (NAME_master.h5) instead: DIALS reads the "
                "data files through it."
            )
        elif kind == "no_data":
            lines.append(f"{file} has no /entry/data group: it links to no images.")
        elif kind == "no_dataset":
            lines.append(f"{file} has no data set {p.get('path')} (the master file links to it).")
        elif kind == "unopenable":
            lines.append(f"Cannot open {file} as HDF5: {p.get('error', '')}")
    return "\n".join(lines) or None


def problem_texts(reports: list[MasterReport]) -> list[str]:
    """The messages that must stop import. A data file given beside its master file (as
    ``*.h5`` matches both) is passed over, as dials.import passes over it."""
    has_master = any(r.n_images is not None for r in reports)
    out = []
    for r in reports:
        if has_master and [p.get("kind") for p in r.problems] == ["data_file"]:
            continue
        text = problem_text(r)
        if text:
            out.append(text)
    return out

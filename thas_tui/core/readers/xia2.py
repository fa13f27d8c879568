"""Readers of xia2's outputs: xia2.txt, xia2-summary.dat, xia2.error / xia2-error.txt, xia2.json."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from thas_tui.core.errors import UnreadableFile
from thas_tui.core.readers._json import integer, load_json, num, wrong_shape
from thas_tui.core.readers.shells import Shells, shells_from_columns

# xia2's statistics labels (0.3.x, and `formats` of 3.x's Schema/XCrystal.py) -> Table 1 key.
LABELS = {
    "High resolution limit": "d_min",
    "Low resolution limit": "d_max",
    "Completeness": "completeness",
    "Multiplicity": "multiplicity",
    "I/sigma": "i_over_sigma",
    "Rmerge": "r_merge",
    "Rmerge(I)": "r_merge",
    "Rmerge(I+/-)": "r_merge_anom",
    "Rmeas(I)": "r_meas",
    "Rmeas(I+/-)": "r_meas_anom",
    "Rpim(I)": "r_pim",
    "Rpim(I+/-)": "r_pim_anom",
    "CC half": "cc_half",
    "Anomalous completeness": "anom_completeness",
    "Anomalous multiplicity": "anom_multiplicity",
    "Anomalous correlation": "anom_correlation",
    "Total observations": "n_obs",
    "Total unique": "n_unique",
}

_NUM = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_CELL_NUM = re.compile(r"[-+]?\d+\.?\d*(?:\(\d+\))?")


@dataclass(frozen=True)
class Xia2Dataset:
    """The statistics table of one project/crystal/wavelength."""

    name: str  # "nt5073v16/xBAZ2BAx8281/SAD"
    shells: Shells
    extra: dict[str, tuple[float, ...]] = field(default_factory=dict)  # Wilson B factor, dF/F...
    suggested: dict[str, float] = field(default_factory=dict)  # 3.x "Suggested" column


@dataclass(frozen=True)
class Xia2Sweep:
    name: str
    wavelength: str | None = None  # the wavelength's name
    images: tuple[int, int] | None = None
    template: str | None = None
    directory: str | None = None


@dataclass(frozen=True)
class Xia2Text:
    """What xia2.txt says: version, status, the statistics, symmetry, cell and files."""

    path: Path
    version: str | None = None  # "0.3.6.3"
    command_line: str | None = None
    status: str | None = None  # "normal termination", "error"; None while running/truncated
    error: str | None = None
    datasets: tuple[Xia2Dataset, ...] = ()
    space_group: str | None = None
    alternative_space_groups: tuple[str, ...] = ()
    unit_cell: tuple[float, ...] | None = None
    wavelengths: dict[str, float] = field(default_factory=dict)  # name -> Å
    sweeps: tuple[Xia2Sweep, ...] = ()
    reflection_files: dict[str, tuple[str, ...]] = field(default_factory=dict)  # format -> paths


@dataclass(frozen=True)
class Xia2Summary:
    """xia2-summary.dat: the short table of each dataset, cell and space group."""

    path: Path
    datasets: tuple[Xia2Dataset, ...] = ()
    wavelengths: dict[str, float] = field(default_factory=dict)
    sweeps: tuple[Xia2Sweep, ...] = ()
    unit_cell: tuple[float, ...] | None = None
    space_group: str | None = None


@dataclass(frozen=True)
class Xia2Error:
    """xia2.error (0.3.x) or xia2-error.txt (newer): the traceback of a failed run."""

    path: Path
    error: str | None  # the exception line, "RuntimeError: error in indexing"
    traceback: tuple[str, ...] = ()


@dataclass(frozen=True)
class Xia2Json:
    """The parts of xia2.json a comparison needs (the pickled-to-JSON xia2 project)."""

    path: Path
    project: str | None = None
    crystal: str | None = None
    datasets: tuple[Xia2Dataset, ...] = ()
    space_group: str | None = None
    unit_cell: tuple[float, ...] | None = None
    wavelengths: dict[str, float] = field(default_factory=dict)
    sweeps: tuple[Xia2Sweep, ...] = ()
    resolution_limits: dict[str, float] = field(default_factory=dict)  # "NATIVE/SWEEP1" -> Å
    unmerged_mtz: dict[str, str] = field(default_factory=dict)  # wavelength -> path
    merged_mtz: str | None = None


# --- text helpers ---------------------------------------------------------------------------


def _read_text(path: Path, what: str) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot read the {what} ({exc.strerror}).") from exc
    if b"\0" in raw[:4096]:
        raise UnreadableFile(f"{path}: not a {what} (binary data). Pass xia2's text output.")
    return raw.decode("utf-8", errors="replace")


def _split_row(line: str) -> tuple[str, list[float]] | None:
    """'Completeness \t 99.9\t 99.2\t 99.9' -> ('Completeness', [99.9, 99.2, 99.9])."""
    tokens = line.replace("\t", " ").split()
    vals: list[float] = []
    while tokens and _NUM.match(tokens[-1]):
        vals.insert(0, float(tokens.pop()))
    label = " ".join(tokens).strip()
    # "Assuming spacegroup: C 2 2 21", "Cell: ..." end a table: no statistic's label has a colon.
    if not vals or not label or ":" in label:
        return None
    return label, vals


def _stats_table(lines: list[str], start: int, name: str) -> tuple[Xia2Dataset, int]:
    """The rows after a 'For P/C/W' line; the dataset and the index of the first other line."""
    header = lines[start]
    four = "Suggested" in header
    columns: dict[str, list[float | None]] = {}
    extra: dict[str, tuple[float, ...]] = {}
    suggested: dict[str, float] = {}
    i = start + 1
    while i < len(lines):
        row = _split_row(lines[i])
        if row is None:
            break
        label, vals = row
        if four:
            if len(vals) == 4:
                suggested[label] = vals[0]
                vals = [vals[3], vals[1], vals[2]]
            elif len(vals) == 1:  # a single value is printed in the last (overall) column
                pass
        key = LABELS.get(label)
        if key is None:
            extra[label] = tuple(vals)
        else:
            columns[key] = list(vals)
        i += 1
    return Xia2Dataset(name, shells_from_columns(columns), extra, suggested), i


def _cell_numbers(text: str) -> list[float]:
    return [float(re.sub(r"\(\d+\)", "", t)) for t in _CELL_NUM.findall(text)]


# --- xia2.txt -------------------------------------------------------------------------------


def read_xia2_txt(path: str | Path) -> Xia2Text:
    """Read xia2.txt of any version (0.3.x tab-separated tables, 3.x aligned ones).

    A truncated or still-growing file gives what it holds so far (status None).
    """
    path = Path(path)
    lines = _read_text(path, "xia2 log (xia2.txt)").splitlines()
    version = command = status = error = sg = None
    alternatives: list[str] = []
    datasets: list[Xia2Dataset] = []
    cell: tuple[float, ...] | None = None
    wavelengths: dict[str, float] = {}
    sweeps: list[Xia2Sweep] = []
    files: dict[str, list[str]] = {}
    wl_name: str | None = None
    fmt: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if version is None and (m := re.match(r"^XIA2 (\S+)", s)):
            version = m.group(1)
        elif s.startswith("Command line:"):
            command = s.partition(":")[2].strip()
        elif m := re.match(r'^Status: error "(.*)"', s):
            status, error = "error", m.group(1)
        elif s.startswith("Status: normal termination"):
            status = "normal termination"
        elif m := re.match(r"^Error: (.+)", s):
            status, error = "error", m.group(1)
        elif m := re.match(r"^For (\S+/\S+/[^:\s]+):?", s):
            ds, i = _stats_table(lines, i, m.group(1))
            datasets.append(ds)
            continue
        elif s.startswith("Assuming spacegroup:"):
            sg = s.partition(":")[2].strip()
        elif s == "Other likely alternatives are:":
            j = i + 1
            while j < len(lines) and re.match(r"^[PCIFRH] [\d /-]*[\d]$", lines[j].strip()):
                alternatives.append(lines[j].strip())
                j += 1
            i = j
            continue
        elif s.startswith("Unit cell"):
            nums = _cell_numbers(" ".join(lines[i + 1 : i + 3]))
            if len(nums) == 6:
                cell = tuple(nums)
        elif m := re.match(r"^Wavelength name: (\S+)", s):
            wl_name = m.group(1)
        elif (m := re.match(r"^Wavelength\s+([\d.]+)$", s)) and wl_name:
            wavelengths[wl_name] = float(m.group(1))
        elif m := re.match(r"^SWEEP (\S+) \[WAVELENGTH (\S+)\]", s):
            sweeps.append(_sweep_block(lines, i, m.group(1), m.group(2)))
        elif m := re.match(r"^(\S+) format:$", s):
            fmt = m.group(1)
            files.setdefault(fmt, [])
        elif fmt and (m := re.match(r"^Scaled reflections(?: \(\S+\))?: (.+)$", s)):
            files[fmt].append(m.group(1).strip())
        i += 1
    return Xia2Text(
        path=path,
        version=version,
        command_line=command,
        status=status,
        error=error,
        datasets=tuple(datasets),
        space_group=sg,
        alternative_space_groups=tuple(alternatives),
        unit_cell=cell,
        wavelengths=wavelengths,
        sweeps=tuple(sweeps),
        reflection_files={k: tuple(v) for k, v in files.items()},
    )


def _sweep_block(lines: list[str], i: int, name: str, wavelength: str) -> Xia2Sweep:
    images = template = directory = None
    for line in lines[i + 1 : i + 12]:
        s = line.strip()
        if m := re.match(r"^IMAGES(?: \(USER\))? (\d+) to (\d+)", s):
            images = (int(m.group(1)), int(m.group(2)))
        elif s.startswith("TEMPLATE "):
            template = s[9:].strip()
        elif s.startswith("DIRECTORY "):
            directory = s[10:].strip()
        elif s.startswith("SWEEP "):
            break
    return Xia2Sweep(name, wavelength, images, template, directory)


# --- xia2-summary.dat -----------------------------------------------------------------------


def read_xia2_summary(path: str | Path) -> Xia2Summary:
    """Read xia2-summary.dat (the short per-dataset table, cell and space group)."""
    path = Path(path)
    lines = _read_text(path, "xia2 summary (xia2-summary.dat)").splitlines()
    datasets: list[Xia2Dataset] = []
    wavelengths: dict[str, float] = {}
    sweeps: list[Xia2Sweep] = []
    cell = sg = None
    current_wl: str | None = None
    i = 0
    while i < len(lines):
        s = lines[i].strip()
        if m := re.match(r"^Wavelength: (\S+) \(([\d.]+)\)", s):
            current_wl = m.group(1)
            wavelengths[current_wl] = float(m.group(2))
        elif m := re.match(r"^Sweep: (\S+)", s):
            sweeps.append(Xia2Sweep(m.group(1), current_wl))
        elif (m := re.match(r"^Images: (\d+) to (\d+)", s)) and sweeps:
            last = sweeps[-1]
            sweeps[-1] = Xia2Sweep(last.name, last.wavelength, (int(m.group(1)), int(m.group(2))))
        elif m := re.match(r"^For (\S+/\S+/[^:\s]+):?", s):
            ds, i = _stats_table(lines, i, m.group(1))
            datasets.append(ds)
            continue
        elif s.startswith("Cell:"):
            nums = _cell_numbers(s[5:])
            cell = tuple(nums) if len(nums) == 6 else None
        elif s.startswith("Spacegroup:"):
            sg = s.partition(":")[2].strip() or None
        i += 1
    return Xia2Summary(path, tuple(datasets), wavelengths, tuple(sweeps), cell, sg)


# --- xia2.error / xia2-error.txt ------------------------------------------------------------


def read_xia2_error(path: str | Path) -> Xia2Error:
    """The traceback a failed xia2 run left, and its last (exception) line."""
    path = Path(path)
    lines = [ln.rstrip() for ln in _read_text(path, "xia2 error file").splitlines()]
    body = [ln for ln in lines if ln.strip()]
    error = None
    for ln in reversed(body):
        if not ln.startswith((" ", "\t", "Traceback")):
            error = ln.strip()
            break
    return Xia2Error(path, error, tuple(body))


# --- xia2.json ------------------------------------------------------------------------------


def _dict(x: Any) -> dict:
    return x if isinstance(x, dict) else {}


def read_xia2_json(path: str | Path) -> Xia2Json:
    """Read the statistics, symmetry, wavelengths, sweeps and files of xia2.json."""
    path = Path(path)
    producer = "xia2 (it writes xia2.json in its working directory)"
    data = load_json(path, "xia2.json", producer)
    if not isinstance(data, dict) or "_crystals" not in data:
        raise wrong_shape(path, "xia2.json", producer, "no _crystals")
    crystals = _dict(data.get("_crystals"))
    if not crystals:
        return Xia2Json(path, project=data.get("_name"))
    cname, crystal = next(iter(crystals.items()))
    crystal = _dict(crystal)
    scaler = _dict(crystal.get("_scaler"))
    datasets = []
    for key, stats in _dict(scaler.get("_scalr_statistics")).items():
        try:
            name = "/".join(str(p) for p in json.loads(key))
        except (ValueError, TypeError):
            name = str(key)
        columns: dict[str, list[float | None]] = {}
        extra: dict[str, tuple[float, ...]] = {}
        for label, values in _dict(stats).items():
            vals = [num(v) for v in values] if isinstance(values, list) else [num(values)]
            k = LABELS.get(label)
            if k is None:
                extra[label] = tuple(v for v in vals if v is not None)
            else:
                columns[k] = vals
        datasets.append(Xia2Dataset(name, shells_from_columns(columns), extra))
    sgs = scaler.get("_scalr_likely_spacegroups")
    sg = str(sgs[0]) if isinstance(sgs, list) and sgs else None
    cell_raw = scaler.get("_scalr_cell")
    cell = (
        tuple(float(v) for v in cell_raw)
        if isinstance(cell_raw, list)
        and len(cell_raw) == 6
        and all(num(v) is not None for v in cell_raw)
        else None
    )
    wavelengths: dict[str, float] = {}
    sweeps: list[Xia2Sweep] = []
    for wname, wl in _dict(crystal.get("_wavelengths")).items():
        wl = _dict(wl)
        if num(wl.get("_wavelength")) is not None:
            wavelengths[str(wname)] = float(wl["_wavelength"])
        for sw in wl.get("_sweeps") if isinstance(wl.get("_sweeps"), list) else []:
            sw = _dict(sw)
            frames = sw.get("_frames_to_process")
            images = None
            if isinstance(frames, list) and len(frames) == 2 and all(integer(v) for v in frames):
                images = (int(frames[0]), int(frames[1]))
            sweeps.append(
                Xia2Sweep(
                    str(sw.get("_name") or ""),
                    str(wname),
                    images,
                    sw.get("_template") if isinstance(sw.get("_template"), str) else None,
                    sw.get("_directory") if isinstance(sw.get("_directory"), str) else None,
                )
            )
    limits = {}
    for key, v in _dict(scaler.get("_scalr_resolution_limits")).items():
        try:
            name = "/".join(str(p) for p in json.loads(key))
        except (ValueError, TypeError):
            name = str(key)
        first = v[0] if isinstance(v, list) and v else v
        if num(first) is not None:
            limits[name] = float(first)
    files = _dict(scaler.get("_scalr_scaled_reflection_files"))
    unmerged = {str(k): str(v) for k, v in _dict(files.get("mtz_unmerged")).items()}
    merged = files.get("mtz") if isinstance(files.get("mtz"), str) else None
    return Xia2Json(
        path=path,
        project=data.get("_name") if isinstance(data.get("_name"), str) else None,
        crystal=str(cname),
        datasets=tuple(datasets),
        space_group=sg,
        unit_cell=cell,
        wavelengths=wavelengths,
        sweeps=tuple(sweeps),
        resolution_limits=limits,
        unmerged_mtz=unmerged,
        merged_mtz=merged,
    )

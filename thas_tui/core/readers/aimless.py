"""Readers of CCP4 aimless's log (or its summary block) and XMLOUT: Table 1 and per-bin statistics."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from thas_tui.core.errors import UnreadableFile
from thas_tui.core.readers.merging_stats import BIN_FIELDS, ResolutionBins
from thas_tui.core.readers.shells import Shells, shells_from_columns

# Rows of the "Summary data for Project: ..." table -> Table 1 key.
SUMMARY_ROWS = {
    "Low resolution limit": "d_max",
    "High resolution limit": "d_min",
    "Rmerge (within I+/I-)": "r_merge_anom",
    "Rmerge (all I+ and I-)": "r_merge",
    "Rmeas (within I+/I-)": "r_meas_anom",
    "Rmeas (all I+ & I-)": "r_meas",
    "Rpim (within I+/I-)": "r_pim_anom",
    "Rpim (all I+ & I-)": "r_pim",
    "Total number of observations": "n_obs",
    "Total number unique": "n_unique",
    "Mean((I)/sd(I))": "i_over_sigma",
    "Mn(I) half-set correlation CC(1/2)": "cc_half",
    "Completeness": "completeness",
    "Multiplicity": "multiplicity",
    "Anomalous completeness": "anom_completeness",
    "Anomalous multiplicity": "anom_multiplicity",
    "DelAnom correlation between half-sets": "anom_correlation",
}

# Elements of <Result><Dataset> in aimless's XMLOUT -> Table 1 key.
XML_ROWS = {
    "ResolutionLow": "d_max",
    "ResolutionHigh": "d_min",
    "Rmerge": "r_merge_anom",
    "RmergeOverall": "r_merge",
    "Rmeas": "r_meas_anom",
    "RmeasOverall": "r_meas",
    "Rpim": "r_pim_anom",
    "RpimOverall": "r_pim",
    "NumberObservations": "n_obs",
    "NumberReflections": "n_unique",
    "MeanIoverSD": "i_over_sigma",
    "CChalf": "cc_half",
    "Completeness": "completeness",
    "Multiplicity": "multiplicity",
    "AnomalousCompleteness": "anom_completeness",
    "AnomalousMultiplicity": "anom_multiplicity",
    "AnomalousCChalf": "anom_correlation",
}

# Per-bin columns: (table title start, column header) -> bin field.
_BIN_COLUMNS = (
    ("Correlations CC(1/2) within dataset", "CC1/2", "cc_half"),
    ("Correlations CC(1/2) within dataset", "CCanom", "cc_anom"),
    ("Analysis against resolution,", "Mn(I/sd)", "i_over_sigma"),
    ("Analysis against resolution,", "Rmrg", "r_merge"),
    ("Analysis against resolution,", "Rmeas", "r_meas"),
    ("Analysis against resolution,", "Rpim", "r_pim"),
    ("Analysis against resolution,", "AvI", "i_mean"),
    # The "with & without anomalous" table's Ov columns are over all I+ and I- (preferred).
    ("Analysis against resolution, with & without anomalous", "RmrgOv", "r_merge"),
    ("Analysis against resolution, with & without anomalous", "RmeasOv", "r_meas"),
    ("Analysis against resolution, with & without anomalous", "RpimOv", "r_pim"),
    ("Completeness & multiplicity v. resolution", "Nmeas", "n_obs"),
    ("Completeness & multiplicity v. resolution", "Nref", "n_uniq"),
    ("Completeness & multiplicity v. resolution", "%poss", "completeness"),
    ("Completeness & multiplicity v. resolution", "Mlplct", "multiplicity"),
    ("Completeness & multiplicity v. resolution", "AnoCmp", "anom_completeness"),
    ("Completeness & multiplicity v. resolution", "AnoMlt", "anom_multiplicity"),
)


@dataclass(frozen=True)
class CCP4Table:
    """A `$TABLE` of a CCP4 log (or a <CCP4Table> of XMLOUT): its header and numeric rows."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[float | None, ...], ...]

    def column(self, name: str) -> list[float | None] | None:
        if name not in self.headers:
            return None
        j = self.headers.index(name)
        return [r[j] if j < len(r) else None for r in self.rows]


@dataclass(frozen=True)
class AimlessResult:
    """aimless's summary (Table 1), symmetry, cell, wavelength, batches and per-bin statistics."""

    path: Path
    source: str  # "log", "summary log" or "xml"
    version: str | None = None
    dataset: str | None = None  # "project/crystal/dataset"
    shells: Shells = Shells()
    space_group: str | None = None
    unit_cell: tuple[float, ...] | None = None
    wavelength: float | None = None
    n_batches: int | None = None
    runs: tuple[tuple[int, int], ...] = ()  # batch ranges
    bins: ResolutionBins | None = None
    hklin: str | None = None
    extra: dict[str, tuple[float | None, ...]] = field(default_factory=dict)
    complete: bool = False  # the summary block was read to its end


def _float(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return None


# --- CCP4 tables ----------------------------------------------------------------------------


def _table_rows(lines: list[str]) -> tuple[tuple[float | None, ...], ...]:
    rows = []
    for ln in lines:
        toks = ln.split()
        if not toks or not re.match(r"^\d+$", toks[0]):
            continue
        rows.append(tuple(_float(t) for t in toks))
    return tuple(rows)


def log_tables(text: str, titles: tuple[str, ...] | None = None) -> list[CCP4Table]:
    """The `$TABLE:`s of a CCP4 log (those whose title starts with one of `titles`, or all):
    header line (before `$$ $$`) and rows up to `$$`."""
    out = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        ln = lines[i]
        if not ln.startswith("$TABLE"):
            i += 1
            continue
        title = ln.partition(":")[2].strip().rstrip(":").strip()
        if titles is not None and not title.startswith(titles):
            i += 1
            continue
        j = i + 1
        while j < len(lines) and "$$ $$" not in lines[j] and j - i < 40:
            j += 1
        if j >= len(lines) or "$$ $$" not in lines[j]:
            i = j
            continue
        headers = tuple(lines[j].split("$$")[0].split())
        k = j + 1
        body = []
        while k < len(lines) and not lines[k].lstrip().startswith("$$"):
            body.append(lines[k])
            k += 1
        out.append(CCP4Table(title, headers, _table_rows(body)))
        i = k + 1
    return out


def _bins(tables: list[CCP4Table]) -> ResolutionBins | None:
    """Per-bin statistics from the resolution tables (bin edges from the 1/d² bin centres)."""
    base = next((t for t in tables if t.title.startswith("Analysis against resolution,")), None)
    base = base or next((t for t in tables if "v. resolution" in t.title), None)
    if base is None or "1/d^2" not in base.headers or not base.rows:
        return None
    centre = np.array([np.nan if v is None else v for v in base.column("1/d^2")], dtype=float)
    n = len(centre)
    if n > 1:
        half = np.diff(centre) / 2
        lo_edge = np.concatenate([[max(centre[0] - half[0], 0.0)], centre[1:] - half])
        hi_edge = np.concatenate([centre[:-1] + half, [centre[-1] + half[-1]]])
    else:
        lo_edge = hi_edge = centre
    with np.errstate(divide="ignore"):
        d_max = np.where(lo_edge > 0, 1 / np.sqrt(np.where(lo_edge > 0, lo_edge, 1)), np.inf)
        d_min = 1 / np.sqrt(hi_edge)
    values = {f: np.full(n, np.nan) for f in BIN_FIELDS}
    for prefix, header, name in _BIN_COLUMNS:
        t = next((t for t in tables if t.title.startswith(prefix)), None)
        col = t.column(header) if t is not None else None
        if col is not None and len(col) == n:
            values[name] = np.array([np.nan if v is None else v for v in col], dtype=float)
    return ResolutionBins(d_max=d_max, d_min=d_min, values=values)


# --- the summary table ----------------------------------------------------------------------


def _summary(lines: list[str]) -> tuple[dict, dict, str | None, int]:
    """Columns and extras of the 'Summary data for' block; (cols, extra, dataset, end index)."""
    start = next((i for i, ln in enumerate(lines) if ln.startswith("Summary data for")), None)
    if start is None:
        return {}, {}, None, -1
    m = re.search(r"Project: (\S+) Crystal: (\S+) Dataset: (\S+)", lines[start])
    dataset = "/".join(m.groups()) if m else None
    cols: dict[str, list[float | None]] = {}
    extra: dict[str, tuple[float | None, ...]] = {}
    end = len(lines)
    for i in range(start + 1, len(lines)):
        ln = lines[i]
        if ln.startswith("$$") or "SUMMARY_END" in ln:
            end = i
            break
        if ln.startswith("Estimates of resolution limits"):
            continue
        m = re.match(r"^(\S.*?)\s{2,}(-?[\d.]+|-)(\s+(?:-?[\d.]+|-))?(\s+(?:-?[\d.]+|-))?\s*$", ln)
        if not m:
            continue
        label = re.sub(r"\s+", " ", m.group(1).strip())
        vals = [_float(g.strip()) if g else None for g in m.groups()[1:]]
        key = SUMMARY_ROWS.get(label)
        if key:
            cols[key] = vals
        elif ":" not in label:  # "Average unit cell: ..." is read on its own
            extra[label] = tuple(vals)
    return cols, extra, dataset, end


def _cell(text: str) -> tuple[float, ...] | None:
    nums = [_float(t) for t in text.split()]
    return tuple(v for v in nums if v is not None) if len(nums) == 6 and None not in nums else None


def read_aimless_log(path: str | Path) -> AimlessResult:
    """Read an aimless log (or the summary block cut out of one).

    A truncated log gives what it holds; UnreadableFile when it is not aimless output at all.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot read the aimless log ({exc.strerror}).") from exc
    lines = text.splitlines()
    m = re.search(r"AIMLESS\s+version\s+(\S+)", text[:20000])
    version = m.group(1) if m else None
    cols, extra, dataset, end = _summary(lines)
    if version is None and not cols:
        raise UnreadableFile(
            f"{path}: not an aimless log (no AIMLESS banner, no 'Summary data for' table). "
            "Pass the log aimless wrote (xia2: LogFiles/*_aimless.log)."
        )
    sg = cell = wl = hklin = None
    n_batches = None
    runs = []
    keys = (
        "Space group:",
        "Average unit cell:",
        "Wavelength:",
        "Number of batches",
        "Run number:",
        "HKLIN",
        "hklin",
    )
    for ln in lines:
        s = ln.strip()
        if not s.startswith(keys):
            continue
        if s.startswith("Space group:") and sg is None:
            sg = s.partition(":")[2].strip() or None
        elif s.startswith("Average unit cell:"):
            cell = _cell(s.partition(":")[2]) or cell
        elif wl is None and (mm := re.match(r"^Wavelength:\s+([\d.]+)", s)):
            wl = float(mm.group(1))
        elif n_batches is None and (mm := re.match(r"^Number of batches\s*=\s*(\d+)", s)):
            n_batches = int(mm.group(1))
        elif mm := re.match(
            r"^Run number:\s*\d+ consists of batches\s+(\d+)\s*(?:to|-)\s*(\d+)", s
        ):
            runs.append((int(mm.group(1)), int(mm.group(2))))
        elif hklin is None and (mm := re.match(r"^(?:HKLIN|hklin)\s+(\S+)", s)):
            hklin = mm.group(1)
    # The summary's own "Space group:" and cell win over the ones printed on reading HKLIN.
    if end > 0:
        for ln in lines[end::-1]:
            if ln.startswith("Space group:"):
                sg = ln.partition(":")[2].strip() or sg
                break
    return AimlessResult(
        path=path,
        source="log" if version else "summary log",
        version=version,
        dataset=dataset,
        shells=shells_from_columns(cols),
        space_group=sg,
        unit_cell=cell,
        wavelength=wl,
        n_batches=n_batches,
        runs=tuple(runs),
        bins=_bins(log_tables(text, tuple({prefix for prefix, _, _ in _BIN_COLUMNS}))),
        hklin=hklin,
        extra=extra,
        complete=end > 0 and end < len(lines),
    )


# --- XMLOUT ---------------------------------------------------------------------------------


def _xml_table(el: ET.Element) -> CCP4Table:
    headers = el.find("headers")
    data = el.find("data")
    names = tuple((headers.text or "").split()) if headers is not None else ()
    rows = _table_rows((data.text or "").splitlines()) if data is not None else ()
    return CCP4Table(el.get("title", "").strip(), names, rows)


def read_aimless_xml(path: str | Path) -> AimlessResult:
    """Read aimless's XMLOUT: the <Result> summary, cell, space group, wavelength, batches, bins.

    A truncated XML file is read up to where it breaks off.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot read the aimless XML ({exc.strerror}).") from exc
    root = _parse_partial(raw)
    if root is None or root.tag != "AIMLESS":
        raise UnreadableFile(
            f"{path}: not aimless XML output (root element "
            f"{'missing' if root is None else '<' + root.tag + '>'}). Pass aimless's XMLOUT file."
        )
    cols: dict[str, list[float | None]] = {}
    ds_el = root.find("Result/Dataset")
    if ds_el is not None:
        for tag, key in XML_ROWS.items():
            el = ds_el.find(tag)
            if el is None:
                continue
            cols[key] = [
                _float((el.findtext(s) or "").strip()) for s in ("Overall", "Inner", "Outer")
            ]
    cell_el = ds_el.find("cell") if ds_el is not None else None
    if cell_el is None:
        cell_el = root.find("ReflectionFile/cell")
    cell = None
    if cell_el is not None:
        vals = [
            _float((cell_el.findtext(k) or "").strip())
            for k in ("a", "b", "c", "alpha", "beta", "gamma")
        ]
        cell = tuple(v for v in vals if v is not None) if None not in vals else None
    sg = (ds_el.findtext("SpacegroupName") if ds_el is not None else None) or root.findtext(
        "ReflectionFile/SpacegroupName"
    )
    wl = _float((root.findtext("ReflectionData/Dataset/Wavelength") or "").strip())
    nb = root.findtext("ReflectionData/NumberBatches")
    runs = []
    for r in root.findall("ReflectionData/Dataset/Run"):
        br = (r.findtext("BatchRange") or "").split()
        if len(br) == 2 and all(t.isdigit() for t in br):
            runs.append((int(br[0]), int(br[1])))
    tables = [_xml_table(t) for t in root.findall("CCP4Table")]
    hklin = root.find("ReflectionFile")
    return AimlessResult(
        path=path,
        source="xml",
        version=root.get("version"),
        dataset=ds_el.get("name") if ds_el is not None else None,
        shells=shells_from_columns(cols),
        space_group=sg.strip() if sg else None,
        unit_cell=cell,
        wavelength=wl,
        n_batches=int(nb) if nb and nb.strip().isdigit() else None,
        runs=tuple(runs),
        bins=_bins(tables),
        hklin=hklin.get("name") if hklin is not None else None,
        complete=ds_el is not None,
    )


def _parse_partial(raw: bytes) -> ET.Element | None:
    """The document's root, also for a file cut short (the elements read before the break)."""
    parser = ET.XMLPullParser(events=("start",))
    root = None
    try:
        for i in range(0, len(raw), 65536):
            parser.feed(raw[i : i + 65536])
            for _event, el in parser.read_events():
                if root is None:
                    root = el
        parser.close()
    except ET.ParseError:
        pass
    return root

"""Reader of xia2's ispyb.xml (AutoProcContainer): Table 1, space group, cell, images."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from thas_tui.core.errors import UnreadableFile
from thas_tui.core.readers.shells import Shells, shells_from_columns

# <AutoProcScalingStatistics> elements -> Table 1 key (xia2's ISPyBXmlHandler._name_map).
FIELDS = {
    "resolutionLimitLow": "d_max",
    "resolutionLimitHigh": "d_min",
    "completeness": "completeness",
    "multiplicity": "multiplicity",
    "meanIOverSigI": "i_over_sigma",
    "rMerge": "r_merge",
    "rMeasAllIPlusIMinus": "r_meas",
    "rMeasWithinIPlusIMinus": "r_meas_anom",
    "rPimAllIPlusIMinus": "r_pim",
    "rPimWithinIPlusIMinus": "r_pim_anom",
    "ccHalf": "cc_half",
    "anomalousCompleteness": "anom_completeness",
    "anomalousMultiplicity": "anom_multiplicity",
    "ccAnomalous": "anom_correlation",
    "nTotalObservations": "n_obs",
    "nTotalUniqueObservations": "n_unique",
}
_SHELL_TYPES = ("overall", "innerShell", "outerShell")


@dataclass(frozen=True)
class IspybResult:
    """What an ISPyB AutoProcContainer holds for a comparison."""

    path: Path
    shells: Shells
    space_group: str | None = None
    unit_cell: tuple[float, ...] | None = None
    images: tuple[tuple[int, int], ...] = ()  # per integrated sweep
    wavelength: float | None = None
    command_line: str | None = None


def _f(text: str | None) -> float | None:
    try:
        return float((text or "").strip())
    except ValueError:
        return None


def read_ispyb_xml(path: str | Path) -> IspybResult:
    """Read an ispyb.xml written by xia2 (or any AutoProcContainer)."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot read the ISPyB XML ({exc.strerror}).") from exc
    except ET.ParseError as exc:
        raise UnreadableFile(
            f"{path}: the ISPyB XML is not well-formed ({exc}); it may be truncated."
        ) from exc
    if root.tag != "AutoProcContainer":
        raise UnreadableFile(
            f"{path}: not an ISPyB AutoProcContainer (root <{root.tag}>). "
            "Pass the ispyb.xml xia2 wrote (-ispyb_xml_out)."
        )
    cols: dict[str, list[float | None]] = {k: [None, None, None] for k in FIELDS.values()}
    for st in root.iter("AutoProcScalingStatistics"):
        kind = (st.findtext("scalingStatisticsType") or "").strip()
        if kind not in _SHELL_TYPES:
            continue
        i = _SHELL_TYPES.index(kind)
        for tag, key in FIELDS.items():
            cols[key][i] = _f(st.findtext(tag))
    ap = root.find("AutoProc")
    sg = cell = None
    if ap is not None:
        sg = (ap.findtext("spaceGroup") or "").strip() or None
        vals = [
            _f(ap.findtext(f"refinedCell_{k}")) for k in ("a", "b", "c", "alpha", "beta", "gamma")
        ]
        cell = tuple(v for v in vals if v is not None) if None not in vals else None
    images = []
    for integ in root.iter("AutoProcIntegration"):
        a, b = _f(integ.findtext("startImageNumber")), _f(integ.findtext("endImageNumber"))
        if a is not None and b is not None:
            images.append((int(a), int(b)))
    wl = next((_f(e.text) for e in root.iter("wavelength")), None)
    cmd = root.findtext("AutoProcProgramContainer/AutoProcProgram/processingCommandLine")
    return IspybResult(
        path=path,
        shells=shells_from_columns(cols),
        space_group=sg,
        unit_cell=cell,
        images=tuple(images),
        wavelength=wl,
        command_line=cmd.strip() if cmd else None,
    )

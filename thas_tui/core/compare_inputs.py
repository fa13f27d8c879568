"""One input of `thas-tui compare`, read from whatever it is: DIALS directory or attempt, xia2, aimless, MTZ."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from thas_tui.core.errors import ThasError
from thas_tui.core.readers.merging_stats import MergingStats, ResolutionBins
from thas_tui.core.readers.shells import SHELL_KEYS, Shell, Shells

KINDS = ("dials", "xia2", "aimless", "mtz")
XIA2_FILES = ("xia2.json", "xia2.txt", "ispyb.xml", "xia2-summary.dat")
XIA2_ERRORS = ("xia2.error", "xia2-error.txt")
# The stages that lead to scaled data, in order (what is missing when there is none).
_TO_SCALE = (
    "import",
    "find_spots",
    "index",
    "refine_bravais_settings",
    "reindex",
    "refine",
    "integrate",
    "symmetry",
    "scale",
)


@dataclass
class CompareInput:
    """Everything known about one input; `problems` say plainly what could not be had."""

    spec: str  # as given on the command line
    kind: str  # dials | xia2 | aimless | mtz
    path: Path
    label: str
    program: str | None = None  # "DIALS 3.12.1", "xia2 0.3.6.3", "aimless 0.7.2"
    space_group: str | None = None
    unit_cell: tuple[float, ...] | None = None
    wavelength: float | None = None
    n_sweeps: int | None = None
    n_images: int | None = None
    reported: Shells | None = None
    reported_from: str | None = None  # file name(s) the numbers were read from
    bins: ResolutionBins | None = None
    unmerged_mtz: Path | None = None  # to recompute from
    scaled_files: tuple[Path, Path] | None = None  # scaled.expt, scaled.refl (export first)
    recomputed: Shells | None = None
    recomputed_bins: ResolutionBins | None = None
    problems: list[str] = field(default_factory=list)
    failed: str | None = None  # a failed run's own error

    @property
    def d_range(self) -> tuple[float | None, float | None]:
        o = self.reported.overall if self.reported else Shell()
        return o.d_max, o.d_min

    @property
    def can_recompute(self) -> bool:
        return self.unmerged_mtz is not None or self.scaled_files is not None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _label(path: Path, attempt: str | None = None) -> str:
    name = path.name or str(path)
    if name in XIA2_FILES + XIA2_ERRORS or path.suffix in (".log", ".xml", ".json", ".dat"):
        name = f"{path.parent.name}/{path.name}"
    return f"{name}@{attempt}" if attempt else name


# --- DIALS ----------------------------------------------------------------------------------


def _shells_from_stats(stats: MergingStats) -> Shells:
    per = {}
    for shell in ("overall", "low", "high"):
        row = stats.shell(shell)
        if row is None:
            per[shell] = Shell()
            continue
        per[shell] = Shell(
            d_max=row.d_max,
            d_min=row.d_min,
            completeness=row.completeness,
            multiplicity=row.multiplicity,
            i_over_sigma=row.i_over_sigma,
            r_merge=row.r_merge,
            r_meas=row.r_meas,
            r_pim=row.r_pim,
            cc_half=row.cc_half,
            anom_completeness=row.anom_completeness,
            anom_multiplicity=row.anom_multiplicity,
            cc_anom=row.cc_anom,
            n_obs=row.n_obs,
            n_unique=row.n_uniq,
        )
    return Shells(**per)


_LOG_SUMMARY = {
    "d_max": "d_max",
    "d_min": "d_min",
    "completeness": "completeness",
    "multiplicity": "multiplicity",
    "i_over_sigma": "i_over_sigma",
    "r_merge": "rmerge",
    "r_meas": "rmeas",
    "r_pim": "rpim",
    "cc_half": "cc_half",
    "anom_completeness": "anom_completeness",
    "anom_multiplicity": "anom_multiplicity",
    "anom_correlation": "anom_correlation",
    "n_obs": "n_observations",
    "n_unique": "n_unique",
    "r_merge_anom": "rmerge_anom",
    "r_meas_anom": "rmeas_anom",
    "r_pim_anom": "rpim_anom",
}


def _shells_from_log_summary(summary: Any) -> Shells:
    per: dict[str, dict[str, Any]] = {"overall": {}, "low": {}, "high": {}}
    for key, attr in _LOG_SUMMARY.items():
        stat = getattr(summary, attr, None)
        for shell in per:
            v = getattr(stat, shell) if stat is not None else None
            if v is not None and key in ("n_obs", "n_unique"):
                v = int(v)
            per[shell][key] = v
    return Shells(**{k: Shell(**v) for k, v in per.items()})


def _fill(primary: Shells | None, other: Shells | None) -> Shells | None:
    """`primary` with its missing values taken from `other`."""
    if primary is None:
        return other
    if other is None:
        return primary
    out = {}
    for shell in ("overall", "low", "high"):
        a, b = primary[shell].as_dict(), other[shell].as_dict()
        out[shell] = Shell(**{k: a[k] if a[k] is not None else b[k] for k in SHELL_KEYS})
    return Shells(**out)


def _read_dials_files(inp: CompareInput, d: Path, jsons: tuple[str, ...], logs: tuple[Path, ...]):
    """Table 1, bins, symmetry, cell, wavelength and images from DIALS's files in `d`:
    the first of `jsons` with a Table 1, the first of `logs` (within-I+/I- R values), scaled.expt."""
    from thas_tui.core.parsers import registry
    from thas_tui.core.readers.expt import read_expt
    from thas_tui.core.readers.merging_stats import read_merging_stats
    from thas_tui.core.rundir import output_issue, read_log_text

    for name in jsons:
        p = d / name
        if not p.is_file():
            continue
        try:
            stats = read_merging_stats(p)
        except ThasError as exc:
            inp.problems.append(f"{p}: unreadable ({_first_line(exc).split(': ', 1)[-1]})")
            continue
        if stats.table1:
            inp.reported = _shells_from_stats(stats)
            inp.reported_from = name
            inp.bins = stats.bins if len(stats.bins) else None
            break
    for p in logs:
        if not p.is_file():
            continue
        name = p.name
        stage = "merge" if "merge" in name else "scale"
        try:
            log = registry.parse_log(stage, read_log_text(p))
        except Exception as exc:  # noqa: BLE001 - a log that cannot be parsed is a problem, not a crash
            inp.problems.append(f"{p}: could not be parsed ({_first_line(exc)})")
            continue
        summary = getattr(log, "summary", None)
        if summary is not None:
            from_log = _shells_from_log_summary(summary)
            # The log has the within-I+/I- R values the JSON lacks; the JSON wins elsewhere.
            inp.reported = _fill(inp.reported, from_log)
            inp.reported_from = inp.reported_from or name
            if name not in (inp.reported_from or ""):
                inp.reported_from = f"{inp.reported_from} + {name}"
        if getattr(log, "version", None) and inp.program is None:
            inp.program = f"DIALS {log.version}"
        if inp.space_group is None and getattr(log, "space_group", None):
            inp.space_group = log.space_group
        break
    expt = d / "scaled.expt"
    if expt.is_file():
        issue = output_issue(expt)
        if issue:
            inp.problems.append(f"{d / issue}")
        else:
            try:
                el = read_expt(expt)
            except ThasError as exc:
                inp.problems.append(f"{expt}: unreadable ({_first_line(exc).split(': ', 1)[-1]})")
            else:
                crystal = next((e.crystal for e in el.experiments if e.crystal), None)
                if crystal is not None:
                    inp.space_group = crystal.space_group or inp.space_group
                    inp.unit_cell = tuple(float(v) for v in crystal.unit_cell.parameters)
                wls = [e.beam.wavelength for e in el.experiments if e.beam and e.beam.wavelength]
                if wls:
                    inp.wavelength = sum(wls) / len(wls)
                scans = {id(e.scan): e.scan for e in el.experiments if e.scan is not None}
                if scans:
                    inp.n_sweeps = len(scans)
                    inp.n_images = sum(s.num_images for s in scans.values())


def _scaled_sources(inp: CompareInput, d: Path, mtz_current: bool) -> None:
    mtz = d / "scaled.mtz"
    if mtz_current and mtz.is_file():
        inp.unmerged_mtz = mtz
    elif (d / "scaled.expt").is_file() and (d / "scaled.refl").is_file():
        inp.scaled_files = (d / "scaled.expt", d / "scaled.refl")


def _missing_stage(stages: dict[str, dict]) -> str:
    """Which stage stands between a directory and scaled data."""
    previous = None
    for name in _TO_SCALE:
        st = stages.get(name)
        if st is None:
            continue
        state = st.get("state")
        if state == "done":
            previous = name
            continue
        if state == "failed":
            return f"no scaled data: {name} failed ({st.get('failure') or 'see its log'})"
        if state == "running":
            return f"no scaled data yet: {name} is running"
        after = f" ({previous} is done)" if previous else ""
        return f"no scaled data yet: {name} has not run{after}"
    return "no scaled data: scale's outputs are missing"


def _phil(argv: list[str] | None) -> str:
    """The parameters that set an attempt apart ('d_min=3.0'), not the output names."""
    return " ".join(t for t in (argv or [])[1:] if "=" in t and not t.startswith("output."))


def _dials_dir(inp: CompareInput) -> None:
    """A processing directory, read as `thas-tui summary` reads it (rundir's stage states)."""
    from thas_tui.core.rundir import STALE_TOLERANCE_S, read_rundir

    rd = read_rundir(inp.path)
    d = inp.path
    expt = d / "scaled.expt"
    since = expt.stat().st_mtime - STALE_TOLERANCE_S if expt.is_file() else None

    def fresh(name: str) -> bool:
        # After a scale re-run, merge's and export's outputs are the earlier attempt's until
        # they run again: only files written after scaled.expt belong to its numbers.
        p = d / name
        return p.is_file() and (since is None or p.stat().st_mtime >= since)

    jsons = tuple(n for n in ("dials.merge.json", "merge.json") if fresh(n)) + (
        "dials.scale.json",
        "scale.json",
    )
    logs = []
    for stage in ("merge", "scale"):
        st = rd.stages.get(stage)
        if st is not None and st.log is not None and (stage == "scale" or fresh("merged.mtz")):
            logs.append(st.log)
    _read_dials_files(inp, d, jsons, tuple(logs))
    scale = rd.stages.get("scale")
    last = scale.last_attempt if scale is not None else None
    if last is not None and len(scale.attempts) > 1:
        # With earlier attempts beside it, say which one the directory's own outputs are.
        extra = _phil(last.argv)
        inp.label += f" (scale.{last.attempt}{', ' + extra if extra else ''})"
    if inp.reported is None:
        stages = {
            n: {"state": st.state.value, "failure": st.failure} for n, st in rd.stages.items()
        }
        inp.problems.append(_missing_stage(stages))
    for issue in rd.issues:
        if issue.startswith(("scaled.", "dials.scale", "dials.merge", "merged.")):
            inp.problems.append(f"{d}/{issue}")
    _scaled_sources(inp, d, fresh("scaled.mtz"))


def _attempt(inp: CompareInput, proc: Path, stage: str, n: int) -> None:
    from thas_tui.core.journal import Journal

    archived = proc / "thas-tui" / "attempts" / f"{stage}.{n}"
    attempts = [a for a in Journal(proc).attempts() if a.stage == stage]
    latest = max((a.attempt for a in attempts), default=None)
    if archived.is_dir():
        d = archived
    elif n == latest:
        d = proc  # the newest attempt's outputs are the directory's own
    else:
        known = sorted(
            {a.attempt for a in attempts}
            | {
                int(p.name.split(".")[1])
                for p in (proc / "thas-tui" / "attempts").glob(f"{stage}.*")
                if p.name.split(".")[1].isdigit()
            }
        )
        raise ThasError(
            f"{proc}: no attempt {n} of {stage} "
            + (f"(attempts: {', '.join(map(str, known))})" if known else f"({stage} never ran)")
            + f".\nList them in the dashboard (a on the {stage} stage) or in {proc}/thas-tui/attempts/."
        )
    inp.path = d
    jsons = {"scale": ("dials.scale.json",), "merge": ("dials.merge.json",)}.get(
        stage, ("dials.merge.json", "dials.scale.json")
    )
    log = d / f"dials.{stage}.log"
    if d == proc:
        # The newest attempt: its own log (thas-tui/logs/<stage>.<n>.log) if the journal has it.
        a = next((a for a in attempts if a.attempt == n), None)
        if a is not None and a.log and (proc / a.log).is_file():
            log = proc / a.log  # absolute paths stay absolute
    _read_dials_files(inp, d, jsons, (log,))
    # An attempt's own scaled.expt/refl are read when it is archived; the newest one's are proc's.
    if inp.reported is None:
        inp.problems.append(f"{d}: no merging statistics of {stage} attempt {n}")
    if stage == "scale":
        _scaled_sources(inp, d, mtz_current=False)
    attempt = next((a for a in attempts if a.attempt == n), None)
    extra = _phil(attempt.argv) if attempt is not None else ""
    if extra:
        inp.label += f" ({extra})"


# --- xia2 -----------------------------------------------------------------------------------


def _xia2(inp: CompareInput, files: list[Path]) -> None:
    from thas_tui.core.readers import aimless, ispyb, xia2

    names = {p.name: p for p in files}
    shells_sources: list[tuple[str, Shells]] = []
    for name, reader in (
        ("xia2.json", xia2.read_xia2_json),
        ("xia2.txt", xia2.read_xia2_txt),
        ("ispyb.xml", ispyb.read_ispyb_xml),
        ("xia2-summary.dat", xia2.read_xia2_summary),
    ):
        p = names.get(name)
        if p is None:
            continue
        try:
            r = reader(p)
        except ThasError as exc:
            inp.problems.append(_first_line(exc))
            continue
        datasets = getattr(r, "datasets", None)
        shells = datasets[0].shells if datasets else getattr(r, "shells", None)
        if shells is not None and not shells.empty:
            shells_sources.append((name, shells))
        inp.space_group = inp.space_group or r.space_group
        inp.unit_cell = inp.unit_cell or r.unit_cell
        wls = getattr(r, "wavelengths", None)
        if inp.wavelength is None and wls:
            inp.wavelength = next(iter(wls.values()))
        if inp.wavelength is None and getattr(r, "wavelength", None):
            inp.wavelength = r.wavelength
        sweeps = getattr(r, "sweeps", ()) or ()
        if inp.n_sweeps is None and sweeps:
            inp.n_sweeps = len(sweeps)
            ims = [s.images for s in sweeps if s.images]
            if ims:
                inp.n_images = sum(b - a + 1 for a, b in ims)
        images = getattr(r, "images", ())
        if inp.n_images is None and images:
            inp.n_sweeps = len(images)
            inp.n_images = sum(b - a + 1 for a, b in images)
        if name == "xia2.txt":
            if r.version:
                inp.program = f"xia2 {r.version}"
            if r.status == "error":
                inp.failed = r.error
    for name in XIA2_ERRORS:
        p = names.get(name)
        if p is not None:
            try:
                err = xia2.read_xia2_error(p)
            except ThasError as exc:
                inp.problems.append(_first_line(exc))
                continue
            inp.failed = inp.failed or err.error
            if err.error and inp.failed != err.error:
                inp.failed += f" ({name}: {err.error})"
    for name, shells in shells_sources:
        if inp.reported is None:
            inp.reported, inp.reported_from = shells, name
        else:
            inp.reported = _fill(inp.reported, shells)
    logs = sorted(p for p in files if p.name.endswith("_aimless.log"))
    if logs:
        try:
            al = aimless.read_aimless_log(logs[-1])
        except ThasError as exc:
            inp.problems.append(_first_line(exc))
        else:
            inp.bins = al.bins
            if inp.reported is None:
                inp.reported, inp.reported_from = al.shells, logs[-1].name
            else:
                inp.reported = _fill(inp.reported, al.shells)
            if inp.wavelength is None:
                inp.wavelength = al.wavelength
    if inp.failed:
        inp.problems.insert(0, f"xia2 failed: {inp.failed}")
    elif inp.reported is None:
        inp.problems.append(
            f"{inp.path}: no merging statistics in "
            + (", ".join(sorted(names)) or "this directory (no xia2.txt, xia2.json, ispyb.xml)")
        )
    unmerged = sorted(p for p in files if p.name.endswith("_scaled_unmerged.mtz"))
    if unmerged:
        inp.unmerged_mtz = unmerged[0]


def _xia2_files(d: Path) -> list[Path]:
    out = [d / n for n in XIA2_FILES + XIA2_ERRORS if (d / n).is_file()]
    out += sorted((d / "LogFiles").glob("*_aimless.log")) if (d / "LogFiles").is_dir() else []
    out += (
        sorted((d / "DataFiles").glob("*_scaled_unmerged.mtz"))
        if (d / "DataFiles").is_dir()
        else []
    )
    return out


# --- aimless, MTZ ---------------------------------------------------------------------------


def _aimless(inp: CompareInput, path: Path, xml: bool) -> None:
    from thas_tui.core.readers.aimless import read_aimless_log, read_aimless_xml

    r = read_aimless_xml(path) if xml else read_aimless_log(path)
    inp.program = f"aimless {r.version}" if r.version else "aimless"
    inp.reported = r.shells if not r.shells.empty else None
    inp.reported_from = path.name
    inp.bins = r.bins
    inp.space_group, inp.unit_cell, inp.wavelength = r.space_group, r.unit_cell, r.wavelength
    if r.runs:
        inp.n_sweeps = len(r.runs)
        inp.n_images = sum(b - a + 1 for a, b in r.runs)
    elif r.n_batches:
        inp.n_images = r.n_batches
    if inp.reported is None:
        inp.problems.append(
            f"{path}: no 'Summary data' table"
            + (" (the log stops before aimless's summary: truncated?)" if not r.complete else "")
        )


def _mtz(inp: CompareInput, path: Path) -> None:
    from thas_tui.core.readers.mtz import read_mtz_header

    h = read_mtz_header(path)
    inp.program = "MTZ"
    inp.space_group, inp.unit_cell, inp.wavelength = h.space_group, h.unit_cell, h.wavelength
    if h.batches:
        inp.n_images = len(h.batches)
    if h.merged:
        inp.problems.append(
            f"{path}: merged data (no BATCH column): its statistics cannot be recomputed; "
            "give the unmerged scaled MTZ (dials.export's scaled.mtz, xia2's "
            "DataFiles/*_scaled_unmerged.mtz)"
        )
    else:
        inp.unmerged_mtz = path
    if not h.complete:
        inp.problems.append(f"{path}: the MTZ header ends early (truncated file?)")


# --- dispatch -------------------------------------------------------------------------------


def _sniff(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read(4096).decode("utf-8", errors="replace")
    except OSError:
        return ""


def _kind_of_file(path: Path) -> str:
    name, head = path.name, None
    if name in XIA2_FILES + XIA2_ERRORS:
        return "xia2"
    if path.suffix == ".mtz":
        return "mtz"
    head = _sniff(path)
    if head.startswith("MTZ "):
        return "mtz"
    if path.suffix == ".xml" or head.lstrip().startswith("<"):
        return "xia2" if "AutoProcContainer" in head else "aimless"
    if "AIMLESS" in head or "Summary data for" in head:
        return "aimless"
    if re.search(r"^XIA2 \S+", head, re.M):
        return "xia2"
    if path.suffix == ".json":
        return "dials"
    return "unknown"


def read_input(spec: str) -> CompareInput:
    """Read one input; every failure is a problem on the input (never raised past here)."""
    m = re.match(r"^(?P<dir>.+)@(?P<stage>[a-z_]+)\.(?P<n>\d+)$", spec)
    path = Path(m.group("dir") if m else spec).expanduser()
    inp = CompareInput(spec, "dials", path, _label(path, m and f"{m['stage']}.{m['n']}"))
    try:
        if not path.exists():
            inp.problems.append(f"{path}: no such file or directory")
            return inp
        if m:
            if not path.is_dir():
                raise ThasError(f"{path}: not a processing directory (needed for @{m['stage']})")
            _attempt(inp, path, m["stage"], int(m["n"]))
            return inp
        if path.is_dir():
            xfiles = _xia2_files(path)
            if any(p.name in XIA2_FILES + XIA2_ERRORS for p in xfiles):
                inp.kind = "xia2"
                _xia2(inp, xfiles)
            else:
                _dials_dir(inp)
            return inp
        kind = _kind_of_file(path)
        inp.kind = kind if kind in KINDS else "dials"
        if kind == "xia2":
            files = [path]
            if path.name == "xia2.txt":
                files += [path.parent / n for n in XIA2_ERRORS if (path.parent / n).is_file()]
            _xia2(inp, files)
        elif kind == "aimless":
            _aimless(inp, path, path.suffix == ".xml" or _sniff(path).lstrip().startswith("<"))
        elif kind == "mtz":
            _mtz(inp, path)
        elif kind == "dials" and path.suffix == ".json":
            _read_dials_files(inp, path.parent, (path.name,), ())
            if inp.reported is None:
                inp.problems.append(f"{path}: no merging statistics (not dials.scale/merge JSON?)")
        else:
            inp.problems.append(
                f"{path}: not a file compare reads (a processing directory, a xia2 directory or "
                "xia2.txt/xia2.json/ispyb.xml, an aimless log or XML, or an MTZ file)"
            )
    except ThasError as exc:
        inp.problems.append(str(exc).strip())
    except (OSError, ValueError) as exc:
        inp.problems.append(f"{path}: unreadable ({_first_line(exc)})")
    return inp


def finite(v: Any) -> float | None:
    """A float for JSON (None for NaN/inf)."""
    if v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def directory_inputs(workdir: Path, stage: str = "scale") -> list[str]:
    """The directory itself (its newest results) and each earlier attempt of `stage` archived in it."""
    out = [str(workdir)]
    archive = workdir / "thas-tui" / "attempts"
    numbered = []
    for p in archive.glob(f"{stage}.*") if archive.is_dir() else []:
        n = p.name.split(".")[1]
        if p.is_dir() and n.isdigit() and len(p.name.split(".")) == 2:
            numbered.append(int(n))
    out += [f"{workdir}@{stage}.{n}" for n in sorted(numbered)]
    return out

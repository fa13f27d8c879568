"""Like with like: merging statistics of every unmerged input recomputed by one program, same range, same bins."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from thas_tui.core.compare_inputs import CompareInput
from thas_tui.core.errors import DialsNotFound, ThasError
from thas_tui.core.readers.merging_stats import ResolutionBins, iotbx_statistics
from thas_tui.core.readers.shells import Shell, Shells

PROGRAM = "iotbx.merging_statistics"
N_BINS = 20
# As dials.merge computes its table (dials.algorithms.scaling.scaling_library
# .merging_stats_from_scaled_array): no σ filtering, no internal variance, absences kept.
OPTIONS = (
    "anomalous=False",
    "sigma_filtering=scala",
    "use_internal_variance=False",
    "eliminate_sys_absent=False",
    f"n_bins={N_BINS}",
)
TIMEOUT_S = 600


def _program(name: str, dials=None) -> str:
    """A cctbx/DIALS program beside DIALS's own (a bundle's bin/), else on PATH."""
    if dials is not None:
        p = Path(dials.bin_dir) / name
        if p.exists():
            return str(p)
    found = shutil.which(name)
    if found is None:
        raise DialsNotFound(
            f"{name} not found: it comes with DIALS (Debian: apt-get install dials). "
            "Skip recomputing with --no-recompute."
        )
    return found


def _dials():
    from thas_tui.core.dials_env import locate_dials

    try:
        return locate_dials()
    except ThasError:
        return None


def _run(argv: list[str], workdir: Path, dials) -> subprocess.CompletedProcess:
    """A DIALS/cctbx program in ``workdir``, its output captured, with DIALS's environment."""
    return subprocess.run(
        argv,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        stdin=subprocess.DEVNULL,
        env=dials.subprocess_env() if dials is not None else None,
    )


def _last_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if ln.startswith(("Sorry", "RuntimeError", "Error", "AssertionError")):
            return ln
    return lines[-1] if lines else "no output"


def export_mtz(expt: Path, refl: Path, workdir: Path, dials=None) -> Path:
    """scaled.expt + scaled.refl -> an unmerged MTZ in `workdir` (never beside the inputs)."""
    out = workdir / "scaled.mtz"
    argv = [
        _program("dials.export", dials),
        str(expt.resolve()),
        str(refl.resolve()),
        f"mtz.hklout={out}",
        f"output.log={workdir / 'dials.export.log'}",
    ]
    res = _run(argv, workdir, dials)
    if res.returncode != 0 or not out.is_file():
        raise ThasError(
            f"dials.export of {expt.parent} failed: {_last_error(res.stdout + res.stderr)}"
        )
    return out


def merging_statistics(
    mtz: Path,
    workdir: Path,
    d_range: tuple[float, float] | None = None,
    dials=None,
    anomalous: bool = False,
) -> dict:
    """Run iotbx.merging_statistics on an unmerged MTZ; its JSON (bins and overall), decoded.

    With `d_range` (d_max, d_min) the bins span exactly that range, whatever the data's own.
    ``anomalous=True`` keeps I+ and I- apart: the anomalous completeness and multiplicity and
    the within-I+/I- R values, as dials.merge's `merging_stats_anom`.
    """
    out = workdir / ("merging_statistics_anom.json" if anomalous else "merging_statistics.json")
    options = [o if o != "anomalous=False" else f"anomalous={anomalous}" for o in OPTIONS]
    argv = [_program(PROGRAM, dials), str(mtz.resolve()), *options, f"json.file_name={out}"]
    if d_range is not None:
        argv += [
            f"low_resolution={d_range[0]:.4f}",
            f"high_resolution={d_range[1]:.4f}",
            "extend_d_max_min=True",
        ]
    res = _run(argv, workdir, dials)
    if res.returncode != 0 or not out.is_file():
        if "Multiple equally suitable arrays" in res.stdout + res.stderr:
            res = _retry_with_labels(argv, workdir, dials)
        if res.returncode != 0 or not out.is_file():
            raise ThasError(f"{PROGRAM} on {mtz} failed: {_last_error(res.stdout + res.stderr)}")
    return json.loads(out.read_text())


def _retry_with_labels(argv: list[str], workdir: Path, dials) -> subprocess.CompletedProcess:
    # dials.export writes I/SIGI (scaled) beside IPR/SIGIPR: the scaled ones are wanted.
    return _run([*argv, "labels=I,SIGI"], workdir, dials)


def shells_from_statistics(doc: dict, anom: dict | None = None) -> tuple[Shells, ResolutionBins]:
    """Table 1 (overall, first bin, last bin, as DIALS's Table 1 takes them) and the bins;
    with ``anom`` (the anomalous=True run) the anomalous rows too, as dials.merge fills them."""
    table1, bins = iotbx_statistics(doc, anom)
    within = {r.shell: r for r in iotbx_statistics(anom)[0]} if isinstance(anom, dict) else {}
    per = {}
    for row in table1:
        a = within.get(row.shell)
        per[row.shell] = Shell(
            d_max=row.d_max,
            d_min=row.d_min,
            completeness=row.completeness,
            multiplicity=row.multiplicity,
            i_over_sigma=row.i_over_sigma,
            r_merge=row.r_merge,
            r_meas=row.r_meas,
            r_pim=row.r_pim,
            cc_half=row.cc_half,
            cc_anom=row.cc_anom if a is not None else None,
            anom_completeness=row.anom_completeness,
            anom_multiplicity=row.anom_multiplicity,
            r_merge_anom=a.r_merge if a is not None else None,
            r_meas_anom=a.r_meas if a is not None else None,
            r_pim_anom=a.r_pim if a is not None else None,
            n_obs=row.n_obs,
            n_unique=row.n_uniq,
        )
    return Shells(**per), bins


def common_range(ranges: list[tuple[float, float]]) -> tuple[float, float] | None:
    """The resolution range every input covers: lowest d_max, highest d_min."""
    if not ranges:
        return None
    d_max = min(r[0] for r in ranges)
    d_min = max(r[1] for r in ranges)
    return (d_max, d_min) if d_max > d_min else None


def recompute_all(comparison, progress: Callable[[str], None] | None = None) -> None:
    """Recompute the statistics of every input with unmerged data, in a temporary directory.

    Failures become problems of their input; the reported numbers are left as they are.
    """
    from thas_tui.core.readers.mtz import read_mtz_header

    todo: list[CompareInput] = [i for i in comparison.inputs if i.can_recompute]
    if not todo:
        return
    say = progress or (lambda _m: None)
    dials = _dials()
    with tempfile.TemporaryDirectory(prefix="thas-compare-") as tmp:
        mtzs: dict[int, Path] = {}
        ranges: dict[int, tuple[float, float]] = {}
        exported: dict[Path, Path] = {}  # one export per scaled.expt, however often it is given
        for k, inp in enumerate(todo):
            work = Path(tmp) / f"input{k + 1}"
            work.mkdir()
            try:
                mtz = inp.unmerged_mtz
                if mtz is None and inp.scaled_files is not None:
                    key = inp.scaled_files[0].resolve()
                    if key not in exported:
                        say(f"dials.export {inp.label} ({k + 1}/{len(todo)})")
                        exported[key] = export_mtz(*inp.scaled_files, work, dials)
                    mtz = exported[key]
                if mtz is None or not mtz.is_file():
                    inp.problems.append(f"{inp.unmerged_mtz}: not found (to recompute from)")
                    continue
                h = read_mtz_header(mtz)
                if h.merged:
                    inp.problems.append(f"{mtz}: merged data; unmerged is needed to recompute")
                    continue
                if h.d_max is None or h.d_min is None:
                    inp.problems.append(f"{mtz}: no resolution range in its header")
                    continue
                mtzs[k], ranges[k] = mtz, (h.d_max, h.d_min)
            except (ThasError, OSError, subprocess.SubprocessError) as exc:
                inp.problems.append(f"not recomputed: {str(exc).strip().splitlines()[0]}")
        rng = common_range(list(ranges.values()))
        if rng is None:
            if len(ranges) > 1:
                for k in ranges:
                    todo[k].problems.append("not recomputed: the resolution ranges do not overlap")
            return
        comparison.recompute_range = rng
        comparison.recompute_program = PROGRAM
        done: dict[Path, tuple[dict, dict | None]] = {}
        for n, (k, mtz) in enumerate(mtzs.items(), 1):
            inp = todo[k]
            say(f"{PROGRAM} {inp.label} ({n}/{len(mtzs)})")
            try:
                key = mtz.resolve()
                if key not in done:
                    work = Path(tmp) / f"input{k + 1}"
                    doc = merging_statistics(mtz, work, rng, dials)
                    try:
                        anom = merging_statistics(mtz, work, rng, dials, anomalous=True)
                    except (ThasError, OSError, ValueError, subprocess.SubprocessError) as exc:
                        anom = None  # the main statistics stand without the anomalous rows
                        inp.problems.append(
                            f"anomalous statistics not recomputed: {str(exc).splitlines()[0]}"
                        )
                    done[key] = (doc, anom)
                inp.recomputed, inp.recomputed_bins = shells_from_statistics(*done[key])
            except (ThasError, OSError, ValueError, subprocess.SubprocessError) as exc:
                inp.problems.append(f"not recomputed: {str(exc).strip().splitlines()[0]}")


def bins_equal(a: ResolutionBins, b: ResolutionBins, digits: int = 2) -> bool:
    """The same bin edges to `digits` decimals (Å)."""
    return len(a) == len(b) and bool(
        np.allclose(np.round(a.d_min, digits), np.round(b.d_min, digits))
    )

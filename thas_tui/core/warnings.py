"""What an experienced crystallographer would distrust in a stage's result, with what to try."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from thas_tui.core.errors import UnreadableFile

# Thresholds: the rules of thumb of DIALS's tutorials and of beamline staff, not hard limits.
MIN_INDEXED = 0.80  # fraction of strong spots indexed
MAX_RMSD_PX = 1.0  # refined positional RMSD, pixels
MAX_RMSD_IMAGES = 0.5  # refined rotational RMSD, image widths
OUTER_CC_HALF = 0.3  # DIALS's own CC½ limit for its resolution fit
OUTER_COMPLETENESS_RATIO = 0.5  # outer shell against overall completeness
MIN_SPOTS_TO_JUDGE = 20  # median spots per image below which per-image counts are noise
BLANK_FRACTION = 0.1  # an image with fewer spots than this × the median is blank
DYING_RATIO = 0.33  # last fifth of a sweep against its first fifth

STILLS_HINT = (
    "DIALS processes stills with dials.stills_process (one image at a time: index and integrate "
    "each); thas-tui runs the rotation pipeline only. Give it a rotation sweep: the images of "
    "one scan, e.g. `thas-tui run /data/xtal_1_*.cbf`."
)


@dataclass(frozen=True)
class Concern:
    """One thing to distrust: what was seen, why it matters, and the parameter to try."""

    stage: str
    what: str
    why: str
    try_: str

    def as_dict(self) -> dict[str, str]:
        d = asdict(self)
        d["try"] = d.pop("try_")
        return d

    def text(self) -> str:
        return f"{self.what}: {self.why}. Try: {self.try_}"


def not_a_rotation_sweep(workdir: Path) -> str | None:
    """Why imported.expt is not a rotation sweep (stills, or a single image), else None."""
    from thas_tui.core.readers.expt import read_expt

    try:
        expts = read_expt(Path(workdir) / "imported.expt")
    except (UnreadableFile, OSError):
        return None
    if not expts.experiments:
        return None
    scans = [e.scan for e in expts.experiments]
    if any(s is None for s in scans):
        n = len(scans)
        what = "one image" if n == 1 else f"{n} images"
        return f"{what} without a rotation scan (stills)."
    if all(s.num_images < 2 for s in scans):
        s = scans[0]
        return (
            f"one image ({s.oscillation_width:g}° wide). Indexing may work, but DIALS integrates"
            " a rotation over several images, and one image gives it too few reflections."
        )
    return None


# --- per stage -------------------------------------------------------------------------------


def _import(workdir: Path) -> list[Concern]:
    reason = not_a_rotation_sweep(workdir)
    if reason is None:
        return []
    return [
        Concern(
            "import",
            f"not a rotation sweep: {reason.rstrip('.')}",
            "the rotation pipeline (index, refine, integrate, scale) needs a sweep",
            STILLS_HINT,
        )
    ]


def spot_count_concerns(counts: np.ndarray, first_image: int, label: str = "") -> list[Concern]:
    """Blank images and a dying sweep in one sweep's per-image spot counts."""
    out: list[Concern] = []
    n = len(counts)
    if n < 5:
        return out
    median = float(np.median(counts))
    if median < MIN_SPOTS_TO_JUDGE:
        return out
    blank = np.flatnonzero(counts < BLANK_FRACTION * median)
    where = f" of {label}" if label else ""
    if len(blank):
        images = [first_image + int(i) for i in blank]
        shown = _ranges(images)
        out.append(
            Concern(
                "find_spots",
                f"{len(images)} blank image{'s' if len(images) > 1 else ''}{where} ({shown}):"
                f" under {BLANK_FRACTION:.0%} of the median {median:.0f} spots",
                "the beam, the shutter or the crystal was off for those images; they add"
                " nothing but noise to scaling",
                "exclude them: dials.import image_range=FIRST,LAST (or dials.scale"
                " exclude_images=...)",
            )
        )
    fifth = max(n // 5, 1)
    head, tail = float(np.mean(counts[:fifth])), float(np.mean(counts[-fifth:]))
    if head > 0 and tail < DYING_RATIO * head:
        out.append(
            Concern(
                "find_spots",
                f"a dying sweep{where}: {tail:.0f} spots per image at the end against"
                f" {head:.0f} at the start",
                "radiation damage (or the crystal leaving the beam): the last images measure"
                " a different, damaged crystal",
                "keep the good start: dials.import image_range=FIRST,LAST, or let"
                " dials.scale judge the damage (its B-factor and ΔCC½ per image)",
            )
        )
    return out


def _ranges(images: list[int]) -> str:
    """'3, 7–9, 12' for [3, 7, 8, 9, 12] (at most 6 groups shown)."""
    groups: list[list[int]] = []
    for i in images:
        if groups and i == groups[-1][-1] + 1:
            groups[-1].append(i)
        else:
            groups.append([i])
    parts = [f"{g[0]}–{g[-1]}" if len(g) > 1 else str(g[0]) for g in groups]
    return ", ".join(parts[:6]) + (", …" if len(parts) > 6 else "")


def _find_spots(workdir: Path) -> list[Concern]:
    from thas_tui.core.readers import refl
    from thas_tui.core.readers.expt import read_expt

    expts = read_expt(workdir / "imported.expt")
    scans = [e.scan for e in expts.experiments]
    if not scans or any(s is None for s in scans):
        return []
    table = refl.read_refl(workdir / "strong.refl", columns=("xyzobs.px.value", "id"))
    out: list[Concern] = []
    for i, scan in enumerate(scans):
        counts = refl.spots_per_image(table, scan.image_range, i if len(scans) > 1 else None)
        label = f"sweep {i + 1}" if len(scans) > 1 else ""
        out += spot_count_concerns(counts, scan.image_range[0], label)
    return out


def _index(workdir: Path) -> list[Concern]:
    from thas_tui.core.readers import refl

    table = refl.read_refl(workdir / "indexed.refl", columns=("flags",))
    frac = refl.indexed_fraction(table)
    if frac is None or frac >= MIN_INDEXED:
        return []
    return [
        Concern(
            "index",
            f"only {100 * frac:.0f}% of the strong spots indexed",
            "the rest belong to something the model does not explain: a second lattice, ice"
            " rings, a split crystal, or a wrong beam centre or distance",
            "dials.index max_lattices=2 (a second crystal); dials.find_spots"
            " ice_rings.filter=True (ice); dials.search_beam_position (the beam centre)",
        )
    ]


def bravais_concern(solutions: list, choice: int | None) -> Concern | None:
    """The chosen Bravais solution against DIALS's recommendation, when they differ."""
    if choice is None or not solutions:
        return None
    from thas_tui.core.stage_info import recommended_solution

    chosen = next((s for s in solutions if s.solution == choice), None)
    if chosen is None:
        return None
    best = recommended_solution(solutions)
    if not any(s.recommended for s in solutions):
        return None
    if not chosen.recommended:
        return Concern(
            "refine_bravais_settings",
            f"solution #{chosen.solution} ({_lattice(chosen)}) chosen, which DIALS does not"
            f" recommend (metric fit {_num(chosen.metric_fit)}°, rmsd {_num(chosen.rmsd)})",
            "its lattice distorts the cell beyond what the spots allow: refinement and"
            " integration in it will be poor",
            f"a recommended solution (DIALS's best: #{best.solution} {_lattice(best)}): select"
            " Bravais settings and press e to re-run, then choose",
        )
    if best.solution != chosen.solution:
        return Concern(
            "refine_bravais_settings",
            f"#{chosen.solution} ({_lattice(chosen)}) chosen below the recommended"
            f" #{best.solution} ({_lattice(best)})",
            "a lower symmetry than the lattice allows refines more parameters than the data"
            " need (harmless when dials.symmetry later finds the higher one)",
            f"choose #{best.solution} unless you know the lattice is pseudo-symmetric",
        )
    return None


def _lattice(solution) -> str:
    # bravais_summary.json's solutions say .bravais, the log parser's .lattice
    return getattr(solution, "bravais", None) or getattr(solution, "lattice", "")


def _num(v: float | None) -> str:
    return "?" if v is None else f"{v:.3g}"


def _bravais(workdir: Path) -> list[Concern]:
    from thas_tui.core.journal import Journal
    from thas_tui.core.stage_info import bravais_solutions

    choice = Journal(workdir).last_choice()
    c = bravais_concern(bravais_solutions(workdir), choice[0] if choice else None)
    return [c] if c is not None else []


def rmsd_concern(x: float | None, y: float | None, z: float | None) -> Concern | None:
    """Refined RMSDs in pixels (x, y) and images (z) above what a good model reaches."""
    bad = []
    if x is not None and x > MAX_RMSD_PX:
        bad.append(f"X {x:.2f} px")
    if y is not None and y > MAX_RMSD_PX:
        bad.append(f"Y {y:.2f} px")
    if z is not None and z > MAX_RMSD_IMAGES:
        bad.append(f"φ {z:.2f} images")
    if not bad:
        return None
    return Concern(
        "refine",
        f"RMSD {', '.join(bad)} (a good model: under {MAX_RMSD_PX:g} px and"
        f" {MAX_RMSD_IMAGES:g} image)",
        "predictions miss the spots: the geometry (beam centre, distance), the lattice or the"
        " crystal model is off, and integration will measure the wrong pixels",
        "dials.refine scan_varying=True (a crystal that moves); re-index with"
        " dials.search_beam_position first; outlier.algorithm=tukey",
    )


def _refine(workdir: Path) -> list[Concern]:
    from thas_tui.core.parsers import registry
    from thas_tui.core.stage_info import read_stage_log

    log = registry.parse_log("refine", read_stage_log(workdir, "refine"))
    run = (log.scan_varying or log.static) if log is not None else None
    if run is None or not run.rmsds:
        return []
    r = run.rmsds[-1]
    c = rmsd_concern(r.rmsd_x, r.rmsd_y, r.rmsd_z)
    return [c] if c is not None else []


def merging_concerns(stage: str, log) -> list[Concern]:
    """The outer shell against the rest, and a resolution cut DIALS suggests, from a scale/merge log."""
    out: list[Concern] = []
    s = getattr(log, "summary", None)
    suggested = getattr(log, "suggested_d_min", None)
    program = f"dials.{stage}"
    if suggested is not None and s is not None and s.d_min is not None:
        out.append(
            Concern(
                stage,
                f"DIALS suggests cutting the resolution at {suggested:.2f} Å (the data go to"
                f" {_num(s.d_min.overall)} Å)",
                "beyond it CC½ falls under 0.3 (DIALS's fit): the outer shells add noise",
                f"{program} d_min={suggested:.2f}",
            )
        )
    if s is None:
        return out
    cc, comp = s.cc_half, s.completeness
    d_high = s.d_min.high if s.d_min is not None else None
    shell = f"outer shell ({_num(d_high)} Å)" if d_high is not None else "outer shell"
    if cc is not None and cc.high is not None and cc.overall is not None:
        if cc.high < OUTER_CC_HALF and cc.overall >= 0.9 and suggested is None:
            out.append(
                Concern(
                    stage,
                    f"CC½ {cc.high:.3f} in the {shell} against {cc.overall:.3f} overall",
                    "the outer shell is mostly noise",
                    f"{program} d_min=... (a resolution where CC½ ≥ {OUTER_CC_HALF:g})",
                )
            )
    if comp is not None and comp.high is not None and comp.overall:
        if comp.high < OUTER_COMPLETENESS_RATIO * comp.overall:
            out.append(
                Concern(
                    stage,
                    f"{comp.high:.1f}% complete in the {shell} against {comp.overall:.1f}% overall",
                    "only the detector corners reach that resolution: the shell is sampled in"
                    " part, and its statistics mislead",
                    f"{program} d_min=... at the resolution of the detector's edge",
                )
            )
    return out


def _merging(stage: str) -> Callable[[Path], list[Concern]]:
    def fn(workdir: Path) -> list[Concern]:
        from thas_tui.core.parsers import registry
        from thas_tui.core.stage_info import read_stage_log

        log = registry.parse_log(stage, read_stage_log(workdir, stage))
        return merging_concerns(stage, log) if log is not None else []

    return fn


_CHECKS: dict[str, Callable[[Path], list[Concern]]] = {
    "import": _import,
    "find_spots": _find_spots,
    "index": _index,
    "refine_bravais_settings": _bravais,
    "refine": _refine,
    "scale": _merging("scale"),
    "merge": _merging("merge"),
}


def for_stage(stage: str, workdir: str | Path) -> list[Concern]:
    """The concerns about a finished stage's result, read from its files (none when unreadable)."""
    fn = _CHECKS.get(stage)
    if fn is None:
        return []
    try:
        return fn(Path(workdir))
    except (UnreadableFile, OSError, ValueError, KeyError, IndexError):
        return []  # a missing or damaged file is an issue elsewhere, not a concern here

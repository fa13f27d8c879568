"""Build each stage's DIALS command line (an argv list of PHIL key=value tokens; never a shell)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from thas_tui.core.errors import ThasError
from thas_tui.core.pipeline import SPECS


class BadParameter(ThasError):
    """A PHIL parameter given by the user that cannot be passed to DIALS safely."""


# A PHIL assignment: dotted name, '=', a value with no newline. A value that starts with '-'
# could be read as a flag, and a bare word as a file name: both are refused.
_PHIL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def validate_phil(token: str) -> str:
    """Return ``token`` if it is one ``name=value`` PHIL assignment, else raise BadParameter."""
    if "=" not in token:
        raise BadParameter(f"Parameter {token!r} is not of the form name=value (e.g. d_min=2.0).")
    name, value = token.split("=", 1)
    name = name.strip()
    if not _PHIL_NAME.match(name):
        raise BadParameter(
            f"Parameter name {name!r} is not a PHIL name (letters, digits, _ and .)."
        )
    if any(c in value for c in "\n\r\0"):
        raise BadParameter(f"The value of {name} has a line break in it.")
    if value.strip().startswith("-"):
        # DIALS reads '-x' as a command-line flag; negative numbers must not start the value.
        if not re.match(r"^\s*-\d", value):
            raise BadParameter(f"The value of {name} starts with '-' and would be read as a flag.")
    return f"{name}={value.strip()}"


@dataclass
class RunConfig:
    """What the user asked for: images, processors, and extra PHIL per stage."""

    images: list[str] = field(default_factory=list)
    nproc: int = 2
    # Bursts of per-image lines every few seconds instead of every minute (DIALS-NOTES).
    find_spots_chunksize: int = 5
    extra: dict[str, list[str]] = field(default_factory=dict)
    # The demo's generator command (run under DIALS's Python) and its preset.
    simulate_argv: list[str] = field(default_factory=list)
    demo_preset: str | None = None
    # Stop after this stage (None: run to the end).
    until: str | None = None
    # A Mask stage runs: find_spots and index read masked.expt instead of imported.expt.
    mask: bool = False

    def set_extra(self, stage: str, tokens: list[str]) -> None:
        """Replace the user's extra PHIL for ``stage`` (each token validated)."""
        self.extra[stage] = [validate_phil(t) for t in tokens]


# Between the commands of a stage that runs more than one (Mask): shown as a shell would show
# the sequence, split by the orchestrator, never given to a shell.
CHAIN = "&&"


def split_chain(argv: list[str]) -> list[list[str]]:
    """The separate commands of a stage's argv (one for every stage but Mask)."""
    out: list[list[str]] = [[]]
    for token in argv:
        if token == CHAIN:
            out.append([])
        else:
            out[-1].append(token)
    return [cmd for cmd in out if cmd]


def bravais_expt(solution: int) -> str:
    return f"bravais_setting_{solution}.expt"


def stage_args(
    stage: str,
    config: RunConfig,
    bravais_choice: int | None = None,
    cb_op: str | None = None,
) -> list[str]:
    """Arguments (after the program name) for ``stage``, with the tutorial's file names."""
    nproc = f"nproc={config.nproc}"
    experiments = "masked.expt" if config.mask else "imported.expt"
    if stage == "simulate":
        return list(config.simulate_argv)
    if stage == "import":
        if not config.images:
            raise ThasError("No images given to import.")
        args = [str(Path(p).expanduser().resolve()) for p in config.images]
    elif stage == "mask":
        # The user's extra PHIL belongs to generate_mask; apply_mask is given by stage_argv.
        args = ["imported.expt", "mask.phil"]
    elif stage == "find_spots":
        args = [experiments, nproc, f"spotfinder.mp.chunksize={config.find_spots_chunksize}"]
    elif stage == "index":
        # indexed.expt carries the mask on to refinement and integration.
        args = [experiments, "strong.refl"]
    elif stage == "refine_bravais_settings":
        args = ["indexed.expt", "indexed.refl", nproc]
    elif stage == "reindex":
        if not cb_op:
            raise ThasError("reindex needs a Bravais solution: pick one first.")
        args = ["indexed.refl", f"change_of_basis_op={cb_op}"]
    elif stage == "refine":
        if bravais_choice is None:
            raise ThasError("refine needs a Bravais solution: pick one first.")
        args = [
            bravais_expt(bravais_choice),
            "reindexed.refl",
            "output.history=refine_history.json",
        ]
    elif stage == "integrate":
        args = ["refined.expt", "refined.refl", nproc, "output.report=integration_report.json"]
    elif stage == "symmetry":
        args = ["integrated.expt", "integrated.refl"]
    elif stage == "scale":
        args = ["symmetrized.expt", "symmetrized.refl", "output.json=dials.scale.json"]
    elif stage == "export":
        args = ["scaled.expt", "scaled.refl"]
    elif stage == "merge":
        args = ["scaled.expt", "scaled.refl", "output.json=dials.merge.json"]
    else:
        raise KeyError(stage)
    return args + list(config.extra.get(stage, []))


def stage_argv(
    stage: str,
    config: RunConfig,
    program_path: str | None = None,
    bravais_choice: int | None = None,
    cb_op: str | None = None,
) -> list[str]:
    """The full argv for ``stage``: program (absolute when known) then its arguments."""
    if stage == "simulate":
        return stage_args(stage, config)
    program = program_path or SPECS[stage].program
    argv = [program, *stage_args(stage, config, bravais_choice, cb_op)]
    if stage == "mask":
        # dials.apply_mask sits beside dials.generate_mask (same bin directory or bundle).
        apply = (
            str(Path(program).with_name("dials.apply_mask"))
            if "/" in program
            else "dials.apply_mask"
        )
        argv += [CHAIN, apply, "imported.expt", "mask=pixels.mask"]
    return argv

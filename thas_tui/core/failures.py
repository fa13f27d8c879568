"""Classify why a stage failed, from its exit status and the end of its log (as xia2 does)."""

from __future__ import annotations

import errno
import re
import signal
from dataclasses import dataclass
from pathlib import Path

from thas_tui.core.parsers.common import find_failure


@dataclass(frozen=True)
class Failure:
    """A failed stage explained: one-line reason, detail lines, and what to try."""

    # "signal", "oom", "disk", "traceback", "sorry", "exit", "cancelled", "input", "limit"
    kind: str
    reason: str
    detail: list[str]
    hint: str = ""
    # PHIL tokens that get the stage past a known DIALS limit: re-run with them (one key).
    fix: tuple[str, ...] = ()

    def text(self) -> str:
        parts = [self.reason, *self.detail]
        if self.hint:
            parts.append(self.hint)
        return "\n".join(parts)


_SORRY = re.compile(r"^(?:\S+:\s+)?(Sorry|DialsIndexError|DialsIndexRefineError)[:\s]\s*(.*)$")
_INDEX_HINT = (
    "Try: more spots (dials.find_spots min_spot_size=2 or d_min=...), a known cell "
    "(dials.index unit_cell=... space_group=...), max_cell=..., or index a subset of images."
)


_PARAMETER_SORRY = re.compile(r"(Unknown|Ambiguous) (command line )?parameter definition")
_PARAMETER_HINT = (
    "Check the parameter's full name: {program} -c -e 2 lists them (with -a 1 their help). "
    "Change or remove it with e (Edit & re-run) on the stage, or --phil STAGE:NAME=VALUE."
)
DISK_HINT = (
    "Free some space (df -h shows what is left), or process in a --dir on a bigger filesystem; "
    "then re-run the stage. Earlier stages' results are kept."
)
_MEMORY_HINT = "Try fewer processes (nproc=1) or smaller blocks, or a machine with more memory."


def disk_full(exc: OSError) -> bool:
    """A write refused for lack of space, or by a file-size or quota limit."""
    return exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


# What Python and C++ code print when a write fails for lack of space (or a size/quota limit).
_DISK_FULL = re.compile(
    r"No space left on device|File too large|Disk quota exceeded|\[Errno (?:28|27|122)\]"
)
_NO_MEMORY = re.compile(r"\bMemoryError\b|std::bad_alloc|Cannot allocate memory")


def _disk_or_memory(program: str, exit_code: int, log_tail: list[str]) -> Failure | None:
    """A failed write for lack of space, or an allocation that failed, anywhere in the tail."""
    for line in reversed(log_tail):
        if _DISK_FULL.search(line):
            return Failure(
                "disk",
                f"{program} could not write its output: the disk is full (or a file-size/quota "
                f"limit was hit), exit code {exit_code}.",
                [line.strip()],
                DISK_HINT,
            )
    for line in reversed(log_tail):
        if _NO_MEMORY.search(line):
            return Failure(
                "oom",
                f"{program} ran out of memory (exit code {exit_code}).",
                [line.strip()],
                _MEMORY_HINT,
            )
    return None


_IMPORT_HINT = (
    "An image file could not be read: it may be truncated (a copy still in progress) or not a "
    "diffraction image. dials.show FILE checks one file."
)


# What DIALS 3.12 prints when HDF5 cannot read an EIGER/NeXus sweep (EIGER-NOTES.md): the
# exception lines end a traceback, which would otherwise be shown as a bare crash.
_NO_PLUGIN_DIR = re.compile(r"can't open directory: ?([^)]*)\)")
_UNREGISTERED = re.compile(
    r"required filter (?:'([^';]*)[^']*'|\(name unavailable\)) is not registered"
)
_DLOPEN = re.compile(r"can't dlopen:? ?([^:]+\.so)")
_EXTERNAL = re.compile(r"unable to open external file, external link file name = '([^']+)'")
_DANGLING = re.compile(
    r"KeyError: .Please report this error to dials-support@lists\.sourceforge\.net: (data_\d+)"
)
_LOCKED = re.compile(r"unable to lock file")
_TRUNCATED = re.compile(r"truncated file: eof = (\d+).*stored_eof = (\d+)")
_PLUGIN_HINT = (
    "EIGER data are usually bitshuffle/LZ4 compressed (HDF5 filter 32008): install Debian's "
    "bitshuffle package (apt-get install bitshuffle), or set HDF5_PLUGIN_PATH to a folder "
    "holding the filter's plugin; then re-run the stage."
)
_DATA_FILE_HINT = (
    "Copy the master file's data files (NAME_data_NNNNNN.h5) beside it, or wait for the "
    "collection to end; then re-run import."
)


def _hdf5_failure(program: str, exit_code: int, log_tail: list[str]) -> Failure | None:
    """An HDF5 read that failed: filter plugin, missing data file, file still being written."""
    for line in reversed(log_tail):
        if (
            "Please report this error" not in line
            and "Unable to" not in line
            and ("Can't read data" not in line)
        ):
            continue
        text = line.strip()
        m = _DLOPEN.search(text)
        if m:
            return Failure(
                "exit",
                f"{program} could not decode the images: the HDF5 plugin {m[1]} fails to load, "
                "and HDF5 then gives up on every compression filter.",
                [text],
                "Remove the package that installed it (on Debian: hdf5-plugin-lzf). "
                + _PLUGIN_HINT,
            )
        m = _UNREGISTERED.search(text)
        if m:
            name = m[1] or "a filter HDF5 does not know by name"
            return Failure(
                "exit",
                f"{program} could not decode the images: they are compressed with {name}, "
                "and no HDF5 plugin for it is installed.",
                [text],
                _PLUGIN_HINT,
            )
        m = _NO_PLUGIN_DIR.search(text)
        if m:
            return Failure(
                "exit",
                f"{program} could not decode the images: they are compressed with a filter "
                f"that needs an HDF5 plugin, and none is installed ({m[1].strip()} does not exist).",
                [text],
                _PLUGIN_HINT,
            )
        m = _EXTERNAL.search(text)
        if m:
            return Failure(
                "exit",
                f"{program} could not open the data file {m[1]} that the master file links to.",
                [text],
                _DATA_FILE_HINT,
            )
        m = _DANGLING.search(text)
        if m:
            return Failure(
                "exit",
                f"{program} could not follow the master file's link {m[1]}: its data file is "
                "missing.",
                [text],
                _DATA_FILE_HINT,
            )
        m = _TRUNCATED.search(text)
        if m:
            return Failure(
                "exit",
                f"{program} read an HDF5 file shorter than its header says ({m[1]} of {m[2]} "
                "bytes): it is still being written or was copied incompletely.",
                [text],
                "Wait for the collection or copy to end, then re-run the stage.",
            )
        if _LOCKED.search(text):
            return Failure(
                "exit",
                f"{program} could not open an HDF5 file: another program holds its lock "
                "(the collection or a copy is still writing it).",
                [text],
                "Wait for the collection or copy to end, then re-run the stage.",
            )
    return None


def signal_name(code: int | None) -> str | None:
    """Name of the signal for a negative returncode (or 128+N shell style)."""
    if code is None:
        return None
    num = -code if code < 0 else (code - 128 if code > 128 and code - 128 < 65 else None)
    if num is None:
        return None
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


_MIN_SPOTS_GOT = re.compile(r"got\s+(\d+) per degree and (\d+) in total")
_MIN_SPOTS_NEED = re.compile(r"need\s+(\d+) per degree or\s+(\d+) in total")
# Where dials.merge 3.12 crashes after writing its table when there are very few observations:
# both in the JSON report (output.json), which xtriage and the anomalous statistics feed.
_MERGE_REPORT_CRASH = ("merge_data_to_mtz_with_report_collection", "generate_json_data")


def with_fix(tokens: list[str], fix: tuple[str, ...]) -> list[str]:
    """A stage's extra PHIL tokens with ``fix`` applied (a fix replaces a token of its name)."""
    names = {t.split("=", 1)[0] for t in fix}
    return [t for t in tokens if t.split("=", 1)[0] not in names] + list(fix)


def _known_limit(program: str, exit_code: int, log_tail: list[str]) -> Failure | None:
    """DIALS limits a narrow wedge of few spots runs into, each with the parameters to change."""
    text = "\n".join(log_tail)
    if program.endswith("dials.integrate") and "Too few reflections for profile modelling" in text:
        got, need = _MIN_SPOTS_GOT.search(text), _MIN_SPOTS_NEED.search(text)
        per_degree, total = (int(got.group(1)), int(got.group(2))) if got else (3, 6)
        fix = (
            f"profile.gaussian_rs.min_spots.per_degree={max(1, per_degree // 3)}",
            f"profile.gaussian_rs.min_spots.overall={max(1, total // 3)}",
        )
        found = f"{total} reference reflections ({per_degree} per degree)" if got else "too few"
        needed = f"{need.group(1)} per degree or {need.group(2)} in total" if need else "more"
        return Failure(
            "limit",
            f"{program} stopped: too few strong reflections to model the spot profiles "
            f"(found {found}; its defaults need {needed}).",
            [],
            "Narrow wedges with few spots need lower minima: "
            + " ".join(fix)
            + ". Re-run integrate with them: F in the dashboard (e edits them first; "
            "thas-tui attach DIR opens the dashboard on a headless run).",
            fix,
        )
    if program.endswith("dials.merge") and any(k in text for k in _MERGE_REPORT_CRASH):
        return Failure(
            "limit",
            f"{program} crashed after merging (exit code {exit_code}): DIALS 3.12 cannot write "
            "its JSON report (xtriage and anomalous statistics) for so few observations.",
            [ln.strip() for ln in log_tail if ln.strip()][-1:],
            "Merge without the report: output.json=None output.html=None (merged.mtz and the "
            "merging table in "
            "the log are still written). Re-run merge so: F in the dashboard (thas-tui attach "
            "DIR opens it on a headless run).",
            ("output.json=None", "output.html=None"),
        )
    return None


def classify(
    program: str,
    exit_code: int | None,
    log_tail: list[str],
    peak_rss_mb: float | None = None,
    cancelled: bool = False,
) -> Failure | None:
    """Explain a finished process; ``None`` when it succeeded."""
    if cancelled:
        return Failure("cancelled", f"{program} was cancelled by the user.", [])
    if exit_code == 0:
        return None
    sig = signal_name(exit_code)
    if sig == "SIGKILL":
        mem = f" after reaching {peak_rss_mb:.0f} MB" if peak_rss_mb else ""
        return Failure(
            "oom",
            f"{program} was killed (SIGKILL){mem}: most often the system ran out of memory.",
            log_tail[-3:],
            _MEMORY_HINT,
        )
    if sig is not None:
        mem = f" after reaching {peak_rss_mb:.0f} MB" if peak_rss_mb else ""
        return Failure("signal", f"{program} was stopped by {sig}{mem}.", log_tail[-3:])
    resource = _disk_or_memory(program, exit_code, log_tail) or _hdf5_failure(
        program, exit_code, log_tail
    )
    if resource is not None:
        return resource
    limit = _known_limit(program, exit_code, log_tail)
    if limit is not None:
        return limit
    # A Python traceback: show its last lines, where the exception is.
    for i in range(len(log_tail) - 1, -1, -1):
        if log_tail[i].startswith("Traceback (most recent call last)"):
            tb = [ln for ln in log_tail[i + 1 :] if ln.strip()]
            last = tb[-1].strip() if tb else ""
            # The exception line first: it is what a user needs when space is short.
            return Failure(
                "traceback", f"{program} crashed (exit code {exit_code}): {last}", tb[-6:-1]
            )
    hint = _INDEX_HINT if program.endswith("dials.index") else ""
    if program.endswith("dials.import"):
        hint = _IMPORT_HINT
    for i in range(len(log_tail) - 1, -1, -1):
        m = _SORRY.match(log_tail[i].strip())
        if m:
            if _PARAMETER_SORRY.search(m.group(2)):
                # A name DIALS does not know (or knows several of): not the data's fault.
                matches = [ln.rstrip() for ln in log_tail[i + 1 :] if ln.strip()][:8]
                return Failure(
                    "parameter",
                    f"{program} stopped: {m.group(2).strip()}",
                    matches,
                    _PARAMETER_HINT.format(program=Path(program).name),
                )
            return Failure("sorry", f"{program} stopped: {m.group(2).strip()}", [], hint)
    detail = [ln.rstrip() for ln in log_tail if ln.strip()][-8:]
    known = find_failure(log_tail)
    if known:
        return Failure("exit", f"{program} stopped (exit code {exit_code}): {known}", detail, hint)
    return Failure("exit", f"{program} failed with exit code {exit_code}.", detail, hint)


def unhandled_arguments(lines: list[str]) -> list[str]:
    """The inputs DIALS listed under "Unable to handle the following arguments:" (not images)."""
    out: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith("Unable to handle the following arguments"):
            for arg in lines[i + 1 :]:
                if not arg.startswith("  ") or not arg.strip():
                    break
                out.append(arg.strip())
            break
    return out


def missing_output(program: str, missing: list[str], log_head: list[str], log_tail: list[str]):
    """A program that exited 0 without writing its output: say why when DIALS said why."""
    unread = unhandled_arguments(log_head)
    if unread:
        shown = unread[:5] + ([f"… and {len(unread) - 5} more"] if len(unread) > 5 else [])
        return Failure(
            "exit",
            f"{program} could not read {len(unread)} input(s) as diffraction images.",
            shown,
            "Give image files DIALS can read (CBF, HDF5/NeXus master, SMV, …); "
            "dials.show FILE or dxtbx.show_headers FILE tells whether DIALS can read one.",
        )
    return Failure(
        "exit",
        f"{program} exited 0 but did not write {', '.join(missing)}.",
        [ln for ln in log_tail if ln.strip()][-5:],
    )


_REPORT_PREAMBLE = "Please report this error to dials-support@lists.sourceforge.net: "
_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*(?:Error|Exception)|Sorry): (.*)$")


def mask_failure(program: str, failure: Failure, log_tail: list[str], workdir) -> Failure:
    """A failed Mask stage: DIALS's own message in full (an exception line and the lines it
    continues on, without the 'report this error' preamble), and what is wrong in mask.phil."""
    from pathlib import Path

    from thas_tui.core.mask_spec import MaskSpec
    from thas_tui.core.stage_info import panel_sizes

    message: list[str] = []
    for i in range(len(log_tail) - 1, -1, -1):
        m = _EXCEPTION_LINE.match(log_tail[i].strip())
        if m:
            message = [m.group(1).replace(_REPORT_PREAMBLE, "").strip()]
            message += [ln.rstrip() for ln in log_tail[i + 1 :] if ln.strip()]
            break
    if not message or failure.kind in ("oom", "disk", "signal"):
        return failure
    workdir = Path(workdir)
    problems: list[str] = []
    try:
        spec = MaskSpec.from_phil((workdir / "mask.phil").read_text(errors="replace"))
        problems = list(spec.errors)
        sizes = panel_sizes(workdir / "imported.expt")
        if sizes:
            problems += spec.validate(sizes)
    except Exception:  # noqa: BLE001 - the check only adds a hint to DIALS's own message
        pass
    hint = "Fix mask.phil (or draw the mask again in the image view), then run Mask again."
    if problems:
        hint = "In mask.phil: " + " ".join(problems) + "\n" + hint
    return Failure(
        failure.kind,
        f"{program} refused mask.phil: {message[0]}",
        message[1:6],
        hint,
    )

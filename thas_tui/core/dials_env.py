"""Find the DIALS installation to drive: its programs, version and Python interpreter."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from thas_tui.core.errors import DialsNotFound, ThasError

ENV_VAR = "THAS_DIALS_DIR"
MIN_VERSION = (3, 0)

INSTALL_HINT = (
    "Install DIALS, then try again:\n"
    "  Debian/Ubuntu:  apt-get install -y dials\n"
    "  elsewhere:      download a DIALS bundle (https://dials.github.io/installation.html) and\n"
    "                  put its bin/ on PATH, or pass --dials-dir /path/to/dials/bin\n"
    f"                  (or set {ENV_VAR})."
)

_VERSION_RE = re.compile(r"DIALS\s+(\d+)\.(\w+)(?:\.(\S+))?")


class DialsTooOld(ThasError):
    """The DIALS found is older than thas-tui supports."""


@dataclass(frozen=True)
class DialsEnv:
    """Where DIALS lives and how to run it."""

    bin_dir: Path
    version: str
    python: str

    def program(self, name: str) -> str:
        """Absolute path of a DIALS program such as ``dials.index``."""
        return str(self.bin_dir / name)

    def subprocess_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for DIALS subprocesses: its bin first on PATH, no colour escapes."""
        env = dict(os.environ if base is None else base)
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        # DIALS's libtbx colours nothing when not on a tty, but be explicit for bundle builds.
        env.setdefault("NO_COLOR", "1")
        env["PYTHONUNBUFFERED"] = "1"
        return env


def version_tuple(version: str) -> tuple[int, int]:
    """(major, minor) of a version string like "3.12.1" or "3.dev.1460-g…" (dev → minor 999)."""
    m = re.match(r"(\d+)\.(\w+)", version)
    if not m:
        return (0, 0)
    minor = m.group(2)
    return (int(m.group(1)), int(minor) if minor.isdigit() else 999)


def _find_bin_dir(dials_dir: str | None, environ: dict[str, str]) -> Path:
    explicit = dials_dir or environ.get(ENV_VAR)
    if explicit:
        path = Path(explicit).expanduser()
        for candidate in (path, path / "bin", path / "build" / "bin"):
            if (candidate / "dials.import").is_file():
                return candidate.resolve()
        raise DialsNotFound(
            f"DIALS not found in {path}: there is no dials.import in it or in its bin/.\n"
            f"Pass the bin/ folder of a DIALS installation to --dials-dir (or {ENV_VAR})."
        )
    found = shutil.which("dials.import", path=environ.get("PATH"))
    if not found:
        raise DialsNotFound("DIALS is not installed: no dials.import on PATH.\n" + INSTALL_HINT)
    # Keep the PATH directory itself: Debian's /usr/bin entries are real files, bundles' are links.
    return Path(found).parent


def _python_for(bin_dir: Path) -> str:
    bundle_python = bin_dir / "dials.python"
    if bundle_python.is_file():
        return str(bundle_python)
    try:
        with open(bin_dir / "dials.import", "rb") as fh:
            first = fh.readline(512).decode("utf-8", "replace").strip()
    except OSError:
        first = ""
    if first.startswith("#!"):
        parts = first[2:].split()
        if parts and Path(parts[0]).name == "env" and len(parts) > 1:
            return shutil.which(parts[1]) or parts[1]
        if parts:
            return parts[0]
    return "python3"


def read_version(bin_dir: Path, timeout: float = 60.0) -> str:
    """Ask ``dials.version`` which DIALS this is ("3.12", "3.dev.1460-g…")."""
    exe = bin_dir / "dials.version"
    if not exe.exists():
        return "unknown"
    try:
        out = subprocess.run(
            [str(exe)], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    m = _VERSION_RE.search(out)
    if not m:
        return "unknown"
    return ".".join(p for p in m.groups() if p)


# The version of a DIALS located but not asked yet (locate_dials).
VERSION_PENDING = "…"
# What a dashboard watching a directory runs with when no DIALS was found: resuming says so.
NO_DIALS = DialsEnv(bin_dir=Path("/nonexistent"), version="not found", python="python3")


def locate_dials(dials_dir: str | None = None, environ: dict[str, str] | None = None) -> DialsEnv:
    """DIALS's programs and Python (``--dials-dir``, then ``$THAS_DIALS_DIR``, then PATH), its
    version not asked yet: ``dials.version`` is a DIALS start-up, a second or more in a bundle.
    Raises DialsNotFound."""
    env = dict(os.environ if environ is None else environ)
    bin_dir = _find_bin_dir(dials_dir, env)
    return DialsEnv(bin_dir=bin_dir, version=VERSION_PENDING, python=_python_for(bin_dir))


def with_version(dials: DialsEnv) -> DialsEnv:
    """``dials`` with the version its ``dials.version`` reports; DialsTooOld when it is too old."""
    version = read_version(dials.bin_dir)
    if version != "unknown" and version_tuple(version) < MIN_VERSION:
        raise DialsTooOld(
            f"DIALS {version} in {dials.bin_dir} is too old: thas-tui needs DIALS "
            f"{MIN_VERSION[0]}.{MIN_VERSION[1]} or newer.\n" + INSTALL_HINT
        )
    return DialsEnv(bin_dir=dials.bin_dir, version=version, python=dials.python)


def find_dials(dials_dir: str | None = None, environ: dict[str, str] | None = None) -> DialsEnv:
    """Locate DIALS (``--dials-dir``, then ``$THAS_DIALS_DIR``, then PATH) and check its version;
    raise DialsNotFound or DialsTooOld."""
    return with_version(locate_dials(dials_dir, environ))

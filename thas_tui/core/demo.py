"""The demo sweep: where it is cached, whether it is complete, and the command that makes it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

PRESETS = ("demo", "small", "session")

#: The generator, run under DIALS's Python (never imported here: it needs dxtbx).
GENERATOR = Path(__file__).resolve().parent.parent / "sim" / "simulate_sweep.py"

IMAGE_PREFIX = "thas_demo_"
INFO_NAME = "sweep_info.json"


def _generator_version(path: Path = GENERATOR) -> str:
    # A digest of the script itself rather than a hand-bumped number: any change to the
    # generator makes a new cache directory, so a stale sweep is never reused by mistake.
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return "unknown"


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/thas-tui`` (or ``~/.cache/thas-tui`` when it is unset or empty)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says relative values are invalid and must be ignored.
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "thas-tui"


def _check_preset(preset: str) -> None:
    if preset not in PRESETS:
        raise ValueError(f"unknown demo preset {preset!r} (choose one of {', '.join(PRESETS)})")


def demo_cache_dir(preset: str) -> Path:
    """Directory holding the complete sweep of ``preset`` for this generator version."""
    _check_preset(preset)
    return cache_root() / f"demo-{preset}-{_generator_version()}"


def read_info(preset: str) -> dict | None:
    """The generator's ``sweep_info.json`` for ``preset``, or None when absent or unreadable."""
    try:
        info = json.loads((demo_cache_dir(preset) / INFO_NAME).read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def image_paths(preset: str) -> list[Path]:
    """The cached images of ``preset`` in order (empty when the sweep is not cached)."""
    info = read_info(preset)
    n = info.get("n_images") if info else None
    if not isinstance(n, int) or n < 1:
        return []
    directory = demo_cache_dir(preset)
    return [directory / f"{IMAGE_PREFIX}{i:05d}.cbf" for i in range(1, n + 1)]


def template(preset: str) -> str:
    """The images as a DIALS template (``.../thas_demo_#####.cbf``)."""
    return str(demo_cache_dir(preset) / f"{IMAGE_PREFIX}#####.cbf")


def is_cached(preset: str) -> bool:
    """True when the cache holds ``sweep_info.json`` and every image it lists, none empty."""
    paths = image_paths(preset)
    if not paths:
        return False
    try:
        return all(p.stat().st_size > 0 for p in paths)
    except OSError:
        return False


def generation_argv(python: str, preset: str, out_dir: Path | None = None) -> list[str]:
    """The command that makes the sweep of ``preset`` under DIALS's ``python``.

    The generator writes into a temporary sibling of ``out_dir`` (default: the cache directory)
    and renames it into place only when every image and ``sweep_info.json`` are written, so an
    interrupted run never leaves a directory that :func:`is_cached` would accept.
    """
    _check_preset(preset)
    out = Path(out_dir) if out_dir is not None else demo_cache_dir(preset)
    return [python, str(GENERATOR), "--out", str(out), "--preset", preset, "--atomic"]

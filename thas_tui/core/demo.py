"""The demo sweep: where it is cached, whether it is complete, and the command that makes it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

#: ``--detector`` of ``thas-tui demo``: the PILATUS (CBF) sweep, or an EIGER (NeXus) one.
DETECTORS = ("pilatus", "eiger")

_SIM = Path(__file__).resolve().parent.parent / "sim"
#: The generators, run under DIALS's Python (never imported here: they need dxtbx).
GENERATOR = _SIM / "simulate_sweep.py"
EIGER_GENERATOR = _SIM / "simulate_eiger.py"
#: The CBF generator's presets (image count, oscillation, distance), read by it too.
PRESETS_FILE = _SIM / "presets.json"


def _read_presets(path: Path = PRESETS_FILE) -> dict[str, dict]:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in raw.items() if isinstance(v, dict)} if isinstance(raw, dict) else {}


_PRESET_ENTRIES = _read_presets()
#: "demo" (the default), "small" (tests), "full" (800 images, benchmarks), "session" (tests).
PRESETS = tuple(_PRESET_ENTRIES)
#: The EIGER (NXmx) sweeps of ``thas-tui demo --detector eiger``: "eiger-" and the size.
EIGER_PRESETS = ("eiger-demo", "eiger-small")

IMAGE_PREFIX = "thas_demo_"
EIGER_PREFIX = "thas_eiger"
INFO_NAME = "sweep_info.json"


def preset_for(detector: str, size: str) -> str:
    """The preset of ``--detector`` and ``--preset`` ("eiger", "small" -> "eiger-small")."""
    return size if detector == "pilatus" else f"{detector}-{size}"


def is_eiger(preset: str) -> bool:
    """True for the presets written as an NXmx master file and data files."""
    return preset in EIGER_PRESETS


def _generator_version(
    path: Path = GENERATOR, *more: Path, preset_entry: dict | None = None
) -> str:
    # A digest of the scripts and of this preset's own entry rather than a hand-bumped number:
    # any change to the generator makes a new cache directory, so a stale sweep is never reused
    # by mistake, while retuning one preset leaves the others' (an 800-image sweep) cached.
    digest = hashlib.sha256()
    try:
        for p in (path, *more):
            digest.update(p.read_bytes())
    except OSError:
        return "unknown"
    if preset_entry is not None:
        digest.update(json.dumps(preset_entry, sort_keys=True).encode())
    return digest.hexdigest()[:12]


def _version_of(preset: str) -> str:
    # The EIGER generator imports the CBF one's crystal and physics: both make its sweep.
    if is_eiger(preset):
        return _generator_version(EIGER_GENERATOR, GENERATOR)
    return _generator_version(preset_entry=_PRESET_ENTRIES.get(preset))


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/thas-tui`` (or ``~/.cache/thas-tui`` when it is unset or empty)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says relative values are invalid and must be ignored.
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "thas-tui"


def _check_preset(preset: str) -> None:
    if preset not in PRESETS and not is_eiger(preset):
        raise ValueError(f"unknown demo preset {preset!r} (choose one of {', '.join(PRESETS)})")


def demo_cache_dir(preset: str) -> Path:
    """Directory holding the complete sweep of ``preset`` for this generator version."""
    _check_preset(preset)
    return cache_root() / f"demo-{preset}-{_version_of(preset)}"


def crystal_d_min(preset: str) -> float | None:
    """The preset crystal's diffraction limit (A), or None when it diffracts past the corners."""
    _check_preset(preset)
    value = _PRESET_ENTRIES.get(preset, {}).get("d_min")
    return float(value) if isinstance(value, (int, float)) else None


def read_info(preset: str) -> dict | None:
    """The generator's ``sweep_info.json`` for ``preset``, or None when absent or unreadable."""
    try:
        info = json.loads((demo_cache_dir(preset) / INFO_NAME).read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def image_paths(preset: str) -> list[Path]:
    """The cached images of ``preset`` in order (empty when the sweep is not cached): the
    master file alone for an EIGER preset, which is what dials.import is given."""
    info = read_info(preset)
    n = info.get("n_images") if info else None
    if not isinstance(n, int) or n < 1:
        return []
    directory = demo_cache_dir(preset)
    if is_eiger(preset):
        return [directory / f"{EIGER_PREFIX}_master.h5"]
    return [directory / f"{IMAGE_PREFIX}{i:05d}.cbf" for i in range(1, n + 1)]


def template(preset: str) -> str:
    """The images as a DIALS template (``.../thas_demo_#####.cbf``), or the master file."""
    if is_eiger(preset):
        return str(demo_cache_dir(preset) / f"{EIGER_PREFIX}_master.h5")
    return str(demo_cache_dir(preset) / f"{IMAGE_PREFIX}#####.cbf")


def _all_files(preset: str) -> list[Path]:
    """Every file the sweep needs: the images, or the master file and its data files."""
    paths = image_paths(preset)
    if paths and is_eiger(preset):
        data = (read_info(preset) or {}).get("data_files")
        if not isinstance(data, list) or not data:
            return []
        paths += [demo_cache_dir(preset) / str(name) for name in data]
    return paths


def is_cached(preset: str) -> bool:
    """True when the cache holds ``sweep_info.json`` and every file it lists, none empty."""
    paths = _all_files(preset)
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
    if is_eiger(preset):
        size = preset.removeprefix("eiger-")
        return [python, str(EIGER_GENERATOR), "--out", str(out), "--preset", size, "--atomic"]
    return [python, str(GENERATOR), "--out", str(out), "--preset", preset, "--atomic"]

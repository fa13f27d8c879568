"""Shared helpers of the JSON readers: load with a clear UnreadableFile, coerce numbers safely."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from thas_tui.core.errors import UnreadableFile


def load_json(path: str | Path, what: str, producer: str) -> Any:
    """Decoded JSON of `path`; UnreadableFile naming the file, the problem and `producer`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(
            f"{path}: cannot read the {what} ({exc.strerror}). Check the path."
        ) from exc
    if not raw.strip():
        raise UnreadableFile(f"{path}: the {what} is empty. Re-run {producer}.")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise UnreadableFile(
            f"{path}: the {what} is not valid JSON ({str(exc)[:80]}); it may be truncated or "
            f"still being written. Re-run {producer}."
        ) from exc


def wrong_shape(path: str | Path, what: str, producer: str, detail: str) -> UnreadableFile:
    """The error for JSON that decodes but is not the expected document."""
    return UnreadableFile(
        f"{Path(path)}: not a {what} ({detail}). Pass the file written by {producer}."
    )


def num(x: Any) -> float | None:
    """A finite float, or None for anything else (strings, null, NaN, booleans)."""
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)) and math.isfinite(x):
        return float(x)
    return None


def integer(x: Any) -> int | None:
    """An int, or None (floats only when integral)."""
    if isinstance(x, bool):
        return None
    if isinstance(x, int):
        return x
    if isinstance(x, float) and math.isfinite(x) and x == int(x):
        return int(x)
    return None


def text_num(x: Any) -> float | None:
    """A number from DIALS's formatted table cells ('0.999*', '100.00%', '1,234', '')."""
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return num(x)
    if not isinstance(x, str):
        return None
    s = x.strip().rstrip("*%").replace(",", "").strip()
    try:
        v = float(s)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def num_list(x: Any) -> list[float | None]:
    """A list of floats/None from a JSON list (anything else gives an empty list)."""
    return [num(v) for v in x] if isinstance(x, list) else []


def as_list(x: Any) -> list[Any]:
    """`x` if it is a list, else an empty list (JSON junk must not be iterated)."""
    return x if isinstance(x, list) else []

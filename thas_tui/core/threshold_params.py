"""find_spots' dispersion threshold parameters as the image view edits them: steps, limits, text."""

from __future__ import annotations

ALGORITHMS = ("dispersion_extended", "dispersion")
# The order the side panel lists them in (the order).
NAMES = (
    "gain",
    "kernel_size",
    "sigma_background",
    "sigma_strong",
    "global_threshold",
    "min_local",
    "algorithm",
)
DEFAULTS: dict = {
    "gain": 1.0,
    "kernel_size": [3, 3],
    "sigma_background": 6.0,
    "sigma_strong": 3.0,
    "global_threshold": 0.0,
    "min_local": 2,
    "algorithm": "dispersion_extended",
}
# One +/- press. kernel_size stops at 8: the helper recomputes a zoomed viewport with an 8-pixel
# margin, exact only for half-widths up to 8.
STEP = {
    "gain": 0.1,
    "kernel_size": 1,
    "sigma_background": 0.5,
    "sigma_strong": 0.5,
    "global_threshold": 1.0,
    "min_local": 1,
}
KERNEL_MAX = 8


def text(name: str, value: object) -> str:
    """A parameter's value as typed into find_spots' PHIL (kernel_size as ``3,3``)."""
    if name == "kernel_size":
        return ",".join(str(int(v)) for v in value)  # type: ignore[union-attr]
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def step(params: dict, name: str, direction: int) -> dict:
    """``params`` with ``name`` one step up (direction 1) or down (-1), kept within its limits."""
    out = dict(params)
    value = params[name]
    if name == "algorithm":
        i = ALGORITHMS.index(value) if value in ALGORITHMS else 0
        out[name] = ALGORITHMS[(i + direction) % len(ALGORITHMS)]
    elif name == "kernel_size":
        out[name] = [min(KERNEL_MAX, max(1, int(v) + direction)) for v in value]
    elif name == "min_local":
        out[name] = max(0, int(value) + direction)
    else:
        low = {"global_threshold": 0.0}.get(name, STEP[name])
        out[name] = round(max(low, float(value) + direction * STEP[name]), 6)
    return out


def parse(name: str, typed: str) -> tuple[object | None, str | None]:
    """The value typed for ``name``, or None and the sentence saying what is wrong."""
    typed = typed.strip()
    try:
        if name == "algorithm":
            if typed not in ALGORITHMS:
                return None, f"algorithm is one of {', '.join(ALGORITHMS)}."
            return typed, None
        if name == "kernel_size":
            parts = [int(v) for v in typed.replace(" ", ",").split(",") if v]
            if len(parts) == 1:
                parts = parts * 2
            if len(parts) != 2 or not all(1 <= v <= KERNEL_MAX for v in parts):
                return None, f"kernel_size is two half-widths from 1 to {KERNEL_MAX}, e.g. 3,3."
            return parts, None
        if name == "min_local":
            value = int(typed)
            if value < 0:
                return None, "min_local is 0 or more."
            return value, None
        number = float(typed)
    except ValueError:
        return None, f"{name}: {typed!r} is not a number."
    if name == "global_threshold":
        if number < 0:
            return None, "global_threshold is 0 or more."
    elif number <= 0:
        return None, f"{name} must be greater than 0."
    return number, None

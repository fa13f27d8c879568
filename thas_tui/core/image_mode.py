"""How the image view draws pixels: the mode asked for, else the best the terminal answered for."""

from __future__ import annotations

import os

MODES = ("halfblock", "ascii", "kitty", "sixel")
GRAPHICS = ("sixel", "kitty")
MODE_ENV = "THAS_IMAGE_MODE"
NAMES = {
    "halfblock": "half-block",
    "ascii": "characters (NO_COLOR)",
    "kitty": "kitty graphics",
    "sixel": "sixel",
}


def pick_mode(
    forced: str | None,
    no_color: bool,
    answered: frozenset[str] | None = None,
    graphics_ok: bool = True,
    env: dict[str, str] | None = None,
) -> tuple[str, str]:
    """The mode and why: ``--image-mode``, then $THAS_IMAGE_MODE, then the terminal.

    ``answered``: the graphics protocols the terminal answered for when asked at start-up
    (None: not asked, e.g. not a terminal); ``graphics_ok``: whether textual-image, which
    draws them, is installed. Sixel is preferred to kitty's protocol, as textual-image does:
    its kitty drawing (Unicode placeholders) works in kitty only, which has no sixel."""
    env = os.environ if env is None else env
    asked = forced or env.get(MODE_ENV) or ""
    fallback = "ascii" if no_color else "halfblock"
    if asked in ("halfblock", "ascii"):
        return asked, "forced"
    if asked in GRAPHICS:
        if not graphics_ok:
            return fallback, f"{asked} asked for; textual-image is not installed"
        return asked, "forced"
    if no_color:
        return "ascii", "auto"
    for mode in GRAPHICS:
        if answered and mode in answered and graphics_ok:
            return mode, "the terminal answered for it"
    if answered is None:
        return "halfblock", "auto"
    if env.get("TMUX"):
        return "halfblock", "tmux: no kitty graphics or sixel"
    return "halfblock", "the terminal has no kitty graphics or sixel"

"""How the image view picks its drawing mode: forced, $THAS_IMAGE_MODE, the terminal's answer."""

from __future__ import annotations

from thas_tui.core.image_mode import pick_mode

NONE: frozenset[str] = frozenset()


def test_option_then_environment_force_a_mode() -> None:
    env = {"THAS_IMAGE_MODE": "halfblock"}
    assert pick_mode("ascii", False, frozenset({"sixel"}), env=env) == ("ascii", "forced")
    assert pick_mode(None, True, frozenset({"sixel"}), env=env) == ("halfblock", "forced")
    assert pick_mode(None, False, NONE, env={"THAS_IMAGE_MODE": "sixel"}) == ("sixel", "forced")
    assert pick_mode("kitty", False, None, env={}) == ("kitty", "forced")


def test_forced_graphics_without_textual_image_falls_back_and_says_why() -> None:
    assert pick_mode("kitty", False, None, graphics_ok=False, env={}) == (
        "halfblock",
        "kitty asked for; textual-image is not installed",
    )
    assert pick_mode("sixel", True, None, graphics_ok=False, env={})[0] == "ascii"


def test_the_terminal_answer_picks_sixel_then_kitty() -> None:
    answered = "the terminal answered for it"
    assert pick_mode(None, False, frozenset({"sixel", "kitty"}), env={}) == ("sixel", answered)
    assert pick_mode(None, False, frozenset({"kitty"}), env={}) == ("kitty", answered)
    # Installed or not decides: no library, no graphics even where the terminal has them.
    assert pick_mode(None, False, frozenset({"kitty"}), graphics_ok=False, env={})[0] == (
        "halfblock"
    )


def test_terminals_without_graphics_get_half_blocks() -> None:
    assert pick_mode(None, False, NONE, env={"TMUX": "/tmp/tmux-0/default,1,0"}) == (
        "halfblock",
        "tmux: no kitty graphics or sixel",
    )
    assert pick_mode(None, False, NONE, env={}) == (
        "halfblock",
        "the terminal has no kitty graphics or sixel",
    )
    # Not asked (not a terminal, e.g. a test): half-blocks; NO_COLOR: characters.
    assert pick_mode(None, False, None, env={}) == ("halfblock", "auto")
    assert pick_mode(None, True, frozenset({"sixel"}), env={}) == ("ascii", "auto")

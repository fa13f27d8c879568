"""Kitty graphics and sixel through textual-image: the terminal asked before Textual starts."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading

from thas_tui.core.image_mode import MODE_ENV

_answer: frozenset[str] | None = None
_thread: threading.Thread | None = None


def graphics_ok() -> bool:
    """textual-image (and Pillow) can be imported."""
    return importlib.util.find_spec("textual_image") is not None


def start_probe() -> None:
    """Ask the terminal which protocols it draws, in a thread while the dashboard's modules
    import (textual-image sends its queries when imported and reads the answers from stdin,
    which Textual owns once it runs: ``answered`` waits for the thread before it does)."""
    global _thread
    if _thread is not None or not graphics_ok():
        return
    out, inp = sys.__stdout__, sys.__stdin__
    if out is None or inp is None or not out.isatty() or not inp.isatty():
        return
    if os.environ.get("NO_COLOR") or os.environ.get(MODE_ENV) in ("halfblock", "ascii"):
        return
    _thread = threading.Thread(target=_probe, name="terminal-graphics", daemon=True)
    _thread.start()


def _probe() -> None:
    global _answer
    try:
        import textual_image.widget  # noqa: F401 - reads the cell size in pixels now
        from textual_image import renderable
        from textual_image.renderable import sixel, tgp

        chosen = renderable.Image
        _answer = frozenset(
            {"sixel"} if chosen is sixel.Image else {"kitty"} if chosen is tgp.Image else ()
        )
    except Exception:  # a terminal that answers garbage: no graphics, half-blocks
        _answer = frozenset()


def answered(timeout: float = 1.0) -> frozenset[str] | None:
    """The protocols the terminal answered for; None when it was not asked."""
    if _thread is not None:
        _thread.join(timeout)
    return _answer


def picture_widget(mode: str):
    """textual-image's widget drawing a PIL image with ``mode`` (sixel or kitty)."""
    from textual_image.widget import SixelImage, TGPImage

    widget = SixelImage() if mode == "sixel" else TGPImage()
    widget.add_class("image-picture")
    return widget


def pil_image(rgb):
    """An RGB uint8 array as a PIL image."""
    from PIL import Image

    return Image.fromarray(rgb, "RGB")


def cell_pixels() -> tuple[int, int]:
    """A terminal cell's size in pixels (textual-image's reading; 10x20 when unknown)."""
    try:
        from textual_image._terminal import get_cell_size

        size = get_cell_size()
        return int(size.width), int(size.height)
    except Exception:
        return 10, 20

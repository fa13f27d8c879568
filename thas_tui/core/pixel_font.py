"""A 5x7 bitmap font for labels burnt into kitty/sixel pictures, where no text cell shows."""

from __future__ import annotations

import numpy as np

GLYPH_W, GLYPH_H = 5, 7
# One glyph per terminal cell, as the half-block labels: a cell is the glyph and a margin.
CELL_W, CELL_H = GLYPH_W + 1, GLYPH_H + 1

_ROWS = {
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    ".": (".....", ".....", ".....", ".....", ".....", ".##..", ".##.."),
    ",": (".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."),
    "-": (".....", ".....", ".....", "#####", ".....", ".....", "....."),
    " ": (".....",) * 7,
    "Å": (".###.", ".#.#.", ".###.", "#...#", "#####", "#...#", "#...#"),
    "?": (".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."),
}
GLYPHS = {
    ch: np.array([[c == "#" for c in row] for row in rows], dtype=bool)
    for ch, rows in _ROWS.items()
}


def text_bitmap(text: str) -> np.ndarray:
    """The text's ink, one CELL_W x CELL_H block per character (a character the font lacks
    is drawn as '?')."""
    out = np.zeros((CELL_H, CELL_W * len(text)), dtype=bool)
    for i, ch in enumerate(text):
        glyph = GLYPHS.get(ch, GLYPHS["?"])
        out[:GLYPH_H, i * CELL_W : i * CELL_W + GLYPH_W] = glyph
    return out


def stamp(
    rgb: np.ndarray,
    text: str,
    x: int,
    y: int,
    colour: tuple[int, int, int],
    scale: int = 1,
    ground: tuple[int, int, int] = (0, 0, 0),
) -> None:
    """Draw ``text`` into ``rgb`` (rows, cols, 3) with its top left at pixel (x, y), each font
    pixel ``scale`` pixels square, on a ``ground`` box so it reads over any image; what falls
    outside the picture is cut off."""
    ink = text_bitmap(text)
    if scale > 1:
        ink = np.repeat(np.repeat(ink, scale, axis=0), scale, axis=1)
    h, w = ink.shape
    y0, x0 = max(0, y), max(0, x)
    y1, x1 = min(rgb.shape[0], y + h), min(rgb.shape[1], x + w)
    if y1 <= y0 or x1 <= x0:
        return
    part = ink[y0 - y : y1 - y, x0 - x : x1 - x]
    box = rgb[y0:y1, x0:x1]
    box[:] = ground
    box[part] = colour


def labels_into(
    picture: np.ndarray,
    labels: dict[tuple[int, int], tuple[str, tuple[int, int, int]]],
    cell_w: float,
    cell_h: float,
) -> np.ndarray:
    """``picture`` with each label (keyed by its terminal cell (row, col), as the half-block
    view prints it) burnt in at that cell, one glyph per cell. A picture too coarse for the
    font (fewer than CELL_W pixels a cell) is first enlarged by whole pixels, which the terminal
    scales back to the same cells."""
    if not labels:
        return picture
    up = max(1, -(-CELL_W // max(1, int(cell_w))))
    if up > 1:
        picture = np.repeat(np.repeat(picture, up, axis=0), up, axis=1)
    else:
        picture = picture.copy()
    cw, ch = cell_w * up, cell_h * up
    scale = max(1, min(int(cw) // CELL_W, int(ch) // CELL_H))
    for (row, col), (text, colour) in labels.items():
        # Centred in the cell's height, as a character sits in its cell.
        top = int(row * ch + (ch - GLYPH_H * scale) / 2)
        # One ground under the whole label, so no image shows between its characters.
        left, right = int(col * cw), int((col + len(text) - 1) * cw) + CELL_W * scale
        picture[max(0, top) : max(0, top + CELL_H * scale), max(0, left) : max(0, right)] = 0
        # Each character at the start of its own cell, so labels line up with the text modes.
        for i, c in enumerate(text):
            stamp(picture, c, int((col + i) * cw), top, colour, scale)
    return picture

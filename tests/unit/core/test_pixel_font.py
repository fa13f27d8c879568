"""The bitmap font that writes ring and hkl labels into kitty/sixel pictures."""

from __future__ import annotations

import numpy as np

from thas_tui.core import pixel_font as pf

RING = (0, 200, 200)


def test_glyphs_are_five_by_seven_and_distinct() -> None:
    shapes = {g.shape for g in pf.GLYPHS.values()}
    assert shapes == {(pf.GLYPH_H, pf.GLYPH_W)}
    drawn = [g.tobytes() for ch, g in pf.GLYPHS.items() if ch != " "]
    assert len(set(drawn)) == len(drawn)


def test_text_bitmap_lays_characters_one_cell_apart() -> None:
    ink = pf.text_bitmap("1.5")
    assert ink.shape == (pf.CELL_H, 3 * pf.CELL_W)
    assert (ink[: pf.GLYPH_H, 0 : pf.GLYPH_W] == pf.GLYPHS["1"]).all()
    assert (ink[: pf.GLYPH_H, 2 * pf.CELL_W : 2 * pf.CELL_W + pf.GLYPH_W] == pf.GLYPHS["5"]).all()
    # The margin column and row between cells stay empty.
    assert not ink[:, pf.GLYPH_W].any() and not ink[pf.GLYPH_H].any()
    # A character the font lacks is drawn, as '?', never dropped.
    assert (pf.text_bitmap("x")[: pf.GLYPH_H, : pf.GLYPH_W] == pf.GLYPHS["?"]).all()


def test_stamp_draws_ink_on_a_dark_box_and_clips_at_the_edges() -> None:
    rgb = np.full((20, 20, 3), 255, dtype=np.uint8)
    pf.stamp(rgb, "7", 2, 3, RING, scale=2)
    box = rgb[3 : 3 + 2 * pf.CELL_H, 2 : 2 + 2 * pf.CELL_W]
    ink = np.repeat(np.repeat(pf.text_bitmap("7"), 2, axis=0), 2, axis=1)
    assert (box[ink] == RING).all()
    assert (box[~ink] == 0).all()
    assert (rgb[:3] == 255).all() and (rgb[:, :2] == 255).all()  # nothing outside the box
    edge = np.full((5, 5, 3), 255, dtype=np.uint8)
    pf.stamp(edge, "8", 3, -2, RING)  # mostly off the picture: cut, no error
    assert (edge[:, 3:] != 255).any() and (edge[:, :3] == 255).all()


def test_labels_land_in_their_terminal_cells() -> None:
    # A fine picture: 8 x 16 pixels a cell, 10 x 5 cells.
    picture = np.full((80, 80, 3), 128, dtype=np.uint8)
    out = pf.labels_into(picture, {(2, 3): ("2.5 Å", RING)}, 8.0, 16.0)
    assert out is not picture and (picture == 128).all()  # the caller's picture untouched
    changed = (out != 128).any(axis=-1)
    rows, cols = np.nonzero(changed)
    assert rows.min() >= 2 * 16 and rows.max() < 3 * 16  # in cell row 2
    assert cols.min() == 3 * 8 and cols.max() < 8 * 8  # from cell column 3, five cells
    # The Å is there: its top row (.###.) in the fifth character's cell.
    top = rows.min()
    assert (out[top, 7 * 8 + 1 : 7 * 8 + 4] == RING).all()


def test_a_coarse_picture_is_enlarged_for_the_font() -> None:
    # A bin per cell column (the view zoomed to one detector pixel per bin): too coarse to
    # write in, so the picture grows by whole pixels and keeps its content.
    picture = np.arange(4 * 3 * 3, dtype=np.uint8).reshape(4, 3, 3)
    out = pf.labels_into(picture, {(0, 0): ("1", RING)}, 1.0, 2.0)
    up = pf.CELL_W
    assert out.shape == (4 * up, 3 * up, 3)
    assert (out[-1, -1] == picture[-1, -1]).all()
    assert (out[: pf.CELL_H, : pf.CELL_W] == RING).any()
    assert pf.labels_into(picture, {}, 1.0, 2.0) is picture  # no labels, no copy

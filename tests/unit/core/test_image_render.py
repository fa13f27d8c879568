"""The finer kitty/sixel picture keeps the coarse picture's marks (cursor, spots, rings)."""

from __future__ import annotations

import numpy as np

from thas_tui.core.image_render import CURSOR, overlay_fine


def test_marks_of_the_coarse_bins_cover_the_fine_bins_inside_them() -> None:
    base = np.zeros((4, 6, 3), dtype=np.uint8)  # coarse: bin 8
    marked = base.copy()
    marked[1, 2] = CURSOR
    fine = np.full((16, 24, 3), 7, dtype=np.uint8)  # fine: bin 2, four per coarse bin
    out = overlay_fine(fine, base, marked, 8, 2)
    hit = (out == CURSOR).all(axis=-1)
    assert hit.sum() == 16
    rows, cols = np.nonzero(hit)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (4, 7, 8, 11)
    assert (out[~hit] == 7).all()
    assert (fine == 7).all()  # the fine picture itself is left alone

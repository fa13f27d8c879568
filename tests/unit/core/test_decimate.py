"""envelope(): a long series thinned to a plot's columns keeps every column's extremes."""

from __future__ import annotations

import math
import random

import pytest

from thas_tui.core.decimate import envelope


def _columns(xs, ys, columns):
    x0, span = xs[0], xs[-1] - xs[0]
    out: dict[int, list[float]] = {}
    for x, y in zip(xs, ys, strict=True):
        out.setdefault(int((x - x0) / span * columns), []).append(y)
    return out


def test_short_series_unchanged():
    xs, ys = [1.0, 2.0, 3.0], [5.0, 4.0, 6.0]
    assert envelope(xs, ys, 2) == (xs, ys)
    assert envelope(xs, ys, 0) == (xs, ys)


@pytest.mark.parametrize("columns", [10, 75, 150])
def test_every_column_keeps_its_lowest_and_highest(columns):
    rng = random.Random(columns)
    xs = [float(i) for i in range(1, 802)]  # 801 scan points of an 800-image sweep
    ys = [math.sin(x / 40) + rng.gauss(0, 0.05) for x in xs]
    kept_x, kept_y = envelope(xs, ys, columns)
    assert len(kept_x) <= 2 * columns + 3 < len(xs)
    assert (kept_x[0], kept_y[0]) == (xs[0], ys[0])
    assert (kept_x[-1], kept_y[-1]) == (xs[-1], ys[-1])
    assert kept_x == sorted(kept_x)
    assert set(zip(kept_x, kept_y, strict=True)) <= set(zip(xs, ys, strict=True))
    full, thin = _columns(xs, ys, columns), _columns(kept_x, kept_y, columns)
    assert full.keys() == thin.keys()
    for column, values in full.items():
        assert min(thin[column]) == min(values)
        assert max(thin[column]) == max(values)


def test_lengths_must_match():
    with pytest.raises(ValueError):
        envelope([1.0, 2.0], [1.0], 1)

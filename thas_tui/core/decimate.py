"""Thin a long series to what a plot of a given width can show, keeping every extreme."""

from __future__ import annotations

from collections.abc import Sequence


def envelope(
    xs: Sequence[float], ys: Sequence[float], columns: int
) -> tuple[list[float], list[float]]:
    """The lowest and highest point of each of ``columns`` equal slices of x, in their order,
    and the series' first and last points.

    A line through them spans, in each column, the same values as a line through every point;
    only the joins between neighbouring columns may move, by less than a column. ``xs`` must be
    sorted; a series with at most two points per column comes back unchanged.
    """
    n = len(xs)
    if len(ys) != n:
        raise ValueError("xs and ys must have the same length")
    if columns < 1 or n <= 2 * columns:
        return list(xs), list(ys)
    x0, span = xs[0], (xs[-1] - xs[0]) or 1.0
    keep: list[int] = []
    start = 0
    while start < n:
        column = int((xs[start] - x0) / span * columns)
        end = start
        while end + 1 < n and int((xs[end + 1] - x0) / span * columns) == column:
            end += 1
        chunk = range(start, end + 1)
        low = min(chunk, key=ys.__getitem__)
        high = max(chunk, key=ys.__getitem__)
        keep.extend(sorted({low, high}))
        start = end + 1
    if keep[0] != 0:
        keep.insert(0, 0)
    if keep[-1] != n - 1:
        keep.append(n - 1)
    return [xs[i] for i in keep], [ys[i] for i in keep]

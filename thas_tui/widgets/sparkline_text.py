"""Per-image counts as a one-line block sparkline, images grouped per column by their maximum."""

from __future__ import annotations

BLOCKS = "▁▂▃▄▅▆▇█"
ASCII = " .:-=+*#"


def sparkline(
    series: list[tuple[int, int]],
    first: int | None,
    last: int | None,
    width: int,
    ascii_only: bool = False,
) -> str:
    """``(image, count)`` pairs drawn over images ``first..last`` in ``width`` columns.

    Columns hold equal runs of images (the maximum of each, as DIALS's own per-image histogram
    groups images), scaled to the largest count; a column with no analysed image is a blank,
    so a gap in the analysis never reads as a blank image. A count of zero is the lowest block.
    """
    if not series or first is None or last is None or width < 1:
        return ""
    n_images = last - first + 1
    per = max(1, -(-n_images // width))
    cols = -(-n_images // per)
    best: list[int | None] = [None] * cols
    for image, count in series:
        if first <= image <= last:
            c = (image - first) // per
            if best[c] is None or count > best[c]:
                best[c] = count
    top = max((v for v in best if v is not None), default=0)
    chars = ASCII if ascii_only else BLOCKS
    out = []
    for v in best:
        if v is None:
            out.append(" ")
        elif top <= 0:
            out.append(chars[0])
        else:
            out.append(chars[min(len(chars) - 1, int(v / top * (len(chars) - 1) + 0.5))])
    return "".join(out)

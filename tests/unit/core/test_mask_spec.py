"""mask.phil read and written, validated, and its pixels in numpy (DIALS's comparison: integration)."""

from __future__ import annotations

import numpy as np

from thas_tui.core.mask_spec import (
    Circle,
    MaskSpec,
    Polygon,
    Rectangle,
    ResolutionRange,
    WholePanel,
    ice_ring_d_spacings,
    mask_array,
    save_mask_phil,
)

PILATUS_6M = [(2463, 2527)]

# DIALS-VIEWERS.md §3's tested grammar, with comments and a comma list as libtbx.phil allows.
EXAMPLE = """\
border = 2                      # px along every panel edge
d_min = 1.5
d_max = 40
resolution_range = 3.5 3.7
untrusted {
  panel = 0
  rectangle = 1200 1300 0 1260
}
untrusted {
  circle = 1234,1269,40
}
untrusted {
  polygon = 100 100 300 120 250 300 90 280
}
untrusted {
  pixel = 5 7
}
ice_rings {
  filter = True
}
"""


def test_reads_every_kind_of_the_documented_grammar() -> None:
    spec = MaskSpec.from_phil(EXAMPLE)
    assert spec.errors == []
    assert spec == MaskSpec(
        border=2,
        d_min=1.5,
        d_max=40.0,
        untrusted=[
            Rectangle(1200, 1300, 0, 1260),
            Circle(1234, 1269, 40),
            Polygon([(100, 100), (300, 120), (250, 300), (90, 280)]),
            Rectangle(7, 8, 5, 6),  # pixel = y x is one pixel
        ],
        resolution_ranges=[ResolutionRange(3.5, 3.7)],
        ice_rings=True,
    )


def test_written_text_is_dials_grammar_and_reads_back_equal() -> None:
    spec = MaskSpec(
        border=3,
        d_max=25.5,
        untrusted=[Rectangle(0, 10, 20, 40, panel=1), Polygon([(1, 2), (30, 4), (15.6, 40.2)])],
        resolution_ranges=[ResolutionRange(2.0, 2.25)],
    )
    text = spec.to_phil()
    assert text == (
        "border = 3\n"
        "d_max = 25.5\n"
        "resolution_range = 2 2.25\n"
        "untrusted {\n  panel = 1\n  rectangle = 0 10 20 40\n}\n"
        # a triangle is closed by repeating its first vertex: generate_mask wants 4
        "untrusted {\n  panel = 0\n  polygon = 1 2 30 4 16 40 1 2\n}\n"
    )
    back = MaskSpec.from_phil(text)
    assert back.errors == []
    assert back.untrusted[1] == Polygon([(1, 2), (30, 4), (16, 40)])
    assert back.border == 3 and back.d_max == 25.5 and back.untrusted[0].panel == 1


def test_empty_mask_writes_nothing_and_reads_back_empty() -> None:
    assert MaskSpec().to_phil() == ""
    assert MaskSpec.from_phil("").is_empty()
    assert MaskSpec.from_phil("# only a comment\n\n").errors == []


def test_untrusted_with_only_a_panel_masks_that_panel() -> None:
    spec = MaskSpec.from_phil("untrusted {\n  panel = 1\n}\n")
    assert spec.untrusted == [WholePanel(1)]
    assert not mask_array(spec, (4, 5), panel=1).any()
    assert mask_array(spec, (4, 5), panel=0).all()


def test_garbage_is_reported_by_line_and_never_raises() -> None:
    text = (
        "border = two\n"
        "foo = 3\n"
        "untrusted {\n"
        "  rectangle = 1 2 3\n"
        "}\n"
        "ice_rings {\n  filter = maybe\n  width = 0.003\n}\n"
        "what is this\n"
        "untrusted {\n  circle = 10 10 4\n"
    )
    spec = MaskSpec.from_phil(text)
    assert spec.errors == [
        "mask.phil line 1: border needs whole numbers, not 'two'.",
        "mask.phil line 2: unknown parameter 'foo' (ignored).",
        "mask.phil line 4: rectangle needs 4 whole numbers, got 3.",
        "mask.phil line 7: ice_rings.filter must be True or False, not 'maybe'.",
        "mask.phil line 8: ice_rings.width is not kept by the mask editor (DIALS's default used).",
        "mask.phil line 10: cannot read 'what is this': expected 'name = value' (ignored).",
        "mask.phil line 12: 'untrusted {' is never closed.",
    ]
    # the broken rectangle is dropped, not turned into a whole-panel mask
    assert spec.untrusted == [Circle(10, 10, 4)]
    assert spec.border == 0 and spec.ice_rings is False


def test_validate_names_each_problem_in_a_sentence() -> None:
    spec = MaskSpec(
        untrusted=[
            Rectangle(0, 3000, 0, 10),
            Rectangle(50, 40, 0, 10),
            Polygon([(1, 1), (2, 2), (1, 1)]),
            Circle(5, 5, 0),
            Circle(3000, 100, 20),
            Rectangle(0, 10, 0, 10, panel=2),
        ],
        resolution_ranges=[ResolutionRange(3.0, 3.0)],
        d_min=0.0,
    )
    assert spec.validate(PILATUS_6M) == [
        "d_min must be greater than 0 Å (it is 0).",
        "The resolution range 3–3 Å is empty: give two different d values.",
        "Untrusted region 1 (rectangle 0 3000 0 10) passes the panel's edge "
        "(the panel is 2463×2527 pixels): x1 must be ≤ 2463, y1 ≤ 2527.",
        "Untrusted region 2 (rectangle 50 40 0 10) is empty: x1 must be greater than x0 "
        "and y1 greater than y0.",
        "Untrusted region 3 (polygon of 3 vertices) has 2 distinct vertices: "
        "a polygon needs at least 3.",
        "Untrusted region 4 (circle 5 5 0) has a radius of 0: give a radius of at least 1 pixel.",
        "Untrusted region 5 (circle 3000 100 20) lies wholly off the panel "
        "(the panel is 2463×2527 pixels).",
        "Untrusted region 6 (rectangle 0 10 0 10) is on panel 2, but the detector has 1 panel "
        "(numbered from 0).",
    ]


def test_validate_refuses_a_mask_that_leaves_no_pixels() -> None:
    assert MaskSpec(border=1232).validate(PILATUS_6M) == [
        "This mask leaves no pixels on the detector: every pixel would be masked."
    ]
    assert MaskSpec(border=1231).validate(PILATUS_6M) == []
    full = MaskSpec(untrusted=[Rectangle(0, 2463, 0, 2527)])
    assert full.validate(PILATUS_6M) == [
        "This mask leaves no pixels on the detector: every pixel would be masked."
    ]
    d_map = np.full((2527, 2463), 2.0)
    assert MaskSpec(d_min=2.1).validate(PILATUS_6M, [d_map]) == [
        "This mask leaves no pixels on the detector: every pixel would be masked."
    ]
    d_map[0, 0] = 2.5  # one pixel beyond d_min is enough
    assert MaskSpec(d_min=2.1).validate(PILATUS_6M, [d_map]) == []
    # without a d map, crossed limits are still caught
    assert MaskSpec(d_min=3.0, d_max=2.0).validate(PILATUS_6M) == [
        "d_min 3 Å is not smaller than d_max 2 Å: together they mask every pixel."
    ]


def test_shapes_by_dxtbx_rules_on_a_small_panel() -> None:
    # rectangle half-open; circle strict on integer indices; polygon by pixel centres
    rect = mask_array(MaskSpec(untrusted=[Rectangle(1, 3, 2, 4)]), (6, 6))
    assert np.argwhere(~rect).tolist() == [[2, 1], [2, 2], [3, 1], [3, 2]]
    circle = mask_array(MaskSpec(untrusted=[Circle(2, 2, 1)]), (6, 6))
    assert np.argwhere(~circle).tolist() == [[2, 2]]
    circle2 = mask_array(MaskSpec(untrusted=[Circle(2, 2, 2)]), (6, 6))
    assert int((~circle2).sum()) == 9  # |d|^2 < 4: the 3x3 block, not the 4 axis points
    tri = mask_array(MaskSpec(untrusted=[Polygon([(0, 0), (4, 0), (0, 4)])]), (6, 6))
    assert np.argwhere(~tri).tolist() == [
        [0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [2, 0]
    ]  # fmt: skip
    # centres on the hypotenuse (i + j = 3) are outside: the even-odd test is strict
    border = mask_array(MaskSpec(border=1), (4, 5))
    assert border.astype(int).tolist() == [
        [0, 0, 0, 0, 0], [0, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0, 0, 0, 0, 0]
    ]  # fmt: skip


def test_resolution_limits_are_inclusive_like_dials() -> None:
    d_map = np.array([[1.0, 1.5, 2.0, 3.5, 3.7, 40.0, 50.0]])
    spec = MaskSpec(d_min=1.5, d_max=40.0, resolution_ranges=[ResolutionRange(3.7, 3.5)])
    assert mask_array(spec, d_map.shape, d_map=d_map).tolist() == [
        [False, False, True, False, False, False, False]
    ]
    # without a d map the resolution items are left out
    assert mask_array(spec, d_map.shape).all()


def test_ice_ring_spacings_are_hexagonal_ice() -> None:
    # the first rings of ice Ih: (100) 3.895, (002) 3.669, (101) 3.441, (102) 2.671 Å
    d = ice_ring_d_spacings(2.5)
    assert [round(x, 3) for x in d] == [3.895, 3.669, 3.441, 2.671]
    # (001) is systematically absent, so nothing at c = 7.338 Å
    assert all(x < 4 for x in ice_ring_d_spacings(1.0))


def test_save_archives_a_different_mask_and_keeps_an_identical_one(tmp_path) -> None:
    first = MaskSpec(border=2)
    path = save_mask_phil(first, tmp_path)
    assert path == tmp_path / "mask.phil"
    assert path.read_text() == "border = 2\n"
    save_mask_phil(first, tmp_path)  # the same text: nothing archived
    assert not (tmp_path / "thas-tui" / "masks").exists()
    save_mask_phil(MaskSpec(border=5), tmp_path)
    assert path.read_text() == "border = 5\n"
    assert (tmp_path / "thas-tui" / "masks" / "mask.1.phil").read_text() == "border = 2\n"
    save_mask_phil(MaskSpec(border=7), tmp_path)
    assert (tmp_path / "thas-tui" / "masks" / "mask.2.phil").read_text() == "border = 5\n"

"""The fast drawing paths (plot strips, tables rendered once per width) draw what the slow ones did."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.segment import Segment
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual_plotext.plot import Plot

from thas_tui.widgets.ansi_strips import AnsiStrips
from thas_tui.widgets.by_width import ByWidth
from thas_tui.widgets.cell_plots import PanelPlot


def _plot_ansi(width: int = 60, height: int = 16) -> str:
    plt = Plot()
    plt.plotsize(width, height)
    plt.theme("dark")
    xs = list(range(1, 78))
    plt.plot(xs, [0.0004 * x for x in xs], marker="braille", label="a")
    plt.plot(xs, [-0.0002 * x for x in xs], marker="braille", label="c")
    plt.title("Δa Δb Δc (Å)")
    plt.xlabel("image")
    return plt.build()


def _cells(lines: list[list[Segment]]) -> list[list[tuple[str, object]]]:
    """Each line as (character, style) per cell, however the segments were split."""
    return [[(ch, seg.style) for seg in line for ch in seg.text] for line in lines]


def test_plot_strips_match_rich_decoding_cell_for_cell():
    ansi = _plot_ansi()
    console = Console(width=60, color_system="truecolor", legacy_windows=False)
    expected = console.render_lines(Text.from_ansi(ansi), console.options.update_width(60))
    strips = AnsiStrips().strips(ansi, 60, 16)
    assert len(strips) == 16 and all(s.cell_length == 60 for s in strips)
    got = _cells([list(s) for s in strips])
    assert len(expected) >= 16
    assert got == _cells(expected[:16])  # Rich adds a blank line after the last newline
    colours = Counter(str(style.color) for line in got for _ch, style in line if style.color)
    assert len(colours) >= 3  # frame, two series: the styles came through, not only the text


def test_plot_strips_crop_and_pad_to_the_widget():
    strips = AnsiStrips().strips(_plot_ansi(60, 16), 40, 20)
    assert len(strips) == 20
    assert all(s.cell_length == 40 for s in strips)
    assert strips[-1].text == " " * 40


def test_by_width_builds_once_per_width_and_renders_the_same():
    widths: list[int] = []

    def build(width: int) -> Table:
        widths.append(width)
        table = Table(title=f"at {width}")
        table.add_column("d (Å)")
        table.add_column("CC½")
        for d in (2.5, 2.0, 1.5):
            table.add_row(f"{d:.2f}", "0.99")
        return table

    console = Console(width=50, legacy_windows=False)
    once = ByWidth(build)
    first = console.render_lines(once, console.options.update_width(50))
    again = console.render_lines(once, console.options.update_width(50))
    narrow = console.render_lines(once, console.options.update_width(30))
    assert widths == [50, 30]  # each width built once
    direct = console.render_lines(build(50), console.options.update_width(50))
    assert _cells(first) == _cells(again) == _cells(direct)
    assert "at 30" in "".join(seg.text for line in narrow for seg in line)


class OnePlot(App):
    def compose(self) -> ComposeResult:
        yield PanelPlot(id="plot")


async def test_panel_plot_draws_once_per_size_and_ascii_frame():
    app = OnePlot()
    async with app.run_test(size=(60, 16)) as pilot:
        plot = app.query_one(PanelPlot)
        calls: list[tuple[int, int]] = []

        def draw(plt, width, height, marker):
            calls.append((width, height))
            plt.plot([1, 2, 3], [1, 4, 9], marker=marker(0, "a"))
            plt.title("Δa")

        plot.set_draw(draw)
        await pilot.pause()
        lines = [plot.render_line(y).text for y in range(plot.size.height)]
        assert calls == [(60, 16)]  # every line of a paint from one build
        assert any("┌" in line for line in lines) and any("Δa" in line for line in lines)
        plot.ascii_only = True
        await pilot.pause()
        lines = [plot.render_line(y).text for y in range(plot.size.height)]
        assert len(calls) == 2
        assert not any("┌" in line or "│" in line for line in lines)
        assert any("+" in line for line in lines)

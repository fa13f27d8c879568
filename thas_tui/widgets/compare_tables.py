"""The Compare view's tables: inputs, cells and Table 1 side by side, the better value marked."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from thas_tui.core.compare import Comparison
from thas_tui.core.compare_text import MARK, facts_rows, table1_rows

# One colour per input, the same in the tables' headers and the plots' lines (plotext names).
COLOURS = ("cyan", "magenta", "yellow", "green", "red", "blue", "white")
SHELLS = ("overall", "low", "high")


def colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


def inputs_text(c: Comparison) -> Table:
    """One line per input: its colour, number, label, program and path."""
    t = Table.grid(padding=(0, 2))
    for i, inp in enumerate(c.inputs):
        t.add_row(
            Text(f"━━ [{i + 1}]", style=f"bold {colour(i)}"),
            Text(inp.label, style="bold"),
            Text(inp.program or inp.kind, style="dim"),
            Text(str(inp.path), style="dim", overflow="ellipsis", no_wrap=True),
        )
    return t


def facts_table(c: Comparison) -> Table:
    """Space group, cell (differences from [1]), wavelength, resolution range, sweeps/images."""
    table = Table(box=None, pad_edge=False, show_edge=False, expand=False, padding=(0, 1))
    table.add_column("", style="bold", no_wrap=True)
    for i in range(len(c.inputs)):
        table.add_column(f"[{i + 1}]", header_style=f"bold {colour(i)}", justify="right")
    for label, cells in facts_rows(c):
        styled = []
        for j, cell in enumerate(cells):
            warn = j and ("≠" in cell or _cell_off(c, j))
            styled.append(
                Text(cell, style="bold red" if warn and label != "Wavelength (Å)" else "")
            )
        table.add_row(label, *styled)
    return table


def _cell_off(c: Comparison, j: int) -> bool:
    cmp = c.cells[j]
    return cmp is not None and not cmp.same_lattice


def table1(c: Comparison, shell: str, recomputed: bool) -> Table:
    """One shell's Table 1, a column per input; the better value bold with a mark."""
    table = Table(
        title=shell.capitalize(),
        title_justify="left",
        title_style="bold",
        box=None,
        pad_edge=False,
        show_edge=False,
        padding=(0, 1),
    )
    table.add_column("", no_wrap=True)
    for i in range(len(c.inputs)):
        table.add_column(
            f"[{i + 1}]", header_style=f"bold {colour(i)}", justify="right", no_wrap=True
        )
    for label, cells, best in table1_rows(c.inputs, shell, recomputed):
        table.add_row(
            label,
            *(
                Text(cell + MARK, style="bold green", justify="right")
                if j == best
                else Text(cell + " ", justify="right")
                for j, cell in enumerate(cells)
            ),
        )
    return table


def notes_text(c: Comparison) -> Text:
    t = Text()
    for w in c.warnings:
        t.append("⚠ " + w + "\n", style="yellow")
    for i, inp in enumerate(c.inputs):
        for p in inp.problems:
            t.append(f"[{i + 1}] ", style=f"bold {colour(i)}")
            t.append(p + "\n", style="red" if "failed" in p or "unreadable" in p else "")
    return t


class CompareTables(Static):
    """Facts, then Table 1 as reported and (when computed) recomputed alike."""

    _shown: tuple[Comparison, bool] | None = None
    group = None  # what was last shown (a rich Group)

    def on_resize(self) -> None:
        if self._shown is not None:
            self.show(*self._shown)

    def show(self, c: Comparison, recomputing: bool = False) -> None:
        from rich.console import Group

        self._shown = (c, recomputing)
        # The three shells side by side when they fit, else one under the other.
        need = 3 * (26 + 11 * len(c.inputs))
        side_by_side = self.size.width >= need
        parts: list = [facts_table(c), Text("")]
        for recomputed in (False, True):
            if recomputed:
                if not any(i.recomputed for i in c.inputs):
                    if recomputing:
                        parts.append(Text("Recomputing alike …", style="italic dim"))
                    continue
                rng = c.recompute_range
                head = f"Recomputed alike by {c.recompute_program}" + (
                    f", {rng[0]:.2f}–{rng[1]:.2f} Å, the same 20 bins" if rng else ""
                )
            else:
                head = "Table 1 as reported"
            parts.append(Text(f"{head}   ({MARK} better; ties not marked)", style="bold underline"))
            if side_by_side:
                grid = Table.grid(padding=(0, 3))
                grid.add_row(*(table1(c, s, recomputed) for s in SHELLS))
                parts += [grid, Text("")]
            else:
                for s in SHELLS:
                    parts += [table1(c, s, recomputed), Text("")]
        self.group = Group(*parts)
        self.update(self.group)

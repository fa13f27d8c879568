"""A DataTable whose rows are redrawn one at a time: a changed row repaints that row only."""

from __future__ import annotations

from collections.abc import Sequence

from textual.render import measure
from textual.widgets import DataTable
from textual.widgets._data_table import RowKey, default_cell_formatter


class RowTable(DataTable):
    """``DataTable.update_cell`` counts as a change of the whole table: every cached cell, row
    and line is dropped and the next paint renders every visible cell again (~500 cells of the
    session's table, tens of ms, once a second while images arrive: a key press behind it
    waited for it). ``update_row`` drops the caches of that row alone and repaints its lines.

    It reads DataTable's private caches, whose keys are Textual 8.2's (pinned exactly).
    """

    def update_row(self, row_key: str, values: Sequence) -> bool:
        """Set a row's cells (in column order); True when any of them changed."""
        key = RowKey(row_key)
        data = self._data.get(key)
        if data is None:
            return False
        grew = changed = False
        console = self.app.console
        for column, value in zip(self.ordered_columns, values, strict=True):
            if data.get(column.key) == value:
                continue
            data[column.key] = value
            changed = True
            if column.auto_width:
                width = measure(console, default_cell_formatter(value), 1)
                if width > column.content_width:
                    column.content_width = width
                    grew = True
        if not changed:
            return False
        if grew:
            # A wider column moves every cell right of it: the whole table, as update_cell.
            self._update_count += 1
            self._require_update_dimensions = True
            self.refresh()
            return True
        index = self._row_locations.get(key)
        if index is None:
            return True
        region = self._get_row_region(index)
        lines = range(region.y, region.y + region.height)
        for cache, drop in (
            (self._cell_render_cache, lambda k: k[0] == key),
            (self._row_render_cache, lambda k: k[0] == key),
            (self._row_renderable_cache, lambda k: k[1] == index),
            (self._line_cache, lambda k: k[0] in lines),
        ):
            for cache_key in [k for k in cache.keys() if drop(k)]:
                cache.discard(cache_key)
        self.refresh_row(index)
        return True

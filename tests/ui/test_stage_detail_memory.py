"""The stage detail's peak memory: the executor's figure, or why a Slurm job has none."""

from __future__ import annotations

import time

from textual.app import App, ComposeResult

from thas_tui.core.pipeline import Pipeline, State
from thas_tui.core.slurm_chain import NO_PEAK
from thas_tui.widgets.stage_detail import StageDetail


class _Detail(App):
    def compose(self) -> ComposeResult:
        yield StageDetail()


async def test_peak_memory_in_gb_and_unknown_without_accounting() -> None:
    pipeline = Pipeline()
    run = pipeline["integrate"]
    run.state, run.attempt = State.DONE, 1
    run.started, run.ended = time.time() - 100, time.time()
    run.peak_rss_mb = 4198.4
    async with _Detail().run_test() as pilot:
        detail = pilot.app.query_one(StageDetail)
        detail.show(run)
        assert ", peak memory 4.1 GB" in detail._shown
        run.peak_rss_mb = 215.2
        detail.show(run)
        assert ", peak memory 215 MB" in detail._shown
        run.peak_rss_mb, run.job_id, run.node = None, "171", "vm"
        run.peak_note = NO_PEAK[False]
        detail.show(run)
        assert ", peak memory unknown (no accounting)\n" in detail._shown
        # While it runs the figure may still come: nothing is said yet.
        run.state = State.RUNNING
        detail.show(run)
        assert "peak memory" not in detail._shown

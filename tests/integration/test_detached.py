"""DIALS processes started by thas-tui outlive the dashboard; a later thas-tui picks them up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _journal(proc_dir: Path) -> list[dict]:
    path = proc_dir / "thas-tui" / "journal.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not alive: it just waits for its (dead) parent to be reaped.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _wait_for_start(proc_dir: Path, stage: str, deadline: float) -> int:
    while time.time() < deadline:
        starts = [r for r in _journal(proc_dir) if r["event"] == "start" and r["stage"] == stage]
        if starts:
            return starts[-1]["pid"]
        time.sleep(0.1)
    raise AssertionError(f"{stage} never started")


def _wait_for_run_end(proc_dir: Path, deadline: float) -> list[dict]:
    """Until the keeper's continued run has recorded its end."""
    while time.time() < deadline:
        recs = _journal(proc_dir)
        begins = [i for i, r in enumerate(recs) if r["event"] == "run_begin"]
        if len(begins) >= 2 and any(r["event"] == "run_end" for r in recs[begins[-1] :]):
            return recs
        time.sleep(0.3)
    raise AssertionError("the keeper never finished the run:\n" + _driver_log(proc_dir))


def _driver_log(proc_dir: Path) -> str:
    path = proc_dir / "thas-tui" / "driver.log"
    return path.read_text() if path.exists() else "(no driver.log)"


def _headless(proc_dir: Path, images: list[str], *extra: str, **popen) -> subprocess.Popen:
    """``thas-tui run IMAGES --no-tui --until index`` in the background."""
    argv = [sys.executable, "-m", "thas_tui", "run", *images, "--dir", str(proc_dir)]
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.Popen(
        [*argv, "--no-tui", "--until", "index", *extra], stdin=subprocess.DEVNULL, **popen
    )


def test_killed_headless_run_is_finished_by_its_keeper(
    tmp_path: Path, l_cysteine_sweep1: list[str], thas_summary
) -> None:
    """SIGKILL mid-find_spots: DIALS goes on, and the keeper runs index (--until kept)."""
    proc_dir = tmp_path / "proc"
    dash = _headless(proc_dir, l_cysteine_sweep1, "--phil", "index:max_cell=40")
    try:
        deadline = time.time() + 240
        pid = _wait_for_start(proc_dir, "find_spots", deadline)
        dash.send_signal(signal.SIGKILL)
        dash.wait(10)
        assert _alive(pid), "dials.find_spots died with the dashboard"
        recs = _wait_for_run_end(proc_dir, deadline)
    finally:
        if dash.poll() is None:
            dash.kill()
    # find_spots' full log went on into its attempt log after the dashboard was gone.
    assert "Saved" in (proc_dir / "thas-tui" / "logs" / "find_spots.1.log").read_text()
    assert (proc_dir / "strong.refl").is_file() and (proc_dir / "indexed.expt").is_file()
    index_starts = [r for r in recs if r["event"] == "start" and r["stage"] == "index"]
    assert len(index_starts) == 1
    # The keeper kept the run's settings: the user's PHIL for index, and --until index.
    assert "max_cell=40" in index_starts[0]["argv"]
    assert "continuing it" in _driver_log(proc_dir)
    # find_spots ended while no one watched: the keeper recorded its end, from its logs' last
    # write (not from when the keeper noticed), with the outputs checked.
    ends = [r for r in recs if r["event"] == "end" and r["stage"] == "find_spots"]
    assert len(ends) == 1 and ends[0]["unobserved"].startswith("ended unobserved")
    last_write = max(
        (proc_dir / "thas-tui" / "logs" / "find_spots.1.log").stat().st_mtime,
        (proc_dir / "dials.find_spots.log").stat().st_mtime,
    )
    assert ends[0]["time"] == last_write and ends[0]["exit_code"] == 0
    assert ends[0]["recorded"] >= last_write
    assert "outputs written, exit status inferred" in ends[0]["unobserved"]
    assert recs.index(ends[0]) < recs.index(index_starts[0])
    summary = thas_summary(proc_dir)
    assert summary["stages"]["index"]["state"] == "done"
    assert summary["stages"]["find_spots"]["state"] == "done"
    assert summary["stages"]["find_spots"]["ended_unobserved"] == ends[0]["unobserved"]
    assert "ended_unobserved" not in summary["stages"]["index"]
    assert summary["stages"]["refine_bravais_settings"]["state"] == "pending"


def test_stopped_run_is_not_continued(tmp_path: Path, l_cysteine_sweep1: list[str]) -> None:
    """Ctrl-C (the user chose to stop): the keeper does nothing after the run ends."""
    proc_dir = tmp_path / "proc"
    dash = _headless(proc_dir, l_cysteine_sweep1, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    _wait_for_start(proc_dir, "find_spots", deadline)
    dash.send_signal(signal.SIGINT)
    _, err = dash.communicate(timeout=60)
    assert dash.returncode == 130
    assert "Traceback" not in err
    time.sleep(3)  # time enough for a keeper to (wrongly) start index
    recs = _journal(proc_dir)
    assert [r["outcome"] for r in recs if r["event"] == "run_end"] == ["stopped at find_spots"]
    assert not [r for r in recs if r["event"] == "start" and r["stage"] == "index"]
    assert (proc_dir / "thas-tui" / "logs" / "find_spots.1.log").is_file()
    assert (proc_dir / "imported.expt").is_file()


def _start_tui_in_pty(argv: list[str], cols: int = 120, rows: int = 40) -> subprocess.Popen:
    """The real dashboard on a pseudo-terminal, its screen output drained and thrown away."""
    import fcntl
    import pty
    import struct
    import termios
    import threading

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = dict(os.environ, TERM="xterm-256color")
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)

    def drain() -> None:
        while True:
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break
        os.close(master)

    threading.Thread(target=drain, daemon=True).start()
    return proc


def _signal_tui_mid_find_spots(proc_dir: Path, images: list[str], sig: int) -> float:
    """Start the dashboard (--until index), send ``sig`` during find_spots; DIALS must live on.

    Returns the deadline for what follows."""
    dash = _start_tui_in_pty(
        [sys.executable, "-m", "thas_tui", "run", *images, "--dir", str(proc_dir)]
        + ["--until", "index", "--auto-bravais"]
    )
    deadline = time.time() + 240
    try:
        pid = _wait_for_start(proc_dir, "find_spots", deadline)
        dash.send_signal(sig)
        dash.wait(30)
        assert _alive(pid), f"dials.find_spots died with the dashboard ({signal.Signals(sig).name})"
    finally:
        if dash.poll() is None:
            dash.kill()
    return deadline


async def test_killed_tui_goes_on_and_attach_shows_it(
    tmp_path: Path, l_cysteine_sweep1: list[str]
) -> None:
    """The full dashboard, SIGKILLed mid-find_spots; attach sees a stage run and index finish."""
    from thas_tui.app import ThasApp
    from thas_tui.core.commands import RunConfig
    from thas_tui.core.dials_env import find_dials
    from thas_tui.core.pipeline import State
    from thas_tui.core.watcher import pipeline_from_dir
    from thas_tui.widgets.stage_tree import StageTree

    proc_dir = tmp_path / "proc"
    deadline = _signal_tui_mid_find_spots(proc_dir, l_cysteine_sweep1, signal.SIGKILL)
    pipeline, _ = pipeline_from_dir(proc_dir)
    app = ThasApp(proc_dir, RunConfig(), find_dials(), pipeline, autostart=False, watch=True)
    seen_running: set[str] = set()
    async with app.run_test(size=(120, 40)) as pilot:
        tree = app.dashboard.query_one(StageTree)
        while time.time() < deadline:
            await pilot.pause(0.2)
            for name in ("find_spots", "index"):
                if app.dashboard.pipeline[name].state is State.RUNNING:
                    seen_running.add(name)
                    assert str(tree.get_cell(name, "glyph")) == "▶"
            if app.dashboard.pipeline["index"].state is State.DONE:
                break
        assert app.dashboard.pipeline["index"].state is State.DONE, _driver_log(proc_dir)
        await pilot.pause(0.5)
        assert str(tree.get_cell("index", "glyph")) == "✓"
        assert str(tree.get_cell("find_spots", "glyph")) == "✓"
    assert seen_running, "attach never showed a stage running"
    for name in ("imported.expt", "strong.refl", "indexed.expt", "indexed.refl"):
        assert (proc_dir / name).is_file(), name
    assert "continuing it" in _driver_log(proc_dir)


def test_hangup_leaves_the_stage_running_and_the_run_goes_on(
    tmp_path: Path, l_cysteine_sweep1: list[str]
) -> None:
    """The SSH connection drops (SIGHUP): the stage goes on and the rest runs once, unattended."""
    proc_dir = tmp_path / "proc"
    deadline = _signal_tui_mid_find_spots(proc_dir, l_cysteine_sweep1, signal.SIGHUP)
    recs = _wait_for_run_end(proc_dir, deadline)
    # The 'leave running' resume ran index; the keeper saw the hand-over and did nothing.
    index_runs = [r for r in recs if r["event"] == "start" and r["stage"] == "index"]
    assert len(index_runs) == 1
    assert [r for r in recs if r["event"] == "end" and r["stage"] == "index"][0]["exit_code"] == 0
    log = _driver_log(proc_dir)
    assert "waiting for pid" in log and "resuming" in log
    assert "continuing it" not in log
    for name in ("strong.refl", "indexed.expt", "indexed.refl"):
        assert (proc_dir / name).is_file(), name

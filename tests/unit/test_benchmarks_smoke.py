"""Smoke test of the dashboard benchmarks: each runs with --quick on tiny input and prints figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def run(script: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_huge_log_benchmark() -> None:
    out = run("bench_huge_log.py", "--lines", "12000")
    assert "median first screen:" in out
    assert "median jump to end (End):" in out
    assert "median RSS after:" in out
    assert "showing last 5,000 of 12,000 lines" in out


def test_flood_benchmark() -> None:
    out = run("bench_flood.py", "--rate", "5000", "--seconds", "1")
    assert "in order, none lost: True" in out
    assert "key-press-to-repaint latency" in out and "p99" in out


def test_startup_benchmark() -> None:
    if not Path("/usr/bin/tmux").exists() and not any(
        (Path(p) / "tmux").exists() for p in ("/usr/local/bin", "/bin")
    ):
        pytest.skip("tmux not installed")
    out = run("bench_startup.py", "--runs", "1")
    assert "thas-tui --help: median" in out
    assert "thas-tui attach (empty dir) first paint: median" in out


@pytest.mark.parametrize(
    "script", ["bench_pipeline_overhead.py", "bench_memory.py", "bench_open_run.py"]
)
def test_long_benchmarks_parse_their_options(script: str) -> None:
    """The benchmarks that run whole pipelines are too slow here: check they load and parse."""
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout and "--" in proc.stdout


def test_lattice_benchmark() -> None:
    data = Path(__file__).resolve().parents[1] / "data" / "dials-3.12_thas_demo_lattice"
    out = run("bench_lattice.py", str(data), "--size", "120x40")
    assert "mapping strong.refl (28,223 spots)" in out
    assert "mapping indexed.refl (28,223 spots)" in out
    assert "per key, action + frame" in out and "p99" in out
    assert "RSS: dashboard open" in out


def test_compare_benchmark() -> None:
    out = run("bench_compare.py")
    assert "kinds: dials, dials, xia2" in out
    assert "compare --json --no-recompute, whole process: median" in out

"""The demo generator's worker pool: images in order, and a dead worker never hangs it."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[2] / "thas_tui" / "sim" / "simulate_sweep.py"
PARENT = os.getpid()


def _load():
    # The generator is a script run under DIALS's Python; its top level needs only numpy.
    spec = importlib.util.spec_from_file_location("simulate_sweep_under_test", SIM)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _square(index: int) -> int:
    return index * index


def _dies_on_five(index: int) -> int:
    if index == 5 and os.getpid() != PARENT:
        os._exit(9)  # a worker killed mid-task, as seen once in CI (left defunct)
    return index * index


@pytest.fixture(scope="module")
def sim():
    return _load()


def test_results_come_in_order_on_two_workers(sim):
    assert list(sim.ordered_map(_square, 40, 2)) == [i * i for i in range(40)]


def test_one_process_needs_no_pool(sim):
    assert list(sim.ordered_map(_square, 7, 1)) == [0, 1, 4, 9, 16, 25, 36]


def test_a_dead_worker_finishes_serially_and_says_so(sim, capsys):
    if sys.platform != "linux":
        pytest.skip("the generator forks its workers (Linux only)")
    assert list(sim.ordered_map(_dies_on_five, 12, 2)) == [i * i for i in range(12)]
    err = capsys.readouterr().err
    assert "a generator worker died at image" in err
    assert "going on in one process" in err

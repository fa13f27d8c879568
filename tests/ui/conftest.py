"""Pilot tests: each test's app leaves the garbage collector as it found it."""

from __future__ import annotations

import gc

import pytest


@pytest.fixture(autouse=True)
def _unfreeze_garbage():
    # The app freezes what it holds a second after start-up (app.settle_garbage); in one
    # process running many apps, a finished app's objects must become collectable again.
    yield
    gc.unfreeze()
    gc.enable()  # launch.hold_garbage stops collection until an app has settled

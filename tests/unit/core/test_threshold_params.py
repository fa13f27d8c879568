"""The threshold panel's parameters: one step up or down within limits, typed values checked."""

from __future__ import annotations

from thas_tui.core import threshold_params as tp


def test_steps_stay_within_limits() -> None:
    p = dict(tp.DEFAULTS)
    assert tp.step(p, "sigma_strong", 1)["sigma_strong"] == 3.5
    assert tp.step(p, "gain", -1)["gain"] == 0.9
    assert tp.step(p, "kernel_size", 1)["kernel_size"] == [4, 4]
    assert tp.step({**p, "kernel_size": [8, 8]}, "kernel_size", 1)["kernel_size"] == [8, 8]
    assert tp.step({**p, "gain": 0.1}, "gain", -1)["gain"] == 0.1
    assert tp.step(p, "global_threshold", -1)["global_threshold"] == 0.0
    assert tp.step({**p, "min_local": 0}, "min_local", -1)["min_local"] == 0
    assert tp.step(p, "algorithm", 1)["algorithm"] == "dispersion"
    assert tp.step(tp.step(p, "algorithm", 1), "algorithm", 1)["algorithm"] == (
        "dispersion_extended"
    )
    assert p == tp.DEFAULTS  # a new dict each step


def test_typed_values_are_checked() -> None:
    assert tp.parse("kernel_size", "5,5") == ([5, 5], None)
    assert tp.parse("kernel_size", "4") == ([4, 4], None)
    assert tp.parse("kernel_size", "9,9")[1] == (
        "kernel_size is two half-widths from 1 to 8, e.g. 3,3."
    )
    assert tp.parse("sigma_strong", "2.5") == (2.5, None)
    assert tp.parse("sigma_strong", "0") == (None, "sigma_strong must be greater than 0.")
    assert tp.parse("gain", "x") == (None, "gain: 'x' is not a number.")
    assert tp.parse("global_threshold", "0") == (0.0, None)
    assert tp.parse("min_local", "-1") == (None, "min_local is 0 or more.")
    assert tp.parse("algorithm", "dispersion") == ("dispersion", None)
    assert tp.parse("algorithm", "foo")[0] is None


def test_values_are_written_as_find_spots_reads_them() -> None:
    assert tp.text("kernel_size", [3, 3]) == "3,3"
    assert tp.text("gain", 1.0) == "1"
    assert tp.text("sigma_background", 6.5) == "6.5"

"""Known DIALS limits of narrow wedges: said plainly, with the parameters that get past them."""

from __future__ import annotations

from pathlib import Path

from thas_tui.core.failures import classify, with_fix

DATA = Path(__file__).resolve().parents[2] / "data"
ONE_SWEEP = DATA / "dials-3.12_l_cysteine_logs"
FOUR_SWEEPS = DATA / "dials-3.12_l_cysteine_4sweeps"


def _tail(path: Path, n: int = 60) -> list[str]:
    return path.read_text().splitlines()[-n:]


def test_integrate_too_few_reflections_one_sweep() -> None:
    f = classify("dials.integrate", 1, _tail(ONE_SWEEP / "failures" / "integrate_too_few.stdout"))
    assert f is not None and f.kind == "limit"
    assert f.reason == (
        "dials.integrate stopped: too few strong reflections to model the spot profiles "
        "(found 29 reference reflections (19 per degree); its defaults need 20 per degree or "
        "50 in total)."
    )
    assert f.fix == (
        "profile.gaussian_rs.min_spots.per_degree=6",
        "profile.gaussian_rs.min_spots.overall=9",
    )
    assert "F in the dashboard" in f.hint and " ".join(f.fix) in f.hint


def test_integrate_too_few_reflections_four_sweeps() -> None:
    # thas-tui run on the 4 L-cysteine sweeps, default integrate options (its own log file).
    f = classify("/usr/bin/dials.integrate", 1, _tail(FOUR_SWEEPS / "integrate_too_few.log"))
    assert f is not None and f.kind == "limit"
    assert "found 20 reference reflections (13 per degree)" in f.reason
    assert f.fix == (
        "profile.gaussian_rs.min_spots.per_degree=4",
        "profile.gaussian_rs.min_spots.overall=6",
    )


def test_merge_report_crash_on_few_observations() -> None:
    f = classify("dials.merge", 1, _tail(ONE_SWEEP / "stdout" / "merge.stdout", 40))
    assert f is not None and f.kind == "limit"
    assert f.reason.startswith("dials.merge crashed after merging (exit code 1): DIALS 3.12")
    assert f.detail == [
        "AttributeError: Please report this error to dials-support@lists.sourceforge.net: "
        "'NoneType' object has no attribute 'as_dict'"
    ]
    assert f.fix == ("output.json=None", "output.html=None")


def test_merge_report_crash_four_sweeps() -> None:
    # The 4-sweep run's scaled data: xtriage's assertion inside the same report.
    f = classify("dials.merge", 1, _tail(FOUR_SWEEPS / "merge_report_crash.stdout", 40))
    assert f is not None and f.kind == "limit"
    assert f.detail == [
        "AssertionError: Please report this error to dials-support@lists.sourceforge.net:"
    ]
    assert f.fix == ("output.json=None", "output.html=None")


def test_a_fix_replaces_the_parameters_it_names() -> None:
    tokens = ["prediction.d_min=3.25", "profile.gaussian_rs.min_spots.overall=30"]
    fix = ("profile.gaussian_rs.min_spots.per_degree=4", "profile.gaussian_rs.min_spots.overall=6")
    assert with_fix(tokens, fix) == ["prediction.d_min=3.25", *fix]


def test_attached_directory_shows_the_known_limit_and_its_fix(tmp_path: Path) -> None:
    # A run whose integrate stopped on the limit, as the journal and the attempt's own log
    # (DIALS's stdout: its .log stops before the message) leave it for `thas-tui attach`.
    from thas_tui.core.journal import Journal, thas_dir
    from thas_tui.core.rundir import read_rundir

    log = thas_dir(tmp_path) / "logs" / "integrate.1.log"
    log.parent.mkdir(parents=True)
    log.write_bytes((FOUR_SWEEPS / "integrate_too_few.log").read_bytes())
    journal = Journal(tmp_path)
    journal.started("integrate", 1, ["dials.integrate", "refined.expt"], str(log), 4242)
    journal.ended("integrate", 1, 1)
    state = read_rundir(tmp_path).stages["integrate"]
    assert state.failure is not None
    assert state.failure.startswith("dials.integrate stopped: too few strong reflections")
    assert "profile.gaussian_rs.min_spots.per_degree=4" in state.failure

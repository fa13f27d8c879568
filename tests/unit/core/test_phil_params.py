"""PHIL parameter listings of DIALS 3.12 (real output) parsed, and new values checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from thas_tui.core import phil_params
from thas_tui.core.commands import BadParameter
from thas_tui.core.dials_env import DialsEnv
from thas_tui.core.phil_params import (
    find_param,
    list_params,
    parse_phil_listing,
    token_for,
    validate,
)

DATA = Path(__file__).parents[2] / "data" / "dials-3.12_phil"


@pytest.fixture(scope="module")
def index_params():
    return parse_phil_listing((DATA / "dials.index.phil.txt").read_text())


@pytest.fixture(scope="module")
def integrate_params():
    return parse_phil_listing((DATA / "dials.integrate.phil.txt").read_text())


def param(params, path):
    found = [p for p in params if p.path == path]
    assert len(found) == 1, path
    return found[0]


def test_index_listing(index_params) -> None:
    # One definition per .type line in the listing.
    assert len(index_params) == 176
    method = param(index_params, "indexing.method")
    assert method.type == "choice"
    assert method.default == "fft3d"
    assert method.choices == ["fft1d", "fft3d", "real_space_grid_search", "low_res_spot_match"]
    max_cell = param(index_params, "indexing.max_cell")
    assert (max_cell.type, max_cell.default) == ("float", "Auto")
    assert max_cell.type_args == {"value_min": "0", "allow_none": "True"}
    assert max_cell.type_text == "float(value_min=0, allow_none=True)"
    # Help split over two quoted lines reads back as one sentence.
    assert max_cell.help == "Maximum length of candidate unit cell basis vectors (in Angstrom)."
    assert max_cell.expert_level == 1
    cell = param(index_params, "indexing.known_symmetry.unit_cell")
    assert (cell.type, cell.default, cell.help) == (
        "unit_cell",
        "None",
        "Target unit cell for indexing.",
    )
    assert param(index_params, "indexing.known_symmetry.space_group").type == "space_group"
    # A scope with attributes ("max_cell_estimation", ".expert_level = 1", then "{").
    hist = param(index_params, "indexing.max_cell_estimation.histogram_binning")
    assert (hist.default, hist.choices) == ("log", ["linear", "log"])
    assert hist.expert_level == 1
    # A multi-choice with two defaults, and a choice with none.
    beam_fix = param(index_params, "refinement.parameterisation.beam.fix")
    assert beam_fix.multi_choice and beam_fix.default == "in_spindle_plane+wavelength"
    crystal_fix = param(index_params, "refinement.parameterisation.crystal.fix")
    assert crystal_fix.choices == ["all", "cell", "orientation"]
    assert crystal_fix.default == "None"
    assert param(index_params, "output.experiments").default == "indexed.expt"
    tie = param(
        index_params,
        "refinement.parameterisation.crystal.unit_cell.restraints.tie_to_target.values",
    )
    assert (tie.type, tie.type_args) == ("floats", {"size": "6"})


def test_integrate_listing(integrate_params) -> None:
    assert len(integrate_params) == 113
    # Quoted default values lose their quotes.
    assert param(integrate_params, "output.experiments").default == "integrated.expt"
    scan_range = param(integrate_params, "scan_range")
    assert scan_range.type == "ints" and scan_range.type_args == {"size": "2"}
    assert scan_range.multiple
    algorithm = param(integrate_params, "integration.background.algorithm")
    assert algorithm.type == "choice" and "glm" in (algorithm.choices or [])
    # A definition whose name is itself dotted inside its scope.
    n_subset = param(integrate_params, "integration.mp.multiprocessing.n_subset_split")
    assert n_subset.type == "int"
    overall = param(integrate_params, "profile.gaussian_rs.min_spots.overall")
    assert (overall.default, overall.type) == ("50", "int")


def test_find_param_by_suffix(index_params) -> None:
    assert find_param(index_params, "max_cell").path == "indexing.max_cell"
    assert find_param(index_params, "indexing.method").path == "indexing.method"
    # A short name that several scopes define is not guessed.
    assert find_param(index_params, "d_min") is None
    assert find_param(index_params, "no_such_thing") is None


@pytest.mark.parametrize(
    ("path", "value", "normalised"),
    [
        ("indexing.max_cell", "20", "20"),
        ("indexing.max_cell", " 150.5 ", "150.5"),
        ("indexing.max_cell", "auto", "Auto"),
        ("indexing.max_cell", "None", "None"),
        ("indexing.method", "fft1d", "fft1d"),
        ("indexing.method", "*real_space_grid_search", "real_space_grid_search"),
        ("indexing.nproc", "4", "4"),
        ("indexing.max_cell_estimation.filter_ice", "false", "False"),
        ("indexing.max_cell_estimation.filter_ice", "yes", "True"),
        (
            "indexing.known_symmetry.unit_cell",
            "57.1,102.2,112.2,90,90,90",
            "57.1,102.2,112.2,90,90,90",
        ),
        ("indexing.known_symmetry.unit_cell", "5.4 8.1 12.0", "5.4,8.1,12.0"),
        ("indexing.known_symmetry.space_group", "P212121", "P212121"),
        ("indexing.known_symmetry.space_group", "P 21 21 21", "P 21 21 21"),
        ("refinement.parameterisation.beam.fix", "all", "all"),
        (
            "refinement.parameterisation.beam.fix",
            "in_spindle_plane+wavelength",
            "in_spindle_plane+wavelength",
        ),
        (
            "refinement.parameterisation.beam.fix",
            "in_spindle_plane wavelength",
            "in_spindle_plane+wavelength",
        ),
        ("output.experiments", "my_indexed.expt", "my_indexed.expt"),
        (
            "refinement.parameterisation.crystal.unit_cell.restraints.tie_to_target.values",
            "57.1 102.2 112.2 90 90 90",
            "57.1,102.2,112.2,90,90,90",
        ),
    ],
)
def test_validate_accepts(index_params, path: str, value: str, normalised: str) -> None:
    assert validate(param(index_params, path), value) == normalised


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("indexing.max_cell", "twenty", "needs a number"),
        ("indexing.max_cell", "-5", "at least 0"),
        ("indexing.max_cell", "nan", "finite"),
        ("indexing.max_cell", "", "needs a value"),
        ("indexing.nproc", "2.5", "needs an integer"),
        ("indexing.nproc", "0", "at least 1"),
        ("indexing.method", "fft2d", "not a choice"),
        ("indexing.method", "fft1d fft3d", "takes one of"),
        ("indexing.max_cell_estimation.filter_ice", "maybe", "True or False"),
        ("indexing.known_symmetry.unit_cell", "57.1,102.2", "3 or 6 numbers"),
        ("indexing.known_symmetry.unit_cell", "57.1,102.2,112.2,90,90,x", "needs a number"),
        ("indexing.known_symmetry.space_group", "P2;rm", "not a space group"),
        ("output.experiments", "-rf", "read as a flag"),
        ("output.experiments", "-1.expt", "starts with '-'"),
        ("output.experiments", "a\nb", "line break"),
        (
            "refinement.parameterisation.crystal.unit_cell.restraints.tie_to_target.values",
            "1,2,3",
            "needs 6 numbers",
        ),
    ],
)
def test_validate_refuses(index_params, path: str, value: str, message: str) -> None:
    with pytest.raises(BadParameter, match=message):
        validate(param(index_params, path), value)


def test_integrate_values(integrate_params) -> None:
    assert validate(param(integrate_params, "scan_range"), "1 10") == "1,10"
    with pytest.raises(BadParameter, match="needs 2 numbers"):
        validate(param(integrate_params, "scan_range"), "1,2,3")
    overall = param(integrate_params, "profile.gaussian_rs.min_spots.overall")
    assert token_for(overall, "10") == "profile.gaussian_rs.min_spots.overall=10"


def test_list_params_caches_per_version(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    fake = bin_dir / "dials.index"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\ncat {DATA / "dials.index.phil.txt"}\n')
    fake.chmod(0o755)
    dials = DialsEnv(bin_dir=bin_dir, version="3.12-test", python="python3")
    cache = tmp_path / "cache"
    params = list_params("dials.index", dials, cache)
    assert len(params) == 176
    assert calls.read_text() == "-c -e1 -a2\n"
    assert (cache / "dials.index-3.12-test.phil.txt").is_file()
    assert list_params("dials.index", dials, cache) is params
    # Another process (fresh memory) reads the file, not DIALS.
    phil_params._MEMORY.clear()
    assert len(list_params("dials.index", dials, cache)) == 176
    assert calls.read_text() == "-c -e1 -a2\n"


def test_list_params_reports_failure(tmp_path: Path) -> None:
    from thas_tui.core.errors import ThasError

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dials.integrate"
    fake.write_text("#!/bin/sh\necho 'Sorry: broken' >&2\nexit 1\n")
    fake.chmod(0o755)
    dials = DialsEnv(bin_dir=bin_dir, version="3.12-broken", python="python3")
    with pytest.raises(ThasError, match="Sorry: broken"):
        list_params("dials.integrate", dials)

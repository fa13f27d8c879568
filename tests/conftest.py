"""Fixtures shared by every layer of tests."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

FakeDials = Callable[..., Path]

# Under pytest-xdist (`./run test` runs two workers, --dist loadgroup) a session or module
# fixture is made once per worker that needs it: the tests sharing an expensive one (a whole
# DIALS pipeline, the Slurm cluster) are kept on one worker, and each integration module's own
# fixtures likewise; the unit and UI tests go wherever a worker is free.
SHARED_FIXTURE_GROUPS = {
    "demo_run": "demo",
    "slurm_cluster": "slurm",
    "slurm_spots": "slurm",
    "image_dir": "images",
    "multi_panel_dir": "multipanel",
    "single_panel_demo_dir": "multipanel",
}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        names = getattr(item, "fixturenames", ())
        group = next((g for f, g in SHARED_FIXTURE_GROUPS.items() if f in names), None)
        if group is None and item.get_closest_marker("integration") is not None:
            group = item.module.__name__ if item.module is not None else None
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture
def fake_dials_bin(tmp_path: Path) -> FakeDials:
    """``make(version, seconds=0)``: a DIALS bin/ of dials.import and a dials.version that
    takes ``seconds``, says ``DIALS {version}`` and leaves ``tmp_path/asked`` when it runs."""

    def make(version: str, seconds: float = 0) -> Path:
        bin_dir = tmp_path / "dials-bin"
        bin_dir.mkdir()
        (bin_dir / "dials.import").write_text("#!/usr/bin/python3\n")
        script = bin_dir / "dials.version"
        script.write_text(
            f"#!/bin/sh\ntouch '{tmp_path}/asked'\nsleep {seconds}\necho 'DIALS {version}'\n"
        )
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        return bin_dir

    return make


IMAGES = Path(__file__).parent / "data" / "images" / "l_cysteine"


@pytest.fixture(scope="session")
def image_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A processing directory of three real L-cysteine images (tests/data/images): imported and
    spot-found by real DIALS (find_spots' log holds the per-image strong pixel counts)."""
    import shutil
    import subprocess

    if not shutil.which("dials.import"):
        pytest.skip("DIALS is not installed (dials.import not on PATH)")
    root = tmp_path_factory.mktemp("images")
    images = root / "images"
    images.mkdir()
    for path in sorted(IMAGES.glob("l-cyst_01_*.cbf.gz"))[:3]:  # the folder holds sweep 1
        shutil.copy(path, images)
    work = root / "proc"
    work.mkdir()
    for argv in (
        ["dials.import", *sorted(str(p) for p in images.glob("*.cbf.gz"))],
        ["dials.find_spots", "imported.expt", "nproc=1"],
    ):
        res = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    return work


@pytest.fixture(scope="session")
def multi_panel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three images of the demo's PILATUS 6M sweep (simulated by thas_tui/sim, cached as the
    demo tests cache it) imported as the detector's 60 modules (``dials.import
    format.multi_panel=True``: a real multi-panel detector), and spot-found by real DIALS.
    L-cysteine's full-CBF format reads as one panel only."""
    import shutil
    import subprocess

    from thas_tui.core import demo

    if not shutil.which("dials.import"):
        pytest.skip("DIALS is not installed (dials.import not on PATH)")
    if not demo.is_cached("demo"):
        res = subprocess.run(
            demo.generation_argv("/usr/bin/python3", "demo"),
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert res.returncode == 0, res.stderr[-2000:]
    images = [str(p) for p in demo.image_paths("demo")[:3]]
    work = tmp_path_factory.mktemp("multi") / "proc"
    work.mkdir()
    for argv in (
        ["dials.import", *images, "format.multi_panel=True"],
        ["dials.find_spots", "imported.expt", "nproc=1"],
    ):
        res = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    return work


@pytest.fixture(scope="session")
def single_panel_demo_dir(multi_panel_dir: Path, tmp_path_factory) -> Path:
    """The same three demo images imported as one panel (dials.import's default), spot-found."""
    import subprocess

    from thas_tui.core import demo

    images = [str(p) for p in demo.image_paths("demo")[:3]]
    work = tmp_path_factory.mktemp("single") / "proc"
    work.mkdir()
    for argv in (["dials.import", *images], ["dials.find_spots", "imported.expt", "nproc=1"]):
        res = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    return work

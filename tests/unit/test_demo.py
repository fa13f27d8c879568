"""Demo sweep cache: location, completeness and the generator's argv."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from thas_tui.core import demo


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "thas-tui"


def _fill(directory: Path, n_images: int, write: int | None = None, info: bool = True) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(1, (n_images if write is None else write) + 1):
        (directory / f"thas_demo_{i:05d}.cbf").write_bytes(b"###CBF")
    if info:
        (directory / "sweep_info.json").write_text(json.dumps({"n_images": n_images}))


def test_cache_dir_under_xdg_cache_home(cache: Path) -> None:
    d = demo.demo_cache_dir("small")
    assert d.parent == cache
    assert d.name.startswith("demo-small-")


def test_cache_dir_defaults_to_home_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert demo.demo_cache_dir("demo").parent == tmp_path / ".cache" / "thas-tui"


def test_relative_xdg_cache_home_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert demo.demo_cache_dir("demo").parent == tmp_path / ".cache" / "thas-tui"


def test_presets_get_different_dirs_keyed_by_generator_version(cache: Path) -> None:
    small, full = demo.demo_cache_dir("small"), demo.demo_cache_dir("demo")
    assert small != full
    version = demo._generator_version(preset_entry=demo._PRESET_ENTRIES["small"])
    assert len(version) == 12 and version != "unknown"
    assert small.name == f"demo-small-{version}"


def test_retuning_one_preset_keeps_the_others_cached(tmp_path: Path) -> None:
    script = tmp_path / "simulate_sweep.py"
    script.write_text("a = 1\n")
    full = {"n_images": 800, "oscillation": 0.2, "distance": 240.0}
    demo_entry = {"n_images": 45, "oscillation": 2.0, "distance": 500.0}

    def version(entry: dict) -> str:
        return demo._generator_version(script, preset_entry=entry)

    before = version(full), version(demo_entry)
    demo_entry["n_images"] = 50
    assert version(full) == before[0]
    assert version(demo_entry) != before[1]


def test_presets_come_from_the_generators_file() -> None:
    assert demo.PRESETS == ("demo", "small", "full", "session")
    assert demo.EIGER_PRESETS == ("eiger-demo", "eiger-small")
    assert demo.crystal_d_min("demo") == 3.25 and demo.crystal_d_min("full") is None
    assert demo._PRESET_ENTRIES["full"]["n_images"] == 800


def test_generator_change_changes_the_key(tmp_path: Path) -> None:
    script = tmp_path / "simulate_sweep.py"
    script.write_text("a = 1\n")
    before = demo._generator_version(script)
    script.write_text("a = 2\n")
    assert demo._generator_version(script) != before


def test_unknown_preset_is_rejected(cache: Path) -> None:
    with pytest.raises(ValueError, match="unknown demo preset"):
        demo.demo_cache_dir("huge")
    with pytest.raises(ValueError):
        demo.generation_argv("/usr/bin/python3", "huge")


def test_generation_argv_default_out_is_the_cache(cache: Path) -> None:
    argv = demo.generation_argv("/usr/bin/python3", "small")
    assert argv[0] == "/usr/bin/python3"
    assert argv[1] == str(demo.GENERATOR)
    assert Path(argv[1]).name == "simulate_sweep.py" and Path(argv[1]).is_file()
    assert argv[2:] == ["--out", str(demo.demo_cache_dir("small")), "--preset", "small", "--atomic"]


def test_generation_argv_explicit_out(tmp_path: Path) -> None:
    argv = demo.generation_argv("python3", "demo", tmp_path / "sweep")
    assert argv[argv.index("--out") + 1] == str(tmp_path / "sweep")
    assert argv[argv.index("--preset") + 1] == "demo"


def test_not_cached_when_missing(cache: Path) -> None:
    assert not demo.is_cached("small")
    assert demo.image_paths("small") == []
    assert demo.read_info("small") is None


def test_complete_dir_is_cached(cache: Path) -> None:
    d = demo.demo_cache_dir("small")
    _fill(d, 3)
    assert demo.is_cached("small")
    assert demo.image_paths("small") == [d / f"thas_demo_{i:05d}.cbf" for i in (1, 2, 3)]
    assert demo.template("small") == str(d / "thas_demo_#####.cbf")
    assert not demo.is_cached("demo")


def test_missing_image_is_not_cached(cache: Path) -> None:
    _fill(demo.demo_cache_dir("small"), 3, write=2)
    assert not demo.is_cached("small")


def test_empty_image_is_not_cached(cache: Path) -> None:
    d = demo.demo_cache_dir("small")
    _fill(d, 2)
    (d / "thas_demo_00002.cbf").write_bytes(b"")
    assert not demo.is_cached("small")


def test_images_without_info_are_not_cached(cache: Path) -> None:
    _fill(demo.demo_cache_dir("small"), 2, info=False)
    assert not demo.is_cached("small")


@pytest.mark.parametrize("text", ["", "{", "[]", '{"n_images": "3"}', '{"n_images": 0}'])
def test_garbage_info_is_not_cached(cache: Path, text: str) -> None:
    d = demo.demo_cache_dir("small")
    _fill(d, 2)
    (d / "sweep_info.json").write_text(text)
    assert not demo.is_cached("small")


def test_partial_temporary_sibling_is_not_the_cache(cache: Path) -> None:
    # What an interrupted --atomic run leaves: a hidden sibling, never the cache dir itself.
    final = demo.demo_cache_dir("small")
    _fill(final.parent / f".{final.name}.part-abc", 3, write=1, info=False)
    assert not demo.is_cached("small")


def test_demo_full_is_the_full_preset() -> None:
    from thas_tui.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["demo", "--full"]).preset == "full"
    assert parser.parse_args(["demo"]).preset == "demo"
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--full", "--preset", "small"])


def test_resume_phil_replaces_the_runs_parameter_of_that_name() -> None:
    from thas_tui.core.commands import RunConfig
    from thas_tui.core.pipeline import STAGE_NAMES, Pipeline
    from thas_tui.launch import _apply_phil

    config = RunConfig()
    config.set_extra(
        "integrate", ["prediction.d_min=3.25", "profile.gaussian_rs.min_spots.overall=9"]
    )
    _apply_phil(
        config,
        Pipeline(STAGE_NAMES),
        ["integrate:profile.gaussian_rs.min_spots.overall=6", "merge:output.json=None"],
        replace=True,
    )
    assert config.extra["integrate"] == [
        "prediction.d_min=3.25",
        "profile.gaussian_rs.min_spots.overall=6",
    ]
    assert config.extra["merge"] == ["output.json=None"]


def test_eiger_presets_run_the_eiger_generator(cache: Path) -> None:
    assert demo.preset_for("pilatus", "small") == "small"
    assert demo.preset_for("eiger", "demo") == "eiger-demo"
    argv = demo.generation_argv("/usr/bin/python3", "eiger-small")
    assert Path(argv[1]).name == "simulate_eiger.py" and Path(argv[1]).is_file()
    assert argv[2:] == [
        "--out",
        str(demo.demo_cache_dir("eiger-small")),
        "--preset",
        "small",
        "--atomic",
    ]
    # Keyed by both generators: the EIGER one imports the CBF one's crystal and physics.
    assert demo.demo_cache_dir("eiger-small").name == (
        "demo-eiger-small-" + demo._generator_version(demo.EIGER_GENERATOR, demo.GENERATOR)
    )


def test_eiger_sweep_is_cached_with_its_master_and_every_data_file(cache: Path) -> None:
    d = demo.demo_cache_dir("eiger-small")
    d.mkdir(parents=True)
    data = ["thas_eiger_data_000001.h5", "thas_eiger_data_000002.h5"]
    (d / "sweep_info.json").write_text(json.dumps({"n_images": 20, "data_files": data}))
    for name in ["thas_eiger_master.h5", data[0]]:
        (d / name).write_bytes(b"\x89HDF")
    assert demo.image_paths("eiger-small") == [d / "thas_eiger_master.h5"]
    assert demo.template("eiger-small") == str(d / "thas_eiger_master.h5")
    assert not demo.is_cached("eiger-small")  # a data file is missing
    (d / data[1]).write_bytes(b"\x89HDF")
    assert demo.is_cached("eiger-small")


@pytest.mark.parametrize(
    ("argv", "preset"),
    [
        (["demo"], "demo"),
        (["demo", "--detector", "eiger"], "eiger-demo"),
        (["demo", "--detector", "eiger", "--preset", "small"], "eiger-small"),
        (["demo", "--full"], "full"),
    ],
)
def test_demo_command_lines_build_their_runs(
    cache: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], preset: str
) -> None:
    # The README's own commands: `thas-tui demo --detector eiger` once failed here, saying
    # there was no such EIGER demo, while its tests went through the generator directly.
    from thas_tui import launch
    from thas_tui.cli import build_parser
    from thas_tui.core.dials_env import DialsEnv

    monkeypatch.setattr(
        launch, "find_dials", lambda *_: DialsEnv(Path("/usr/bin"), "3.12", "/usr/bin/python3")
    )
    _, config, pipeline, _, _ = launch.build_run(build_parser().parse_args(argv))
    assert config.demo_preset == preset
    assert f"--preset {preset.removeprefix('eiger-')}" in " ".join(config.simulate_argv)
    assert pipeline.names[0] == "simulate"


def test_there_is_no_full_eiger_demo(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from thas_tui import launch
    from thas_tui.cli import build_parser
    from thas_tui.core.dials_env import DialsEnv
    from thas_tui.core.errors import ThasError

    monkeypatch.setattr(
        launch, "find_dials", lambda *_: DialsEnv(Path("/usr/bin"), "3.12", "/usr/bin/python3")
    )
    with pytest.raises(ThasError, match="There is no 'full' EIGER demo"):
        launch.build_run(build_parser().parse_args(["demo", "--full", "--detector", "eiger"]))

"""The image helper under DIALS's Python on real L-cysteine images: dxtbx's arrays, find_spots' counts."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest

from thas_tui.core.image_client import ImageClient, ImageError

pytestmark = pytest.mark.integration

PYTHON = "/usr/bin/python3"
# dxtbx's own reading of the same images, under DIALS's Python, saved for the comparison.
DXTBX_SCRIPT = """
import sys, numpy as np
from dxtbx.model.experiment_list import ExperimentListFactory
iset = ExperimentListFactory.from_json_file(sys.argv[1], check_format=True).imagesets()[0]
out = {}
for i in range(len(iset)):
    out[f"raw{i}"] = iset.get_raw_data(i)[0].as_numpy_array()
    out[f"mask{i}"] = iset.get_mask(i)[0].as_numpy_array()
p = iset.get_detector()[0]
s0 = iset.get_beam().get_s0()
out["d"] = np.array([p.get_resolution_at_pixel(s0, (x + 0.5, y + 0.5))
                     for x, y in ((2, 2), (100, 700), (737, 840), (1474, 1678))])
np.savez(sys.argv[2], **out)
"""


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def dxtbx_arrays(image_dir: Path, tmp_path_factory) -> dict[str, np.ndarray]:
    out = tmp_path_factory.mktemp("dxtbx") / "arrays.npz"
    res = subprocess.run(
        [PYTHON, "-c", DXTBX_SCRIPT, str(image_dir / "imported.expt"), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    return dict(np.load(out))


def find_spots_counts(image_dir: Path) -> dict[int, int]:
    text = (image_dir / "dials.find_spots.log").read_text()
    return {
        int(m[2]): int(m[1]) for m in re.finditer(r"Found (\d+) strong pixels on image (\d+)", text)
    }


async def _ask(client: ImageClient, *reqs: dict):
    try:
        return [await client.request(r) for r in reqs]
    finally:
        await client.close()


def test_raw_pixels_and_mask_equal_dxtbx(image_dir: Path, dxtbx_arrays) -> None:
    client = ImageClient(PYTHON, image_dir / "imported.expt")
    answers = run(_ask(client, *({"op": "raw", "index": i} for i in range(3))))
    assert client.meta["n_images"] == 3
    assert client.meta["imagesets"][0]["size"] == [1475, 1679]
    for i, answer in enumerate(answers):
        assert answer.arrays["data"].dtype == np.int32
        assert np.array_equal(answer.arrays["data"], dxtbx_arrays[f"raw{i}"])
        assert np.array_equal(answer.arrays["good"], dxtbx_arrays[f"mask{i}"])
    assert int(dxtbx_arrays["mask0"].sum()) == 2278893


def test_binned_frame_is_the_max_of_good_pixels(image_dir: Path, dxtbx_arrays) -> None:
    client = ImageClient(PYTHON, image_dir / "imported.expt")
    (whole, part) = run(
        _ask(
            client,
            {"op": "image", "index": 0, "bin": 8},
            {"op": "image", "index": 0, "bin": 1, "region": [100, 690, 110, 710]},
        )
    )
    raw, good = dxtbx_arrays["raw0"], dxtbx_arrays["mask0"]
    work = np.where(good, raw, -1)
    # Bin (row 3, col 5): pixels y 24..31, x 40..47.
    assert whole.arrays["data"][3, 5] == work[24:32, 40:48].max()
    assert whole.arrays["data"].shape == (210, 185)  # ceil(1679/8), ceil(1475/8)
    assert int(whole.arrays["data"].max()) == int(work.max())
    assert np.array_equal(part.arrays["data"], work[690:710, 100:110])
    assert np.array_equal(part.arrays["centre"], raw[690:710, 100:110])
    # d at a pixel centre equals dxtbx's get_resolution_at_pixel (parallax included).
    assert part.arrays["d"][10, 0] == pytest.approx(dxtbx_arrays["d"][1], rel=1e-6)
    assert whole.header["p90"] == 0.0  # most L-cysteine pixels count 0


def test_threshold_counts_equal_find_spots_on_every_image(image_dir: Path) -> None:
    counts = find_spots_counts(image_dir)
    assert counts == {1: 89, 2: 132, 3: 107}
    client = ImageClient(PYTHON, image_dir / "imported.expt")
    answers = run(
        _ask(client, *({"op": "image", "index": i, "bin": 8, "threshold": {}} for i in range(3)))
    )
    assert [a.header["strong_in_region"] for a in answers] == [89, 132, 107]
    assert all(a.header["whole"] for a in answers)


def test_viewport_threshold_equals_the_whole_images_pixels(image_dir: Path) -> None:
    client = ImageClient(PYTHON, image_dir / "imported.expt")
    params = {"sigma_strong": 2.0, "algorithm": "dispersion"}
    region = [0, 600, 600, 1100]
    whole, part = run(
        _ask(
            client,
            {"op": "image", "index": 1, "bin": 1, "threshold": params},
            {"op": "image", "index": 2, "bin": 1, "region": region, "threshold": params},
        )
    )
    # Image 3 region computed alone (8-px margin) against the whole of image 3 after it.
    (full3,) = run(
        _ask(
            ImageClient(PYTHON, image_dir / "imported.expt"),
            {"op": "image", "index": 2, "bin": 1, "threshold": params},
        )
    )
    strong = full3.arrays["strong"][600:1100, 0:600]
    assert np.array_equal(part.arrays["strong"], strong)
    assert part.header["strong_in_region"] == int(strong.sum())
    assert not part.header["whole"]
    assert whole.header["strong_in_region"] == int(whole.arrays["strong"].sum())


def test_moved_images_name_the_first_missing_file(image_dir: Path, tmp_path: Path) -> None:
    images = tmp_path / "images"
    shutil.copytree(image_dir.parent / "images", images)
    subprocess.run(
        ["dials.import", *sorted(str(p) for p in images.glob("*.gz"))],
        cwd=tmp_path,
        capture_output=True,
        check=True,
        timeout=300,
    )
    (images / "l-cyst_01_00002.cbf.gz").unlink()
    client = ImageClient(PYTHON, tmp_path / "imported.expt")
    with pytest.raises(ImageError) as err:
        run(_ask(client, {"op": "image", "index": 0, "bin": 8}))
    assert err.value.kind == "missing"
    assert f"image {images / 'l-cyst_01_00002.cbf.gz'} is missing" in str(err.value)


def test_truncated_image_is_unreadable_and_the_others_still_show(
    image_dir: Path, tmp_path: Path
) -> None:
    images = tmp_path / "images"
    shutil.copytree(image_dir.parent / "images", images)
    subprocess.run(
        ["dials.import", *sorted(str(p) for p in images.glob("*.gz"))],
        cwd=tmp_path,
        capture_output=True,
        check=True,
        timeout=300,
    )
    bad = images / "l-cyst_01_00003.cbf.gz"
    bad.write_bytes(bad.read_bytes()[:20_000])
    client = ImageClient(PYTHON, tmp_path / "imported.expt")

    async def go():
        try:
            with pytest.raises(ImageError) as err:
                await client.request({"op": "image", "index": 2, "bin": 8})
            ok = await client.request({"op": "image", "index": 0, "bin": 8})
            return err.value, ok
        finally:
            await client.close()

    err, ok = run(go())
    assert err.kind == "unreadable"
    assert str(bad) in str(err)
    assert ok.arrays["data"].shape == (210, 185)


def test_helper_killed_restarts_once_then_says_why(image_dir: Path) -> None:
    client = ImageClient(PYTHON, image_dir / "imported.expt")

    async def go():
        try:
            await client.request({"op": "image", "index": 0, "bin": 8})
            first = client.pid
            os.kill(first, signal.SIGKILL)
            again = await client.request({"op": "image", "index": 1, "bin": 8})
            second = client.pid
            os.kill(second, signal.SIGKILL)
            with pytest.raises(ImageError) as err:
                await client.request({"op": "image", "index": 2, "bin": 8})
            return first, second, again, err.value
        finally:
            await client.close()

    first, second, again, err = run(go())
    assert first != second
    assert again.header["index"] == 1
    assert err.kind == "crashed"
    assert "the image helper was killed by SIGKILL" in str(err)


def test_missing_dials_python_is_said(image_dir: Path) -> None:
    client = ImageClient("/nonexistent/dials/python3", image_dir / "imported.expt")
    with pytest.raises(ImageError) as err:
        run(client.request({"op": "ping"}))
    assert err.value.kind == "nodials"
    assert "DIALS's Python (/nonexistent/dials/python3) is missing" in str(err.value)


def test_helper_exits_when_its_input_closes(image_dir: Path) -> None:
    client = ImageClient(PYTHON, image_dir / "imported.expt")

    async def go():
        await client.request({"op": "ping"})
        proc = client.proc
        client.close_input()
        return await asyncio.wait_for(proc.wait(), 10)

    assert run(go()) == 0


def test_masked_expt_shows_its_mask(image_dir: Path, tmp_path: Path) -> None:
    """A hand-run directory with masked.expt: the view reads it, and its pixels.mask is masked."""
    work = tmp_path / "proc"
    shutil.copytree(image_dir, work)
    (work / "mask.phil").write_text("untrusted {\n  rectangle = 100 300 600 700\n}\n")
    for argv in (
        ["dials.generate_mask", "imported.expt", "mask.phil"],
        ["dials.apply_mask", "imported.expt", "mask=pixels.mask"],
    ):
        subprocess.run(argv, cwd=work, capture_output=True, check=True, timeout=300)
    client = ImageClient(PYTHON, work / "masked.expt")
    (answer,) = run(_ask(client, {"op": "raw", "index": 0}))
    good = answer.arrays["good"]
    assert not good[600:700, 100:300].any()
    # Outside the rectangle the mask is imported.expt's (gaps and trusted range).
    before = _imported_good(image_dir)
    expected = before.copy()
    expected[600:700, 100:300] = False
    assert np.array_equal(good, expected)
    assert int(before.sum()) - int(good.sum()) == int(before[600:700, 100:300].sum())


def _imported_good(image_dir: Path) -> np.ndarray:
    client = ImageClient(PYTHON, image_dir / "imported.expt")
    (answer,) = run(_ask(client, {"op": "raw", "index": 0}))
    return answer.arrays["good"]

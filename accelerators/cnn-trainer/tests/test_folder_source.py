"""The image-folder source: one sub-folder per class, converted to RGB."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import numpy as np

from [[packageName]].data import load_folder, split
from [[packageName]].holdout import HoldoutRule

from conftest import assert_one_line_error, digit_pngs


def test_folder_is_read_as_rgb_with_sub_folder_names_as_classes(data_flags):
    images = load_folder(Path(data_flags[1]), 16)

    assert images.images.shape == (1797, 16, 16, 3)
    assert images.images.dtype == np.uint8
    assert images.class_names == tuple(str(digit) for digit in range(10))
    assert np.bincount(images.labels).min() > 150
    assert images.sizes.tolist() == [[8, 8]] * 1797, "the stored size, read before resizing"


def test_adding_images_to_the_folder_moves_none_into_the_held_out_set(tmp_path):
    pngs = list(islice(digit_pngs(), 600))
    write_pngs(tmp_path, pngs[:300], start=0)
    rule = HoldoutRule("folder-test")
    before = split(load_folder(tmp_path, 8), rule)

    write_pngs(tmp_path, pngs[300:], start=300)
    after = split(load_folder(tmp_path, 8), rule)

    assert len(before.train) + len(before.validation) + len(before.test) == 300
    assert len(after.train) + len(after.validation) + len(after.test) == 600
    assert set(before.test.fingerprints) <= set(after.test.fingerprints), "held-out images stay held out"
    assert set(before.train.fingerprints).isdisjoint(after.test.fingerprints), "no training image is held out now"
    assert len(after.test) > len(before.test)


def write_pngs(folder: Path, pngs: list[tuple[str, bytes]], start: int) -> None:
    for number, (label, png) in enumerate(pngs, start=start):
        (folder / label).mkdir(exist_ok=True)
        (folder / label / f"{number:04d}.png").write_bytes(png)


def test_missing_folder(run_cli, workdir):
    result = run_cli("train", "--data-dir", str(workdir / "no-such-folder"))

    assert_one_line_error(result, "no-such-folder", "does not exist")


def test_folder_without_class_folders(run_cli, workdir):
    (workdir / "flat").mkdir()
    (workdir / "flat" / "image.png").write_bytes(b"")

    assert_one_line_error(run_cli("train", "--data-dir", str(workdir / "flat")), "no sub-folders")


def test_folder_without_images(run_cli, workdir):
    (workdir / "empty" / "cats").mkdir(parents=True)

    assert_one_line_error(run_cli("train", "--data-dir", str(workdir / "empty")), "has no images")

"""The image-folder source: one sub-folder per class, converted to RGB."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from [[packageName]].data import load_folder

from conftest import assert_one_line_error


def test_folder_is_read_as_rgb_with_sub_folder_names_as_classes(data_flags):
    images = load_folder(Path(data_flags[1]), 16)

    assert images.images.shape == (1797, 16, 16, 3)
    assert images.images.dtype == np.uint8
    assert images.class_names == tuple(str(digit) for digit in range(10))
    assert np.bincount(images.labels).min() > 150


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

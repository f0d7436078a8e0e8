"""Each step on its own: bad input is one `error:` line and exit code 2, a service that does not answer exit code 75
(which the workflow retries), and data validation stops on every threshold it is given."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from [[packageName]].artifacts import Dataset
from [[packageName]].steps import TEMPORARY_FAILURE
from [[packageName]].steps.validate import Thresholds, run_checks

from conftest import assert_one_line_error, free_port

STEPS = ("ingest", "validate", "train", "evaluate", "register", "outcome"[[if #batchPrediction]], "predict"[[end #batchPrediction]])
LIMITS = Thresholds(min_images=10, max_class_ratio=3.0, max_duplicate_percent=5.0, min_image_size=8)


def dataset(labels: list[int], fingerprints: list[str] | None = None, side: int = 8) -> Dataset:
    count = len(labels)
    return Dataset(
        images=np.zeros((count, 4, 4, 1), dtype=np.uint8),
        labels=np.array(labels, dtype=np.int32),
        class_names=("a", "b", "c"),
        fingerprints=np.array(fingerprints or [f"image-{number}" for number in range(count)]),
        sizes=np.full((count, 2), side, dtype=np.int32),
        source="a test",
    )


def failed(found: Dataset) -> dict[str, str]:
    return {check.check: check.detail for check in run_checks(found, LIMITS) if not check.passed}


def test_balanced_distinct_large_enough_data_passes_every_check() -> None:
    assert failed(dataset([0, 1, 2] * 5)) == {}


@pytest.mark.parametrize(
    ("data", "check", "words"),
    [
        (dataset([0, 1, 2] * 3), "images", "9 images, fewer than 10 (--min-images)"),
        (dataset([0] * 8 + [1] * 2 + [2] * 2), "class balance", "a ratio of 4.00, above 3 (--max-class-ratio)"),
        (dataset([0] * 6 + [1] * 6), "class balance", "classes without images: 'c'"),
        (
            dataset([0, 1, 2] * 5, [f"image-{number % 14}" for number in range(15)]),
            "duplicates",
            "1 images repeat an earlier image's content (6.67%), above 5% (--max-duplicate-percent)",
        ),
        (
            dataset([0, 1, 2] * 5, [f"image-{number % 14}" for number in range(15)]),
            "conflicting labels",
            "1 images appear under two classes ('a' and 'c')",
        ),
        (dataset([0, 1, 2] * 5, side=6), "image size", "15 images are smaller than 8 pixels across"),
    ],
)
def test_each_check_fails_below_its_threshold(data: Dataset, check: str, words: str) -> None:
    assert words in failed(data)[check]


def write_dataset(path: Path, labels: list[int]) -> None:
    found = dataset(labels)
    np.savez(
        path,
        images=found.images,
        labels=found.labels,
        class_names=np.array(found.class_names),
        fingerprints=found.fingerprints,
        sizes=found.sizes,
        source=np.array(found.source),
    )


def test_validation_below_a_threshold_fails_the_step_after_writing_its_report(run_cli, workdir: Path) -> None:
    write_dataset(workdir / "dataset.npz", [0, 1, 2] * 5)
    report = workdir / "report.json"

    result = run_cli(
        "steps.validate", "--dataset", "dataset.npz", "--validation-report", str(report), "--min-images", "100"
    )

    assert_one_line_error(result, 2, "data validation failed: 15 images, fewer than 100 (--min-images)", str(report))
    written = json.loads(report.read_text())
    assert written["passed"] is False
    assert [check["check"] for check in written["checks"] if not check["passed"]] == ["images"]
    assert written["images_per_class"] == {"a": 5, "b": 5, "c": 5}


def test_validation_within_the_thresholds_passes(run_cli, workdir: Path) -> None:
    write_dataset(workdir / "dataset.npz", [0, 1, 2] * 5)

    result = run_cli(
        "steps.validate", "--dataset", "dataset.npz", "--validation-report", "report.json", "--min-images", "15"
    )

    assert result.returncode == 0, result.stderr
    assert json.loads((workdir / "report.json").read_text())["passed"] is True


@pytest.mark.parametrize(
    ("step", "args", "fragments"),
    [
        (
            "validate",
            ["--dataset", "missing.npz", "--validation-report", "r.json"],
            ["missing.npz", "written by the ingest step"],
        ),
        ("validate", ["--dataset", "garbage.npz", "--validation-report", "r.json"], ["garbage.npz", "cannot be read"]),
        (
            "evaluate",
            ["--dataset", "d.npz", "--model", "no-model", "--evaluation", "e.json"],
            ["no-model", "written by the train step"],
        ),
        (
            "register",
            ["--dataset", "d.npz", "--model", "no-model", "--evaluation", "e.json", "--registration", "r.json"],
            ["no-model", "written by the train step"],
        ),
        ("outcome", ["--outcome", "o.json", "--workflow", "w", "--status", "Fine", "--duration", "1"], ["--status"]),
        ("ingest", ["--dataset", "d.npz", "--image-size", "0"], ["--image-size"]),
        ("train", ["--dataset", "d.npz", "--model", "m"], ["EPOCHS='none' is not a positive integer"]),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    run_cli, workdir: Path, step: str, args: list[str], fragments: list[str]
) -> None:
    (workdir / "garbage.npz").write_bytes(b"not a numpy archive")

    result = run_cli(f"steps.{step}", *args, env={"EPOCHS": "none"} if step == "train" else None)

    assert_one_line_error(result, 2, *fragments)
    assert sorted(path.name for path in workdir.iterdir()) == ["garbage.npz"], "nothing half-written"


@pytest.mark.parametrize("step", ["train", "evaluate", "register", "outcome"])
def test_an_unreachable_tracking_server_is_a_temporary_failure(run_cli, workdir: Path, step: str) -> None:
    uri = f"http://127.0.0.1:{free_port()}"
    args = {
        "train": ["--dataset", "d.npz", "--model", "m"],
        "evaluate": ["--dataset", "d.npz", "--model", "m", "--evaluation", "e.json"],
        "register": ["--dataset", "d.npz", "--model", "m", "--evaluation", "e.json", "--registration", "r.json"],
        "outcome": ["--outcome", "o.json", "--workflow", "w", "--status", "Failed", "--duration", "3"],
    }[step]

    result = run_cli(f"steps.{step}", *args, "--tracking-uri", uri)

    assert_one_line_error(result, TEMPORARY_FAILURE, uri, "unreachable")


@pytest.mark.parametrize("step", STEPS)
def test_help_works_whatever_the_environment(run_cli, step: str) -> None:
    result = run_cli(f"steps.{step}", "--help", env={"EPOCHS": "x", "IMAGE_SIZE": "-3", "MIN_IMAGES": "many"})

    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout and result.stderr == ""

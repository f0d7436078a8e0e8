"""Validate: check the dataset before anything trains on it, write a report, and stop the run when a check fails.

    python -m {{ cookiecutter.__package_name }}.steps.validate --dataset dataset.npz --validation-report report.json

Checks, each against a threshold given as a flag (a workflow parameter): the number of images; the class balance
(images in the largest class per image in the smallest); duplicates by content hash; duplicates labelled as
different classes (never allowed); the stored size of the smallest image. The report lists every check, passed or
not, and is written before the step fails.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .. import config
from ..artifacts import Dataset, read_dataset, write_json
from ..errors import UserError
from ..flags import positive_int
from . import add_artifact, run_step, say, step_parser

EXAMPLES_SHOWN = 3


def ratio(text: str) -> float:
    value = float(text)
    if not value >= 1:
        raise ValueError(f"{value} is below 1")
    return value


def percent(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 100:
        raise ValueError(f"{value} is not in [0, 100]")
    return value


@dataclass(frozen=True)
class Thresholds:
    min_images: int
    max_class_ratio: float
    max_duplicate_percent: float
    min_image_size: int


@dataclass(frozen=True)
class Check:
    """One check's outcome; `detail` says it in words, naming the flag that sets the threshold."""

    check: str
    passed: bool
    value: float | None  # None where no number applies (a class without images has no ratio)
    threshold: float
    detail: str


def run_checks(dataset: Dataset, limits: Thresholds) -> list[Check]:
    return [
        count_check(dataset, limits.min_images),
        balance_check(dataset, limits.max_class_ratio),
        duplicate_check(dataset, limits.max_duplicate_percent),
        conflict_check(dataset),
        size_check(dataset, limits.min_image_size),
    ]


def count_check(dataset: Dataset, minimum: int) -> Check:
    count = len(dataset)
    if count >= minimum:
        return Check("images", True, count, minimum, f"{count} images (at least {minimum})")
    return Check("images", False, count, minimum, f"{count} images, fewer than {minimum} (--min-images)")


def balance_check(dataset: Dataset, maximum: float) -> Check:
    counts = np.bincount(dataset.labels, minlength=len(dataset.class_names))
    empty = [name for name, count in zip(dataset.class_names, counts, strict=True) if count == 0]
    if empty or len(counts) < 2:
        names = ", ".join(repr(name) for name in empty[:EXAMPLES_SHOWN]) or "all but one"
        return Check("class balance", False, None, maximum, f"classes without images: {names}")
    largest, smallest = int(np.argmax(counts)), int(np.argmin(counts))
    found = counts[largest] / counts[smallest]
    detail = (
        f"{counts[largest]} images of class {dataset.class_names[largest]!r} per "
        f"{counts[smallest]} of class {dataset.class_names[smallest]!r}: a ratio of {found:.2f}"
    )
    if found <= maximum:
        return Check("class balance", True, round(found, 4), maximum, f"{detail} (at most {maximum:g})")
    return Check("class balance", False, round(found, 4), maximum, f"{detail}, above {maximum:g} (--max-class-ratio)")


def duplicate_check(dataset: Dataset, maximum: float) -> Check:
    copies = len(dataset) - len(np.unique(dataset.fingerprints))
    share = 100 * copies / len(dataset) if len(dataset) else 0.0
    detail = f"{copies} images repeat an earlier image's content ({share:.2f}%)"
    if share <= maximum:
        return Check("duplicates", True, round(share, 4), maximum, f"{detail}, at most {maximum:g}% allowed")
    return Check(
        "duplicates", False, round(share, 4), maximum, f"{detail}, above {maximum:g}% (--max-duplicate-percent)"
    )


def conflict_check(dataset: Dataset) -> Check:
    """Identical images labelled as different classes: the data contradicts itself."""
    labels_of: dict[str, set[int]] = {}
    for fingerprint, label in zip(dataset.fingerprints.tolist(), dataset.labels.tolist(), strict=True):
        labels_of.setdefault(fingerprint, set()).add(label)
    conflicts = [labels for labels in labels_of.values() if len(labels) > 1]
    if not conflicts:
        return Check("conflicting labels", True, 0, 0, "no image appears under two classes")
    shown = "; ".join(
        " and ".join(repr(dataset.class_names[label]) for label in sorted(labels))
        for labels in conflicts[:EXAMPLES_SHOWN]
    )
    return Check(
        "conflicting labels", False, len(conflicts), 0, f"{len(conflicts)} images appear under two classes ({shown})"
    )


def size_check(dataset: Dataset, minimum: int) -> Check:
    sides = dataset.sizes.min(axis=1) if len(dataset) else np.array([0])
    smallest = int(sides.min())
    too_small = int(np.count_nonzero(sides < minimum))
    if not too_small:
        return Check(
            "image size",
            True,
            smallest,
            minimum,
            f"the smallest image is {smallest} pixels across (at least {minimum})",
        )
    return Check(
        "image size",
        False,
        smallest,
        minimum,
        f"{too_small} images are smaller than {minimum} pixels across (--min-image-size), the smallest {smallest}",
    )


def main(argv: Sequence[str] | None = None) -> int:
    return run_step(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = step_parser("validate", "Check the dataset against thresholds before training; report every check.")
    artifacts = parser.add_argument_group("artifacts")
    add_artifact(artifacts, "dataset", "the dataset to check (from the ingest step)")
    add_artifact(artifacts, "validation-report", "the report to write (.json)")
    parameters = parser.add_argument_group("thresholds")
    option = parser.add_env_option
    option(parameters, "--min-images", "MIN_IMAGES", positive_int, config.MIN_IMAGES, "fewest images to train on")
    option(
        parameters,
        "--max-class-ratio",
        "MAX_CLASS_RATIO",
        ratio,
        config.MAX_CLASS_RATIO,
        "most images in the largest class per image in the smallest",
        expected="a number of at least 1",
    )
    option(
        parameters,
        "--max-duplicate-percent",
        "MAX_DUPLICATE_PERCENT",
        percent,
        config.MAX_DUPLICATE_PERCENT,
        "largest share of images that repeat an earlier image's content",
        expected="a percentage from 0 to 100",
    )
    option(
        parameters,
        "--min-image-size",
        "MIN_IMAGE_SIZE",
        positive_int,
        config.MIN_IMAGE_SIZE,
        "fewest pixels across the shorter side of a stored image",
    )
    args = parser.parse(argv)
    limits = Thresholds(args.min_images, args.max_class_ratio, args.max_duplicate_percent, args.min_image_size)

    dataset = read_dataset(args.dataset)
    found = run_checks(dataset, limits)
    failed = [check for check in found if not check.passed]
    counts = np.bincount(dataset.labels, minlength=len(dataset.class_names)).tolist()
    report = {
        "passed": not failed,
        "dataset": str(args.dataset),
        "source": dataset.source,
        "images": len(dataset),
        "images_per_class": dict(zip(dataset.class_names, counts, strict=True)),
        "checks": [asdict(check) for check in found],
    }
    write_json(args.validation_report, report)
    for check in found:
        say(f"{'passed' if check.passed else 'FAILED'}: {check.check}: {check.detail}")
    if failed:
        reasons = "; ".join(check.detail for check in failed)
        raise UserError(f"data validation failed: {reasons} (report: {args.validation_report})")
    say(f"the data passed every check (report: {args.validation_report})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Labelled images: loading, the held-out split (fixed per image, see holdout.py) and the tf.data input pipeline."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
{%- if cookiecutter.data_source == 'folder' %}
from pathlib import Path
{%- endif %}
from typing import Protocol

import numpy as np
import tensorflow as tf
{%- if cookiecutter.data_source == 'folder' %}
from PIL import Image
{%- endif %}

{% if cookiecutter.data_source == 'folder' %}from .checks import check_folder
{% endif %}from .errors import UserError
{%- if cookiecutter.data_source == 'digits' %}
from .holdout import HoldoutRule, Part, array_fingerprint
{%- elif cookiecutter.data_source == 'folder' %}
from .holdout import HoldoutRule, Part, file_fingerprint
{%- else %}
from .holdout import HoldoutRule, Part
{%- endif %}

MIN_IMAGES = 20
DIGITS_SIZE = 8  # scikit-learn's digits are 8x8


@dataclass(frozen=True)
class LabelledImages:
    """Images as uint8 pixels (N, H, W, C) with integer labels indexing `class_names`.

    `fingerprints` identify each image by the hash of its stored content (before resizing), so an image keeps its
    identity, and its part of the split, however the data grows and whatever the image size. `sizes` are the
    stored images' (height, width) in pixels, before resizing.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    fingerprints: np.ndarray
    sizes: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> LabelledImages:
        return LabelledImages(
            self.images[index], self.labels[index], self.class_names, self.fingerprints[index], self.sizes[index]
        )

    def describe_sizes(self) -> str:
        """The stored images' sizes in a few words: `8x8`, or `from 20x24 to 640x480` (by area)."""
        if not len(self):
            return "none"
        areas = self.sizes[:, 0].astype(np.int64) * self.sizes[:, 1]
        smallest, largest = self.sizes[int(np.argmin(areas))], self.sizes[int(np.argmax(areas))]
        low, high = f"{smallest[0]}x{smallest[1]}", f"{largest[0]}x{largest[1]}"
        return low if low == high else f"from {low} to {high}"


@dataclass(frozen=True)
class Splits:
    train: LabelledImages
    validation: LabelledImages
    test: LabelledImages

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.test.class_names


class Source(Protocol):
    """Where `load` finds the images and the size it resizes them to: a run's settings, or a step's flags."""

    @property
    def image_size(self) -> int: ...
{%- if cookiecutter.data_source == 'folder' %}

    @property
    def data_dir(self) -> Path: ...
{%- elif cookiecutter.data_source == 'postgres' %}

    @property
    def db_table(self) -> str: ...
{%- endif %}


def load(source: Source) -> LabelledImages:
    """All labelled images of the source, resized to `source.image_size`."""
{%- if cookiecutter.data_source == 'digits' %}
    return load_digits(source.image_size)
{%- elif cookiecutter.data_source == 'folder' %}
    return load_folder(source.data_dir, source.image_size)
{%- else %}
    from .postgres_source import load_table

    return load_table(source.db_table, source.image_size)
{%- endif %}


def describe(source: Source) -> str:
    """Where the images come from, for logs and model cards."""
{%- if cookiecutter.data_source == 'digits' %}
    return "scikit-learn's handwritten digits (bundled)"
{%- elif cookiecutter.data_source == 'folder' %}
    return f"the image folder `{source.data_dir}`, one sub-folder per class"
{%- else %}
    return f"the PostgreSQL table `{source.db_table}` (image bytea, label text)"
{%- endif %}
{%- if cookiecutter.data_source == 'digits' %}


def load_digits(image_size: int) -> LabelledImages:
    """scikit-learn's 1,797 handwritten digits: 8x8 values 0..16, scaled to 0..255 and resized."""
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    pixels = digits.images.astype(np.float32)[..., np.newaxis] * (255.0 / 16.0)
    return LabelledImages(
        images=resize(pixels, image_size),
        labels=digits.target.astype(np.int32),
        class_names=tuple(str(name) for name in digits.target_names),
        fingerprints=np.array([array_fingerprint(image) for image in digits.images]),
        sizes=np.full((len(digits.images), 2), DIGITS_SIZE, dtype=np.int32),
    )
{%- endif %}
{%- if cookiecutter.data_source == 'folder' %}


def load_folder(data_dir: Path, image_size: int) -> LabelledImages:
    """Images under `data_dir/<class name>/`, converted to RGB; the class names are the sub-folder names."""
    check_folder(data_dir)
    try:
        dataset = tf.keras.utils.image_dataset_from_directory(
            data_dir,
            labels="inferred",
            label_mode="int",
            color_mode="rgb",
            batch_size=256,
            image_size=(image_size, image_size),
            shuffle=False,
            verbose=False,
        )
    except ValueError as exc:  # e.g. "No images found in directory ..."
        raise UserError(f"data folder {data_dir}: {str(exc).splitlines()[0]}") from None
    images, labels = [], []
    for batch_images, batch_labels in dataset:
        images.append(np.clip(np.round(batch_images.numpy()), 0, 255).astype(np.uint8))
        labels.append(batch_labels.numpy().astype(np.int32))
    paths = [Path(path) for path in dataset.file_paths]
    return LabelledImages(
        np.concatenate(images),
        np.concatenate(labels),
        tuple(dataset.class_names),
        np.array([file_fingerprint(path) for path in paths]),
        np.array([stored_size(path) for path in paths], dtype=np.int32).reshape(-1, 2),
    )


def stored_size(path: Path) -> tuple[int, int]:
    """(height, width) of an image file, read from its header."""
    with Image.open(path) as image:
        width, height = image.size
    return height, width

{%- endif %}


def resize(pixels: np.ndarray, image_size: int) -> np.ndarray:
    """Resize (N, H, W, C) pixels in 0..255 to (N, image_size, image_size, C) uint8."""
    resized = tf.image.resize(pixels, (image_size, image_size), method="bilinear", antialias=True)
    return np.clip(np.round(resized.numpy()), 0, 255).astype(np.uint8)


def split(data: LabelledImages, rule: HoldoutRule) -> Splits:
    """Training, validation and held-out parts; each image's part is fixed by its content and the rule's salt."""
    counts = Counter(data.labels.tolist())
    if len(counts) < 2:
        raise UserError(f"found {len(data)} images of {len(counts)} class(es); a classifier needs at least 2 classes")
    if len(data) < MIN_IMAGES:
        raise UserError(f"found only {len(data)} images; add more before training (at least {MIN_IMAGES})")
    parts = rule.parts(data.fingerprints)
    train, validation, test = (
        data.subset(np.flatnonzero(parts == part)) for part in (Part.TRAINING, Part.VALIDATION, Part.HELD_OUT)
    )
    named = {"training": train, "validation": validation, "held-out": test}
    empty = [name for name, part in named.items() if not len(part)]
    if empty:
        raise UserError(f"the {len(data)} images leave no {' and no '.join(empty)} images; add more images")
    return Splits(train, validation, test)


def to_dataset(part: LabelledImages, batch_size: int, *, shuffle_seed: int | None = None) -> tf.data.Dataset:
    """The input pipeline: uint8 images cached in memory, shuffled per epoch, batched, cast to float32, prefetched.

    Pixels stay 0..255; the model rescales them itself, so callers (and the serving side) feed raw pixels.
    """
    dataset = tf.data.Dataset.from_tensor_slices((part.images, part.labels)).cache()
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(part), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size).map(_to_float, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _to_float(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    return tf.cast(images, tf.float32), labels

"""Labelled images: loading, the held-out split (fixed per image, see holdout.py) and the tf.data input pipeline."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from .config import Settings
from .errors import UserError
from .holdout import HoldoutRule, Part

MIN_IMAGES = 20


@dataclass(frozen=True)
class LabelledImages:
    """Images as uint8 pixels (N, H, W, C) with integer labels indexing `class_names`.

    `fingerprints` identify each image by the hash of its stored content (before resizing), so an image keeps its
    identity, and its part of the split, however the data grows and whatever the image size.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    fingerprints: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> LabelledImages:
        return LabelledImages(self.images[index], self.labels[index], self.class_names, self.fingerprints[index])


@dataclass(frozen=True)
class Splits:
    train: LabelledImages
    validation: LabelledImages
    test: LabelledImages

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.test.class_names


def load(settings: Settings) -> LabelledImages:
    """All labelled images of the configured source, resized to `settings.image_size`."""
    from .postgres_source import load_table

    return load_table(settings.db_table, settings.image_size)


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
    train, validation, test = (data.subset(np.flatnonzero(parts == part))
                               for part in (Part.TRAINING, Part.VALIDATION, Part.HELD_OUT))
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

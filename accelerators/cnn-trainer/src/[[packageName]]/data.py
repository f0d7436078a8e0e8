"""Labelled images: loading, the held-out split (fixed per image, see holdout.py) and the tf.data input pipeline."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
[[if #dataSource == 'folder']]from pathlib import Path
[[end #dataSource == 'folder']]
import numpy as np
import tensorflow as tf

[[if #dataSource == 'folder']]from .checks import check_folder
[[end #dataSource == 'folder']]from .config import Settings
from .errors import UserError[[if #dataSource == 'digits']]
from .holdout import HoldoutRule, Part, array_fingerprint[[end #dataSource == 'digits']][[if #dataSource == 'folder']]
from .holdout import HoldoutRule, Part, file_fingerprint[[end #dataSource == 'folder']]
[[if #dataSource == 'postgres']]from .holdout import HoldoutRule, Part
[[end #dataSource == 'postgres']]
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
    """All labelled images of the configured source, resized to `settings.image_size`."""[[if #dataSource == 'digits']]
    return load_digits(settings.image_size)[[end #dataSource == 'digits']][[if #dataSource == 'folder']]
    return load_folder(settings.data_dir, settings.image_size)[[end #dataSource == 'folder']]
[[if #dataSource == 'postgres']]    from .postgres_source import load_table

    return load_table(settings.db_table, settings.image_size)
[[end #dataSource == 'postgres']][[if #dataSource == 'digits']]

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
    )
[[end #dataSource == 'digits']][[if #dataSource == 'folder']]

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
    fingerprints = np.array([file_fingerprint(Path(path)) for path in dataset.file_paths])
    return LabelledImages(np.concatenate(images), np.concatenate(labels), tuple(dataset.class_names), fingerprints)
[[end #dataSource == 'folder']]

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

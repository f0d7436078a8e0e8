"""The convolutional network, and where it runs (distribution strategy, mixed precision)."""

from __future__ import annotations

import json
import os

import keras
import tensorflow as tf
from keras import layers


def build_model(
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    conv_blocks: int,
    filters: int,
    dropout: float,
    seed: int,
    augment: bool,
) -> keras.Model:
    """A small CNN taking raw float32 pixels 0..255 and returning float32 class probabilities.

    Rescaling and, with `augment`, random changes to the training images live inside the model, so the served model
    takes the same raw pixels.
    """
    inputs = keras.Input(shape=input_shape, dtype="float32", name="image")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    if augment:
        x = augmentation(seed)(x)
    for block in range(conv_blocks):
        x = layers.Conv2D(filters * 2**block, 3, padding="same", use_bias=False, name=f"conv{block + 1}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"norm{block + 1}")(x)
        x = layers.Activation("relu", name=f"relu{block + 1}")(x)
        x = layers.MaxPooling2D(padding="same", name=f"pool{block + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout, seed=seed, name="dropout")(x)
    # float32 even under a mixed_float16 policy: softmax in half precision loses small probabilities.
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="cnn")


def augmentation(seed: int) -> keras.Sequential:
    """Random changes applied while training only (inference passes images through unchanged)."""
    return keras.Sequential(
        [
{%- if cookiecutter.data_source != 'digits' %}
            layers.RandomFlip("horizontal", seed=seed),
{%- endif %}
            layers.RandomRotation(0.05, seed=seed),
            layers.RandomZoom(0.1, seed=seed),
            layers.RandomTranslation(0.05, 0.05, seed=seed),
        ],
        name="augmentation",
    )


def compile_model(model: keras.Model, learning_rate: float) -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )


def worker_count() -> int:
    """Workers named in TF_CONFIG (set by multi-worker launchers); 1 when unset."""
    try:
        cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    except json.JSONDecodeError:
        return 1
    return max(1, len(cluster.get("worker", [])) + len(cluster.get("chief", [])))


def is_chief() -> bool:
    """Whether this process logs and registers: the chief, or worker 0 when there is no chief, or the only process."""
    try:
        config = json.loads(os.environ.get("TF_CONFIG", "{}"))
    except json.JSONDecodeError:
        return True
    task = config.get("task") or {}
    cluster = config.get("cluster") or {}
    if task.get("type") == "chief":
        return True
    return "chief" not in cluster and task.get("type", "worker") == "worker" and int(task.get("index", 0)) == 0


def choose_strategy() -> tf.distribute.Strategy:
    """Several workers: MultiWorkerMirrored; several GPUs: Mirrored; otherwise the default (one device)."""
    if worker_count() > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    if len(tf.config.list_physical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def use_mixed_precision_on_gpu() -> bool:
    """mixed_float16 speeds up training on GPUs with tensor cores; on CPUs it is slower, so it is GPU-only."""
    if tf.config.list_physical_devices("GPU"):
        keras.mixed_precision.set_global_policy("mixed_float16")
        return True
    keras.mixed_precision.set_global_policy("float32")
    return False

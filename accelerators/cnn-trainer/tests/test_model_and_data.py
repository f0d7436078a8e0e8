"""The network and the data split, without training."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from [[packageName]] import data
from [[packageName]].config import CHANNELS, HELD_OUT_FRACTION
from [[packageName]].errors import UserError
from [[packageName]].holdout import HoldoutRule, array_fingerprint
from [[packageName]].model import (
    build_model,
    choose_strategy,
    is_chief,
    use_mixed_precision_on_gpu,
    worker_count,
)


def test_model_takes_raw_pixels_and_returns_float32_probabilities():
    model = build_model((16, 16, CHANNELS), 4, conv_blocks=3, filters=8, dropout=0.25, seed=1, augment=True)

    assert model.input_shape == (None, 16, 16, CHANNELS)
    assert model.get_layer("rescale").scale == 1.0 / 255
    outputs = np.asarray(model(np.full((2, 16, 16, CHANNELS), 200.0, dtype=np.float32), training=False))
    assert outputs.shape == (2, 4)
    assert outputs.dtype == np.float32
    np.testing.assert_allclose(outputs.sum(axis=1), 1.0, rtol=1e-5)


def test_many_blocks_fit_small_images():
    model = build_model((8, 8, CHANNELS), 3, conv_blocks=6, filters=4, dropout=0.0, seed=1, augment=False)
    assert model.output_shape == (None, 3)


def random_images(count: int, seed: int) -> data.LabelledImages:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 8, 8, CHANNELS), dtype=np.uint8)
    labels = np.arange(count, dtype=np.int32) % 4
    return data.LabelledImages(
        images,
        labels,
        ("a", "b", "c", "d"),
        np.array([array_fingerprint(image) for image in images]),
        np.full((count, 2), 8, dtype=np.int32),
    )


def test_held_out_split_is_fixed_by_the_salt_and_disjoint():
    everything = random_images(1000, seed=0)

    first = data.split(everything, HoldoutRule("s"))
    again = data.split(everything, HoldoutRule("s"))
    other = data.split(everything, HoldoutRule("t"))

    np.testing.assert_array_equal(first.test.images, again.test.images)
    assert not np.array_equal(first.test.images, other.test.images)
    assert len(first.test) == pytest.approx(HELD_OUT_FRACTION * 1000, abs=40)
    parts = [set(part.fingerprints) for part in (first.train, first.validation, first.test)]
    assert set.union(*parts) == set(everything.fingerprints)
    assert sum(len(part) for part in parts) == 1000, "every image in exactly one part"
    assert set(np.unique(first.test.labels)) == {0, 1, 2, 3}


def test_adding_images_keeps_the_held_out_images_held_out():
    old = random_images(400, seed=1)
    grown = random_images(800, seed=2)
    both = data.LabelledImages(
        np.concatenate([grown.images, old.images]),
        np.concatenate([grown.labels, old.labels]),
        old.class_names,
        np.concatenate([grown.fingerprints, old.fingerprints]),
        np.concatenate([grown.sizes, old.sizes]),
    )

    before, after = data.split(old, HoldoutRule("s")), data.split(both, HoldoutRule("s"))

    assert set(before.test.fingerprints) <= set(after.test.fingerprints)
    assert set(before.train.fingerprints).isdisjoint(after.test.fingerprints)
    assert set(before.validation.fingerprints) <= set(after.validation.fingerprints)


def test_too_few_images_for_every_part_is_a_user_error():
    with pytest.raises(UserError, match="the 100 images leave no validation images; add more images"):
        data.split(random_images(100, seed=3), HoldoutRule("s", validation_fraction=0.0))


def test_pipeline_yields_float32_batches_of_raw_pixels():
    images = np.full((10, 8, 8, CHANNELS), 255, dtype=np.uint8)
    sizes = np.full((10, 2), 8, dtype=np.int32)
    part = data.LabelledImages(
        images, np.zeros(10, dtype=np.int32), ("a",), np.array([str(n) for n in range(10)]), sizes
    )

    batches = list(data.to_dataset(part, 4, shuffle_seed=1))

    assert [int(x.shape[0]) for x, _ in batches] == [4, 4, 2]
    assert batches[0][0].dtype.name == "float32"
    assert float(batches[0][0].numpy().max()) == 255.0


def test_one_process_on_a_cpu_uses_the_default_strategy_in_float32(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)

    assert worker_count() == 1 and is_chief()
    assert choose_strategy() is tf.distribute.get_strategy()
    if not tf.config.list_physical_devices("GPU"):
        assert use_mixed_precision_on_gpu() is False
        assert keras.mixed_precision.global_policy().name == "float32"


def test_tf_config_names_the_workers_and_the_chief(monkeypatch):
    cluster = {"worker": ["trainer-0:2222", "trainer-1:2222"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}}))
    assert worker_count() == 2
    assert not is_chief()

    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}))
    assert is_chief()

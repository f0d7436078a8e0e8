"""The network and the data split, without training."""

from __future__ import annotations

import json

import keras
import numpy as np
import tensorflow as tf

from {{ cookiecutter.__package_name }} import data
from {{ cookiecutter.__package_name }}.config import CHANNELS, TEST_FRACTION
from {{ cookiecutter.__package_name }}.model import (
    build_model,
    choose_strategy,
    is_chief,
    use_mixed_precision_on_gpu,
    worker_count,
)


def test_model_takes_raw_pixels_and_returns_float32_probabilities():
    model = build_model((16, 16, CHANNELS), 4, conv_blocks=3, filters=8, dropout=0.25, seed=1)

    assert model.input_shape == (None, 16, 16, CHANNELS)
    assert model.get_layer("rescale").scale == 1.0 / 255
    outputs = np.asarray(model(np.full((2, 16, 16, CHANNELS), 200.0, dtype=np.float32), training=False))
    assert outputs.shape == (2, 4)
    assert outputs.dtype == np.float32
    np.testing.assert_allclose(outputs.sum(axis=1), 1.0, rtol=1e-5)


def test_many_blocks_fit_small_images():
    model = build_model((8, 8, CHANNELS), 3, conv_blocks=6, filters=4, dropout=0.0, seed=1)
    assert model.output_shape == (None, 3)


def test_held_out_split_is_fixed_by_the_seed_and_disjoint():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(200, 8, 8, CHANNELS), dtype=np.uint8)
    labels = np.repeat(np.arange(4, dtype=np.int32), 50)
    everything = data.LabelledImages(images, labels, ("a", "b", "c", "d"))

    first, again, other = data.split(everything, 7), data.split(everything, 7), data.split(everything, 8)

    np.testing.assert_array_equal(first.test.images, again.test.images)
    assert not np.array_equal(first.test.images, other.test.images)
    assert len(first.test) == int(TEST_FRACTION * 200)
    assert len(first.train) + len(first.validation) + len(first.test) == 200
    assert set(np.unique(first.test.labels)) == {0, 1, 2, 3}, "stratified: every class is held out"


def test_pipeline_yields_float32_batches_of_raw_pixels():
    images = np.full((10, 8, 8, CHANNELS), 255, dtype=np.uint8)
    part = data.LabelledImages(images, np.zeros(10, dtype=np.int32), ("a",))

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

"""The TensorFlow runtime: a Keras model compiled into one `tf.function` per batch size bucket.

The buckets are 1, 2, 4, ... up to the largest micro-batch, and every bucket is traced once before the model
serves, so no request pays for tracing. A batch is padded up to the next bucket; fixed shapes run faster on CPU
than one shape-polymorphic graph.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def batch_buckets(max_batch_size: int) -> tuple[int, ...]:
    sizes = []
    size = 1
    while size < max_batch_size:
        sizes.append(size)
        size *= 2
    sizes.append(max_batch_size)
    return tuple(sizes)


class CompiledModel:
    """`model(batch)` for float32 batches of shape (n, H, W, C) -> probabilities (n, classes)."""

    def __init__(
        self,
        keras_model: Any,
        input_shape: Sequence[int],
        max_batch_size: int,
        preprocess: Callable[[Any], Any] | None = None,
    ) -> None:
        import tensorflow as tf

        height, width, channels = (int(dim) for dim in input_shape)
        self.input_shape = (height, width, channels)
        self.buckets = batch_buckets(max_batch_size)

        def forward(images: Any) -> Any:
            if preprocess is not None:
                images = preprocess(images)
            return keras_model(images, training=False)

        self._functions = {
            size: tf.function(forward, input_signature=[tf.TensorSpec((size, *self.input_shape), tf.float32)])
            for size in self.buckets
        }
        self._keras_model = keras_model

    def warm_up(self) -> float:
        """Trace every bucket once; returns the seconds it took."""
        started = time.perf_counter()
        for size in self.buckets:
            self(np.zeros((size, *self.input_shape), dtype=np.float32))
        return time.perf_counter() - started

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        count = len(batch)
        largest = self.buckets[-1]
        if count > largest:
            return np.concatenate([self(batch[start : start + largest]) for start in range(0, count, largest)])
        size = next(bucket for bucket in self.buckets if bucket >= count)
        if size > count:
            padding = np.zeros((size - count, *self.input_shape), dtype=np.float32)
            batch = np.concatenate([batch, padding])
        return self._functions[size](batch).numpy()[:count]

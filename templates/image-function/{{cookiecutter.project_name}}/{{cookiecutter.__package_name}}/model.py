"""A loaded model: a compiled, warmed prediction function plus what the API reports about it.

The Keras model is wrapped in one `tf.function` per batch size bucket (1, 2, 4, ... up to the largest
micro-batch) and every bucket is traced once before the model serves, so no request pays for tracing.
A batch is padded up to the next bucket; fixed shapes run faster on CPU than one shape-polymorphic graph.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


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

        self.input_shape = tuple(int(dim) for dim in input_shape)
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


@dataclass(frozen=True)
class LoadedModel:
    """One servable model version. Immutable: a swap replaces the whole object."""

    name: str
    version: str
    source: str
    class_names: tuple[str, ...]
    predict: CompiledModel = field(repr=False)
    loaded_at: float = field(default_factory=time.time)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        height, width, channels = self.predict.input_shape
        return height, width, channels

    def describe(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "source": self.source}

    def top_k(self, probabilities: np.ndarray, k: int) -> list[dict[str, Any]]:
        k = min(k, len(probabilities))
        best = np.argpartition(-probabilities, k - 1)[:k]
        best = best[np.argsort(-probabilities[best], kind="stable")]
        return [{"label": self.label(int(index)), "score": round(float(probabilities[index]), 6)} for index in best]

    def label(self, index: int) -> str:
        return self.class_names[index] if index < len(self.class_names) else f"class_{index}"


class ModelHolder:
    """The model currently served. Readers take a reference; a swap is one atomic assignment."""

    def __init__(self) -> None:
        self._model: LoadedModel | None = None
        self._lock = threading.Lock()

    @property
    def current(self) -> LoadedModel | None:
        return self._model

    def replace(self, model: LoadedModel) -> LoadedModel | None:
        with self._lock:
            previous, self._model = self._model, model
        return previous


def read_class_names(path: str | Path) -> tuple[str, ...] | None:
    """Class names from a JSON file: a list, {"class_names": [...]}, or an ImageNet-style class index."""
    file = Path(path)
    if not file.is_file():
        return None
    data = json.loads(file.read_text(encoding="utf-8"))
    if isinstance(data, dict) and "class_names" in data:
        data = data["class_names"]
    if isinstance(data, list):
        return tuple(str(name) for name in data)
    if isinstance(data, dict):
        # {"0": ["n01440764", "tench"], ...} as published with the Keras ImageNet models
        ordered = sorted(data.items(), key=lambda item: int(item[0]))
        return tuple(str(value[-1]) if isinstance(value, list) else str(value) for _, value in ordered)
    raise ValueError(f"{file}: expected a JSON list of class names")

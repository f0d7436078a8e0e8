"""A loaded model: a warmed prediction function plus what the API reports about it.

The prediction function comes from [[if #runtime == 'onnx']]onnxruntime (runtime_onnx.py)[[end #runtime == 'onnx']][[if #runtime == 'tensorflow']]TensorFlow (runtime_tensorflow.py)[[end #runtime == 'tensorflow']]; everything else (batching,
swaps, the API) sees only `Predictor`: float32 batches of raw pixels in, probabilities out.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class Predictor(Protocol):
    """`predictor(batch)`: float32 (n, H, W, C) raw pixels 0..255 -> float32 probabilities (n, classes)."""

    input_shape: tuple[int, int, int]

    def __call__(self, batch: np.ndarray) -> np.ndarray: ...

    def warm_up(self) -> float:
        """Run every batch shape once before serving; returns the seconds it took."""
        ...


class UnservableModel(Exception):
    """The model can never be served by this runtime (loading it again will not help); the message says why."""


@dataclass(frozen=True)
class LoadedModel:
    """One servable model version. Immutable: a swap replaces the whole object."""

    name: str
    version: str
    source: str
    class_names: tuple[str, ...]
    predict: Predictor = field(repr=False)
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

"""The ONNX runtime: a model in ONNX form run by onnxruntime, without TensorFlow.

The ONNX graph takes any batch size, so a micro-batch runs as it comes, without padding. Warm-up runs one image and
one full micro-batch, so the first requests find the memory they need already allocated.
"""

from __future__ import annotations

import time

import numpy as np

from .model import UnservableModel


class OnnxModel:
    """`model(batch)` for float32 batches of shape (n, H, W, C) -> probabilities (n, classes)."""

    def __init__(self, model: bytes, max_batch_size: int, source: str) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # a file that is not ONNX, or holds ops onnxruntime lacks
            raise UnservableModel(f"{source} cannot be loaded by onnxruntime: {exc}") from None
        inputs = self._session.get_inputs()
        shape = inputs[0].shape if len(inputs) == 1 else []
        if len(shape) != 4 or not all(isinstance(dim, int) and dim > 0 for dim in shape[1:]):
            found = ", ".join(f"{item.name} {item.shape}" for item in inputs)
            raise UnservableModel(f"{source} takes {found}; expected one input (batch, height, width, channels)")
        height, width, channels = shape[1:]
        self.input_shape = (height, width, channels)
        self.max_batch_size = max_batch_size
        self._input_name = inputs[0].name

    def warm_up(self) -> float:
        """Run one image and one full batch; returns the seconds it took."""
        started = time.perf_counter()
        for size in sorted({1, self.max_batch_size}):
            self(np.zeros((size, *self.input_shape), dtype=np.float32))
        return time.perf_counter() - started

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        (probabilities,) = self._session.run(None, {self._input_name: batch.astype(np.float32, copy=False)})
        return probabilities

"""The ONNX form of a Keras classifier: converted with tf2onnx, checked against the Keras model, described for MLflow.

A model in ONNX form is served by onnxruntime, without TensorFlow: the server starts in a fraction of the time and
memory. `export` converts a model and checks on given images (the held-out set) that both forms agree: the same
top-1 class on every image, and no score differing by more than a tolerance (`TOLERANCE` unless told). A form that
fails either step is not kept; the caller registers the model without it and says why (`OnnxForm.reason`).

The contract with the serving side: the ONNX file is an extra file of the logged model (`ARTIFACT_PATH`), and the
logged model's metadata key `onnx` says where it is with the agreement figures, or holds `unavailable` with the
reason. The ONNX model takes float32 (N, H, W, C) raw pixels 0..255 as input `image` (any N) and returns float32
probabilities (N, classes), exactly as the Keras model does.

TensorFlow, tf2onnx and onnxruntime are imported only in the functions that use them: a server reads the constants
without any of them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FILE_NAME = "model.onnx"
ARTIFACT_PATH = f"extra_files/{FILE_NAME}"  # where MLflow keeps a logged model's `extra_files`
METADATA_KEY = "onnx"
INPUT_NAME = "image"
TOLERANCE = 1e-4  # largest difference allowed between the two forms' scores (probabilities, 0..1)
CHECK_BATCH = 256  # images per call while checking

ANSI = re.compile(r"\x1b\[[0-9;]*m")
ERROR_LINE = re.compile(r"^[A-Z][A-Za-z]*(Error|Exception): ")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Agreement:
    """How the two forms compared on `images` images."""

    images: int
    same_top1: int  # images on which both forms give the same most likely class
    max_difference: float  # the largest absolute difference between their scores
    tolerance: float

    @property
    def holds(self) -> bool:
        return self.images > 0 and self.same_top1 == self.images and self.max_difference <= self.tolerance

    def describe(self, what: str = "images") -> str:
        return (
            f"same top-1 class on {self.same_top1} of {self.images} {what}, largest score difference "
            f"{self.max_difference:.1e} (tolerance {self.tolerance:.0e})"
        )


@dataclass(frozen=True)
class OnnxForm:
    """The outcome of `export`: the checked ONNX file, or no file and the reason."""

    path: Path | None
    agreement: Agreement | None = None
    opset: int | None = None
    reason: str = ""

    @property
    def available(self) -> bool:
        return self.path is not None

    def metadata(self) -> dict[str, Any]:
        """What the logged model's metadata key `onnx` holds (plain values, as MLflow writes them to YAML)."""
        if self.path is None or self.agreement is None:
            return {"unavailable": self.reason}
        return {
            "path": ARTIFACT_PATH,
            "input": INPUT_NAME,
            "opset": self.opset,
            "checked_images": self.agreement.images,
            "same_top1": self.agreement.same_top1,
            "max_difference": self.agreement.max_difference,
            "tolerance": self.agreement.tolerance,
        }

    def tags(self) -> dict[str, str]:
        """Tags for the run and the registered version."""
        if self.path is None or self.agreement is None:
            return {"onnx": "none", "onnx_reason": self.reason}
        return {
            "onnx": ARTIFACT_PATH,
            "onnx_max_difference": f"{self.agreement.max_difference:.3g}",
            "onnx_tolerance": f"{self.agreement.tolerance:g}",
            "onnx_checked_images": str(self.agreement.images),
        }

    def describe(self, what: str = "images") -> str:
        """One sentence; `what` names the images it was checked on."""
        if self.path is None or self.agreement is None:
            return f"No ONNX form: {self.reason}"
        return f"ONNX form `{ARTIFACT_PATH}` (opset {self.opset}): {self.agreement.describe(what)}"


def export(model: Any, images: np.ndarray, path: Path, tolerance: float = TOLERANCE) -> OnnxForm:
    """Convert the Keras `model` to ONNX at `path` and check it on `images` (N, H, W, C) pixels 0..255.

    Never raises for a model that cannot be converted or does not agree: the result then has no path and gives the
    reason, and no file is left at `path`.
    """
    try:
        opset = convert(model, path)
    except Exception as exc:  # whatever tf2onnx raises, the model is registered without the form
        return _without(path, f"conversion failed: {error_text(exc)}", error=exc)
    try:
        agreement = compare(model, path, images, tolerance)
    except Exception as exc:  # e.g. onnxruntime cannot run an op tf2onnx left unconverted
        return _without(path, f"the converted model cannot be checked: {error_text(exc)}", error=exc)
    if not agreement.holds:
        return _without(path, f"the ONNX form does not agree with the Keras model: {agreement.describe()}", agreement)
    return OnnxForm(path, agreement, opset)


def convert(model: Any, path: Path, opset: int | None = None) -> int:
    """Write the ONNX form of `model` to `path`; returns the ONNX opset used."""
    import onnx.defs
    import tensorflow as tf
    import tf2onnx

    shape = tuple(model.input_shape[1:])
    signature = [tf.TensorSpec((None, *shape), tf.float32, name=INPUT_NAME)]
    forward = tf.function(lambda image: model(image, training=False), input_signature=signature)
    proto, _ = tf2onnx.convert.from_function(forward, input_signature=signature, opset=opset, output_path=str(path))
    # tf2onnx copies an op it cannot convert into the graph as it is (and only logs it): refuse such a graph here.
    standard_domain = [node.op_type for node in proto.graph.node if node.domain in ("", "ai.onnx")]
    left = sorted({op for op in standard_domain if not onnx.defs.has(op)})
    if left:
        raise ValueError(f"tf2onnx cannot convert the TensorFlow op(s) {', '.join(left)}")
    return next(int(entry.version) for entry in proto.opset_import if entry.domain in ("", "ai.onnx"))


def compare(model: Any, path: Path, images: np.ndarray, tolerance: float = TOLERANCE) -> Agreement:
    """Run both forms on `images` and measure how far they agree."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    same_top1, max_difference = 0, 0.0
    for start in range(0, len(images), CHECK_BATCH):
        batch = np.asarray(images[start : start + CHECK_BATCH], dtype=np.float32)
        expected = np.asarray(model.predict_on_batch(batch), dtype=np.float32)  # inference mode: no dropout
        (got,) = session.run(None, {input_name: batch})
        if got.shape != expected.shape:
            raise ValueError(f"the ONNX form returns shape {got.shape}, the Keras model {expected.shape}")
        same_top1 += int(np.sum(got.argmax(axis=1) == expected.argmax(axis=1)))
        max_difference = max(max_difference, float(np.max(np.abs(got - expected))))
    return Agreement(len(images), same_top1, max_difference, tolerance)


def error_text(exc: BaseException, limit: int = 300) -> str:
    """One line for an error. TensorFlow's messages start with "in user code:" and name the real error further down."""
    lines = [ANSI.sub("", line).strip() for line in str(exc).splitlines()]
    lines = [line for line in lines if line]
    named = [line for line in lines if ERROR_LINE.match(line)]
    text = named[0] if named else f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _without(
    path: Path, reason: str, agreement: Agreement | None = None, error: BaseException | None = None
) -> OnnxForm:
    path.unlink(missing_ok=True)
    if error is not None:
        log.debug("the ONNX export failed", exc_info=error)
    return OnnxForm(None, agreement, None, reason)

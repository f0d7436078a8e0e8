"""Serve a model file in ONNX form shipped with the application{% if cookiecutter.model_source == 'keras_file' %}: the ONNX form of the Keras model file{% else %}: MobileNetV2 with ImageNet weights{% endif %}.

{% if cookiecutter.model_source == 'keras_file' -%}
MODEL_PATH names the Keras file; this runtime serves the `.onnx` file beside it (the same path with the suffix
`.onnx`), which `python -m <package>.convert` writes once from the Keras file and checks against it. An ONNX model
exported elsewhere works as well: set MODEL_PATH to it.
{%- else -%}
`python -m <package>.convert` writes it once (MODEL_PATH, with the ImageNet class index in LABELS_PATH): it builds
Keras' MobileNetV2 with the ImageNet weights, folds its input scaling into the graph and checks the ONNX form against
the Keras model. Start-up then downloads nothing.
{%- endif %} Either way TensorFlow is needed for that command only, never here.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from .model import LoadedModel, read_class_names
from .runtime_onnx import OnnxModel
from .settings import Settings

log = logging.getLogger(__name__)


class ModelSource:
    kind = "{{ cookiecutter.model_source }}"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.path = Path(settings.model_path).with_suffix(".onnx")
        self.poll_seconds: float | None = None

    def describe(self) -> str:
        return str(self.path)

    def bound_calls(self, seconds: float) -> None:
        """Nothing to bound: the model is a local file."""

    def latest(self) -> str:
        """The file's content hash: a version that changes exactly when the model does."""
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()[:12]

    def load(self, version: str | None = None) -> LoadedModel:
        if not self.path.is_file():
            raise FileNotFoundError(
                f"model file {self.path} not found; write it once with `python -m {__package__}.convert` "
                "(see model/README.md)"
            )
        version = version or self.latest()
        predictor = OnnxModel(self.path.read_bytes(), self.settings.max_batch_size, source=str(self.path))
        class_names = (
            read_class_names(self.settings.labels_path) or read_class_names(self.path.with_suffix(".json")) or ()
        )
        seconds = predictor.warm_up()
        log.info("loaded %s (version %s) and warmed it up in %.1f s", self.path, version, seconds)
        return LoadedModel(
            name=self.path.stem,
            version=version,
            source=self.kind,
            class_names=class_names,
            predict=predictor,
        )

"""Serve a Keras model file (.keras) shipped with the application."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from .model import LoadedModel, read_class_names
from .runtime_tensorflow import CompiledModel
from .settings import Settings

log = logging.getLogger(__name__)


class ModelSource:
    kind = "keras_file"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.path = Path(settings.model_path)
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
        import keras

        if not self.path.is_file():
            raise FileNotFoundError(f"model file {self.path} not found (set MODEL_PATH)")
        version = version or self.latest()
        keras_model = keras.saving.load_model(self.path, compile=False)
        class_names = (
            read_class_names(self.settings.labels_path) or read_class_names(self.path.with_suffix(".json")) or ()
        )
        compiled = CompiledModel(keras_model, keras_model.input_shape[1:], self.settings.max_batch_size)
        seconds = compiled.warm_up()
        log.info("loaded %s (version %s) and warmed it up in %.1f s", self.path, version, seconds)
        return LoadedModel(
            name=self.path.stem,
            version=version,
            source=self.kind,
            class_names=class_names,
            predict=compiled,
        )

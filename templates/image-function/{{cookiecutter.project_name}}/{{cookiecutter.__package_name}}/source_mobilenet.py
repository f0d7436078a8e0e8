"""Serve Keras MobileNetV2 trained on ImageNet (224x224 RGB, 1,000 classes).

Production downloads the weights and the class index from the Keras model store the first time; an
air-gapped cluster sets MOBILENET_WEIGHTS to a local `.weights.h5` file and LABELS_PATH to a class index.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from .model import LoadedModel, read_class_names
from .runtime_tensorflow import CompiledModel
from .settings import Settings

log = logging.getLogger(__name__)

INPUT_SHAPE = (224, 224, 3)
# The class index Keras' own decode_predictions() downloads, with its published MD5.
CLASS_INDEX_URL = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"


class ModelSource:
    kind = "mobilenet_v2"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.poll_seconds: float | None = None

    def describe(self) -> str:
        return f"keras.applications.MobileNetV2(weights={self.settings.mobilenet_weights!r})"

    def bound_calls(self, seconds: float) -> None:
        """Nothing to bound here: Keras' weights download has no timeout; the start-up deadline bounds it."""

    def latest(self) -> str:
        weights = self.settings.mobilenet_weights
        if weights == "imagenet":
            return "imagenet"
        return "sha256-" + hashlib.sha256(Path(weights).read_bytes()).hexdigest()[:12]

    def load(self, version: str | None = None) -> LoadedModel:
        from keras.applications import mobilenet_v2

        version = version or self.latest()
        keras_model = mobilenet_v2.MobileNetV2(input_shape=INPUT_SHAPE, weights=self.settings.mobilenet_weights)
        class_names = read_class_names(self.settings.labels_path) or imagenet_class_names()
        compiled = CompiledModel(
            keras_model, INPUT_SHAPE, self.settings.max_batch_size, preprocess=mobilenet_v2.preprocess_input
        )
        seconds = compiled.warm_up()
        log.info("loaded MobileNetV2 (%s) and warmed it up in %.1f s", version, seconds)
        return LoadedModel(
            name="mobilenet_v2",
            version=version,
            source=self.kind,
            class_names=class_names,
            predict=compiled,
        )


def imagenet_class_names() -> tuple[str, ...]:
    """The 1,000 ImageNet class names, downloaded once into the Keras cache (~/.keras/models)."""
    import keras

    path = keras.utils.get_file(
        "imagenet_class_index.json", CLASS_INDEX_URL, cache_subdir="models", file_hash=CLASS_INDEX_MD5
    )
    names = read_class_names(path)
    if not names:
        raise RuntimeError(f"{path}: empty ImageNet class index")
    return names

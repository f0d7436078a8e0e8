"""Classify images with a model loaded once per kernel, not once per prediction.

`model` says where the model comes from:

- `models:/<name>@<alias>` (or `models:/<name>/<version>`, `runs:/...`): a Keras model in the MLflow registry, as
  the cnn-trainer template and notebook 02 log it, with its class names and input shape in the model's metadata;
- a `.keras` file, with class names from `labels` or a `<model>.json` beside it;
- `mobilenet_v2`: Keras MobileNetV2 trained on ImageNet (224x224 RGB, 1,000 classes). `weights="imagenet"` downloads
  the weights and the class index once into ~/.keras; offline, pass a local `.weights.h5` file and `labels`.

Pixels go in as 0..255 (the registry and file models rescale inside, as cnn-trainer's do); MobileNetV2 gets its own
preprocessing. TensorFlow is imported on the first load, not when the helpers are imported.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .data import as_images, to_array
from .errors import ModelError

MOBILENET_V2 = "mobilenet_v2"
MOBILENET_INPUT_SHAPE = (224, 224, 3)
# The class index Keras' own decode_predictions() downloads, with its published MD5.
IMAGENET_CLASS_INDEX_URL = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
IMAGENET_CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"
BATCH_SIZE = 32


@dataclass(frozen=True)
class Prediction:
    """One class and its score (a probability)."""

    label: str
    score: float

    def __str__(self) -> str:
        return f"{self.label} ({self.score:.2f})"


@dataclass(frozen=True)
class Classifier:
    """A loaded model: where it came from, its class names and input shape, and how long loading took."""

    name: str
    class_names: tuple[str, ...]
    input_shape: tuple[int, int, int]
    predict: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    load_seconds: float = 0.0

    def classify(
        self, images: Sequence[Image.Image | np.ndarray | str | Path], top_k: int = 5
    ) -> list[list[Prediction]]:
        """The `top_k` classes of each image, most likely first."""
        batch = np.stack([to_array(image, self.input_shape) for image in as_images(images)])
        probabilities = self.predict(batch)
        if probabilities.shape[-1] != len(self.class_names):
            raise ModelError(
                f"{self.name}: the model scores {probabilities.shape[-1]} classes but has {len(self.class_names)} names"
            )
        k = max(1, min(top_k, len(self.class_names)))
        return [
            [Prediction(self.class_names[index], float(row[index])) for index in np.argsort(row)[::-1][:k]]
            for row in probabilities
        ]


_loaded: dict[tuple[str, str, str], Classifier] = {}


def load_classifier(
    model: str, *, weights: str = "imagenet", labels: str | Path | None = None, reload: bool = False
) -> Classifier:
    """The classifier for `model`, loaded on the first call and reused by every later one in this kernel.

    `reload=True` loads it again: say after the registry alias it names has moved.
    """
    key = (model, weights, str(labels))
    if reload or key not in _loaded:
        started = time.perf_counter()
        _loaded[key] = replace(_load(model, weights, labels), load_seconds=time.perf_counter() - started)
    return _loaded[key]


def classify(
    images: Sequence[Image.Image | np.ndarray | str | Path],
    model: str,
    *,
    top_k: int = 5,
    weights: str = "imagenet",
    labels: str | Path | None = None,
) -> list[list[Prediction]]:
    """Classify `images` (images, pixel arrays or file paths) with `model`, loaded once; see the module docstring."""
    return load_classifier(model, weights=weights, labels=labels).classify(images, top_k)


def read_class_names(path: str | Path) -> tuple[str, ...]:
    """Class names from a JSON file: a list, {"class_names": [...]}, or an ImageNet-style class index."""
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{file}: no such class names file") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"{file}: not a JSON file of class names ({exc})") from None
    if isinstance(data, dict) and "class_names" in data:
        data = data["class_names"]
    if isinstance(data, list) and data:
        return tuple(str(name) for name in data)
    if isinstance(data, dict) and data and all(key.isdigit() for key in data):
        # {"0": ["n01440764", "tench"], ...} as published with the Keras ImageNet models
        ordered = sorted(data.items(), key=lambda item: int(item[0]))
        return tuple(str(value[-1]) if isinstance(value, list) else str(value) for _, value in ordered)
    raise ModelError(f"{file}: expected a JSON list of class names or an ImageNet class index")


def _load(model: str, weights: str, labels: str | Path | None) -> Classifier:
    if model == MOBILENET_V2:
        return _load_mobilenet(weights, labels)
    if model.startswith(("models:/", "runs:/")):
        return _load_mlflow(model, labels)
    if model.endswith((".keras", ".h5")):
        return _load_keras_file(Path(model), labels)
    raise ModelError(f"{model!r}: expected {MOBILENET_V2!r}, a models:/<name>@<alias> URI or a .keras file")


def _keras_predict(keras_model: Any, preprocess: Callable[[np.ndarray], np.ndarray] | None = None) -> Callable:
    def predict(batch: np.ndarray) -> np.ndarray:
        inputs = preprocess(batch.copy()) if preprocess else batch
        return np.asarray(keras_model.predict(inputs, batch_size=BATCH_SIZE, verbose=0))

    return predict


def _shape(shape: Sequence[int | None], model: str) -> tuple[int, int, int]:
    if len(shape) != 3 or any(not isinstance(size, int) for size in shape):
        raise ModelError(f"{model}: expected an image input (height, width, channels), not {tuple(shape)}")
    height, width, channels = (int(size) for size in shape)
    return height, width, channels


def _load_mlflow(uri: str, labels: str | Path | None) -> Classifier:
    from .tracking import setup_mlflow

    setup_mlflow()
    import mlflow.models
    import mlflow.tensorflow
    from mlflow.exceptions import MlflowException

    try:
        metadata = mlflow.models.get_model_info(uri).metadata or {}
        keras_model = mlflow.tensorflow.load_model(uri)
    except MlflowException as exc:
        raise ModelError(f"{uri}: {str(exc).splitlines()[0]}") from None
    class_names = read_class_names(labels) if labels else tuple(str(name) for name in metadata.get("class_names") or ())
    if not class_names:
        raise ModelError(f"{uri}: the model has no class_names metadata; pass labels=<JSON file of class names>")
    shape = _shape(metadata.get("input_shape") or keras_model.input_shape[1:], uri)
    return Classifier(uri, class_names, shape, _keras_predict(keras_model))


def _load_keras_file(path: Path, labels: str | Path | None) -> Classifier:
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    import keras

    try:
        keras_model = keras.saving.load_model(path)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: not a Keras model ({str(exc).splitlines()[0]})") from None
    names_file = Path(labels) if labels else path.with_suffix(".json")
    if not names_file.is_file():
        raise ModelError(f"{path}: pass labels=<JSON file of class names>, or put them in {names_file.name} beside it")
    return Classifier(
        str(path),
        read_class_names(names_file),
        _shape(keras_model.input_shape[1:], str(path)),
        _keras_predict(keras_model),
    )


def _load_mobilenet(weights: str, labels: str | Path | None) -> Classifier:
    if weights != "imagenet" and not Path(weights).is_file():
        raise ModelError(f"{weights}: no such weights file; use 'imagenet' (downloads them) or a .weights.h5 file")
    if weights != "imagenet" and labels is None:
        raise ModelError("local MobileNetV2 weights need labels=<imagenet_class_index.json> beside them")
    from keras.applications import mobilenet_v2

    keras_model = mobilenet_v2.MobileNetV2(input_shape=MOBILENET_INPUT_SHAPE, weights=weights)
    class_names = read_class_names(labels) if labels is not None else read_class_names(_imagenet_class_index())
    return Classifier(
        f"{MOBILENET_V2} ({'ImageNet' if weights == 'imagenet' else Path(weights).name})",
        class_names,
        MOBILENET_INPUT_SHAPE,
        _keras_predict(keras_model, mobilenet_v2.preprocess_input),
    )


def _imagenet_class_index() -> str:
    """The 1,000 ImageNet class names, downloaded once into the Keras cache (~/.keras/models)."""
    import keras

    return keras.utils.get_file(
        "imagenet_class_index.json", IMAGENET_CLASS_INDEX_URL, cache_subdir="models", file_hash=IMAGENET_CLASS_INDEX_MD5
    )

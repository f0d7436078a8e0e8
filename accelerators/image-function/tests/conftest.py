"""Shared fixtures: test images, a small model trained here, and the real server on 127.0.0.1.

Everything runs on loopback: the model is trained in the session, [[if #runtime == 'onnx']]converted to ONNX, [[end #runtime == 'onnx']][[if #modelSource == 'mlflow']]registered in a real MLflow
server started for the session, [[end #modelSource == 'mlflow']]and served by `python -m [[packageName]]` in a subprocess.
[[if #runtime == 'onnx']]TensorFlow is here for the tests only (training and converting); the server never imports it.
[[end #runtime == 'onnx']]"""

from __future__ import annotations

import io
[[if #modelSource != 'mlflow']]import json
[[end #modelSource != 'mlflow']]import os
import subprocess
import sys
[[if #modelSource == 'mlflow' && #runtime == 'onnx']]import tempfile
[[end #modelSource == 'mlflow' && #runtime == 'onnx']]from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
[[if #runtime == 'onnx']]
from [[packageName]] import onnx_export
[[end #runtime == 'onnx']]
from servers import ServerDidNotStart, free_port, stop_process_group, wait_until_answering
[[if #runtime == 'onnx']]
# test_onnx_export.py, shared with cnn-trainer, imports the module by its own name, as it is tested where it is written.
sys.modules.setdefault("onnx_export", onnx_export)
[[end #runtime == 'onnx']]
ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "[[packageName]]"
CLASS_NAMES = [f"digit-{digit}" for digit in range(10)]
MAX_UPLOAD_MB = 1

# The session's MLflow tracking server, free ports and process groups (servers.py, shared with other templates).
pytest_plugins = ("servers",)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


# --- images -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Digits:
    images: np.ndarray  # (n, 8, 8) uint8, 0..255
    labels: np.ndarray

    def png(self, index: int) -> bytes:
        return png_bytes(Image.fromarray(self.images[index], "L"))


@pytest.fixture(scope="session")
def digits() -> Digits:
    from sklearn.datasets import load_digits

    data = load_digits()
    images = np.clip(data.images * 16, 0, 255).astype(np.uint8)
    return Digits(images, data.target)


@pytest.fixture(scope="session")
def photo() -> Image.Image:
    """A real photograph shipped with scikit-learn (china.jpg), scaled down."""
    from sklearn.datasets import load_sample_image

    return Image.fromarray(load_sample_image("china.jpg")).resize((96, 64))


@pytest.fixture(scope="session")
def flower() -> Image.Image:
    from sklearn.datasets import load_sample_image

    return Image.fromarray(load_sample_image("flower.jpg")).resize((96, 64))


# --- a small model trained here ------------------------------------------------------------------


def train_digits_model(digits: Digits, seed: int) -> Any:
    """A tiny CNN on 8x8 greyscale digits, one epoch: raw 0..255 input, rescaling inside (cnn-trainer's contract)."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = digits.images.astype("float32")[..., np.newaxis]
    model.fit(x, digits.labels, epochs=1, batch_size=64, verbose=0)
    return model


@dataclass
class ServedModels:
    """Models the tests trained, by the version the server reports, to check its answers against."""

    name: str
    by_version: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def expected(self, version: str, image: np.ndarray) -> np.ndarray:
        return self.by_version[version].predict(image.astype("float32")[np.newaxis, ..., np.newaxis], verbose=0)[0][[if #modelSource == 'mlflow']]


# --- MLflow -------------------------------------------------------------------------------------


[[if #runtime == 'onnx']]def register_version(models: ServedModels, model: Any, alias: str = "champion", onnx_form: bool = True) -> str:
    """Log and register `model` exactly as cnn-trainer does (with its ONNX form unless `onnx_form` is false, as an
    older trainer did), point the alias at it; returns the version."""
    import mlflow
    import mlflow.tensorflow

    metadata: dict[str, Any] = {"class_names": CLASS_NAMES, "input_shape": [8, 8, 1]}
    with tempfile.TemporaryDirectory() as scratch, mlflow.start_run():
        form = None
        if onnx_form:
            check_images = np.random.default_rng(0).integers(0, 256, (64, 8, 8, 1), dtype=np.uint8)
            form = onnx_export.export(model, check_images, Path(scratch) / onnx_export.FILE_NAME)
            assert form.available, form.reason
            metadata[onnx_export.METADATA_KEY] = form.metadata()
        info = mlflow.tensorflow.log_model(
            model,
            name="model",
            metadata=metadata,
            pip_requirements=["tensorflow-cpu==2.21.0"],
            extra_files=[str(form.path)] if form else None,
        )[[end #runtime == 'onnx']][[if #runtime == 'tensorflow']]def register_version(models: ServedModels, model: Any, alias: str = "champion") -> str:
    """Log and register `model` exactly as cnn-trainer does, point the alias at it; returns the version."""
    import mlflow
    import mlflow.tensorflow

    with mlflow.start_run():
        info = mlflow.tensorflow.log_model(
            model,
            name="model",
            metadata={"class_names": CLASS_NAMES, "input_shape": [8, 8, 1]},
            pip_requirements=["tensorflow-cpu==2.21.0"],
        )[[end #runtime == 'tensorflow']]
    version = str(mlflow.register_model(info.model_uri, models.name).version)
    mlflow.MlflowClient().set_registered_model_alias(models.name, alias, version)
    models.by_version[version] = model
    return version


@pytest.fixture(scope="session")
def served_models(mlflow_server: str, digits: Digits) -> ServedModels:
    import mlflow

    model = train_digits_model(digits, seed=1)
    mlflow.set_tracking_uri(mlflow_server)
    os.environ["MLFLOW_TRACKING_URI"] = mlflow_server
    mlflow.set_experiment("image-function-tests")
    models = ServedModels(name="digits-cnn-test")
    register_version(models, model)
    models.env = {
        "MLFLOW_TRACKING_URI": mlflow_server,
        "MODEL_NAME": models.name,
        "MODEL_ALIAS": "champion",
        "ALIAS_POLL_SECONDS": "0.5",
    }
    return models[[end #modelSource == 'mlflow']][[if #modelSource == 'keras_file']]


@pytest.fixture(scope="session")
def served_models(tmp_path_factory: pytest.TempPathFactory, digits: Digits) -> ServedModels:
    folder = tmp_path_factory.mktemp("model")
    model = train_digits_model(digits, seed=1)
    model.save(folder / "digits.keras")
    (folder / "labels.json").write_text(json.dumps(CLASS_NAMES), encoding="utf-8")[[if #runtime == 'onnx']]
    from [[packageName]].convert import main as convert
    from [[packageName]].settings import Settings
    from [[packageName]].source_onnx_file import ModelSource

    assert convert([str(folder / "digits.keras")]) == 0  # writes digits.onnx beside it, as a user would[[end #runtime == 'onnx']]
[[if #runtime == 'tensorflow']]    from [[packageName]].settings import Settings
    from [[packageName]].source_keras_file import ModelSource
[[end #runtime == 'tensorflow']]
    version = ModelSource(Settings(model_path=str(folder / "digits.keras"))).latest()
    return ServedModels(
        name="digits",
        by_version={version: model},
        env={"MODEL_PATH": str(folder / "digits.keras"), "LABELS_PATH": str(folder / "labels.json")},
    )[[end #modelSource == 'keras_file']]
[[if #modelSource == 'mobilenet_v2']]

@pytest.fixture(scope="session")
def served_models(tmp_path_factory: pytest.TempPathFactory) -> ServedModels:
    """MobileNetV2 with local (untrained) weights and a local class index: tests never download."""
    from keras.applications import mobilenet_v2

    folder = tmp_path_factory.mktemp("model")
    model = mobilenet_v2.MobileNetV2(weights=None)
    model.save_weights(folder / "mobilenet_v2.weights.h5")
    index = {str(i): [f"n{i:08d}", f"class-{i}"] for i in range(1000)}
    (folder / "imagenet_class_index.json").write_text(json.dumps(index), encoding="utf-8")[[if #runtime == 'onnx']]
    from [[packageName]].convert import main as convert

    env = {"MODEL_PATH": str(folder / "mobilenet_v2.onnx"), "LABELS_PATH": str(folder / "imagenet_class_index.json")}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        assert convert(["--weights", str(folder / "mobilenet_v2.weights.h5")]) == 0  # as a user would, once
    return ServedModels(name="mobilenet_v2", by_version={}, env=env)[[end #runtime == 'onnx']][[if #runtime == 'tensorflow']]
    return ServedModels(
        name="mobilenet_v2",
        by_version={},
        env={
            "MOBILENET_WEIGHTS": str(folder / "mobilenet_v2.weights.h5"),
            "LABELS_PATH": str(folder / "imagenet_class_index.json"),
        },
    )[[end #runtime == 'tensorflow']]
[[end #modelSource == 'mobilenet_v2']]

# --- the server ----------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def post(self, path: str = "/predict", **kwargs: Any) -> httpx.Response:
        return httpx.post(self.url + path, timeout=30, **kwargs)

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10)


def server_env(models: ServedModels, port: int, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        **models.env,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "MAX_UPLOAD_MB": str(MAX_UPLOAD_MB),
        "MODEL_LOAD_TIMEOUT_SECONDS": "60",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    env.pop("SERVICE_BINDING_ROOT", None)
    return env


def start_server(env: dict[str, str], log: Path, timeout: float = 120) -> Server:
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", PACKAGE],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{env['PORT']}", process, log)
    try:
        wait_until_answering(server.url + "/health/ready", process, log, timeout)
    except ServerDidNotStart:
        stop_process_group(process)
        raise
    return server


@pytest.fixture(scope="session")
def server(
    served_models: ServedModels, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Server]:[[if #allowUrlInput || #logPredictions || #modelSource == 'mobilenet_v2']]
    extra = {[[if #modelSource == 'mobilenet_v2']]
        "MAX_BATCH_SIZE": "4",  # fewer batch sizes to trace at start-up[[end #modelSource == 'mobilenet_v2']][[if #allowUrlInput]]
        # allow-listed on purpose: the address checks, not the allow-list, must stop these
        "URL_ALLOWED_HOSTS": "images.example.com,localhost,169.254.169.254",[[end #allowUrlInput]]
[[if #logPredictions]]        "PREDICTION_LOG_PERCENT": "100",
        "PREDICTION_LOG_FLUSH_SECONDS": "0.5",
        "PREDICTION_LOG_EXPERIMENT": "prediction-log-test",
[[end #logPredictions]]    }[[end #allowUrlInput || #logPredictions || #modelSource == 'mobilenet_v2']][[if !#allowUrlInput && !#logPredictions && #modelSource != 'mobilenet_v2']]
    extra: dict[str, str] = {}[[end !#allowUrlInput && !#logPredictions && #modelSource != 'mobilenet_v2']]
[[if #logPredictions && #modelSource != 'mlflow']]    extra["MLFLOW_TRACKING_URI"] = request.getfixturevalue("mlflow_server")
[[end #logPredictions && #modelSource != 'mlflow']]    log = tmp_path_factory.mktemp("server") / "server.log"
    started = start_server(server_env(served_models, free_port(), **extra), log)
    try:
        yield started
    finally:
        stop_process_group(started.process)

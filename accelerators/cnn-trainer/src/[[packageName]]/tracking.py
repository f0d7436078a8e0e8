"""MLflow: where runs go, how the model is logged, and which registered version is the champion.

The model contract (the serving side relies on it): registered model REGISTERED_MODEL_NAME, alias `champion`,
flavour tensorflow logged under the name `model` with metadata `class_names` and `input_shape` [H, W, C];
input float32 (N, H, W, C) raw pixels 0..255; output float32 softmax probabilities (N, classes).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import mlflow
import mlflow.tensorflow
import numpy as np
import tensorflow as tf
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

[[if #mlflowClaim]]from .bindings import find_binding
[[end #mlflowClaim]]from .config import Settings
from .errors import UserError

CHAMPION_ALIAS = "champion"
MODEL_NAME = "model"  # the logged model's name within its run


def configure(settings: Settings) -> MlflowClient:
    """Point MLflow at the tracking store and create the experiment when it is new."""
[[if #mlflowClaim]]    apply_binding_credentials()
[[end #mlflowClaim]]    mlflow.set_tracking_uri(settings.tracking_uri)
    client = MlflowClient()
    if os.environ.get("MLFLOW_RUN_ID"):
        return client  # started by `mlflow run`: the run and its experiment exist already
    try:
        if client.get_experiment_by_name(settings.experiment) is None:
            client.create_experiment(
                settings.experiment, artifact_location=local_artifact_location(settings.tracking_uri)
            )
        mlflow.set_experiment(settings.experiment)
    except MlflowException as exc:
        raise UserError(f"MLflow at {settings.tracking_uri}: {first_line(exc)}") from None
    return client
[[if #mlflowClaim]]

def apply_binding_credentials() -> None:
    """Username and password of a binding of type mlflow, unless MLFLOW_TRACKING_USERNAME/PASSWORD are set."""
    found = find_binding("mlflow") or {}
    for key, variable in (("username", "MLFLOW_TRACKING_USERNAME"), ("password", "MLFLOW_TRACKING_PASSWORD")):
        if found.get(key) and not os.environ.get(variable):
            os.environ[variable] = found[key]
[[end #mlflowClaim]]

def local_artifact_location(tracking_uri: str) -> str | None:
    """Artifacts of a local SQLite store go next to the database file, not into the working directory."""
    if tracking_uri.startswith("sqlite:///"):
        database = Path(tracking_uri.removeprefix("sqlite:///")).resolve()
        return (database.parent / "mlartifacts").as_uri()
    return None  # a tracking server decides


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def log_model(model: keras.Model, class_names: Sequence[str], example: np.ndarray) -> str:
    """Log the Keras model with its signature and metadata; returns its model URI."""
    signature = infer_signature(example, model.predict(example, verbose=0))
    info = mlflow.tensorflow.log_model(
        model,
        name=MODEL_NAME,
        signature=signature,
        # Explicit requirements: inferring them takes seconds and lists both tensorflow and tensorflow-cpu.
        pip_requirements=[f"tensorflow-cpu=={tf.__version__}", f"mlflow=={mlflow.__version__}"],
        metadata={"class_names": list(class_names), "input_shape": list(model.input_shape[1:])},
    )
    return info.model_uri


def register(model_uri: str, name: str, test_accuracy: float) -> str:
    """Register the logged model as a new version of `name`; returns the version number."""
    version = mlflow.register_model(model_uri, name, tags={"test_accuracy": f"{test_accuracy:.4f}"})
    return str(version.version)


def champion_version(client: MlflowClient, name: str) -> str | None:
    """The version that holds the champion alias, or None when there is none yet."""
    try:
        aliases = client.get_registered_model(name).aliases
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    return str(aliases[CHAMPION_ALIAS]) if CHAMPION_ALIAS in aliases else None


@dataclass(frozen=True)
class LoadedModel:
    model: keras.Model
    class_names: tuple[str, ...]
    input_shape: tuple[int, ...]


def load(model_uri: str) -> LoadedModel:
    """A logged or registered model with its metadata, e.g. `models:/<name>@champion`."""
    try:
        metadata: dict[str, Any] = mlflow.models.get_model_info(model_uri).metadata or {}
        model = mlflow.tensorflow.load_model(model_uri)
    except MlflowException as exc:
        raise UserError(f"cannot load {model_uri}: {first_line(exc)}") from None
    return LoadedModel(model, tuple(metadata.get("class_names", ())), tuple(metadata.get("input_shape", ())))


def promote(client: MlflowClient, name: str, version: str) -> None:
    """Move the champion alias to `version` (aliases, not the deprecated stages)."""
    client.set_registered_model_alias(name, CHAMPION_ALIAS, version)


def metric_curves(client: MlflowClient, run_id: str, keys: Sequence[str]) -> dict[str, list[tuple[int, float]]]:
    """Per-epoch values of a run, read back from MLflow so that a resumed run plots every epoch."""
    curves = {}
    for key in keys:
        latest: dict[int, float] = {}
        for metric in client.get_metric_history(run_id, key):
            latest[metric.step] = metric.value  # a re-run epoch overwrites the one lost in the interruption
        curves[key] = sorted(latest.items())
    return curves


def run_exists(client: MlflowClient, run_id: str) -> bool:
    try:
        client.get_run(run_id)
    except MlflowException:
        return False
    return True

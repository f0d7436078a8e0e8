"""MLflow: where runs go, how the model is logged, and which registered version is the champion.

The model contract (the serving side relies on it): registered model REGISTERED_MODEL_NAME, alias `champion`,
flavour tensorflow logged under the name `model` with metadata `class_names` and `input_shape` [H, W, C] (and
`holdout`, the rule that chose its held-out images); input float32 (N, H, W, C) raw pixels 0..255; output float32
softmax probabilities (N, classes). The same logged model, so the same registered version, carries the model's ONNX
form as the extra file `extra_files/model.onnx` when it converts and agrees with the Keras model on the held-out
images; metadata `onnx` says where it is and how close the two forms are, or why there is none (see onnx_export.py).
Each version's description is its model card.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from . import mlflow_setup, onnx_export
from .errors import UserError
from .holdout import HoldoutRule

if TYPE_CHECKING:  # TensorFlow is imported where a model is logged or loaded, not by every MLflow call
    import keras
    import numpy as np

CHAMPION_ALIAS = "champion"
MODEL_NAME = "model"  # the logged model's name within its run
MAX_DESCRIPTION_CHARS = 5000  # what MLflow's registry stores of a version description


def connect(tracking_uri: str) -> MlflowClient:
    """Point MLflow at the tracking store, with the credentials of the environment or of a bound MLflow service."""
    try:
        mlflow_setup.apply_credentials()  # MLFLOW_TRACKING_USERNAME/PASSWORD, else those of a bound MLflow service
    except mlflow_setup.MlflowSetupError as exc:
        raise UserError(str(exc)) from None
    mlflow.set_tracking_uri(tracking_uri)
    return MlflowClient()


def configure(tracking_uri: str, experiment: str) -> MlflowClient:
    """Point MLflow at the tracking store and create the experiment when it is new."""
    client = connect(tracking_uri)
    if os.environ.get("MLFLOW_RUN_ID"):
        return client  # started by `mlflow run`: the run and its experiment exist already
    try:
        if client.get_experiment_by_name(experiment) is None:
            client.create_experiment(experiment, artifact_location=local_artifact_location(tracking_uri))
        mlflow.set_experiment(experiment)
    except MlflowException as exc:
        raise UserError(f"MLflow at {tracking_uri}: {first_line(exc)}") from None
    return client


def local_artifact_location(tracking_uri: str) -> str | None:
    """Artifacts of a local SQLite store go next to the database file, not into the working directory."""
    if tracking_uri.startswith("sqlite:///"):
        database = Path(tracking_uri.removeprefix("sqlite:///")).resolve()
        return (database.parent / "mlartifacts").as_uri()
    return None  # a tracking server decides


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass(frozen=True)
class Logged:
    """A logged model's URI and the outcome of its ONNX export (stored with it, or the reason it is not)."""

    uri: str
    onnx: onnx_export.OnnxForm


def log_model(
    model: keras.Model, class_names: Sequence[str], example: np.ndarray, holdout: HoldoutRule, held_out: np.ndarray
) -> Logged:
    """Log the Keras model with its signature and metadata, and its ONNX form when that agrees on `held_out`."""
    import mlflow.tensorflow
    import tensorflow as tf
    from mlflow.models import infer_signature

    signature = infer_signature(example, model.predict(example, verbose=0))
    with tempfile.TemporaryDirectory(prefix="onnx-export-") as scratch:
        form = onnx_export.export(model, held_out, Path(scratch) / onnx_export.FILE_NAME)
        info = mlflow.tensorflow.log_model(
            model,
            name=MODEL_NAME,
            signature=signature,
            # Explicit requirements: inferring them takes seconds and lists both tensorflow and tensorflow-cpu.
            pip_requirements=[f"tensorflow-cpu=={tf.__version__}", f"mlflow=={mlflow.__version__}"],
            metadata={
                "class_names": list(class_names),
                "input_shape": list(model.input_shape[1:]),
                "holdout": holdout.as_metadata(),
                onnx_export.METADATA_KEY: form.metadata(),
            },
            extra_files=[str(form.path)] if form.path else None,  # stored as extra_files/model.onnx
        )
    return Logged(info.model_uri, form)


def record_onnx_outcome(logged: Logged) -> str:
    """Tag the active run with the ONNX export's outcome; returns the line to print about it."""
    mlflow.set_tags(logged.onnx.tags())
    if logged.onnx.available:
        return logged.onnx.describe("held-out images")
    return f"{logged.onnx.describe()}; the version is registered in Keras form only"


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
class ModelFacts:
    """A logged model's metadata: what a comparison needs, read without loading the weights."""

    class_names: tuple[str, ...]
    input_shape: tuple[int, ...]
    holdout: HoldoutRule | None  # None for models logged before the rule was recorded


def model_facts(model_uri: str) -> ModelFacts:
    try:
        metadata: dict[str, Any] = mlflow.models.get_model_info(model_uri).metadata or {}
    except MlflowException as exc:
        raise UserError(f"cannot load {model_uri}: {first_line(exc)}") from None
    return ModelFacts(
        tuple(metadata.get("class_names", ())),
        tuple(metadata.get("input_shape", ())),
        HoldoutRule.from_metadata(metadata.get("holdout")),
    )


@dataclass(frozen=True)
class LoadedModel:
    model: keras.Model
    facts: ModelFacts


def load(model_uri: str) -> LoadedModel:
    """A logged or registered model with its metadata, e.g. `models:/<name>@champion`."""
    import mlflow.tensorflow

    facts = model_facts(model_uri)
    try:
        model = mlflow.tensorflow.load_model(model_uri)
    except MlflowException as exc:
        raise UserError(f"cannot load {model_uri}: {first_line(exc)}") from None
    return LoadedModel(model, facts)


def promote(client: MlflowClient, name: str, version: str) -> None:
    """Move the champion alias to `version` (aliases, not the deprecated stages)."""
    client.set_registered_model_alias(name, CHAMPION_ALIAS, version)


def tag_version(client: MlflowClient, name: str, version: str, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)


def describe_version(client: MlflowClient, name: str, version: str, description: str) -> None:
    client.update_model_version(name, version, description=description)


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

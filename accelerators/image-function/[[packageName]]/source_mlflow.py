"""Serve the MLflow registered model that an alias points at (cnn-trainer's `champion`), following the alias.[[if #runtime == 'onnx']]

This runtime serves each version's ONNX form, which cnn-trainer registers with it as an extra file of the same
logged model (see onnx_export.py), and never imports TensorFlow: only that file and the model's metadata are
downloaded. A version without an ONNX form is refused with the reason; the current model stays.
[[end #runtime == 'onnx']]"""

from __future__ import annotations

import logging
[[if #runtime == 'onnx']]import tempfile
from pathlib import Path
from typing import Any
[[end #runtime == 'onnx']]
from .mlflow_setup import MlflowSetupError, apply_http_limits, configure[[if #runtime == 'onnx']]
from .model import LoadedModel, UnservableModel, read_class_names
from .onnx_export import METADATA_KEY
from .runtime_onnx import OnnxModel[[end #runtime == 'onnx']]
[[if #runtime == 'tensorflow']]from .model import LoadedModel, read_class_names
from .runtime_tensorflow import CompiledModel
[[end #runtime == 'tensorflow']]from .settings import ConfigError, Settings

log = logging.getLogger(__name__)


class ModelSource:
    kind = "mlflow"

    def __init__(self, settings: Settings) -> None:
        try:
            configure()  # MLFLOW_TRACKING_URI, else a bound MLflow service, else MLflow's default
        except MlflowSetupError as exc:
            raise ConfigError(str(exc)) from None
        from mlflow import MlflowClient

        self.settings = settings
        self.poll_seconds: float | None = settings.alias_poll_seconds
        self._client = MlflowClient()

    def describe(self) -> str:
        return f"models:/{self.settings.model_name}@{self.settings.model_alias}"

    def bound_calls(self, seconds: float) -> None:
        """Each MLflow call from now on gives up within `seconds` (its HTTP timeout, retries and back-off)."""
        apply_http_limits(seconds)

    def latest(self) -> str:
        """The version the alias points at now."""
        found = self._client.get_model_version_by_alias(self.settings.model_name, self.settings.model_alias)
        return str(found.version)

    def load(self, version: str | None = None) -> LoadedModel:[[if #runtime == 'onnx']]
        version = version or self.latest()
        uri = f"models:/{self.settings.model_name}/{version}"
        metadata = logged_metadata(uri)
        predictor = OnnxModel(onnx_form(uri, metadata), self.settings.max_batch_size, source=uri)[[end #runtime == 'onnx']]
[[if #runtime == 'tensorflow']]        version = version or self.latest()  # before importing TensorFlow: an unreachable server shows at once
        import mlflow.models
        import mlflow.tensorflow

        uri = f"models:/{self.settings.model_name}/{version}"
        keras_model = mlflow.tensorflow.load_model(uri)
        metadata = mlflow.models.get_model_info(uri).metadata or {}
        input_shape = metadata.get("input_shape") or keras_model.input_shape[1:]
        predictor = CompiledModel(keras_model, input_shape, self.settings.max_batch_size)
[[end #runtime == 'tensorflow']]        class_names = metadata.get("class_names") or read_class_names(self.settings.labels_path) or ()
        seconds = predictor.warm_up()
        log.info("loaded %s (version %s) and warmed it up in %.1f s", uri, version, seconds)
        return LoadedModel(
            name=self.settings.model_name,
            version=version,
            source=self.kind,
            class_names=tuple(str(name) for name in class_names),
            predict=predictor,
        )
[[if #runtime == 'onnx']]

def logged_metadata(uri: str) -> dict[str, Any]:
    """The version's logged metadata, read from its MLmodel file.

    Not through mlflow.models.get_model_info: that builds the model's signature, which imports pandas, and
    mlflow-skinny (this image's MLflow client) has no pandas.
    """
    import mlflow.artifacts
    import yaml

    document = yaml.safe_load(mlflow.artifacts.load_text(f"{uri}/MLmodel")) or {}
    return document.get("metadata") or {}


def onnx_form(uri: str, metadata: dict[str, Any]) -> bytes:
    """The version's ONNX file, downloaded alone; UnservableModel when it has none."""
    import mlflow.artifacts

    form = metadata.get(METADATA_KEY) or {}
    if "path" not in form:
        why = form.get("unavailable") or "registered before the trainer exported ONNX"
        raise UnservableModel(
            f"{uri} has no ONNX form ({why}); serve it with the TensorFlow runtime (generate this project with "
            "runtime=tensorflow) or register the model again with a trainer that exports ONNX"
        )
    with tempfile.TemporaryDirectory(prefix="onnx-form-") as scratch:
        path = mlflow.artifacts.download_artifacts(artifact_uri=f"{uri}/{form['path']}", dst_path=scratch)
        return Path(path).read_bytes()
[[end #runtime == 'onnx']]
"""Serve the MLflow registered model that an alias points at (cnn-trainer's `champion`), following the alias."""

from __future__ import annotations

import logging

from .mlflow_setup import MlflowSetupError, apply_http_limits, configure
from .model import CompiledModel, LoadedModel, read_class_names
from .settings import ConfigError, Settings

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

    def load(self, version: str | None = None) -> LoadedModel:
        version = version or self.latest()  # before importing TensorFlow: an unreachable server shows at once
        import mlflow.models
        import mlflow.tensorflow

        uri = f"models:/{self.settings.model_name}/{version}"
        keras_model = mlflow.tensorflow.load_model(uri)
        metadata = mlflow.models.get_model_info(uri).metadata or {}
        class_names = metadata.get("class_names") or read_class_names(self.settings.labels_path) or ()
        input_shape = metadata.get("input_shape") or keras_model.input_shape[1:]
        compiled = CompiledModel(keras_model, input_shape, self.settings.max_batch_size)
        seconds = compiled.warm_up()
        log.info("loaded %s (version %s) and warmed it up in %.1f s", uri, version, seconds)
        return LoadedModel(
            name=self.settings.model_name,
            version=version,
            source=self.kind,
            class_names=tuple(str(name) for name in class_names),
            predict=compiled,
        )

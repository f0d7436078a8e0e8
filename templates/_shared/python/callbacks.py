"""Keras callbacks of a training run: per-epoch MLflow metrics and a clean stop on SIGTERM."""

from __future__ import annotations

import threading
from typing import Any

import keras
import mlflow


class TrainingStopped(Exception):
    """Raised inside `fit` when a stop was requested; the backup of the last finished epoch is kept."""


class MlflowEpochMetrics(keras.callbacks.Callback):
    """Log loss, accuracy and their validation values at the end of every epoch (step = epoch index)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        metrics = {key: float(value) for key, value in (logs or {}).items() if key != "learning_rate"}
        mlflow.log_metrics(metrics, step=epoch)


class StopOnEvent(keras.callbacks.Callback):
    """End training after the current batch once `event` is set (by the SIGTERM handler).

    It raises instead of setting `model.stop_training`: a normal end of `fit` would make BackupAndRestore
    delete its backup, and the interrupted cycle could not resume.
    """

    def __init__(self, event: threading.Event) -> None:
        super().__init__()
        self.event = event

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.event.is_set():
            raise TrainingStopped

"""One training cycle: load, split, train (resuming an interrupted run), evaluate, log, register, promote.

Usage: python -m {{ cookiecutter.__package_name }}.train --help
"""

from __future__ import annotations

import json
import shutil
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from .config import AUGMENTATION, CHANNELS, HELD_OUT_FRACTION, Settings, load_settings, preflight
from .errors import UserError, run_cli

if TYPE_CHECKING:
    from .registry import Registration

DATA_SOURCE = "{{ cookiecutter.data_source }}"


def say(message: str) -> None:
    print(message, flush=True)


@dataclass(frozen=True)
class TrainingResult:
    run_id: str
    test_accuracy: float
    resumed_from_epoch: int
    epochs_run: int
    registration: Registration | None  # None on the workers other than the chief


class Backup:
    """Training state kept between an interrupted run and its restart.

    `keras/` belongs to keras.callbacks.BackupAndRestore (weights and optimizer after the last finished epoch);
    `run.json` names the MLflow run, so that the restarted run continues it instead of starting another.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.keras_dir = root / "keras"
        self.run_file = root / "run.json"

    def finished_epochs(self) -> int:
        try:
            return int(json.loads((self.keras_dir / "training_metadata.json").read_text())["epoch"])
        except (OSError, ValueError, KeyError):
            return 0

    def run_id(self) -> str | None:
        try:
            return str(json.loads(self.run_file.read_text())["run_id"])
        except (OSError, ValueError, KeyError):
            return None

    def remember_run(self, run_id: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.run_file.write_text(json.dumps({"run_id": run_id}) + "\n")

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def train(settings: Settings, stop: threading.Event | None = None) -> TrainingResult:
    """Run one training cycle. Raises UserError for bad data or services, TrainingStopped when `stop` is set."""
    # Imported here, after the fast checks of `main`: TensorFlow takes seconds to import.
    import keras
    import mlflow

    from . import callbacks, data, plots, registry, tracking
    from . import model as cnn
    from .scoring import evaluate

    mixed_precision = cnn.use_mixed_precision_on_gpu()
    strategy = cnn.choose_strategy()
    chief = cnn.is_chief()
    keras.utils.set_random_seed(settings.seed)

    say(f"loading images ({DATA_SOURCE})")
    splits = data.split(data.load(settings), settings.holdout)
    classes = splits.class_names
    say(
        f"{len(splits.train)} training, {len(splits.validation)} validation and {len(splits.test)} held-out images "
        f"of {len(classes)} classes, {settings.image_size}x{settings.image_size}x{CHANNELS}; "
        f"held out: {settings.holdout.describe()}"
    )
    batch_size = settings.batch_size * strategy.num_replicas_in_sync
    train_data = data.to_dataset(splits.train, batch_size, shuffle_seed=settings.seed)
    validation_data = data.to_dataset(splits.validation, batch_size)

    with strategy.scope():
        network = cnn.build_model(
            settings.input_shape,
            len(classes),
            conv_blocks=settings.conv_blocks,
            filters=settings.filters,
            dropout=settings.dropout,
            seed=settings.seed,
            augment=AUGMENTATION,
        )
        cnn.compile_model(network, settings.learning_rate)

    backup = Backup(settings.backup_dir)
    resumed_from = backup.finished_epochs()
    fit_callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=settings.patience, restore_best_weights=True),
        keras.callbacks.BackupAndRestore(str(backup.keras_dir)),
    ]
    if stop is not None:
        fit_callbacks.append(callbacks.StopOnEvent(stop))
    if not chief:
        network.fit(
            train_data,
            validation_data=validation_data,
            epochs=settings.epochs,
            callbacks=fit_callbacks,
            shuffle=False,
            verbose=2,
        )  # shuffle=False: the input pipeline shuffles
        return TrainingResult("", float("nan"), resumed_from, settings.epochs - resumed_from, None)

    client = tracking.configure(settings.tracking_uri, settings.experiment)
    run_id = backup.run_id() if resumed_from else None
    if run_id and not tracking.run_exists(client, run_id):
        run_id = None
    if resumed_from:
        say(f"resuming from epoch {resumed_from} (backup in {backup.root})")

    parameters = {
        "image_size": settings.image_size,
        "channels": CHANNELS,
        "classes": len(classes),
        "epochs": settings.epochs,
        "batch_size": settings.batch_size,
        "learning_rate": settings.learning_rate,
        "conv_blocks": settings.conv_blocks,
        "filters": settings.filters,
        "dropout": settings.dropout,
        "patience": settings.patience,
        "seed": settings.seed,
        "augmentation": AUGMENTATION,
        "holdout_salt": settings.holdout_salt,
        "held_out_fraction": HELD_OUT_FRACTION,
        "train_images": len(splits.train),
        "validation_images": len(splits.validation),
        "test_images": len(splits.test),
        "strategy": type(strategy).__name__,
        "replicas": strategy.num_replicas_in_sync,
        "mixed_precision": mixed_precision,
    }
    with mlflow.start_run(run_id=run_id) as run:
        if run_id is None:
            backup.remember_run(run.info.run_id)
            mlflow.set_tag("data_source", DATA_SOURCE)
            mlflow.log_params(parameters)
        say(f"MLflow run {run.info.run_id} in experiment {settings.experiment!r} at {settings.tracking_uri}")
        try:
            history = network.fit(
                train_data,
                validation_data=validation_data,
                epochs=settings.epochs,
                callbacks=[callbacks.MlflowEpochMetrics(), *fit_callbacks],
                shuffle=False,
                verbose=2,
            )  # shuffle=False: the input pipeline shuffles
        except callbacks.TrainingStopped:
            mlflow.end_run("KILLED")
            raise
        except ValueError as exc:
            if not resumed_from:
                raise
            raise UserError(
                f"cannot resume from the backup in {backup.root} ({tracking.first_line(exc)}); it was "
                "written by a different model: delete it to start over"
            ) from None
        backup.clear()
        epochs_run = len(history.history.get("loss", []))

        result = evaluate(network, splits.test)
        mlflow.log_metric("test_accuracy", result.accuracy)
        say(result.report(classes))
        curves = tracking.metric_curves(client, run.info.run_id, ("loss", "val_loss", "accuracy", "val_accuracy"))
        mlflow.log_figure(plots.learning_curves(curves), "plots/learning_curves.png")
        mlflow.log_figure(plots.confusion_matrix(result.confusion, classes), "plots/confusion_matrix.png")

        logged = tracking.log_model(
            network, classes, splits.test.images[:4].astype("float32"), settings.holdout, splits.test.images
        )
        say(tracking.record_onnx_outcome(logged))
        candidate = registry.Candidate(
            settings.registered_model_name,
            settings.input_shape,
            settings.holdout,
            data.describe(settings),
            settings.promote_anyway,
        )
        registration = registry.register_and_promote(
            client, candidate, run.info.run_id, logged, splits, result, parameters
        )
        alias = "as the champion" if registration.decision.promote else "without the champion alias"
        say(
            f"registered {settings.registered_model_name} version {registration.version} {alias}: "
            f"{registration.decision.reason}"
        )
    return TrainingResult(run.info.run_id, result.accuracy, resumed_from, epochs_run, registration)


def stop_on_sigterm() -> threading.Event:
    """An event set by SIGTERM (what Kubernetes sends before it stops the container)."""
    event = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        event.set()

    signal.signal(signal.SIGTERM, handle)
    return event


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    settings = load_settings(argv, description="Train the CNN once, register it in MLflow and promote it if better.")
    preflight(settings)
    from .callbacks import TrainingStopped  # after the checks: it imports TensorFlow

    try:
        result = train(settings, stop_on_sigterm())
    except TrainingStopped:
        say(f"stopped by SIGTERM; run the same command again to resume from the backup in {settings.backup_dir}")
        return 143
    say(f"done: run {result.run_id}, held-out accuracy {result.test_accuracy:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

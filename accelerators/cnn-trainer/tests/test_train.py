"""A short real training run: it must learn, log what it promises and register a model the serving side can use."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from [[packageName]] import evaluate
from [[packageName]].config import CHANNELS, load_settings
from [[packageName]].train import train

from conftest import fast_flags

MIN_ACCURACY = 0.85


@pytest.fixture(scope="module")
def flags(tmp_path_factory, data_flags, local_tracking_uri):
    workdir = tmp_path_factory.mktemp("train")
    return [
        *data_flags,
        *fast_flags(workdir),
        "--tracking-uri",
        local_tracking_uri,
        "--experiment",
        "train-test",
        "--registered-model-name",
        "train-test",
    ]


@pytest.fixture(scope="module")
def trained(flags):
    """One run of six epochs under a model name of its own, shared by the tests of this module."""
    settings = load_settings(flags, environ={})
    return settings, train(settings)


def test_training_reaches_the_accuracy_goal(trained):
    settings, result = trained

    assert result.test_accuracy >= MIN_ACCURACY
    assert result.resumed_from_epoch == 0
    assert not settings.backup_dir.exists(), "a finished run leaves no backup behind"


def test_run_logs_params_metrics_and_plots(trained):
    settings, result = trained
    client = MlflowClient(settings.tracking_uri)

    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["test_accuracy"] == result.test_accuracy
    assert run.data.params["image_size"] == str(settings.image_size)
    assert len(client.get_metric_history(result.run_id, "val_accuracy")) == result.epochs_run
    plots = {item.path for item in client.list_artifacts(result.run_id, "plots")}
    assert plots == {"plots/learning_curves.png", "plots/confusion_matrix.png"}
    assert "MODEL_CARD.md" in {item.path for item in client.list_artifacts(result.run_id)}


def test_first_model_becomes_the_champion(trained):
    settings, result = trained
    assert result.registration is not None and result.registration.decision.promote
    assert result.registration.decision.reason.startswith("no champion yet")

    version = MlflowClient(settings.tracking_uri).get_model_version_by_alias(settings.registered_model_name, "champion")
    assert str(version.version) == result.registration.version


def test_champion_keeps_the_serving_contract(trained):
    settings, _ = trained
    mlflow.set_tracking_uri(settings.tracking_uri)
    uri = f"models:/{settings.registered_model_name}@champion"

    info = mlflow.models.get_model_info(uri)
    assert info.metadata["input_shape"] == [settings.image_size, settings.image_size, CHANNELS]
    assert info.metadata["holdout"] == settings.holdout.as_metadata()
    class_names = info.metadata["class_names"]
    assert class_names == [str(digit) for digit in range(10)]

    model = mlflow.tensorflow.load_model(uri)
    pixels = np.full((3, settings.image_size, settings.image_size, CHANNELS), 255.0, dtype=np.float32)
    probabilities = np.asarray(model(pixels, training=False))
    assert probabilities.shape == (3, len(class_names))
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_evaluate_command_scores_the_champion_on_the_same_held_out_images(trained, flags, capsys):
    _, result = trained

    assert evaluate.main(flags) == 0

    output = capsys.readouterr().out
    assert "models:/train-test@champion: accuracy" in output
    assert f"accuracy {result.test_accuracy:.4f}" in output

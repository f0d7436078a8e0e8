"""A bound MLflow service end to end: training finds the tracking server and its credentials through a binding.

The precedence rule itself is tested in test_mlflow_setup.py; here the CLI settings, `tracking.configure` and a real
tracking server use it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mlflow import MlflowClient

from {{ cookiecutter.__package_name }}.config import load_settings

from conftest import assert_one_line_error


def write_binding(root: Path, **entries: str) -> Path:
    folder = root / "mlflow"
    folder.mkdir(parents=True)
    for key, value in entries.items():
        (folder / key).write_text(value + "\n", encoding="utf-8")
    return folder


def test_the_tracking_uri_follows_the_binding_unless_the_environment_names_one(tmp_path: Path) -> None:
    write_binding(tmp_path, type="mlflow", host="mlflow.internal", port="5000")
    bound = {"SERVICE_BINDING_ROOT": str(tmp_path)}

    assert load_settings([], environ=bound).tracking_uri == "http://mlflow.internal:5000"
    assert load_settings([], environ={**bound, "MLFLOW_TRACKING_URI": "http://127.0.0.1:1"}).tracking_uri == (
        "http://127.0.0.1:1"
    )
    assert load_settings([], environ={}).tracking_uri == "sqlite:///mlruns.db"


@pytest.mark.service
def test_training_set_up_reaches_the_bound_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mlflow_server: str, names: list[str]
) -> None:
    from {{ cookiecutter.__package_name }}.tracking import configure

    write_binding(tmp_path, type="mlflow", uri=mlflow_server, username="trainer", password="from-the-binding")
    monkeypatch.setenv("SERVICE_BINDING_ROOT", str(tmp_path))
    for variable in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.setenv(variable, "")  # unset for the rule; monkeypatch removes them again afterwards
    settings = load_settings(names)

    configure(settings.tracking_uri, settings.experiment)

    assert settings.tracking_uri == mlflow_server
    assert MlflowClient(mlflow_server).get_experiment_by_name(settings.experiment) is not None
    assert os.environ["MLFLOW_TRACKING_USERNAME"] == "trainer"
    assert os.environ["MLFLOW_TRACKING_PASSWORD"] == "from-the-binding"


def test_an_incomplete_binding_is_one_line(run_cli, tmp_path: Path) -> None:
    folder = write_binding(tmp_path / "bindings", type="mlflow", username="trainer")

    result = run_cli("train", "--epochs", "1", env={"SERVICE_BINDING_ROOT": str(folder.parent)})

    assert_one_line_error(result, str(folder), "neither 'uri' nor 'host'")

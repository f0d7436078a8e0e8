"""MLflow through a service claim: the tracking URI and credentials come from a binding of type mlflow."""

from __future__ import annotations

import os

import pytest

from {{ cookiecutter.__package_name }}.config import default_tracking_uri
from {{ cookiecutter.__package_name }}.tracking import apply_binding_credentials


@pytest.fixture
def mlflow_binding(tmp_path, monkeypatch):
    binding = tmp_path / "bindings" / "mlflow"
    binding.mkdir(parents=True)
    entries = {
        "type": "mlflow",
        "uri": "http://mlflow.example.internal:5000",
        "username": "trainer",
        "password": "from-the-binding",
    }
    for key, value in entries.items():
        (binding / key).write_text(value + "\n")
    monkeypatch.setenv("SERVICE_BINDING_ROOT", str(tmp_path / "bindings"))
    for variable in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    return entries


def test_tracking_uri_and_credentials_come_from_the_binding(mlflow_binding):
    assert default_tracking_uri(os.environ) == mlflow_binding["uri"]

    apply_binding_credentials()

    assert os.environ["MLFLOW_TRACKING_USERNAME"] == "trainer"
    assert os.environ["MLFLOW_TRACKING_PASSWORD"] == "from-the-binding"


def test_environment_variables_win_over_the_binding(mlflow_binding, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "from-the-environment")

    apply_binding_credentials()

    assert default_tracking_uri(os.environ) == "http://127.0.0.1:5000"
    assert os.environ["MLFLOW_TRACKING_PASSWORD"] == "from-the-environment"


def test_without_bindings_the_local_store_is_used(monkeypatch):
    monkeypatch.delenv("SERVICE_BINDING_ROOT", raising=False)

    assert default_tracking_uri({}) == "sqlite:///mlruns.db"

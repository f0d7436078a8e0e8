"""Sampled prediction logging reaches MLflow in the background and never touches the request path."""

from __future__ import annotations

import time

import pytest

from {{ cookiecutter.__package_name }}.prediction_log import PredictionLog
from {{ cookiecutter.__package_name }}.settings import Settings

from conftest import Digits, Server


def test_predictions_reach_mlflow(server: Server, digits: Digits, mlflow_server: str) -> None:
    from mlflow import MlflowClient

    for index in range(5):
        assert server.post(content=digits.png(index), headers={"Content-Type": "image/png"}).status_code == 200
    client = MlflowClient(tracking_uri=mlflow_server)
    deadline = time.monotonic() + 30
    logged = []
    while time.monotonic() < deadline and not logged:
        experiment = client.get_experiment_by_name("prediction-log-test")
        if experiment is not None:
            for run in client.search_runs([experiment.experiment_id]):
                logged += [a.path for a in client.list_artifacts(run.info.run_id, "predictions")]
        time.sleep(0.5)
    assert logged and logged[0].endswith(".jsonl")


def test_offer_never_blocks_when_mlflow_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    monkeypatch.delenv("SERVICE_BINDING_ROOT", raising=False)
    log = PredictionLog(Settings(prediction_log_percent=100, prediction_log_flush_seconds=3600), capacity=3)
    payload = {"predictions": [{"label": "a", "score": 0.5}], "model": {"name": "m", "version": "1"}, "latency_ms": 1.0}
    started = time.perf_counter()
    for _ in range(1000):
        log.offer(payload)
    assert time.perf_counter() - started < 0.5
    assert log.dropped == 997

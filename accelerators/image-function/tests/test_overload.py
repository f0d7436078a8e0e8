"""The HTTP side of back-pressure and readiness, in-process with a stand-in service (no model, no server)."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from [[packageName]].app import create_app
from [[packageName]].batching import MicroBatcher
from [[packageName]].model import LoadedModel
from [[packageName]].settings import Settings

PNG = {"content": b"\x89PNG...", "headers": {"Content-Type": "image/png"}}


class StalledService:
    """A service whose model thread never runs: the queue (one slot) fills and stays full."""

    def __init__(self, loaded: bool = True) -> None:
        self.settings = Settings(queue_size=1, request_timeout_seconds=0.5)
        self.batcher = MicroBatcher(max_batch_size=1, max_wait_ms=0, queue_size=1)  # never started
        self.model = LoadedModel("stalled", "1", "test", ("a",), predict=None) if loaded else None  # type: ignore[arg-type]
        self.fetcher = None

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def prepare(self, data: bytes) -> tuple[np.ndarray, LoadedModel]:
        return np.zeros((2, 2, 1), dtype=np.float32), self.model


def test_a_full_queue_answers_503_with_retry_after() -> None:
    with TestClient(create_app(StalledService())) as client:
        first = client.post("/predict", **PNG)
        assert first.status_code == 504  # took the only slot; the model never answered
        assert first.json()["error"] == "timeout"
        second = client.post("/predict", **PNG)
        assert second.status_code == 503
        assert second.headers["retry-after"] == "1"
        assert second.json()["error"] == "overloaded"
        assert client.get("/health/live").status_code == 200


def test_not_ready_until_a_model_is_loaded() -> None:
    with TestClient(create_app(StalledService(loaded=False))) as client:
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["status"] == "loading"
        assert client.get("/health/live").status_code == 200

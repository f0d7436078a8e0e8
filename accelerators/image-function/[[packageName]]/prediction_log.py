"""Sampled, asynchronous prediction logging to MLflow.

The request path only draws a random number and, for the sampled few, puts a small record on a bounded
queue (dropping it when the queue is full). A background thread writes the records every few seconds
to one MLflow run per server process: a JSON Lines artifact under `predictions/` and summary metrics.
MLflow being slow or down never delays or fails a prediction.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import random
import socket
import threading
import time
from typing import Any

from .mlflow_setup import MlflowSetupError, configure
from .settings import ConfigError, Settings

log = logging.getLogger(__name__)


class PredictionLog:
    def __init__(self, settings: Settings, capacity: int = 10_000) -> None:
        self.fraction = settings.prediction_log_percent / 100.0
        self.experiment = settings.prediction_log_experiment
        self.flush_seconds = settings.prediction_log_flush_seconds
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=capacity)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._run_id: str | None = None
        self._client: Any = None
        self._step = 0
        self.written = 0
        self.dropped = 0
        try:
            configure()  # checked now: a broken MLflow binding stops the start, not a background thread
        except MlflowSetupError as exc:
            raise ConfigError(str(exc)) from None

    def offer(self, payload: dict[str, Any]) -> None:
        """Called on the request path: O(1), never blocks, never raises."""
        if self.fraction <= 0 or random.random() >= self.fraction:
            return
        best = payload["predictions"][0] if payload["predictions"] else {"label": None, "score": None}
        record = {
            "time": round(time.time(), 3),
            "label": best["label"],
            "score": best["score"],
            "model": payload["model"]["name"],
            "version": payload["model"]["version"],
            "latency_ms": payload["latency_ms"],
        }
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1

    def start(self) -> None:
        if self.fraction > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.wait(self.flush_seconds):
            self._flush()
        self._flush()

    def _flush(self) -> None:
        records = []
        while True:
            try:
                records.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if not records:
            return
        try:
            self._write(records)
            self.written += len(records)
        except Exception as exc:
            self.dropped += len(records)
            log.warning("could not log %d predictions to MLflow: %s", len(records), exc)

    def _write(self, records: list[dict[str, Any]]) -> None:
        from mlflow.entities import Metric

        client, run_id = self._ensure_run()
        now = int(time.time() * 1000)
        self._step += 1
        text = "".join(json.dumps(record, sort_keys=True) + "\n" for record in records)
        client.log_text(run_id, text, f"predictions/{now}-{self._step:06d}.jsonl")
        scores = [r["score"] for r in records if r["score"] is not None]
        latencies = [r["latency_ms"] for r in records]
        metrics = [Metric("sampled_predictions", float(len(records)), now, self._step)]
        if scores:
            metrics.append(Metric("mean_top_score", sum(scores) / len(scores), now, self._step))
        metrics.append(Metric("mean_latency_ms", sum(latencies) / len(latencies), now, self._step))
        client.log_batch(run_id, metrics=metrics)

    def _ensure_run(self) -> tuple[Any, str]:
        if self._client is None or self._run_id is None:
            from mlflow import MlflowClient

            client = MlflowClient()
            experiment = client.get_experiment_by_name(self.experiment)
            experiment_id = experiment.experiment_id if experiment else client.create_experiment(self.experiment)
            run = client.create_run(
                experiment_id,
                run_name=f"serving-{socket.gethostname()}-{os.getpid()}",
                tags={"purpose": "prediction-log"},
            )
            self._client, self._run_id = client, run.info.run_id
        return self._client, self._run_id

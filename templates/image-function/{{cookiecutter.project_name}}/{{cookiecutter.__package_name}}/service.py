"""The classifier behind both entry points (the HTTP server and `func.main`).

It loads the model once, warms it up, serves it through the micro-batcher and, when the model source can
move (an MLflow alias), polls it and swaps the new version in without stopping: the new model is loaded
and warmed beside the old one, then replaces it in one assignment. Requests already holding the old
model finish on it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import numpy as np

from .batching import MicroBatcher
from .errors import RequestError
from .imaging import decode, to_array
from .model import LoadedModel, ModelHolder, UnservableModel
{%- if cookiecutter.log_predictions %}
from .prediction_log import PredictionLog
{%- endif %}
from .settings import Settings
{%- if cookiecutter.model_source == 'mlflow' %}
from .source_mlflow import ModelSource
{%- elif cookiecutter.runtime == 'onnx' %}
from .source_onnx_file import ModelSource
{%- elif cookiecutter.model_source == 'keras_file' %}
from .source_keras_file import ModelSource
{%- else %}
from .source_mobilenet import ModelSource
{%- endif %}
{%- if cookiecutter.allow_url_input %}
from .url_guard import UrlFetcher, UrlPolicy
{%- endif %}

log = logging.getLogger(__name__)


class Service:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.source = ModelSource(self.settings)
        self.holder = ModelHolder()
        self.batcher = MicroBatcher(self.settings.max_batch_size, self.settings.max_wait_ms, self.settings.queue_size)
{%- if cookiecutter.allow_url_input %}
        self.fetcher: UrlFetcher | None = None
        if self.settings.url_input_enabled:
            self.fetcher = UrlFetcher(
                UrlPolicy(
                    allowed_hosts=self.settings.url_allowed_hosts,
                    max_bytes=self.settings.max_upload_bytes,
                    timeout_seconds=self.settings.url_timeout_seconds,
                    max_redirects=self.settings.url_max_redirects,
                    trusted_addresses=frozenset(self.settings.url_trusted_addresses),
                ),
                user_agent="{{ cookiecutter.project_name }}-image-fetch",
            )
{%- endif %}
{%- if cookiecutter.log_predictions %}
        self.prediction_log = PredictionLog(self.settings)
{%- endif %}
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self.swaps = 0
        self.last_load_error: str | None = None
        self._refused: set[str] = set()  # versions found unservable: not loaded again

    # --- life cycle -------------------------------------------------------------------------------

    def load_first_model(self, deadline: float | None = None) -> None:
        """Load and warm the model, retrying until `deadline` (time.monotonic(); default: the load timeout from now)."""
        if deadline is None:
            deadline = time.monotonic() + self.settings.model_load_timeout_seconds
        self.holder.replace(self._load_with_retries(deadline))
        self.source.bound_calls(self.settings.model_load_timeout_seconds)  # for alias checks and swaps from now on

    def start(self) -> None:
        """Start serving: load the model unless that was done already, then the batcher and background work."""
        if self.holder.current is None:
            self.load_first_model()
        self.batcher.start()
        if self.source.poll_seconds:
            self._watcher = threading.Thread(target=self._watch, name="model-watcher", daemon=True)
            self._watcher.start()
{%- if cookiecutter.log_predictions %}
        self.prediction_log.start()
{%- endif %}

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
        self.batcher.stop()
{%- if cookiecutter.log_predictions %}
        self.prediction_log.stop()
{%- endif %}

    @property
    def model(self) -> LoadedModel | None:
        return self.holder.current

    def _load_with_retries(self, deadline: float) -> LoadedModel:
        delay = 1.0
        while True:
            self.source.bound_calls(deadline - time.monotonic())
            try:
                return self.source.load()
            except UnservableModel as exc:  # loading it again cannot help
                raise RuntimeError(f"cannot serve the model from {self.source.describe()}: {first_line(exc)}") from exc
            except Exception as exc:
                self.last_load_error = first_line(exc)
                if time.monotonic() + delay > deadline:
                    timeout = self.settings.model_load_timeout_seconds
                    raise RuntimeError(
                        f"could not load the model from {self.source.describe()} within "
                        f"MODEL_LOAD_TIMEOUT_SECONDS={timeout:g}: {self.last_load_error}"
                    ) from exc
                log.warning(
                    "loading %s failed (%s); retrying in %.0f s", self.source.describe(), self.last_load_error, delay
                )
                if self._stopping.wait(delay):
                    raise
                delay = min(delay * 2, 30.0)

    def _watch(self) -> None:
        assert self.source.poll_seconds
        while not self._stopping.wait(self.source.poll_seconds):
            self.check_for_new_model()

    def check_for_new_model(self) -> bool:
        """Swap in the version the source points at now, if it changed. Never raises."""
        current = self.holder.current
        try:
            version = self.source.latest()
            if (current is not None and version == current.version) or version in self._refused:
                return False
            fresh = self.source.load(version)
        except UnservableModel as exc:
            self._refused.add(version)
            log.error("not serving version %s: %s; still serving the current one", version, first_line(exc))
            return False
        except Exception:
            log.exception("checking %s for a new model failed; still serving the current one", self.source.describe())
            return False
        previous = self.holder.replace(fresh)
        self.swaps += 1
        log.info(
            "now serving %s version %s (was %s)",
            fresh.name,
            fresh.version,
            previous.version if previous else "none",
        )
        return True

    # --- one request ----------------------------------------------------------------------------

    def prepare(self, data: bytes) -> tuple[np.ndarray, LoadedModel]:
        """Decode untrusted bytes for the current model; raises RequestError (4xx/503)."""
        model = self.holder.current
        if model is None:
            raise RequestError(503, "not_ready", "the model is still loading", retry_after=5)
        height, width, channels = model.input_shape
        image = decode(data, self.settings.max_image_pixels, size=(width, height))
        return to_array(image, height, width, channels), model

    def answer(self, probabilities: np.ndarray, model: LoadedModel, started: float) -> dict[str, Any]:
        payload = {
            "predictions": model.top_k(probabilities, self.settings.top_k),
            "model": model.describe(),
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        }
{%- if cookiecutter.log_predictions %}
        self.prediction_log.offer(payload)
{%- endif %}
        return payload

    def classify(self, data: bytes) -> dict[str, Any]:
        """Synchronous classification without the batcher, for `func.main` and scripts."""
        started = time.perf_counter()
        array, model = self.prepare(data)
        probabilities = model.predict(array[np.newaxis])[0]
        return self.answer(probabilities, model, started)


def first_line(exc: BaseException, limit: int = 500) -> str:
    """The first line of an error, shortened: MLflow and TensorFlow errors can run to pages."""
    lines = str(exc).strip().splitlines()
    line = lines[0] if lines else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."

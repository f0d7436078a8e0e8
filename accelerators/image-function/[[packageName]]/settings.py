"""Run-time configuration, read once from the environment.

Every value has a default chosen when the project was generated; the workload's `env` overrides it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


def _text(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def _int(name: str, default: str, minimum: int = 0) -> int:
    raw = _text(name, default)
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value
[[if #allowUrlInput]]

def _flag(name: str, default: str) -> bool:
    return _text(name, default).lower() in ("1", "true", "yes", "on")


def _list(name: str, default: str) -> tuple[str, ...]:
    return tuple(item.strip().lower() for item in _text(name, default).split(",") if item.strip())
[[end #allowUrlInput]]

@dataclass(frozen=True)
class Settings:
    # `fmt: skip`: the formatter would wrap these defaults, the answers given to tapml, depending on their length.[[if #modelSource == 'mlflow']]
    model_name: str = "[[registeredModel]]"  # fmt: skip
    model_alias: str = "[[modelAlias]]"
    alias_poll_seconds: float = 30.0[[end #modelSource == 'mlflow']][[if #modelSource == 'keras_file']]
    model_path: str = "[[modelPath]]"  # fmt: skip[[end #modelSource == 'keras_file']]
[[if #modelSource == 'mobilenet_v2']]    mobilenet_weights: str = "imagenet"
[[end #modelSource == 'mobilenet_v2']]    labels_path: str = "[[labelsPath]]"  # fmt: skip
    model_load_timeout_seconds: float = 300.0
    top_k: int = 5
    max_batch_size: int = 16
    max_wait_ms: float = 20.0
    queue_size: int = 64
    request_timeout_seconds: float = 30.0
    max_upload_bytes: int = 8 * 1024 * 1024
    max_image_pixels: int = 40_000_000[[if #allowUrlInput]]
    url_input_enabled: bool = True
    url_allowed_hosts: tuple[str, ...] = ()
    url_trusted_addresses: tuple[str, ...] = ()
    url_timeout_seconds: float = 5.0
    url_max_redirects: int = 3[[end #allowUrlInput]]
[[if #logPredictions]]    prediction_log_percent: int = 0
    prediction_log_experiment: str = "[[projectName]]-predictions"
    prediction_log_flush_seconds: float = 10.0
[[end #logPredictions]]
    @classmethod
    def from_env(cls) -> Settings:
        upload_mb = _int("MAX_UPLOAD_MB", "[[maxUploadMb]]", minimum=1)
        return cls([[if #modelSource == 'mlflow']]
            model_name=_text("MODEL_NAME", cls.model_name),
            model_alias=_text("MODEL_ALIAS", cls.model_alias),
            alias_poll_seconds=float(_text("ALIAS_POLL_SECONDS", "[[aliasPollSeconds]]")),[[end #modelSource == 'mlflow']][[if #modelSource == 'keras_file']]
            model_path=_text("MODEL_PATH", cls.model_path),[[end #modelSource == 'keras_file']]
[[if #modelSource == 'mobilenet_v2']]            mobilenet_weights=_text("MOBILENET_WEIGHTS", cls.mobilenet_weights),
[[end #modelSource == 'mobilenet_v2']]            labels_path=_text("LABELS_PATH", cls.labels_path),
            model_load_timeout_seconds=float(_text("MODEL_LOAD_TIMEOUT_SECONDS", "300")),
            top_k=_int("TOP_K", "[[topK]]", minimum=1),
            max_batch_size=_int("MAX_BATCH_SIZE", "[[maxBatchSize]]", minimum=1),
            max_wait_ms=float(_int("MAX_WAIT_MS", "[[maxWaitMs]]")),
            queue_size=_int("QUEUE_SIZE", "[[queueSize]]", minimum=1),
            request_timeout_seconds=float(_text("REQUEST_TIMEOUT_SECONDS", "30")),
            max_upload_bytes=upload_mb * 1024 * 1024,
            max_image_pixels=_int("MAX_MEGAPIXELS", "[[maxMegapixels]]", minimum=1) * 1_000_000,[[if #allowUrlInput]]
            url_input_enabled=_flag("URL_INPUT_ENABLED", "true"),
            url_allowed_hosts=_list(
                "URL_ALLOWED_HOSTS",
                "[[urlAllowedHosts]]",
            ),
            url_trusted_addresses=_list("URL_TRUSTED_ADDRESSES", ""),
            url_timeout_seconds=float(_text("URL_TIMEOUT_SECONDS", "5")),
            url_max_redirects=_int("URL_MAX_REDIRECTS", "3"),[[end #allowUrlInput]]
[[if #logPredictions]]            prediction_log_percent=_int("PREDICTION_LOG_PERCENT", "[[logSamplePercent]]"),
            prediction_log_experiment=_text("PREDICTION_LOG_EXPERIMENT", cls.prediction_log_experiment),
            prediction_log_flush_seconds=float(_text("PREDICTION_LOG_FLUSH_SECONDS", "10")),
[[end #logPredictions]]        )

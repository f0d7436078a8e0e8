"""Run-time configuration, read once from the environment.

Each variable is declared once, in VARIABLES, with its default (chosen when the project was generated; the workload's
`env` overrides it), its meaning and its check; `python -m {{ cookiecutter.__package_name }} --help` lists them. Bad
values are reported together in one line naming each variable, before anything starts.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """A setting the server cannot start with; the message is one line naming the variable or the binding."""


def text(raw: str) -> str:
    return raw


def integer(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError("must be a whole number") from None
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
            raise ValueError(f"must be {bounds}")
        return value

    return parse


def seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("must be a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError("must be a number of seconds above 0")
    return value


def milliseconds(raw: str) -> float:
    return float(integer(0, 60_000)(raw))


def mebibytes(raw: str) -> int:
    return integer(1, 10_000)(raw) * 1024 * 1024


def megapixels(raw: str) -> int:
    return integer(1, 100_000)(raw) * 1_000_000


def flag(raw: str) -> bool:
    value = raw.lower()
    if value not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError("must be true or false")
    return value in ("1", "true", "yes", "on")


def log_level(raw: str) -> str:
    if raw.upper() not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
    return raw.upper()
{%- if cookiecutter.allow_url_input %}


def names(raw: str) -> tuple[str, ...]:
    return tuple(item.strip().lower() for item in raw.split(",") if item.strip())
{%- endif %}


@dataclass(frozen=True)
class Variable:
    name: str
    field: str
    default: str
    meaning: str
    parse: Callable[[str], Any] = text

    def read(self, environ: Mapping[str, str]) -> Any:
        """The parsed value; an empty or missing variable takes the default."""
        raw = environ.get(self.name, "").strip() or self.default
        try:
            return self.parse(raw)
        except ValueError as exc:
            raise ValueError(f"{self.name}={raw!r} {exc}") from None


# A table: one variable per line, however long its printed default.
# fmt: off
VARIABLES: tuple[Variable, ...] = (
{%- if cookiecutter.model_source == 'mlflow' %}
    Variable("MODEL_NAME", "model_name", "{{ cookiecutter.registered_model }}", "registered model to serve"),
    Variable("MODEL_ALIAS", "model_alias", "{{ cookiecutter.model_alias }}", "alias to serve and follow"),
    Variable("ALIAS_POLL_SECONDS", "alias_poll_seconds", "{{ cookiecutter.alias_poll_seconds }}", "how often the alias is checked", seconds),
{%- elif cookiecutter.model_source == 'keras_file' and cookiecutter.runtime == 'onnx' %}
    Variable("MODEL_PATH", "model_path", "{{ cookiecutter.model_path }}", "the Keras model file; its .onnx form beside it is served"),
{%- elif cookiecutter.model_source == 'keras_file' %}
    Variable("MODEL_PATH", "model_path", "{{ cookiecutter.model_path }}", "the Keras model file"),
{%- elif cookiecutter.runtime == 'onnx' %}
    Variable("MODEL_PATH", "model_path", "model/mobilenet_v2.onnx", "MobileNetV2 in ONNX form (python -m <package>.convert)"),
{%- else %}
    Variable(
        "MOBILENET_WEIGHTS", "mobilenet_weights", "imagenet", "'imagenet' (downloaded) or a local .weights.h5 file"
    ),
{%- endif %}
    Variable("LABELS_PATH", "labels_path", "{{ cookiecutter.labels_path }}", "class names (JSON), when the model has none"),
    Variable(
        "MODEL_LOAD_TIMEOUT_SECONDS",
        "model_load_timeout_seconds",
        "300",
        "start-up, model load and warm-up included, fails after this long",
        seconds,
    ),
    Variable("TOP_K", "top_k", "{{ cookiecutter.top_k }}", "labels per answer", integer(1, 1000)),
    Variable("MAX_BATCH_SIZE", "max_batch_size", "{{ cookiecutter.max_batch_size }}", "largest micro-batch", integer(1, 1024)),
    Variable("MAX_WAIT_MS", "max_wait_ms", "{{ cookiecutter.max_wait_ms }}", "longest wait to fill a micro-batch, under load only",
             milliseconds),
    Variable("QUEUE_SIZE", "queue_size", "{{ cookiecutter.queue_size }}", "requests allowed to wait for the model; beyond, 503",
             integer(1)),
    Variable("REQUEST_TIMEOUT_SECONDS", "request_timeout_seconds", "30", "longest wait for the model per request; beyond, 504",
             seconds),
    Variable("MAX_UPLOAD_MB", "max_upload_bytes", "{{ cookiecutter.max_upload_mb }}", "largest request body (MiB)", mebibytes),
    Variable("MAX_MEGAPIXELS", "max_image_pixels", "{{ cookiecutter.max_megapixels }}", "largest decoded image (megapixels)",
             megapixels),
{%- if cookiecutter.allow_url_input %}
    Variable("URL_INPUT_ENABLED", "url_input_enabled", "true", 'accept {"url": ...} in JSON requests', flag),
    Variable("URL_ALLOWED_HOSTS", "url_allowed_hosts", "{{ cookiecutter.url_allowed_hosts }}",
             "hosts images may be fetched from, comma-separated; '.example.com' allows sub-domains", names),
    Variable("URL_TRUSTED_ADDRESSES", "url_trusted_addresses", "",
             "addresses exempt from the public-address rule; keep empty", names),
    Variable("URL_TIMEOUT_SECONDS", "url_timeout_seconds", "5", "timeout of each URL fetch", seconds),
    Variable("URL_MAX_REDIRECTS", "url_max_redirects", "3", "redirects followed per fetch", integer(0, 20)),
{%- endif %}
{%- if cookiecutter.log_predictions %}
    Variable("PREDICTION_LOG_PERCENT", "prediction_log_percent", "{{ cookiecutter.log_sample_percent }}",
             "share of predictions logged to MLflow", integer(0, 100)),
    Variable("PREDICTION_LOG_EXPERIMENT", "prediction_log_experiment", "{{ cookiecutter.project_name }}-predictions",
             "MLflow experiment of the logging run"),
    Variable("PREDICTION_LOG_FLUSH_SECONDS", "prediction_log_flush_seconds", "10", "how often logged predictions are written",
             seconds),
{%- endif %}
    Variable("HOST", "host", "0.0.0.0", "address the server listens on"),
    Variable("PORT", "port", "8080", "port the server listens on (Knative sets it)", integer(1, 65535)),
    Variable("LOG_LEVEL", "log_level", "INFO", ", ".join(LOG_LEVELS), log_level),
    Variable("ACCESS_LOG", "access_log", "false", "log every request", flag),
    Variable(
        "LIMIT_CONCURRENCY",
        "limit_concurrency",
        "512",
        "open connections and tasks before uvicorn answers 503",
        integer(1),
    ),
)
# fmt: on


@dataclass(frozen=True)
class Settings:
    # `fmt: skip`: the formatter would wrap the defaults below, the answers given to tapml, depending on their length.
{%- if cookiecutter.model_source == 'mlflow' %}
    model_name: str = "{{ cookiecutter.registered_model }}"  # fmt: skip
    model_alias: str = "{{ cookiecutter.model_alias }}"  # fmt: skip
    alias_poll_seconds: float = 30.0
{%- elif cookiecutter.model_source == 'keras_file' %}
    model_path: str = "{{ cookiecutter.model_path }}"  # fmt: skip
{%- elif cookiecutter.runtime == 'onnx' %}
    model_path: str = "model/mobilenet_v2.onnx"
{%- else %}
    mobilenet_weights: str = "imagenet"
{%- endif %}
    labels_path: str = "{{ cookiecutter.labels_path }}"  # fmt: skip
    model_load_timeout_seconds: float = 300.0
    top_k: int = 5
    max_batch_size: int = 16
    max_wait_ms: float = 20.0
    queue_size: int = 64
    request_timeout_seconds: float = 30.0
    max_upload_bytes: int = 8 * 1024 * 1024
    max_image_pixels: int = 40_000_000
{%- if cookiecutter.allow_url_input %}
    url_input_enabled: bool = True
    url_allowed_hosts: tuple[str, ...] = ()
    url_trusted_addresses: tuple[str, ...] = ()
    url_timeout_seconds: float = 5.0
    url_max_redirects: int = 3
{%- endif %}
{%- if cookiecutter.log_predictions %}
    prediction_log_percent: int = 0
    prediction_log_experiment: str = "{{ cookiecutter.project_name }}-predictions"  # fmt: skip
    prediction_log_flush_seconds: float = 10.0
{%- endif %}
    host: str = "0.0.0.0"
    port: int = 8080
    log_level: str = "INFO"
    access_log: bool = False
    limit_concurrency: int = 512

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Every variable, or a ConfigError naming each bad one."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        problems: list[str] = []
        for variable in VARIABLES:
            try:
                values[variable.field] = variable.read(env)
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            raise ConfigError("; ".join(problems))
        return cls(**values)


def describe_variables() -> str:
    """The variables with their defaults and meanings, for --help."""
    width = max(len(variable.name) for variable in VARIABLES)
    lines = []
    for variable in VARIABLES:
        lines.append(f"  {variable.name:<{width}}  {variable.meaning} [{variable.default or 'empty'}]")
{%- if cookiecutter.model_source == 'mlflow' or cookiecutter.log_predictions %}
    lines += [
        "",
        "MLflow: MLFLOW_TRACKING_URI, else a service binding of type mlflow under SERVICE_BINDING_ROOT (uri, or host and",
        "port); MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, else the binding's username and password.",
    ]
{%- endif %}
    return "\n".join(lines)

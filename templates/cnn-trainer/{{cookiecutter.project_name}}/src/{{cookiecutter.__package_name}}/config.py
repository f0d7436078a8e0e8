"""Settings of a training run: the template's answers, overridden by environment variables, overridden by flags."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NoReturn, TypeVar

{% if cookiecutter.mlflow_claim %}from .bindings import find_binding
{% endif %}from .errors import UserError

PROJECT_NAME = "{{ cookiecutter.project_name }}"
{%- if cookiecutter.data_source == 'digits' %}
CHANNELS = 1  # scikit-learn's digits are greyscale
{%- else %}
CHANNELS = 3  # images are converted to RGB
{%- endif %}
DEFAULT_TRACKING_URI = "sqlite:///mlruns.db"  # a local store in the working directory; no server needed
DEFAULT_BACKUP_DIR = "training-backup"
TEST_FRACTION = 0.2  # held out from training; the champion and each candidate are compared on it
VALIDATION_FRACTION = 0.1  # of the remaining images, for early stopping

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """Everything a training run needs to know."""

{% if cookiecutter.data_source == 'folder' %}    data_dir: Path
{% elif cookiecutter.data_source == 'postgres' %}    db_table: str
{% endif %}    image_size: int
    epochs: int
    batch_size: int
    learning_rate: float
    conv_blocks: int
    filters: int
    dropout: float
    patience: int
    seed: int
    backup_dir: Path
    tracking_uri: str
    experiment: str
    registered_model_name: str

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.image_size, self.image_size, CHANNELS)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"{value} is not positive")
    return value


def fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise ValueError(f"{value} is not in [0, 1)")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(f"{value} is not positive")
    return value


class Parser(argparse.ArgumentParser):
    """An argument parser that reports bad input in one line (argparse prints usage as well)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _from_env(environ: Mapping[str, str], name: str, convert: Callable[[str], T], default: T) -> T:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return convert(raw)
    except ValueError:
        kind = convert.__name__.replace("_", " ")
        raise UserError(f"environment variable {name}={raw!r} is not valid (expected a {kind})") from None


def default_tracking_uri(environ: Mapping[str, str]) -> str:
    """MLFLOW_TRACKING_URI, else {% if cookiecutter.mlflow_claim %}the `uri` of a binding of type mlflow, else {% endif %}a local SQLite store."""
    if environ.get("MLFLOW_TRACKING_URI"):
        return environ["MLFLOW_TRACKING_URI"]
{%- if cookiecutter.mlflow_claim %}
    found = find_binding("mlflow")
    if found and found.get("uri"):
        return found["uri"]
{%- endif %}
    return DEFAULT_TRACKING_URI


def build_parser(description: str, environ: Mapping[str, str] | None = None) -> Parser:
    """The training flags; each defaults to its environment variable, then to the template's answer."""
    env = os.environ if environ is None else environ
    parser = Parser(description=description)

    def option(
        group: argparse._ArgumentGroup,
        flag: str,
        variable: str,
        convert: Callable[[str], Any],
        default: Any,
        text: str = "",
    ) -> None:
        group.add_argument(
            flag,
            type=convert,
            default=_from_env(env, variable, convert, default),
            help=f"{text} [env {variable}; %(default)s]".lstrip(),
        )

    data = parser.add_argument_group("data")
{%- if cookiecutter.data_source == 'folder' %}
    option(
        data,
        "--data-dir",
        "DATA_DIR",
        Path,
        "{{ cookiecutter.data_dir }}",  # argparse converts a text default with Path
        "folder with one sub-folder of images per class",
    )
{%- elif cookiecutter.data_source == 'postgres' %}
    option(
        data,
        "--db-table",
        "DB_TABLE",
        str,
        "{{ cookiecutter.db_table }}",
        "table with columns image (bytea) and label (text)",
    )
{%- endif %}
    option(data, "--image-size", "IMAGE_SIZE", positive_int, {{ cookiecutter.image_size }}, "images are resized to this many pixels square")
    option(data, "--seed", "SEED", int, 1234, "fixes the held-out split, shuffling and initial weights")

    model = parser.add_argument_group("model and training")
    option(model, "--epochs", "EPOCHS", positive_int, {{ cookiecutter.epochs }})
    option(model, "--batch-size", "BATCH_SIZE", positive_int, {{ cookiecutter.batch_size }}, "per replica")
    option(model, "--learning-rate", "LEARNING_RATE", positive_float, 0.001)
    option(model, "--conv-blocks", "CONV_BLOCKS", positive_int, {{ cookiecutter.conv_blocks }})
    option(model, "--filters", "FILTERS", positive_int, {{ cookiecutter.filters }}, "filters in the first block, doubled per block")
    option(model, "--dropout", "DROPOUT", fraction, {{ cookiecutter.dropout_percent }} / 100)
    option(model, "--patience", "PATIENCE", positive_int, 3, "epochs without a better validation loss before stopping")
    option(
        model,
        "--backup-dir",
        "BACKUP_DIR",
        Path,
        Path(DEFAULT_BACKUP_DIR),
        "training state kept so that an interrupted run resumes",
    )

    tracking = parser.add_argument_group("MLflow")
    tracking.add_argument(
        "--tracking-uri", default=default_tracking_uri(env), help="[env MLFLOW_TRACKING_URI; %(default)s]"
    )
    option(tracking, "--experiment", "MLFLOW_EXPERIMENT_NAME", str, PROJECT_NAME)
    option(tracking, "--registered-model-name", "REGISTERED_MODEL_NAME", str, PROJECT_NAME)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The settings among the parsed flags (commands may add flags of their own, such as --once)."""
    return Settings(**{field.name: getattr(args, field.name) for field in fields(Settings)})


def load_settings(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, description: str = "Train the CNN."
) -> Settings:
    """Settings from flags over environment variables over the template's answers."""
    return settings_from_args(build_parser(description, environ).parse_args(argv))

"""Settings of a training run: the template's answers, overridden by environment variables, overridden by flags."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NoReturn

from . import mlflow_setup
from .errors import UserError
from .holdout import HoldoutRule

PROJECT_NAME = "[[projectName]]"
DESCRIPTION = "[[description]]"[[if #dataSource == 'digits']]
CHANNELS = 1  # scikit-learn's digits are greyscale[[end #dataSource == 'digits']]
[[if #dataSource != 'digits']]CHANNELS = 3  # images are converted to RGB
[[end #dataSource != 'digits']]DEFAULT_TRACKING_URI = "sqlite:///mlruns.db"  # a local store in the working directory; no server needed
DEFAULT_BACKUP_DIR = "training-backup"
HELD_OUT_FRACTION = 0.2  # held out from training; the champion and each candidate are compared on them
VALIDATION_FRACTION = 0.1  # of the other images, for early stopping
PROMOTE_ANYWAY = "--promote-anyway / PROMOTE_ANYWAY=true"  # how the promotion messages name the override


@dataclass(frozen=True)
class Settings:
    """Everything a training run needs to know."""

[[if #dataSource == 'folder']]    data_dir: Path
[[end #dataSource == 'folder']][[if #dataSource == 'postgres']]    db_table: str
[[end #dataSource == 'postgres']]    image_size: int
    epochs: int
    batch_size: int
    learning_rate: float
    conv_blocks: int
    filters: int
    dropout: float
    patience: int
    seed: int
    holdout_salt: str
    backup_dir: Path
    tracking_uri: str
    experiment: str
    registered_model_name: str
    promote_anyway: bool = False

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.image_size, self.image_size, CHANNELS)

    @property
    def holdout(self) -> HoldoutRule:
        return HoldoutRule(self.holdout_salt, HELD_OUT_FRACTION, VALIDATION_FRACTION)


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


def switch(text: str) -> bool:
    word = text.strip().lower()
    if word in {"1", "true", "yes", "on"}:
        return True
    if word in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{text!r} is neither true nor false")


EXPECTED: dict[Callable[[str], Any], str] = {
    positive_int: "a positive integer",
    fraction: "a number in [0, 1)",
    positive_float: "a positive number",
    int: "an integer",
    switch: "true or false",
    str: "text",
    Path: "a path",
}


@dataclass(frozen=True)
class EnvDefault:
    """Where a flag's value comes from when the flag is not given: `variable`, else `default`."""

    variable: str
    convert: Callable[[str], Any]
    default: Any
    expected: str


class Parser(argparse.ArgumentParser):
    """Flags over environment variables over defaults; bad input is reported in one line (argparse adds usage).

    Environment variables are read by `parse`, after the flags: a bad value never breaks --help, and it is reported
    as one line naming the variable (`error: EPOCHS='x' is not a positive integer`), exit code 2.
    """

    def __init__(self, *args: Any, environ: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ = environ
        self.env_defaults: dict[str, EnvDefault] = {}
        self.late_defaults: dict[str, Callable[[Mapping[str, str]], Any]] = {}

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")

    def add_env_option(
        self,
        group: argparse._ArgumentGroup,
        flag: str,
        variable: str,
        convert: Callable[[str], Any],
        default: Any,
        text: str = "",
        *,
        expected: str | None = None,
    ) -> None:
        """A flag that defaults to the environment variable `variable`, then to `default`."""
        if isinstance(default, str) and convert is not str:
            default = convert(default)
        action = group.add_argument(flag, type=convert, help=f"{text} [env {variable}; default {default}]".lstrip())
        self.env_defaults[action.dest] = EnvDefault(variable, convert, default, expected or EXPECTED[convert])

    def add_env_switch(self, group: argparse._ArgumentGroup, flag: str, variable: str, text: str) -> None:
        """An on/off flag that defaults to the environment variable `variable` (true or false), then to off."""
        action = group.add_argument(flag, action="store_const", const=True, help=f"{text} [env {variable}=true]")
        self.env_defaults[action.dest] = EnvDefault(variable, switch, False, EXPECTED[switch])

    def parse(self, argv: Sequence[str] | None = None) -> argparse.Namespace:
        """Parse the flags, then fill in those not given from the environment and the defaults."""
        args = self.parse_args(argv)
        environ = os.environ if self.environ is None else self.environ
        for dest, env_default in self.env_defaults.items():
            if getattr(args, dest) is None:
                setattr(args, dest, self._from_env(environ, env_default))
        for dest, find in self.late_defaults.items():
            if getattr(args, dest) is None:
                try:
                    setattr(args, dest, find(environ))
                except UserError as exc:
                    self.exit(2, f"error: {exc}\n")
        return args

    def _from_env(self, environ: Mapping[str, str], source: EnvDefault) -> Any:
        raw = environ.get(source.variable, "").strip()
        if not raw:
            return source.default
        try:
            return source.convert(raw)
        except ValueError:
            self.exit(2, f"error: {source.variable}={raw!r} is not {source.expected}\n")


def default_tracking_uri(environ: Mapping[str, str]) -> str:
    """MLFLOW_TRACKING_URI, else a bound MLflow service (a binding of type mlflow), else a local SQLite store."""
    try:
        return mlflow_setup.resolve(DEFAULT_TRACKING_URI, environ).uri or DEFAULT_TRACKING_URI
    except mlflow_setup.MlflowSetupError as exc:
        raise UserError(str(exc)) from None


def build_parser(description: str, environ: Mapping[str, str] | None = None, *, promotion: bool = True) -> Parser:
    """The training flags; each defaults to its environment variable, then to the template's answer.

    `promotion` adds the flag that overrides the champion rule (commands that register models need it).
    """
    parser = Parser(description=description, environ=environ)
    option = parser.add_env_option

    data = parser.add_argument_group("data")[[if #dataSource == 'folder']]
    option(
        data,
        "--data-dir",
        "DATA_DIR",
        Path,
        "[[dataDir]]",  # converted with Path, like a value from the environment
        "folder with one sub-folder of images per class",
    )[[end #dataSource == 'folder']]
[[if #dataSource == 'postgres']]    option(
        data,
        "--db-table",
        "DB_TABLE",
        str,
        "[[dbTable]]",
        "table with columns image (bytea) and label (text)",
    )
[[end #dataSource == 'postgres']]    option(data, "--image-size", "IMAGE_SIZE", positive_int, [[imageSize]], "images are resized to this many pixels square")
    option(
        data,
        "--holdout-salt",
        "HOLDOUT_SALT",
        str,
        PROJECT_NAME,
        "images are held out by a hash of their content and this salt; another salt draws another held-out set, "
        "on which the champion cannot be compared",
    )
    option(data, "--seed", "SEED", int, 1234, "fixes shuffling and initial weights")

    model = parser.add_argument_group("model and training")
    option(model, "--epochs", "EPOCHS", positive_int, [[epochs]])
    option(model, "--batch-size", "BATCH_SIZE", positive_int, [[batchSize]], "per replica")
    option(model, "--learning-rate", "LEARNING_RATE", positive_float, 0.001)
    option(model, "--conv-blocks", "CONV_BLOCKS", positive_int, [[convBlocks]])
    option(model, "--filters", "FILTERS", positive_int, [[filters]], "filters in the first block, doubled per block")
    option(model, "--dropout", "DROPOUT", fraction, [[dropoutPercent]] / 100)
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
        "--tracking-uri", help=f"[env MLFLOW_TRACKING_URI, else a bound mlflow service; default {DEFAULT_TRACKING_URI}]"
    )
    parser.late_defaults["tracking_uri"] = default_tracking_uri
    option(tracking, "--experiment", "MLFLOW_EXPERIMENT_NAME", str, PROJECT_NAME)
    option(tracking, "--registered-model-name", "REGISTERED_MODEL_NAME", str, PROJECT_NAME)
    if promotion:
        parser.add_env_switch(
            tracking,
            "--promote-anyway",
            "PROMOTE_ANYWAY",
            "move the champion alias to the new version even without a like-for-like comparison "
            "that it wins (another image size or class list, a worse score)",
        )
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The settings among the parsed flags (commands may add flags of their own, such as --once)."""
    return Settings(**{item.name: getattr(args, item.name) for item in fields(Settings) if hasattr(args, item.name)})


def load_settings(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, description: str = "Train the CNN."
) -> Settings:
    """Settings from flags over environment variables over the template's answers."""
    return settings_from_args(build_parser(description, environ).parse(argv))

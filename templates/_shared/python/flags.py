"""Command-line flags that default to environment variables, then to the project's defaults; bad values in one line.

`Parser.add_env_option(group, "--epochs", "EPOCHS", positive_int, 10)` takes `--epochs 3`, else `EPOCHS=3`, else 10;
`EPOCHS=x` stops the command with `error: EPOCHS='x' is not a positive integer` and exit code 2.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from . import mlflow_setup
from .errors import USER_ERROR_EXIT_CODE, UserError

DEFAULT_TRACKING_URI = "sqlite:///mlruns.db"  # a local store in the working directory; no server needed


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
        self.exit(USER_ERROR_EXIT_CODE, f"error: {message} (see {self.prog} --help)\n")

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

    def add_tracking_uri(self, group: argparse._ArgumentGroup) -> None:
        """--tracking-uri: MLFLOW_TRACKING_URI, else a bound MLflow service, else the local store."""
        group.add_argument(
            "--tracking-uri",
            help=f"[env MLFLOW_TRACKING_URI, else a bound mlflow service; default {DEFAULT_TRACKING_URI}]",
        )
        self.late_defaults["tracking_uri"] = default_tracking_uri

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
                    self.exit(USER_ERROR_EXIT_CODE, f"error: {exc}\n")
        return args

    def _from_env(self, environ: Mapping[str, str], source: EnvDefault) -> Any:
        raw = environ.get(source.variable, "").strip()
        if not raw:
            return source.default
        try:
            return source.convert(raw)
        except ValueError:
            self.exit(USER_ERROR_EXIT_CODE, f"error: {source.variable}={raw!r} is not {source.expected}\n")


def default_tracking_uri(environ: Mapping[str, str]) -> str:
    """MLFLOW_TRACKING_URI, else a bound MLflow service (a binding of type mlflow), else a local SQLite store."""
    try:
        return mlflow_setup.resolve(DEFAULT_TRACKING_URI, environ).uri or DEFAULT_TRACKING_URI
    except mlflow_setup.MlflowSetupError as exc:
        raise UserError(str(exc)) from None

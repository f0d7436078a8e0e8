"""The pipeline's steps, one module each: `python -m [[packageName]].steps.<step> --help`.

A step takes its parameters and the paths of its artifacts as flags, writes each output artifact whole, and exits
with 0. Bad input or bad data is one `error:` line and exit code 2, which no retry can fix; a service that does not
answer (MLflow, the database) is one line and exit code 75, which the workflow's retry strategy retries.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from ..config import PACKAGE, PROJECT_NAME
from ..errors import run_cli
from ..flags import Parser

TEMPORARY_FAILURE = 75  # EX_TEMPFAIL in sysexits.h: try again later


def run_step(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None) -> int:
    return run_cli(main, argv, unavailable_exit_code=TEMPORARY_FAILURE)


def say(message: str) -> None:
    print(message, flush=True)


def step_parser(step: str, description: str) -> Parser:
    return Parser(prog=f"python -m {PACKAGE}.steps.{step}", description=description)


def add_artifact(group: argparse._ArgumentGroup, name: str, text: str) -> None:
    """A required path flag named after the artifact, as the workflow passes it: --dataset PATH."""
    group.add_argument(f"--{name}", type=Path, required=True, metavar="PATH", help=text)


def add_tracking(parser: Parser, group: argparse._ArgumentGroup, *, experiment: bool = False) -> None:
    """--tracking-uri (MLFLOW_TRACKING_URI, a bound mlflow service, the local store) and --experiment."""
    parser.add_tracking_uri(group)
    if experiment:
        parser.add_env_option(group, "--experiment", "MLFLOW_EXPERIMENT_NAME", str, PROJECT_NAME)

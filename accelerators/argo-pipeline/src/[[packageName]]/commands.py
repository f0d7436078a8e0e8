"""The pipeline's command line: `python -m [[packageName]].pipeline <command> --help` (see pipeline.py)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from . import pipeline
from .artifacts import replacing
from .config import PACKAGE
from .errors import run_cli
from .flags import Parser, default_tracking_uri


def parameter(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise ValueError(f"{text!r} is not NAME=VALUE")
    return name.strip(), value


def say(message: str) -> None:
    print(message, flush=True)


def run(argv: Sequence[str] | None = None) -> int:
    return run_cli(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    args = parser().parse_args(argv)
    if args.command == "render":
        return render(args.dir, check=args.check)
    if args.command == "run-local":
        from . import local_run

        tracking_uri = args.tracking_uri or default_tracking_uri(os.environ)
        return local_run.run(local_run.new_run(dict(args.parameter), tracking_uri, args.artifacts))
    if args.command == "submit":
        from .submission import submit

        submitted = submit(dict(args.parameter), os.environ)
        say(f"submitted workflow {submitted.name} in namespace {submitted.namespace}: {submitted.link}")
        return 0
    return standby(args.dir)


def parser() -> Parser:
    main = Parser(prog=f"python -m {PACKAGE}.pipeline", description="Render, run or submit the retraining pipeline.")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    render_command = commands.add_parser("render", help="write argo/*.yaml from pipeline.py")
    render_command.add_argument("--check", action="store_true", help="write nothing; exit 1 when the files differ")
    local = commands.add_parser("run-local", help="run the steps here, in order, as subprocesses")
    submit_command = commands.add_parser("submit", help="apply the WorkflowTemplate and submit a Workflow")
    for command in (local, submit_command):
        command.add_argument(
            "-p",
            "--parameter",
            type=parameter,
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="a workflow parameter, e.g. -p epochs=3 (repeat for more)",
        )
    local.add_argument("--artifacts", type=Path, help="artifact folder (default: pipeline-runs/<run name>)")
    local.add_argument(
        "--tracking-uri", help="default: MLFLOW_TRACKING_URI, a bound mlflow service, sqlite:///mlruns.db"
    )
    standby_command = commands.add_parser("standby", help="what the TAP workload runs: wait for SIGTERM")
    for command in (render_command, standby_command):
        command.add_argument("--dir", type=Path, default=pipeline.RENDERED_DIR, help="where the rendered YAML is")
    return main


def stale(folder: Path) -> list[str]:
    """The files of `folder` that differ from what pipeline.py renders."""

    def current(path: Path) -> str | None:
        return path.read_text(encoding="utf-8") if path.is_file() else None

    return [name for name, text in pipeline.rendered().items() if current(folder / name) != text]


def render(folder: Path, *, check: bool) -> int:
    if check:
        differ = stale(folder)
        if differ:
            print(
                f"error: {', '.join(differ)} in {folder} differ from pipeline.py; run `python -m {PACKAGE}.pipeline render`",
                file=sys.stderr,
            )
            return 1
        say(f"{folder}/*.yaml match pipeline.py")
        return 0
    for name, text in pipeline.rendered().items():
        with replacing(folder / name) as scratch:
            scratch.write_text(text, encoding="utf-8")
        say(f"wrote {folder / name}")
    return 0


def standby(folder: Path) -> int:
    """Keep the workload's process alive: the image is for the workflow's steps, which Argo runs in pods of their own."""
    say(
        f"{pipeline.NAME}: this image runs the steps of the WorkflowTemplate {pipeline.NAME}; Argo starts them in "
        "pods of their own, and this process only keeps the workload running"
    )
    differ = stale(folder)
    if differ:
        print(f"warning: {', '.join(differ)} in {folder} differ from pipeline.py in this image", file=sys.stderr)
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    say("standing by; SIGTERM ends this process")
    while not stop.wait(3600):
        pass
    say("stopped by SIGTERM")
    return 0

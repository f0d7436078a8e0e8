"""`python -m {{ cookiecutter.__package_name }}`: the production server (the Procfile's web process).

One process, one model in memory: concurrency comes from asyncio plus the micro-batcher, not from worker processes.
The model is loaded and warmed before the port opens, within MODEL_LOAD_TIMEOUT_SECONDS. Exit codes: 2 for a bad
setting, 1 when the model cannot be made ready, 128 + the signal number when stopped during start-up.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from .settings import ConfigError, Settings, describe_variables

if TYPE_CHECKING:
    from .service import Service  # imported at run time only after --help: it pulls in NumPy, Pillow, MLflow


class Parser(argparse.ArgumentParser):
    """Reports a bad argument in one line (argparse prints the usage as well)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see --help)\n")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = Parser(
        prog="python -m {{ cookiecutter.__package_name }}",
        description="Serve the image classifier over HTTP. Every setting is an environment variable "
        "(default in brackets):",
        epilog=describe_variables(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    started = time.monotonic()
    parse_args(argv)  # --help works whatever the environment holds
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    service = start(settings, deadline=started + settings.model_load_timeout_seconds)
    serve(service, settings)
    return 0


def start(settings: Settings, deadline: float) -> Service:
    """The service with its model loaded and warmed, or the end of the process with one line on stderr."""
    from .startup import Interrupted, StartupFailed, load_within, signals_interrupt

    try:
        with signals_interrupt():
            from .service import Service

            service = Service(settings)
            load_within(service, deadline, settings.model_load_timeout_seconds)
    except ConfigError as exc:
        end(2, f"error: {exc}")
    except StartupFailed as exc:
        end(1, f"error: {exc}")
    except Interrupted as exc:
        end(128 + exc.signum, f"stopped by {exc} during start-up")
    return service


def end(code: int, message: str) -> NoReturn:
    """Exit now. A model load may still be waiting on the network in its thread; exiting normally would wait for it."""
    print(message, file=sys.stderr, flush=True)
    logging.shutdown()
    sys.stdout.flush()
    os._exit(code)


def serve(service: Service, settings: Settings) -> None:
    import uvicorn

    from .app import create_app

    uvicorn.run(
        create_app(service),
        host=settings.host,
        port=settings.port,
        workers=1,
        loop="uvloop",  # with httptools: uvicorn's production stack, pinned in requirements.txt
        http="httptools",
        log_config=None,
        access_log=settings.access_log,
        timeout_keep_alive=30,
        # an outer bound on open connections and tasks (uvicorn answers 503 beyond it), so many slow
        # uploads cannot exhaust memory; the model queue has its own, smaller bound (QUEUE_SIZE)
        limit_concurrency=settings.limit_concurrency,
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    sys.exit(main())

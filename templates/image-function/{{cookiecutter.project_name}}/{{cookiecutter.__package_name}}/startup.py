"""Start-up within limits: the model is ready within MODEL_LOAD_TIMEOUT_SECONDS or the start fails, and SIGTERM or
SIGINT end it at once, even while a load waits on a server that does not answer.

The load runs in a daemon thread and the main thread only waits for it, so a signal or the deadline is acted on
within a fraction of a second. A load that is still running then is abandoned, not joined: the caller ends the process.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from .service import Service, first_line

POLL_SECONDS = 0.2


class StartupFailed(Exception):
    """The model could not be made ready; the message is one line."""


class Interrupted(Exception):
    """SIGTERM or SIGINT arrived during start-up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGINT raise Interrupted in the main thread, wherever it is."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    previous = {signum: signal.signal(signum, interrupt) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def load_within(service: Service, deadline: float, timeout_seconds: float) -> None:
    """Load and warm the service's model before `deadline` (time.monotonic()), or raise StartupFailed."""
    finished = threading.Event()
    failures: list[BaseException] = []

    def load() -> None:
        try:
            service.load_first_model(deadline)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            finished.set()

    threading.Thread(target=load, name="model-load", daemon=True).start()
    while not finished.wait(POLL_SECONDS):
        if time.monotonic() >= deadline:
            last = service.last_load_error
            detail = f"last error: {last}" if last else "its first load attempt has not finished"
            raise StartupFailed(
                f"the model from {service.source.describe()} was not ready within "
                f"MODEL_LOAD_TIMEOUT_SECONDS={timeout_seconds:g} ({detail})"
            )
    if failures:
        raise StartupFailed(first_line(failures[0]))

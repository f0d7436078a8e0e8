"""Real servers for the tests: free ports, waiting until a server answers, stopping it by process group, and the
session's MLflow tracking server.

conftest.py loads this module as a pytest plugin (`pytest_plugins = ("servers",)`). When collection finds a test
that asks for `mlflow_server`, a real tracking server starts on 127.0.0.1 at once and those tests run last, so it
boots while the others run. It uses a SQLite backend and serves the artifacts itself (clients upload and download
over HTTP, as they do against a shared server), runs in its own process group and is stopped by group at the end.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

MLFLOW_START_TIMEOUT_SECONDS = 90


class ServerDidNotStart(RuntimeError):
    """The server exited, or did not answer in time; the message ends with the tail of its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_answering(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float, *, any_status: bool = False
) -> None:
    """Wait until `url` answers 200 (or, with any_status, any HTTP status); fail at once if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerDidNotStart(f"the server exited with {process.returncode}:\n{log_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError:
            if any_status:
                return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise ServerDidNotStart(f"{url} did not answer within {timeout:.0f} s:\n{log_tail(log)}")


def log_tail(log: Path, characters: int = 4000) -> str:
    return log.read_text(errors="replace")[-characters:] if log.exists() else "(no log)"


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Stop a server and everything it started (workers, kernels): SIGTERM to the group, then SIGKILL."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue


# --- the session's MLflow tracking server ---------------------------------------------------------------------


@dataclass
class MlflowServer:
    process: subprocess.Popen[bytes]
    root: Path
    uri: str

    @property
    def log(self) -> Path:
        return self.root / "server.log"


SERVER = pytest.StashKey[MlflowServer]()


def start_mlflow_server() -> MlflowServer:
    root = Path(tempfile.mkdtemp(prefix="mlflow-server-"))
    port = free_port()
    command = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
        "--artifacts-destination", str(root / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1",
    ]  # fmt: skip
    # Without the job runner: its huey consumers, each importing MLflow, serve nothing the tests use.
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with open(root / "server.log", "wb") as log:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return MlflowServer(process, root, f"http://127.0.0.1:{port}")


def wants_mlflow(item: pytest.Item) -> bool:
    return "mlflow_server" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the tests that need the MLflow server last: it boots while the others run."""
    items.sort(key=wants_mlflow)


def pytest_collection_finish(session: pytest.Session) -> None:
    if any(wants_mlflow(item) for item in session.items):
        session.config.stash[SERVER] = start_mlflow_server()


def pytest_sessionfinish(session: pytest.Session) -> None:
    server = session.config.stash.get(SERVER, None)
    if server is not None:
        stop_process_group(server.process, timeout=5)  # a throwaway server: no need to wait for a clean exit
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session")
def mlflow_server(pytestconfig: pytest.Config) -> str:
    """The URI of the session's tracking server, once it answers /health (started here if no test asked up front)."""
    server = pytestconfig.stash.get(SERVER, None)
    if server is None:
        server = pytestconfig.stash[SERVER] = start_mlflow_server()
    wait_until_answering(f"{server.uri}/health", server.process, server.log, MLFLOW_START_TIMEOUT_SECONDS)
    return server.uri

"""Shared fixtures: a real MLflow tracking server, real kernels for the notebooks, binding folders written here.

Services are real, never mocked. A test that needs one reads its address from the environment and is skipped when it
is unset, except when CI=true: there a missing service fails the test instead of hiding it.
"""

from __future__ import annotations
{% if cookiecutter.database != 'none' %}
import io
{%- endif %}
import json
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
{%- if cookiecutter.database != 'none' %}
import uuid
{%- endif %}
from collections.abc import {% if cookiecutter.database != 'none' %}Iterator, {% endif %}Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
{%- if cookiecutter.database != 'none' %}
import psycopg
{%- endif %}
import pytest
from nbclient import NotebookClient
{%- if cookiecutter.database != 'none' %}
from PIL import Image
from psycopg import sql

from {{ cookiecutter.__package_name }}.cluster_secrets import database_entries
{%- endif %}

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.__package_name }}"
NOTEBOOKS = PROJECT / "notebooks"
SERVER_START_TIMEOUT_SECONDS = 90
CELL_TIMEOUT_SECONDS = 600


def require_env(name: str) -> str:
    """The value of `name`; skip the test when it is unset, but fail it when CI=true."""
    value = os.environ.get(name, "").strip()
    if not value:
        reason = f"{name} is not set; it points this test at the real service it needs"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true, so this is a failure, not a skip)")
        pytest.skip(reason)
    return value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_binding(root: Path, name: str, **entries: str) -> Path:
    """A servicebinding.io binding folder: one file per entry, as Kubernetes projects a Secret."""
    folder = root / name
    folder.mkdir(parents=True)
    for key, value in entries.items():
        (folder / key).write_text(value, encoding="utf-8")
    return folder


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a server and everything it started (MLflow's workers, Jupyter's kernels)."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Wait until `url` answers at all (any HTTP status), failing at once if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.25)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


# --- a real MLflow tracking server, booting while the other tests run ------------------------------------------


@dataclass
class MlflowServer:
    process: subprocess.Popen[bytes]
    root: Path
    uri: str


SERVER = pytest.StashKey[MlflowServer]()


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # tests make no calls outside this machine
    os.environ.pop("SERVICE_BINDING_ROOT", None)  # bindings come from the tests that write them, not from the shell
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ.pop("DATABASE_URL", None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the tests that need the MLflow server last: it boots while the others run."""
    items.sort(key=lambda item: "mlflow_server" in getattr(item, "fixturenames", ()))


def pytest_collection_finish(session: pytest.Session) -> None:
    if any("mlflow_server" in getattr(item, "fixturenames", ()) for item in session.items):
        session.config.stash[SERVER] = start_mlflow_server()


def pytest_sessionfinish(session: pytest.Session) -> None:
    server = session.config.stash.get(SERVER, None)
    if server is not None:
        stop_process_group(server.process)
        shutil.rmtree(server.root, ignore_errors=True)


def start_mlflow_server() -> MlflowServer:
    """MLflow on 127.0.0.1 (SQLite backend, artifacts proxied by the server), in its own process group."""
    root = Path(tempfile.mkdtemp(prefix="mlflow-server-"))
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        f"sqlite:///{root / 'mlflow.db'}",
        "--artifacts-destination",
        str(root / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    # Without the job runner: its seven huey consumers, each importing MLflow, serve nothing the tests use.
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with open(root / "server.log", "wb") as log:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return MlflowServer(process, root, f"http://127.0.0.1:{port}")


@pytest.fixture(scope="session")
def mlflow_server(pytestconfig: pytest.Config) -> str:
    """The URI of the session's tracking server, once it answers /health."""
    server = pytestconfig.stash[SERVER]
    wait_until_answering(
        f"{server.uri}/health", server.process, server.root / "server.log", SERVER_START_TIMEOUT_SECONDS
    )
    return server.uri


# --- notebooks on a real kernel -------------------------------------------------------------------------------


@dataclass
class Executed:
    """A notebook after running: its cells with their outputs."""

    notebook: Any

    def cell(self, cell_id: str) -> Any:
        (found,) = [cell for cell in self.notebook.cells if cell.get("id") == cell_id]
        return found

    def text(self, cell_id: str | None = None) -> str:
        """Everything the cells (or one cell) printed, and the plain text of their results."""
        cells = [self.cell(cell_id)] if cell_id else self.notebook.cells
        parts = []
        for cell in cells:
            for output in cell.get("outputs", []):
                if output.output_type == "stream":
                    parts.append(output.text)
                elif output.output_type in ("execute_result", "display_data"):
                    parts.append(output.data.get("text/plain", ""))
        return "".join(parts)

    def images(self) -> int:
        """How many figures the notebook showed."""
        return sum(
            "image/png" in output.get("data", {}) for cell in self.notebook.cells for output in cell.get("outputs", [])
        )


def kernel_env(**extra: str) -> dict[str, str]:
    """The kernel's environment: this project's helpers importable, no MLflow, database or binding from the shell."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MLFLOW_TRACKING", "MPLBACKEND"))}
    for name in ("SERVICE_BINDING_ROOT", "DATABASE_URL"):
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT / "src"), os.environ.get("PYTHONPATH")]))
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return {**env, **extra}


def inject_parameters(notebook: Any, parameters: Mapping[str, Any]) -> None:
    """Papermill's convention: a cell after the one tagged `parameters` overrides its values."""
    (index,) = [i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])]
    source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    notebook.cells.insert(index + 1, cell)


@pytest.fixture(scope="session")
def notebook_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of notebooks/ to run in (what they write, such as examples/, stays out of the project)."""
    folder = tmp_path_factory.mktemp("notebooks")
    for path in NOTEBOOKS.glob("*.ipynb"):
        shutil.copyfile(path, folder / path.name)
    return folder


def run_notebook(
    folder: Path, name: str, env: Mapping[str, str], parameters: Mapping[str, Any] | None = None
) -> Executed:
    """Run `name` top to bottom on a fresh python3 kernel in `folder`; any cell error fails the test."""
    notebook = nbformat.read(folder / name, as_version=4)
    if parameters:
        inject_parameters(notebook, parameters)
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=CELL_TIMEOUT_SECONDS, resources={"metadata": {"path": str(folder)}}
    )
    client.execute(env=dict(env))
    return Executed(notebook)


# --- models built here, never downloaded ---------------------------------------------------------------------


@dataclass(frozen=True)
class LocalMobileNet:
    """MobileNetV2 with weights saved here (untrained: the tests check plumbing, not ImageNet accuracy)."""

    weights: Path
    labels: Path


@pytest.fixture(scope="session")
def local_mobilenet(tmp_path_factory: pytest.TempPathFactory) -> LocalMobileNet:
    from keras.applications import mobilenet_v2

    folder = tmp_path_factory.mktemp("mobilenet")
    mobilenet_v2.MobileNetV2(weights=None).save_weights(folder / "mobilenet_v2.weights.h5")
    index = {str(i): [f"n{i:08d}", f"class-{i}"] for i in range(1000)}
    (folder / "imagenet_class_index.json").write_text(json.dumps(index), encoding="utf-8")
    return LocalMobileNet(folder / "mobilenet_v2.weights.h5", folder / "imagenet_class_index.json")
{%- if cookiecutter.database != 'none' %}


# --- the database of TEST_DATABASE_URL ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_url() -> str:
    return require_env("TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def digits_table(database_url: str) -> Iterator[str]:
    """scikit-learn's 1,797 digits as PNGs in a table of their own (image bytea, label text), dropped at the end."""
    from sklearn.datasets import load_digits

    table = f"test_digits_{uuid.uuid4().hex[:12]}"
    name = sql.Identifier(table)
    digits = load_digits()
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE TABLE {} (image bytea NOT NULL, label text NOT NULL)").format(name))
        with (
            connection.cursor() as cursor,
            cursor.copy(sql.SQL("COPY {} (label, image) FROM STDIN").format(name)) as copy,
        ):
            for pixels, label in zip(digits.images, digits.target, strict=True):
                buffer = io.BytesIO()
                Image.fromarray((pixels * (255 / 16)).round().astype("uint8"), mode="L").save(buffer, format="PNG")
                copy.write_row((str(label), buffer.getvalue()))
    yield table
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))


@pytest.fixture
def bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Path:
    """The test database bound as TAP binds the database claim: a folder of type postgresql."""
    entries = database_entries({"DATABASE_URL": database_url})
    write_binding(tmp_path, "database", type="postgresql", **entries)
    monkeypatch.setenv("SERVICE_BINDING_ROOT", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return tmp_path
{%- endif %}

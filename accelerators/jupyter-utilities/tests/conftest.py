"""Shared fixtures: a real MLflow tracking server, real kernels for the notebooks, binding folders written here.

Services are real, never mocked. A test that needs one reads its address from the environment and is skipped when it
is unset, except when CI=true: there a missing service fails the test instead of hiding it.
"""

from __future__ import annotations

[[if #database != 'none']]import io
[[end #database != 'none']]import json
import os
import shutil
[[if #database != 'none']]import uuid
[[end #database != 'none']]from collections.abc import [[if #database != 'none']]Iterator, [[end #database != 'none']]Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
[[if #database != 'none']]import psycopg
[[end #database != 'none']]import pytest
from nbclient import NotebookClient
[[if #database != 'none']]from PIL import Image
from psycopg import sql

from [[packageName]].cluster_secrets import database_entries
[[end #database != 'none']]
PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = "[[packageName]]"
NOTEBOOKS = PROJECT / "notebooks"
CELL_TIMEOUT_SECONDS = 600

# The session's MLflow tracking server, free ports and process groups (servers.py, shared with other templates).
pytest_plugins = ("servers",)


def require_env(name: str) -> str:
    """The value of `name`; skip the test when it is unset, but fail it when CI=true."""
    value = os.environ.get(name, "").strip()
    if not value:
        reason = f"{name} is not set; it points this test at the real service it needs"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true, so this is a failure, not a skip)")
        pytest.skip(reason)
    return value


def write_binding(root: Path, name: str, **entries: str) -> Path:
    """A servicebinding.io binding folder: one file per entry, as Kubernetes projects a Secret."""
    folder = root / name
    folder.mkdir(parents=True)
    for key, value in entries.items():
        (folder / key).write_text(value, encoding="utf-8")
    return folder


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # tests make no calls outside this machine
    os.environ.pop("SERVICE_BINDING_ROOT", None)  # bindings come from the tests that write them, not from the shell
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ.pop("DATABASE_URL", None)


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
[[if #database != 'none']]

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
[[end #database != 'none']]
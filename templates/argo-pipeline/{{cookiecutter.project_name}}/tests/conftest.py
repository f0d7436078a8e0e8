"""Shared fixtures: the project's commands as subprocesses, digit images as the data, and runs of the whole pipeline.

Services are real, never mocked: MLflow is a local SQLite store{% if cookiecutter.data_source == 'postgres' %}, PostgreSQL the server TEST_DATABASE_URL names{% endif %}. A test that needs
a service reads its address from the environment and is skipped when it is unset, except when CI=true: there a
missing service fails the test instead of hiding it.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
{%- if cookiecutter.data_source == 'postgres' %}
import uuid
{%- endif %}
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from {{ cookiecutter.__package_name }} import holdout, model_card, onnx_export, promotion

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.__package_name }}"
IMAGE_SIZE = "16"  # small images keep the suite fast; the digits are 8x8 anyway
PREDICTION_IMAGES = 25
RUN_TIMEOUT_SECONDS = 1800  # a whole run-local: about a minute on an idle machine, far more on a busy one

# The tests of the modules shared with other tapml templates (test_holdout.py, test_promotion.py,
# test_model_card.py, test_onnx_export.py) import them by their own names, as they are tested where they are written.
for _shared in (holdout, model_card, onnx_export, promotion):
    sys.modules.setdefault(_shared.__name__.rpartition(".")[2], _shared)


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


def digit_pngs() -> Iterator[tuple[str, bytes]]:
    """scikit-learn's 1,797 digits as (label, PNG bytes): greyscale 8x8, stored the way real images arrive."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    for pixels, label in zip(digits.images, digits.target, strict=True):
        buffer = io.BytesIO()
        Image.fromarray((pixels * (255 / 16)).round().astype("uint8"), mode="L").save(buffer, format="PNG")
        yield str(label), buffer.getvalue()


def command_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the commands: the package importable from src/, no MLflow settings of the shell."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MLFLOW_", "ARGO_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT / "src"), env.get("PYTHONPATH")]))
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env.pop("SERVICE_BINDING_ROOT", None)
    return {**env, **(extra or {})}


def run_module(
    module: str, *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`python -m <package>.<module> args...` in `cwd`, to completion."""
    return subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.{module}", *args],
        cwd=cwd,
        env=command_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, *fragments: str) -> str:
    """The command failed with `code` and a single `error:` line naming `fragments`, without a traceback."""
    assert result.returncode == code, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test runs in its own empty folder, so nothing is written into the project."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def run_cli(workdir: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m <package>.<module> args...` in the test's folder."""

    def run(module: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run_module(module, *args, cwd=workdir, env=env)

    return run
{%- if cookiecutter.data_source == 'postgres' %}


@pytest.fixture(scope="session")
def database_url() -> str:
    return require_env("TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def database_env(database_url: str) -> dict[str, str]:
    """What the steps read: DATABASE_URL (never a binding from the shell)."""
    return {"DATABASE_URL": database_url}


def create_table(database_url: str, columns: str, rows: list[tuple[object, bytes]], insert: str) -> str:
    """A uniquely named table holding `rows`."""
    import psycopg
    from psycopg import sql

    table = f"test_{uuid.uuid4().hex[:12]}"
    name = sql.Identifier(table)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE TABLE {} (" + columns + ")").format(name))
        with (
            connection.cursor() as cursor,
            cursor.copy(sql.SQL("COPY {} (" + insert + ") FROM STDIN").format(name)) as copy,
        ):
            for row in rows:
                copy.write_row(row)
    return table


def drop_table(database_url: str, table: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))


@pytest.fixture(scope="session")
def data_parameters(database_url: str) -> Iterator[list[str]]:
    """run-local parameters that point the pipeline at a table of scikit-learn's digits."""
    table = create_table(database_url, "image bytea NOT NULL, label text NOT NULL", list(digit_pngs()), "label, image")
    yield ["-p", f"db-table={table}"]
    drop_table(database_url, table)
{%- if cookiecutter.batch_prediction %}


@pytest.fixture(scope="session")
def prediction_input(database_url: str) -> Iterator[str]:
    """A table of digits (id, image) for batch prediction."""
    rows = [(number, png) for number, (_, png) in enumerate(digit_pngs()) if number < PREDICTION_IMAGES]
    table = create_table(database_url, "id integer PRIMARY KEY, image bytea NOT NULL", rows, "id, image")
    yield table
    drop_table(database_url, table)
{%- endif %}
{%- else %}


@pytest.fixture(scope="session")
def database_env() -> dict[str, str]:
    return {}
{%- if cookiecutter.data_source == 'folder' %}


@pytest.fixture(scope="session")
def data_parameters(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """run-local parameters that point the pipeline at a folder of scikit-learn's digits, one sub-folder per class."""
    folder = tmp_path_factory.mktemp("images")
    for number, (label, png) in enumerate(digit_pngs()):
        (folder / label).mkdir(exist_ok=True)
        (folder / label / f"{number:04d}.png").write_bytes(png)
    return ["-p", f"data-dir={folder}"]
{%- else %}


@pytest.fixture(scope="session")
def data_parameters() -> list[str]:
    """No parameters: the digits are built in."""
    return []
{%- endif %}
{%- if cookiecutter.batch_prediction %}


@pytest.fixture(scope="session")
def prediction_input(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A folder of digit PNGs, in sub-folders like any folder of new images, for batch prediction."""
    folder = tmp_path_factory.mktemp("new-images")
    for number, (label, png) in enumerate(digit_pngs()):
        if number == PREDICTION_IMAGES:
            break
        (folder / f"batch-{number % 2}").mkdir(exist_ok=True)
        (folder / f"batch-{number % 2}" / f"{number:02d}-{label}.png").write_bytes(png)
    return str(folder)
{%- endif %}
{%- endif %}


@dataclass(frozen=True)
class PipelineRun:
    result: subprocess.CompletedProcess[str]
    artifacts: Path


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The session's local MLflow store: what `run-local` uses when no server is named."""
    return f"sqlite:///{tmp_path_factory.mktemp('tracking') / 'mlruns.db'}"


@pytest.fixture(scope="session")
def run_pipeline(
    tmp_path_factory: pytest.TempPathFactory,
    data_parameters: list[str],
    database_env: dict[str, str],
    tracking_uri: str,
) -> Callable[..., PipelineRun]:
    """`python -m <package>.pipeline run-local` with the test data, small images and `parameters`."""

    def run(label: str, *parameters: str) -> PipelineRun:
        folder = tmp_path_factory.mktemp(f"run-{label}")
        artifacts = folder / "artifacts"
        result = run_module(
            "pipeline",
            "run-local",
            "--artifacts",
            str(artifacts),
            "--tracking-uri",
            tracking_uri,
            *data_parameters,
            "-p",
            f"image-size={IMAGE_SIZE}",
            *parameters,
            cwd=folder,
            env=database_env,
            timeout=RUN_TIMEOUT_SECONDS,
        )
        return PipelineRun(result, artifacts)

    return run


@pytest.fixture(scope="session")
def cycles(run_pipeline: Callable[..., PipelineRun]{% if cookiecutter.batch_prediction %}, prediction_input: str{% endif %}) -> dict[str, PipelineRun]:
    """Three runs of the whole pipeline into one registered model: a first, a worse and a better model."""
    return {
{%- if cookiecutter.batch_prediction %}
        "first": run_pipeline(
            "first", "-p", "epochs=1", "-p", "learning-rate=0.0003", "-p", f"prediction-input={prediction_input}"
        ),
{%- else %}
        "first": run_pipeline("first", "-p", "epochs=1", "-p", "learning-rate=0.0003"),
{%- endif %}
        "worse": run_pipeline("worse", "-p", "epochs=1", "-p", "learning-rate=1e-7"),
        "better": run_pipeline("better", "-p", "epochs=4"),
    }

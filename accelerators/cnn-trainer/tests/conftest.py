"""Shared fixtures: training flags for this project's data source, a CLI runner and a real MLflow tracking server.

Services are real, never mocked. A test that needs one reads its address from the environment and is skipped
when it is unset, except when CI=true: there a missing service fails the test instead of hiding it.
"""

from __future__ import annotations

import os
import subprocess
import sys
[[if #dataSource == 'postgres']]import uuid
[[end #dataSource == 'postgres']]from collections.abc import Callable[[if #dataSource != 'digits']], Iterator[[end #dataSource != 'digits']]
from pathlib import Path

import pytest
[[if #dataSource != 'digits']]from PIL import Image
[[end #dataSource != 'digits']]
from [[packageName]] import holdout, model_card, onnx_export, promotion
from [[packageName]].config import Settings, load_settings

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = "[[packageName]]"
IMAGE_SIZE = 16  # small images keep the suite fast; the digits are 8x8 anyway

# The tests of the modules shared with other tapml templates (test_holdout.py, test_promotion.py,
# test_model_card.py, test_onnx_export.py) import them by their own names, as they are tested where they are written.
for _shared in (holdout, model_card, onnx_export, promotion):
    sys.modules.setdefault(_shared.__name__.rpartition(".")[2], _shared)

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


@pytest.fixture(scope="session")[[if #dataSource == 'digits']]
def data_flags() -> list[str]:
    """Flags that point training at this project's data source: none, the digits are built in."""
    return [][[end #dataSource == 'digits']][[if #dataSource == 'folder']]
def data_flags(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Flags that point training at a folder of scikit-learn's digits, one sub-folder per class."""
    folder = tmp_path_factory.mktemp("images")
    for number, (label, png) in enumerate(digit_pngs()):
        (folder / label).mkdir(exist_ok=True)
        (folder / label / f"{number:04d}.png").write_bytes(png)
    return ["--data-dir", str(folder)][[end #dataSource == 'folder']][[if #dataSource == 'postgres']]
def data_flags(digits_table: str) -> list[str]:
    """Flags that point training at a table of scikit-learn's digits."""
    return ["--db-table", digits_table][[end #dataSource == 'postgres']][[if #dataSource == 'postgres']]


@pytest.fixture(scope="session")
def database_url() -> str:
    return require_env("TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def digits_table(database_url: str) -> Iterator[str]:
    """A uniquely named table of digit PNGs for the session, dropped at the end."""
    import psycopg
    from psycopg import sql

    table = f"test_digits_{uuid.uuid4().hex[:12]}"
    name = sql.Identifier(table)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE TABLE {} (image bytea NOT NULL, label text NOT NULL)").format(name))
        with (
            connection.cursor() as cursor,
            cursor.copy(sql.SQL("COPY {} (label, image) FROM STDIN").format(name)) as copy,
        ):
            for label, png in digit_pngs():
                copy.write_row((label, png))
    yield table
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))


@pytest.fixture(scope="session", autouse=True)
def database_env() -> Iterator[None]:
    """Training reads DATABASE_URL; point it at the test database (and never at a binding from the shell)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SERVICE_BINDING_ROOT", raising=False)
        url = os.environ.get("TEST_DATABASE_URL", "").strip()
        if url:
            patch.setenv("DATABASE_URL", url)
        else:
            patch.delenv("DATABASE_URL", raising=False)
        yield[[end #dataSource == 'postgres']]
[[if #dataSource != 'digits']]

def digit_pngs() -> Iterator[tuple[str, bytes]]:
    """scikit-learn's 1,797 digits as (label, PNG bytes): greyscale 8x8, stored the way real images arrive."""
    import io

    from sklearn.datasets import load_digits

    digits = load_digits()
    for pixels, label in zip(digits.images, digits.target, strict=True):
        buffer = io.BytesIO()
        Image.fromarray((pixels * (255 / 16)).round().astype("uint8"), mode="L").save(buffer, format="PNG")
        yield str(label), buffer.getvalue()
[[end #dataSource != 'digits']]

@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test runs in its own empty folder, so nothing is written into the project."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def local_tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One local SQLite tracking store for the session (creating one takes seconds); tests use their own names."""
    import mlflow

    uri = f"sqlite:///{tmp_path_factory.mktemp('tracking') / 'mlruns.db'}"
    mlflow.MlflowClient(uri).search_experiments()  # creates the tables now, not inside a timed test
    return uri


@pytest.fixture
def names(request: pytest.FixtureRequest) -> list[str]:
    """An experiment and registered model name of this test's own, in the shared tracking store."""
    name = request.node.name.removeprefix("test_").replace("_", "-")[:60]
    return ["--experiment", name, "--registered-model-name", name]


@pytest.fixture
def make_settings(
    workdir: Path, data_flags: list[str], local_tracking_uri: str, names: list[str]
) -> Callable[..., Settings]:
    """Settings built from flags exactly as the CLI builds them, with small, fast defaults for tests."""

    def make(*flags: str, tracking_uri: str | None = None) -> Settings:
        return load_settings(
            [*data_flags, *fast_flags(workdir), *names, "--tracking-uri", tracking_uri or local_tracking_uri, *flags],
            environ={},  # ignore EPOCHS, MLFLOW_TRACKING_URI, ... of the shell running the tests
        )

    return make


def fast_flags(workdir: Path) -> list[str]:
    return [
        "--image-size",
        str(IMAGE_SIZE),
        "--epochs",
        "6",
        "--batch-size",
        "64",
        "--backup-dir",
        str(workdir / "training-backup"),
    ]


def command(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", f"{PACKAGE}.{module}", *args]


def command_env() -> dict[str, str]:
    """The environment for CLI runs: the package importable from src/, less TensorFlow chatter."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT / "src"), env.get("PYTHONPATH")]))
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    return env


@pytest.fixture
def run_cli(workdir: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m <package>.<module> args...` in the test's folder; returns the completed process."""

    def run(
        module: str, *args: str, env: dict[str, str] | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command(module, *args),
            cwd=workdir,
            env={**command_env(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """The command failed with exit code 2 and a single `error:` line naming `fragments`, without a traceback."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # tests make no calls outside this machine
    os.environ.pop("SERVICE_BINDING_ROOT", None)  # bindings come from the tests that write them, not from the shell

"""The MLflow set-up: environment over binding over default, real binding folders, and HTTP limits that hold.

Bindings are real folders in the servicebinding.io layout (one folder per binding, one file per entry), written here.
The HTTP limits are checked against MLflow itself, calling a local server that accepts connections and never answers.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

PROJECT = Path(__file__).resolve().parents[1]
CREDENTIAL_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")


def project_module() -> ModuleType:
    """This project's copy of the shared module (the same test runs in every project that ships it), or the shared
    source itself when these tests run in tapml's own suite."""
    if (PROJECT / "mlflow_setup.py").is_file():
        return importlib.import_module("mlflow_setup")
    for folder in (PROJECT, PROJECT / "src"):
        for path in sorted(folder.glob("*/mlflow_setup.py")):
            return importlib.import_module(f"{path.parent.name}.mlflow_setup")
    raise ImportError(f"no <package>/mlflow_setup.py under {PROJECT}")


mlflow_setup = project_module()


def write_binding(root: Path, name: str, **entries: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    for key, value in entries.items():
        (folder / key).write_text(value + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "bindings"


@pytest.fixture
def env(root: Path) -> dict[str, str]:
    """A process environment of the test's own: bindings under `root`, no MLFLOW_* variables."""
    return {"SERVICE_BINDING_ROOT": str(root)}


def test_without_bindings_the_default_is_used(env: dict[str, str]) -> None:
    tracking = mlflow_setup.resolve("sqlite:///mlruns.db", {})
    assert (tracking.uri, tracking.origin, tracking.username, tracking.password) == (
        "sqlite:///mlruns.db",
        "default",
        None,
        None,
    )
    assert mlflow_setup.resolve(None, env).uri is None  # SERVICE_BINDING_ROOT names a folder that does not exist


def test_a_root_that_is_a_file_means_no_binding(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    assert mlflow_setup.find_binding({"SERVICE_BINDING_ROOT": str(tmp_path / "file")}) is None


def test_the_binding_gives_uri_and_credentials(root: Path, env: dict[str, str]) -> None:
    write_binding(root, "db", type="postgresql", uri="postgresql://db:5432/x", password="not-this-one")
    folder = write_binding(
        root,
        "tracking",
        type="mlflow",
        uri="http://mlflow.internal:5000",
        username="trainer",
        password="from-the-binding",
    )
    tracking = mlflow_setup.resolve("sqlite:///mlruns.db", env)
    assert tracking.uri == "http://mlflow.internal:5000"
    assert tracking.origin == f"service binding {folder}"
    assert (tracking.username, tracking.password) == ("trainer", "from-the-binding")


@pytest.mark.parametrize(
    ("entries", "uri"),
    [
        ({"host": "mlflow.internal"}, "http://mlflow.internal"),
        ({"host": "mlflow.internal", "port": "5000"}, "http://mlflow.internal:5000"),
        ({"host": "mlflow.internal", "port": "8443", "scheme": "https"}, "https://mlflow.internal:8443"),
        ({"host": "fd00::5", "port": "5000"}, "http://[fd00::5]:5000"),
        ({"uri": "https://mlflow.example.com", "host": "ignored", "port": "1"}, "https://mlflow.example.com"),
    ],
)
def test_host_and_port_make_the_uri(root: Path, env: dict[str, str], entries: dict[str, str], uri: str) -> None:
    write_binding(root, "mlflow", type="mlflow", **entries)
    assert mlflow_setup.resolve(None, env).uri == uri


def test_explicit_environment_variables_win(root: Path, env: dict[str, str]) -> None:
    write_binding(
        root, "mlflow", type="mlflow", uri="http://bound:5000", username="bound-user", password="bound-password"
    )
    env.update({"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000", "MLFLOW_TRACKING_PASSWORD": "env-password"})
    tracking = mlflow_setup.resolve("sqlite:///mlruns.db", env)
    assert (tracking.uri, tracking.origin) == ("http://127.0.0.1:5000", "MLFLOW_TRACKING_URI")
    assert tracking.password == "env-password"
    assert tracking.username == "bound-user"  # each credential separately: the binding fills what env leaves out


def test_configure_exports_what_mlflow_reads(root: Path, env: dict[str, str]) -> None:
    write_binding(root, "mlflow", type="mlflow", host="mlflow.internal", port="5000", username="u", password="p")
    tracking = mlflow_setup.configure("sqlite:///unused.db", env)
    assert env["MLFLOW_TRACKING_URI"] == tracking.uri == "http://mlflow.internal:5000"
    assert (env["MLFLOW_TRACKING_USERNAME"], env["MLFLOW_TRACKING_PASSWORD"]) == ("u", "p")


def test_configure_leaves_the_uri_unset_without_default_or_binding() -> None:
    env: dict[str, str] = {}
    assert mlflow_setup.configure(None, env).uri is None
    assert env == {}


def test_apply_credentials_sets_only_credentials(root: Path, env: dict[str, str]) -> None:
    write_binding(root, "mlflow", type="mlflow", uri="http://bound:5000", username="u", password="p")
    mlflow_setup.apply_credentials(env)
    assert "MLFLOW_TRACKING_URI" not in env
    assert (env["MLFLOW_TRACKING_USERNAME"], env["MLFLOW_TRACKING_PASSWORD"]) == ("u", "p")


def test_secrets_stay_out_of_logs_and_reprs(root: Path, env: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    write_binding(
        root,
        "mlflow",
        type="mlflow",
        uri="https://user:uri-secret@mlflow.internal:8443/x",
        username="user",
        password="the-password",
    )
    with caplog.at_level(logging.DEBUG):
        tracking = mlflow_setup.configure(None, env)
    shown = caplog.text + repr(tracking) + tracking.describe() + repr(mlflow_setup.find_binding(env))
    assert "mlflow.internal:8443" in caplog.text
    assert "the-password" not in shown
    assert "uri-secret" not in shown


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ({"type": "mlflow", "username": "u"}, "has neither 'uri' nor 'host'"),
        ({"type": "mlflow", "uri": ""}, "has neither 'uri' nor 'host'"),
        ({"type": "mlflow", "host": "h", "port": "http"}, "'port' must be a number"),
    ],
)
def test_an_incomplete_binding_is_one_line_naming_its_folder(
    root: Path, env: dict[str, str], entries: dict[str, str], problem: str
) -> None:
    folder = write_binding(root, "my-mlflow", **entries)
    env["MLFLOW_TRACKING_URI"] = "http://127.0.0.1:5000"  # a broken binding is reported even when env wins
    with pytest.raises(mlflow_setup.MlflowSetupError) as caught:
        mlflow_setup.resolve(None, env)
    message = str(caught.value)
    assert str(folder) in message and problem in message
    assert "\n" not in message


def test_an_unreadable_binding_is_one_line_naming_its_folder(root: Path, env: dict[str, str]) -> None:
    folder = write_binding(root, "my-mlflow", type="mlflow")
    (folder / "uri").write_bytes(b"\xff\xfe not text")
    with pytest.raises(mlflow_setup.MlflowSetupError, match="cannot read 'uri'") as caught:
        mlflow_setup.resolve(None, env)
    assert str(folder) in str(caught.value)


def test_two_mlflow_bindings_are_ambiguous(root: Path, env: dict[str, str]) -> None:
    write_binding(root, "a", type="mlflow", uri="http://a")
    write_binding(root, "b", type="mlflow", uri="http://b")
    with pytest.raises(mlflow_setup.MlflowSetupError, match="several service bindings"):
        mlflow_setup.resolve(None, env)


def test_kubernetes_projection_entries_are_ignored(root: Path, env: dict[str, str]) -> None:
    folder = write_binding(root, "mlflow", type="mlflow", uri="http://bound:5000")
    (folder / "..data").mkdir()
    (folder / "..2026_01_01").write_text("timestamped copy")
    (root / "..data").mkdir()
    binding = mlflow_setup.find_binding(env)
    assert binding is not None and sorted(binding.entries) == ["type", "uri"]


def test_redact_hides_user_and_password() -> None:
    assert mlflow_setup.redact("https://u:p@host:8443/path") == "https://***@host:8443/path"
    assert mlflow_setup.redact("http://host:5000") == "http://host:5000"
    assert mlflow_setup.redact("sqlite:///mlruns.db") == "sqlite:///mlruns.db"


@pytest.mark.parametrize("seconds", [2, 3, 5, 10, 30, 60, 120, 300, 900, 3600, 86400])
def test_http_limits_fit_the_time(seconds: int) -> None:
    limits = mlflow_setup.http_limits(seconds)
    assert 1 <= limits.timeout_seconds <= 120
    assert 0 <= limits.max_retries <= 7
    assert limits.longest_call_seconds() <= seconds


def test_more_time_never_means_less_patience() -> None:
    previous = mlflow_setup.http_limits(1)
    for seconds in range(2, 2000, 7):
        limits = mlflow_setup.http_limits(seconds)
        assert limits.timeout_seconds >= previous.timeout_seconds
        previous = limits
    assert mlflow_setup.http_limits(300).max_retries >= 1


@pytest.fixture
def http_environ() -> Iterator[None]:
    """MLflow's HTTP variables of this process, restored after the test whatever it sets."""
    names = tuple(mlflow_setup.http_limits(1).as_environ())
    saved = {name: os.environ.get(name) for name in names}
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def test_mlflow_reads_the_limits(http_environ: None) -> None:
    from mlflow.environment_variables import (
        MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR,
        MLFLOW_HTTP_REQUEST_BACKOFF_JITTER,
        MLFLOW_HTTP_REQUEST_MAX_RETRIES,
        MLFLOW_HTTP_REQUEST_TIMEOUT,
    )

    limits = mlflow_setup.apply_http_limits(60)
    assert MLFLOW_HTTP_REQUEST_TIMEOUT.get() == limits.timeout_seconds
    assert MLFLOW_HTTP_REQUEST_MAX_RETRIES.get() == limits.max_retries
    assert MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR.get() == limits.backoff_factor
    assert MLFLOW_HTTP_REQUEST_BACKOFF_JITTER.get() == limits.backoff_jitter


@pytest.fixture
def silent_server() -> Iterator[str]:
    """An http URI whose server accepts connections (the kernel completes them) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_silent_server_is_given_up_on_in_time(silent_server: str, http_environ: None) -> None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    seconds = 6
    mlflow_setup.apply_http_limits(seconds)
    started = time.monotonic()
    with pytest.raises(MlflowException):
        MlflowClient(tracking_uri=silent_server).get_experiment_by_name("anything")
    assert time.monotonic() - started <= seconds  # with MLflow's defaults this call takes about four minutes

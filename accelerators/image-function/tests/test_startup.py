"""Start-up limits on the real server process: bad settings, a model that cannot load, and signals during start-up.

Each case runs `python -m [[packageName]]` in its own process group and checks the exit code, the
single `error:` line, that no traceback is printed and that the process ends in seconds, not minutes.
[[if #modelSource == 'mlflow']]A load that hangs is made real with a local server that accepts connections and never answers.
[[end #modelSource == 'mlflow']]"""

from __future__ import annotations

import os
[[if #modelSource == 'mlflow']]import select
[[end #modelSource == 'mlflow']]import signal
[[if #modelSource == 'mlflow']]import socket
[[end #modelSource == 'mlflow']]import subprocess
import sys
import time
[[if #modelSource == 'mlflow']]from collections.abc import Iterator
[[end #modelSource == 'mlflow']]from pathlib import Path

import pytest
[[if #modelSource == 'mlflow' && #runtime == 'onnx']]
from conftest import PACKAGE, ROOT, Digits, ServedModels, register_version, train_digits_model[[end #modelSource == 'mlflow' && #runtime == 'onnx']]
[[if #modelSource != 'mlflow' || #runtime == 'tensorflow']]from conftest import PACKAGE, ROOT
[[end #modelSource != 'mlflow' || #runtime == 'tensorflow']]from servers import free_port, stop_process_group

STOP_SECONDS = 10  # generous: the point is "not minutes"


def base_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")}
    env.pop("SERVICE_BINDING_ROOT", None)
    env.update(
        {
            "HOST": "127.0.0.1",
            "PORT": str(free_port()),
            "PYTHONUNBUFFERED": "1",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            **extra,
        }
    )
    return env


def run(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", PACKAGE, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_one_error_line(stderr: str, *fragments: str) -> str:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def test_help_lists_every_variable_whatever_the_environment() -> None:
    result = run(base_env(TOP_K="0", PORT="nope"), "--help")
    assert result.returncode == 0, result.stderr
    for variable in ("MODEL_LOAD_TIMEOUT_SECONDS", "TOP_K", "MAX_BATCH_SIZE", "QUEUE_SIZE", "PORT", "LOG_LEVEL"):
        assert variable in result.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TOP_K", "0"),
        ("MAX_BATCH_SIZE", "x"),
        ("MODEL_LOAD_TIMEOUT_SECONDS", "-1"),
        ("REQUEST_TIMEOUT_SECONDS", "nan"),
        ("PORT", "70000"),
        ("LOG_LEVEL", "loud"),
        ("ACCESS_LOG", "maybe"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(variable: str, value: str) -> None:
    result = run(base_env(**{variable: value}))
    assert result.returncode == 2, result.stderr
    assert_one_error_line(result.stderr, f"{variable}={value!r}")
    assert "Uvicorn running" not in result.stderr


def test_every_bad_value_is_named_at_once() -> None:
    result = run(base_env(TOP_K="0", QUEUE_SIZE="many"))
    assert result.returncode == 2
    assert_one_error_line(result.stderr, "TOP_K", "QUEUE_SIZE")


def test_an_unknown_argument_is_one_line() -> None:
    result = run(base_env(), "--workers", "4")
    assert result.returncode == 2
    assert_one_error_line(result.stderr, "--workers")[[if #modelSource == 'mlflow']]


@pytest.fixture
def silent_server() -> Iterator[socket.socket]:
    """A tracking server that accepts connections (the kernel completes them) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock


@pytest.fixture
def stuck_env(silent_server: socket.socket) -> dict[str, str]:
    """A start-up whose model load waits on the silent server."""
    return base_env(MLFLOW_TRACKING_URI=f"http://127.0.0.1:{silent_server.getsockname()[1]}")


def wait_until_stuck(process: subprocess.Popen[bytes], log: Path, silent_server: socket.socket) -> None:
    """Until the server process has connected to the silent server: its load now waits for an answer."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if select.select([silent_server], [], [], 0.2)[0]:
            return
    raise AssertionError(f"the model load never reached the tracking server:\n{log.read_text(errors='replace')}")[[end #modelSource == 'mlflow']]
[[if #modelSource != 'mlflow']]

@pytest.fixture
def silent_server() -> None:
    """No network in this model source: a start-up gets stuck retrying a model file that is not there."""


@pytest.fixture
def stuck_env(tmp_path: Path) -> dict[str, str]:
    """A start-up whose model load keeps failing and retrying."""[[if #modelSource == 'keras_file']]
    return base_env(MODEL_PATH=str(tmp_path / "missing.keras"))[[end #modelSource == 'keras_file']][[if #modelSource != 'keras_file' && #runtime == 'onnx']]
    return base_env(MODEL_PATH=str(tmp_path / "missing.onnx"))[[end #modelSource != 'keras_file' && #runtime == 'onnx']]
[[if #modelSource != 'keras_file' && #runtime == 'tensorflow']]    return base_env(MOBILENET_WEIGHTS=str(tmp_path / "missing.weights.h5"))
[[end #modelSource != 'keras_file' && #runtime == 'tensorflow']]

def wait_until_stuck(process: subprocess.Popen[bytes], log: Path, silent_server: None) -> None:
    """Until the server process has failed to load the model once and waits to retry."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if "retrying in" in log.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise AssertionError(f"the model load never failed once:\n{log.read_text(errors='replace')}")
[[end #modelSource != 'mlflow']]

def test_a_model_that_cannot_load_fails_within_the_timeout(stuck_env: dict[str, str]) -> None:
    started = time.monotonic()
    result = run({**stuck_env, "MODEL_LOAD_TIMEOUT_SECONDS": "3"})
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert_one_error_line(result.stderr, "MODEL_LOAD_TIMEOUT_SECONDS=3")
    assert elapsed < 3 + 20, f"took {elapsed:.0f} s"  # start-up of Python and its imports, then the timeout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_start_up_stops_the_process_at_once(
    stuck_env: dict[str, str], silent_server: object, tmp_path: Path, signum: signal.Signals
) -> None:
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", PACKAGE],
            cwd=ROOT,
            env={**stuck_env, "MODEL_LOAD_TIMEOUT_SECONDS": "600"},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_stuck(process, log, silent_server)
        signalled = time.monotonic()
        os.killpg(process.pid, signum)
        process.wait(timeout=STOP_SECONDS)
        stopped_after = time.monotonic() - signalled
    finally:
        stop_process_group(process, timeout=5)
    output_text = log.read_text(errors="replace")
    assert process.returncode == 128 + signum, output_text
    assert f"stopped by {signum.name} during start-up" in output_text
    assert "Traceback" not in output_text
    assert stopped_after < STOP_SECONDS
[[if #logPredictions || #modelSource == 'mlflow']]

def test_an_incomplete_mlflow_binding_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "bindings" / "tracking"
    folder.mkdir(parents=True)
    (folder / "type").write_text("mlflow\n")
    (folder / "username").write_text("serving\n")
    result = run({**base_env(), "SERVICE_BINDING_ROOT": str(folder.parent)})
    assert result.returncode == 2, result.stderr
    assert_one_error_line(result.stderr, str(folder), "neither 'uri' nor 'host'")
[[end #logPredictions || #modelSource == 'mlflow']][[if #modelSource == 'mlflow' && #runtime == 'onnx']]

def test_a_version_without_an_onnx_form_is_one_line_at_once(served_models: ServedModels, digits: Digits) -> None:
    register_version(served_models, train_digits_model(digits, seed=3), alias="keras-only", onnx_form=False)
    started = time.monotonic()
    result = run(base_env(**{**served_models.env, "MODEL_ALIAS": "keras-only"}))
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert_one_error_line(result.stderr, "has no ONNX form", "runtime=tensorflow")
    assert elapsed < 60, f"took {elapsed:.0f} s: retried as if the next attempt could succeed"
[[end #modelSource == 'mlflow' && #runtime == 'onnx']]
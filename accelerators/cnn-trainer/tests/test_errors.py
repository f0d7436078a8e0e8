"""Bad input and unreachable services are answered with one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import PACKAGE, assert_one_line_error, command_env
from servers import free_port

COMMANDS = ("train", "evaluate", "loop")


def test_unreachable_tracking_server(run_cli, data_flags):
    uri = f"http://127.0.0.1:{free_port()}"

    result = run_cli("train", *data_flags, "--tracking-uri", uri)

    assert_one_line_error(result, uri, "unreachable")


def test_invalid_flag(run_cli):
    assert_one_line_error(run_cli("train", "--epochs", "0"), "--epochs")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("EPOCHS", "x", "EPOCHS='x' is not a positive integer"),
        ("BATCH_SIZE", "lots", "BATCH_SIZE='lots' is not a positive integer"),
        ("DROPOUT", "1.5", "DROPOUT='1.5' is not a number in [0, 1)"),
        ("PROMOTE_ANYWAY", "maybe", "PROMOTE_ANYWAY='maybe' is not true or false"),
    ],
)
def test_a_bad_environment_value_is_one_line_naming_the_variable(run_cli, variable, value, message):
    result = run_cli("train", env={variable: value})

    assert assert_one_line_error(result, message) == f"error: {message}"


@pytest.mark.parametrize("module", COMMANDS)
def test_help_works_whatever_the_environment(run_cli, module):
    result = run_cli(module, "--help", env={"EPOCHS": "x", "IMAGE_SIZE": "-3", "RETRAIN_INTERVAL": "soon"})

    assert result.returncode == 0, result.stderr
    assert "--epochs" in result.stdout and "[env EPOCHS; default" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("module", COMMANDS)
def test_a_bad_environment_value_stops_before_tensorflow_is_imported(workdir, module):
    # The command's main as `python -m` runs it; on the way out, whether TensorFlow was loaded.
    script = (
        f"import sys\nfrom {PACKAGE}.{module} import main\ntry:\n    sys.exit(main([]))\nfinally:\n"
        "    print('tensorflow loaded' if 'tensorflow' in sys.modules else 'no tensorflow')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=workdir,
        env={**command_env(), "EPOCHS": "x"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert_one_line_error(result, "EPOCHS='x' is not a positive integer")
    assert result.stdout.strip() == "no tensorflow"


def test_invalid_retrain_interval(run_cli):
    assert_one_line_error(run_cli("loop", "--once", env={"RETRAIN_INTERVAL": "5 minutes"}), "RETRAIN_INTERVAL", "90m")

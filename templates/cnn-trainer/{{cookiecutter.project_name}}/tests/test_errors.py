"""Bad input and unreachable services are answered with one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

from conftest import assert_one_line_error, free_port


def test_unreachable_tracking_server(run_cli, data_flags):
    uri = f"http://127.0.0.1:{free_port()}"

    result = run_cli("train", *data_flags, "--tracking-uri", uri)

    assert_one_line_error(result, uri, "unreachable")


def test_invalid_flag(run_cli):
    assert_one_line_error(run_cli("train", "--epochs", "0"), "--epochs")


def test_invalid_environment_variable(run_cli):
    assert_one_line_error(run_cli("train", env={"BATCH_SIZE": "lots"}), "BATCH_SIZE")


def test_invalid_retrain_interval(run_cli):
    assert_one_line_error(run_cli("loop", "--once", env={"RETRAIN_INTERVAL": "5 minutes"}), "RETRAIN_INTERVAL", "90m")

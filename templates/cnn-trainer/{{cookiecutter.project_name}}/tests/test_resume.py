"""An interrupted run resumes from its last finished epoch, in the same MLflow run; SIGTERM stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient

from {{ cookiecutter.__package_name }} import loop
from {{ cookiecutter.__package_name }}.callbacks import TrainingStopped
from {{ cookiecutter.__package_name }}.train import stop_on_sigterm, train

from conftest import command, command_env, fast_flags

WAIT_SECONDS = 120


@pytest.fixture
def sigterm_handler() -> Iterator[None]:
    """The code under test installs a SIGTERM handler; put pytest's back afterwards."""
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


def finished_epochs(backup: Path) -> int:
    try:
        return int(json.loads((backup / "keras" / "training_metadata.json").read_text())["epoch"])
    except (OSError, ValueError, KeyError):
        return 0  # not written yet, or caught mid-write


def test_killed_run_resumes_from_its_last_finished_epoch(
    workdir, data_flags, names, local_tracking_uri, capsys, sigterm_handler
):
    backup = workdir / "training-backup"
    flags = [*data_flags, *fast_flags(workdir), *names, "--tracking-uri", local_tracking_uri]
    # Many epochs and no early stopping: the run cannot finish before it is killed.
    process = subprocess.Popen(
        command("train", *flags, "--epochs", "100", "--patience", "100"),
        cwd=workdir,
        env=command_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + WAIT_SECONDS
    while finished_epochs(backup) < 2:
        assert process.poll() is None, f"training ended before it was killed:\n{process.communicate()[0]}"
        assert time.monotonic() < deadline, "two epochs did not finish in time"
        time.sleep(0.05)
    process.kill()  # SIGKILL: no chance to clean up, like a failing node
    process.communicate(timeout=30)
    done = finished_epochs(backup)
    run_id = json.loads((backup / "run.json").read_text())["run_id"]

    # The worker's first cycle picks the backup up; two more epochs finish the run.
    assert loop.main([*flags, "--once", "--epochs", str(done + 2)]) == 0

    output = capsys.readouterr().out
    assert f"resuming from epoch {done}" in output
    assert f"Epoch {done + 1}/{done + 2}" in output
    assert "Epoch 1/" not in output
    assert not backup.exists()
    client = MlflowClient(local_tracking_uri)
    assert client.get_run(run_id).info.status == "FINISHED"
    steps = {metric.step for metric in client.get_metric_history(run_id, "loss")}
    assert steps == set(range(done + 2)), "one MLflow run holds every epoch, before and after the kill"


def test_sigterm_stops_training_cleanly_and_keeps_the_backup(make_settings, local_tracking_uri, sigterm_handler):
    settings = make_settings("--epochs", "100", "--patience", "100")
    cancelled = threading.Event()

    def terminate_after_first_epoch() -> None:
        while finished_epochs(settings.backup_dir) < 1 and not cancelled.wait(0.05):
            pass
        if not cancelled.is_set():
            os.kill(os.getpid(), signal.SIGTERM)  # what Kubernetes sends before it stops the pod

    stop = stop_on_sigterm()
    threading.Thread(target=terminate_after_first_epoch, daemon=True).start()
    try:
        with pytest.raises(TrainingStopped):
            train(settings, stop)
    finally:
        cancelled.set()

    assert finished_epochs(settings.backup_dir) >= 1, "the last finished epoch is kept for the restart"
    run_id = json.loads((settings.backup_dir / "run.json").read_text())["run_id"]
    assert MlflowClient(local_tracking_uri).get_run(run_id).info.status == "KILLED"

"""A bound MLflow service end to end: the server finds the tracking server through a servicebinding.io binding.

The precedence rule itself is tested in test_mlflow_setup.py; here the real server process uses it.
"""

from __future__ import annotations

from pathlib import Path

from conftest import ServedModels, server_env, start_server
from servers import free_port, stop_process_group


def test_the_server_loads_the_model_from_the_bound_tracking_server(served_models: ServedModels, tmp_path: Path) -> None:
    binding = tmp_path / "bindings" / "tracking"
    binding.mkdir(parents=True)
    (binding / "type").write_text("mlflow\n")
    (binding / "uri").write_text(served_models.env["MLFLOW_TRACKING_URI"] + "\n")
    env = server_env(served_models, free_port())
    del env["MLFLOW_TRACKING_URI"]
    env["SERVICE_BINDING_ROOT"] = str(binding.parent)

    server = start_server(env, tmp_path / "server.log")
    try:
        ready = server.get("/health/ready").json()
    finally:
        stop_process_group(server.process)

    assert ready["model"]["name"] == served_models.name
    assert f"service binding {binding}" in server.log.read_text(errors="replace")

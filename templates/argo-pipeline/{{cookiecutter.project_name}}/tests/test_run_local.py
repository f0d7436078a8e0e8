"""`pipeline run-local` end to end: three runs of every step into one registered model, and one that data validation
stops. The champion alias moves only to a model that wins like for like."""

from __future__ import annotations

import json

import pytest
from mlflow import MlflowClient

from {{ cookiecutter.__package_name }} import config, pipeline

from conftest import assert_one_line_error, run_module

MODEL = config.PROJECT_NAME


def registration(run) -> dict:
    return json.loads((run.artifacts / "registration.json").read_text())


def champion(tracking_uri: str) -> str:
    return str(MlflowClient(tracking_uri).get_model_version_by_alias(MODEL, "champion").version)


def test_every_step_runs_in_order_and_leaves_its_artifacts(cycles) -> None:
    first = cycles["first"]

    assert first.result.returncode == 0, first.result.stdout[-4000:] + first.result.stderr[-4000:]
    started = [
        line.removeprefix("--- ").split(":")[0] for line in first.result.stdout.splitlines() if line.startswith("--- ")
    ]
    assert started == [*(step.name for step in pipeline.STEPS), pipeline.OUTCOME.name]
    written = {path.name for path in first.artifacts.iterdir()}
    assert written == {name for name in pipeline.ARTIFACTS.values()}
    assert json.loads((first.artifacts / "validation-report.json").read_text())["passed"] is True
    assert json.loads((first.artifacts / "outcome.json").read_text())["status"] == "Succeeded"


def test_the_first_model_becomes_the_champion(cycles, tracking_uri) -> None:
    first = registration(cycles["first"])

    assert first["promoted"] is True and first["reason"].startswith("no champion yet")
    assert first["version"] == "1"


def test_a_worse_model_is_registered_and_the_champion_stays(cycles, tracking_uri) -> None:
    worse, first = registration(cycles["worse"]), registration(cycles["first"])

    assert cycles["worse"].result.returncode == 0, cycles["worse"].result.stderr[-3000:]
    assert worse["accuracy"] < first["accuracy"]
    assert worse["promoted"] is False and worse["compared"] is True
    assert worse["reason"].endswith("does not win; the champion stays")
    assert worse["champion_accuracy"] == pytest.approx(first["accuracy"])
    version = MlflowClient(tracking_uri).get_model_version(MODEL, worse["version"])
    assert version.tags["promoted"] == "false"


def test_a_better_model_takes_the_alias(cycles, tracking_uri) -> None:
    better, first = registration(cycles["better"]), registration(cycles["first"])

    assert cycles["better"].result.returncode == 0, cycles["better"].result.stderr[-3000:]
    assert better["accuracy"] > first["accuracy"]
    assert better["promoted"] is True and "wins and is the champion now" in better["reason"]
    assert champion(tracking_uri) == better["version"] == "3"


def test_mlflow_holds_each_training_run_with_its_score_card_and_the_pipeline_outcome(cycles, tracking_uri) -> None:
    client = MlflowClient(tracking_uri)
    model = json.loads((cycles["better"].artifacts / "model" / "model.json").read_text())
    run = client.get_run(model["run_id"])

    assert run.data.metrics["test_accuracy"] == pytest.approx(registration(cycles["better"])["accuracy"])
    assert run.data.tags["promoted"] == "true"
    assert {item.path for item in client.list_artifacts(run.info.run_id)} >= {"MODEL_CARD.md", "plots"}
    outcome = json.loads((cycles["better"].artifacts / "outcome.json").read_text())
    recorded = client.get_run(outcome["mlflow_run_id"])
    assert recorded.data.tags["pipeline_status"] == "Succeeded"
    assert recorded.data.tags["pipeline_workflow"] == outcome["workflow"]


def test_a_failing_step_stops_the_run_and_later_steps_do_not_run(run_pipeline, tracking_uri) -> None:
    stopped = run_pipeline("stopped", "-p", "min-images=100000")

    later = ", ".join(step.name for step in pipeline.STEPS[2:])
    errors = [line for line in stopped.result.stderr.splitlines() if line.startswith("error:")]
    assert stopped.result.returncode == 1, stopped.result.stdout[-3000:]
    assert errors[0].startswith("error: data validation failed: 1797 images, fewer than 100000 (--min-images)")
    assert (
        errors[1]
        == f"error: step validate failed with exit code 2; not run: {later} (artifacts in {stopped.artifacts})"
    )
    assert len(errors) == 2 and "Traceback" not in stopped.result.stderr
    written = {path.name for path in stopped.artifacts.iterdir()}
    assert written == {"dataset.npz", "validation-report.json", "outcome.json"}, "nothing ran after validate"
    assert json.loads((stopped.artifacts / "outcome.json").read_text())["status"] == "Failed"


def test_an_unknown_parameter_is_refused_before_anything_runs(workdir) -> None:
    result = run_module("pipeline", "run-local", "-p", "epoch=3", cwd=workdir)

    assert_one_line_error(result, 2, "unknown parameter(s) epoch", "epochs")
    assert list(workdir.iterdir()) == []

"""The committed Argo resources: what pipeline.py renders, whole after hera's models read them, every reference
resolved, and the settings a cluster relies on (image, retries, resources, clean-up, schedule)."""

from __future__ import annotations

import copy
import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hera.workflows import models

from {{ cookiecutter.__package_name }} import pipeline
from {{ cookiecutter.__package_name }}.steps import TEMPORARY_FAILURE

from conftest import PACKAGE, PROJECT

ARGO = PROJECT / "argo"
MODELS = {"WorkflowTemplate": models.WorkflowTemplate, "CronWorkflow": models.CronWorkflow, "Workflow": models.Workflow}
VARIABLE = re.compile(re.escape(pipeline.OPEN) + r"([^}]+)" + re.escape(pipeline.CLOSE))
RENDER_HINT = f"edited by hand? run: python -m {PACKAGE}.pipeline render"
WORKFLOW_VARIABLES = {"workflow.name", "workflow.status", "workflow.duration"}  # what Argo sets for an exit handler


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((ARGO / name).read_text(encoding="utf-8"))


def round_trip(document: dict[str, Any]) -> dict[str, Any]:
    """The document as hera's model of its kind reads it; fields the model does not know are dropped silently."""
    model = MODELS[document["kind"]].model_validate(document)
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


def reference_problems(template: dict[str, Any]) -> list[str]:
    """Every template, task, parameter and artifact a WorkflowTemplate names must exist where it is looked up."""
    spec = template["spec"]
    templates = {item["name"]: item for item in spec["templates"]}
    workflow_parameters = {item["name"] for item in spec.get("arguments", {}).get("parameters", [])}
    problems = [
        f"{key} names no template {spec[key]!r}" for key in ("entrypoint", "onExit") if spec[key] not in templates
    ]
    for item in templates.values():
        inputs = item.get("inputs", {})
        declared = {kind: {entry["name"] for entry in inputs.get(kind, [])} for kind in ("parameters", "artifacts")}
        for variable in VARIABLE.findall(yaml.safe_dump(item.get("container", {}))):
            scope, _, name = variable.partition(".parameters.")
            if scope == "inputs" and name not in declared["parameters"]:
                problems.append(f"template {item['name']} uses input parameter {name!r} it does not declare")
            elif scope == "workflow" and name not in workflow_parameters:
                problems.append(f"template {item['name']} uses workflow parameter {name!r}, which does not exist")
            elif not name and variable not in WORKFLOW_VARIABLES:
                problems.append(f"template {item['name']} uses {variable!r}, which Argo does not set")
        tasks = {task["name"]: task for task in item.get("dag", {}).get("tasks", [])}
        for task in tasks.values():
            problems += task_problems(task, tasks, templates, workflow_parameters)
    return problems


def task_problems(
    task: dict[str, Any], tasks: dict[str, Any], templates: dict[str, Any], workflow_parameters: set[str]
) -> list[str]:
    name = task["name"]
    if task["template"] not in templates:
        return [f"task {name} names no template {task['template']!r}"]
    target = templates[task["template"]]
    problems = []
    if task.get("depends") and task["depends"] not in tasks:
        problems.append(f"task {name} depends on no task {task['depends']!r}")
    for kind in ("parameters", "artifacts"):
        given = {entry["name"] for entry in task.get("arguments", {}).get(kind, [])}
        wanted = {entry["name"] for entry in target.get("inputs", {}).get(kind, [])}
        if given != wanted:
            problems.append(
                f"task {name} passes {kind} {sorted(given)}; template {target['name']} takes {sorted(wanted)}"
            )
    for variable in VARIABLE.findall(yaml.safe_dump(task)):
        if (
            variable.startswith("workflow.parameters.")
            and variable.removeprefix("workflow.parameters.") not in workflow_parameters
        ):
            problems.append(f"task {name} uses workflow parameter {variable!r}, which does not exist")
        if variable.startswith("tasks."):
            producer, _, artifact = variable.removeprefix("tasks.").partition(".outputs.artifacts.")
            if producer not in tasks or producer not in ancestors(name, tasks):
                problems.append(f"task {name} reads from task {producer!r}, which does not run before it")
            elif artifact not in outputs(templates.get(tasks[producer]["template"], {})):
                problems.append(f"task {name} reads artifact {artifact!r}, which task {producer} does not write")
    return problems


def outputs(template: dict[str, Any]) -> set[str]:
    return {entry["name"] for entry in template.get("outputs", {}).get("artifacts", [])}


def ancestors(name: str, tasks: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    while tasks[name].get("depends"):
        name = tasks[name]["depends"]
        found.add(name)
    return found


def containers(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in template["spec"]["templates"] if "container" in item}


@pytest.mark.parametrize("name", ["workflow-template.yaml", "cron-workflow.yaml", "workflow.yaml"])
def test_the_committed_yaml_is_what_pipeline_py_renders(name: str) -> None:
    assert (ARGO / name).read_text(encoding="utf-8") == pipeline.rendered()[name], RENDER_HINT


@pytest.mark.parametrize("name", ["workflow-template.yaml", "cron-workflow.yaml", "workflow.yaml"])
def test_heras_models_read_every_field(name: str) -> None:
    document = load(name)

    assert document["apiVersion"] == "argoproj.io/v1alpha1"
    assert round_trip(document) == document


def test_a_misspelled_field_is_noticed() -> None:
    document = load("workflow-template.yaml")
    misspelled = copy.deepcopy(document)
    misspelled["spec"]["templates"][1]["contaner"] = misspelled["spec"]["templates"][1].pop("container")

    assert round_trip(misspelled) != misspelled


def test_every_template_parameter_and_artifact_referenced_exists() -> None:
    assert reference_problems(load("workflow-template.yaml")) == []


def test_the_reference_check_finds_broken_references() -> None:
    document = load("workflow-template.yaml")
    broken = copy.deepcopy(document)
    tasks = broken["spec"]["templates"][0]["dag"]["tasks"]
    tasks[2]["template"] = "trian"
    tasks[3]["arguments"]["artifacts"][0]["from"] = pipeline.argo("tasks.register.outputs.artifacts.dataset")
    broken["spec"]["arguments"]["parameters"] = broken["spec"]["arguments"]["parameters"][1:]

    problems = reference_problems(broken)

    assert any("names no template 'trian'" in problem for problem in problems)
    assert any("reads from task 'register'" in problem for problem in problems)
    assert any("workflow parameter" in problem and "does not exist" in problem for problem in problems)


def test_the_dag_runs_the_steps_in_order_and_the_exit_handler_records_the_outcome() -> None:
    spec = load("workflow-template.yaml")["spec"]
    (dag,) = [item["dag"] for item in spec["templates"] if item["name"] == spec["entrypoint"]]
    names = [task["name"] for task in dag["tasks"]]

    assert names == [step.name for step in pipeline.STEPS]
    assert [task.get("depends") for task in dag["tasks"]] == [None, *names[:-1]]
    assert spec["onExit"] == pipeline.OUTCOME.name
    exit_args = containers(load("workflow-template.yaml"))[spec["onExit"]]["container"]["args"]
    assert pipeline.argo("workflow.status") in exit_args


def test_every_step_runs_the_workloads_image_through_the_buildpack_launcher() -> None:
    workload = yaml.safe_load((PROJECT / "config" / "workload.yaml").read_text(encoding="utf-8"))
    # TAP's supply chain pushes the workload's image as <registry>/<workload name>-<workload namespace>.
    image_name = f"/{workload['metadata']['name']}-{pipeline.NAMESPACE}:latest"

    for name, item in containers(load("workflow-template.yaml")).items():
        container = item["container"]
        assert container["image"] == pipeline.STEP_IMAGE and container["image"].endswith(image_name), name
        assert container["imagePullPolicy"] == "Always", name
        launcher, module = container["command"][:-1], container["command"][-1]
        assert launcher == list(pipeline.LAUNCHER), name
        assert importlib.util.find_spec(module) is not None, f"{name} runs {module}, which does not exist"


def test_steps_that_use_a_service_retry_only_temporary_failures_with_backoff() -> None:
    retried = {name: item.get("retryStrategy") for name, item in containers(load("workflow-template.yaml")).items()}

    assert retried.pop("validate") is None, "bad data does not get better by retrying"
    for name, strategy in retried.items():
        assert strategy["retryPolicy"] == "Always" and strategy["limit"] == "3", name
        assert f"asInt(lastRetry.exitCode) == {TEMPORARY_FAILURE}" in strategy["expression"], name
        assert set(strategy["backoff"]) == {"duration", "factor", "maxDuration"}, name


def test_every_container_requests_and_limits_cpu_and_memory() -> None:
    for name, item in containers(load("workflow-template.yaml")).items():
        resources = item["container"]["resources"]
        for kind in ("requests", "limits"):
            assert set(resources[kind]) == {"cpu", "memory"}, (name, kind)
            assert all(isinstance(value, str) for value in resources[kind].values()), "quantities are strings"


def test_workflows_clean_up_after_themselves_and_run_as_the_service_account() -> None:
    spec = load("workflow-template.yaml")["spec"]

    assert spec["serviceAccountName"] == pipeline.SERVICE_ACCOUNT
    assert spec["activeDeadlineSeconds"] > 0
    assert spec["podGC"]["strategy"] == "OnPodSuccess"
    assert spec["ttlStrategy"]["secondsAfterSuccess"] < spec["ttlStrategy"]["secondsAfterFailure"]
    assert spec["artifactGC"]["strategy"] == "OnWorkflowDeletion"
    rbac = list(yaml.safe_load_all((ARGO / "rbac.yaml").read_text(encoding="utf-8")))
    assert {document["kind"]: document["metadata"]["name"] for document in rbac} == {
        "ServiceAccount": spec["serviceAccountName"],
        "Role": spec["serviceAccountName"],
        "RoleBinding": spec["serviceAccountName"],
    }


def test_parameters_have_the_projects_defaults() -> None:
    parameters = {
        item["name"]: item["value"] for item in load("workflow-template.yaml")["spec"]["arguments"]["parameters"]
    }

    assert parameters == {item.name: item.default for item in pipeline.PARAMETERS}
    assert parameters["promote-anyway"] == "false"


def test_the_schedule_and_a_single_run_start_the_workflow_template() -> None:
    template, cron, single = (load(name) for name in ("workflow-template.yaml", "cron-workflow.yaml", "workflow.yaml"))
    name = template["metadata"]["name"]

    assert cron["spec"]["workflowSpec"] == {"workflowTemplateRef": {"name": name}}
    assert cron["spec"]["schedules"] == [pipeline.SCHEDULE]
    assert cron["spec"]["timezone"] == pipeline.TIMEZONE
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert cron["spec"]["startingDeadlineSeconds"] > 0
    assert single["metadata"] == {"generateName": f"{name}-", "labels": template["metadata"]["labels"]}
    assert single["spec"] == {"workflowTemplateRef": {"name": name}}


def test_render_check_notices_an_edited_file(tmp_path: Path) -> None:
    from conftest import run_module

    for name in pipeline.rendered():
        (tmp_path / name).write_text((ARGO / name).read_text(encoding="utf-8"), encoding="utf-8")
    assert run_module("pipeline", "render", "--check", "--dir", str(tmp_path), cwd=tmp_path).returncode == 0
    edited = tmp_path / "workflow.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("generateName", "name"), encoding="utf-8")

    checked = run_module("pipeline", "render", "--check", "--dir", str(tmp_path), cwd=tmp_path)

    assert checked.returncode == 1 and "workflow.yaml" in checked.stderr
    assert run_module("pipeline", "render", "--dir", str(tmp_path), cwd=tmp_path).returncode == 0
    assert edited.read_text(encoding="utf-8") == pipeline.rendered()["workflow.yaml"]

"""The argo-pipeline template's Argo resources in every baked case: valid against Argo's own JSON Schema (the vendored
snapshot), Argo's `{{...}}` expressions kept through cookiecutter, and exempt from the leftover-Jinja rule.

The schema types integer-or-string fields (retry limits, back-off factors, quantities) as strings, so the template
quotes them; a test shows the check fails when one is not.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.validate import _is_argo
from tests.matrix import valid_cases

TEMPLATE = "argo-pipeline"
RESOURCES = {
    "workflow-template.yaml": "WorkflowTemplate",
    "cron-workflow.yaml": "CronWorkflow",
    "workflow.yaml": "Workflow",
}
ARGO_EXPRESSION = re.compile(r"\{\{(inputs|workflow|tasks)\.[a-z0-9.-]+\}\}")


@pytest.fixture(scope="module")
def argo_schema(schemas_dir: Path) -> dict[str, Any]:
    return json.loads((schemas_dir / "argo-workflows.schema.json").read_text(encoding="utf-8"))


def validator(schema: dict[str, Any], kind: str) -> Any:
    from jsonschema import Draft202012Validator

    reference = {"$ref": f"#/definitions/io.argoproj.workflow.v1alpha1.{kind}", "definitions": schema["definitions"]}
    return Draft202012Validator(reference)


def schema_errors(schema: dict[str, Any], document: dict[str, Any]) -> list[str]:
    found = validator(schema, document["kind"]).iter_errors(document)
    return [f"{error.json_path}: {error.message}" for error in found]


def argo_projects(baked: dict[str, Path]) -> dict[str, Path]:
    return {key: project for key, project in baked.items() if key.startswith(f"{TEMPLATE}:")}


def load(project: Path, name: str) -> dict[str, Any]:
    return yaml.safe_load((project / "argo" / name).read_text(encoding="utf-8"))


def test_every_case_is_baked(baked: dict[str, Path], templates: list[Any]) -> None:
    (template,) = [item for item in templates if item.name == TEMPLATE]
    assert len(argo_projects(baked)) == len(valid_cases(template))


def test_argo_resources_match_argos_schema(baked: dict[str, Path], argo_schema: dict[str, Any]) -> None:
    for key, project in argo_projects(baked).items():
        for name, kind in RESOURCES.items():
            document = load(project, name)
            assert document["kind"] == kind, (key, name)
            assert schema_errors(argo_schema, document) == [], (key, name)


def test_the_schema_check_refuses_unquoted_integer_or_string_values(
    baked: dict[str, Path], argo_schema: dict[str, Any]
) -> None:
    document = load(baked[f"{TEMPLATE}:defaults"], "workflow-template.yaml")
    steps = [item for item in document["spec"]["templates"] if "retryStrategy" in item]
    unquoted = copy.deepcopy(document)
    unquoted["spec"]["templates"][document["spec"]["templates"].index(steps[0])]["retryStrategy"]["limit"] = 3
    misspelled = copy.deepcopy(document)
    misspelled["spec"]["activeDeadlineSeconds"] = "six hours"

    assert any("retryStrategy.limit" in error for error in schema_errors(argo_schema, unquoted))
    assert any("activeDeadlineSeconds" in error for error in schema_errors(argo_schema, misspelled))


def test_argo_expressions_survive_cookiecutter(baked: dict[str, Path]) -> None:
    for key, project in argo_projects(baked).items():
        template = (project / "argo" / "workflow-template.yaml").read_text(encoding="utf-8")
        found = {match.group(0) for match in ARGO_EXPRESSION.finditer(template)}
        assert {
            "{{workflow.status}}",
            "{{inputs.parameters.epochs}}",
            "{{tasks.ingest.outputs.artifacts.dataset}}",
        } <= found, key
        assert "cookiecutter" not in template and "{%" not in template, key


def test_the_leftover_jinja_rule_exempts_argo_files_quoted_or_not() -> None:
    for text in (
        'apiVersion: "argoproj.io/v1alpha1"\nkind: "Workflow"\n',
        "apiVersion: argoproj.io/v1alpha1\n",
        "kind: Workflow\napiVersion: 'argoproj.io/v1alpha1'\n",
    ):
        assert _is_argo(Path("argo/workflow.yaml"), text), text
    assert not _is_argo(Path("config/workload.yaml"), "apiVersion: carto.run/v1alpha1\nvalue: '{{x}}'\n")
    assert not _is_argo(Path("notes.md"), 'apiVersion: "argoproj.io/v1alpha1"\n')

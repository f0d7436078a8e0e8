"""Bake every template over its option matrix with pytest-cookies and check what comes out."""

from __future__ import annotations

import filecmp
import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.errors import AnswersError
from generator.manifest import Template, load_all
from generator.render import list_tree, render
from generator.validate import validate_project
from tests.matrix import Case, invalid_cases, valid_cases

TEMPLATES = load_all()
VALID = [(t, c) for t in TEMPLATES for c in valid_cases(t)]
INVALID = [(t, c) for t in TEMPLATES for c in invalid_cases(t)]


def _ids(pairs: list[tuple[Template, Case]]) -> list[str]:
    return [f"{template.name}:{case.id}" for template, case in pairs]


@pytest.mark.parametrize(("template", "case"), VALID, ids=_ids(VALID))
def test_baked_project_is_valid(baked: dict[str, Path], template: Template, case: Case) -> None:
    assert validate_project(baked[f"{template.name}:{case.id}"]) == []


@pytest.mark.parametrize(("template", "case"), VALID, ids=_ids(VALID))
def test_conditional_files_follow_their_conditions(baked: dict[str, Path], template: Template, case: Case) -> None:
    project = baked[f"{template.name}:{case.id}"]
    values = template.resolve(case.values)
    context = template.context(values)
    files = list_tree(project)
    for rule in template.files:
        pattern = rule.path.replace("{{cookiecutter.__package_name}}", str(context["package_name"]))
        pattern = pattern.replace("{{cookiecutter.project_name}}", str(context["project_name"]))
        present = any(fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/") for path in files)
        assert present == rule.condition.evaluate(values), f"{rule.path} when {rule.when}"


@pytest.mark.parametrize(("template", "case"), VALID, ids=_ids(VALID))
def test_tapml_new_equals_plain_cookiecutter(
    baked: dict[str, Path], template: Template, case: Case, tmp_path: Path
) -> None:
    ours = render(template, template.resolve(case.values), tmp_path / "ours")
    theirs = baked[f"{template.name}:{case.id}"]
    assert list_tree(ours) == list_tree(theirs)
    _, mismatch, errors = filecmp.cmpfiles(ours, theirs, list_tree(ours), shallow=False)
    assert mismatch == [] and errors == []


@pytest.mark.parametrize(("template", "case"), VALID, ids=_ids(VALID))
def test_answers_file_records_the_answers(baked: dict[str, Path], template: Template, case: Case) -> None:
    recorded = yaml.safe_load((baked[f"{template.name}:{case.id}"] / ".tapml-answers.yaml").read_text())
    assert recorded["template"] == template.name
    assert recorded["answers"] == template.resolve(case.values)


def test_workloads_match_the_cartographer_schema(baked: dict[str, Path], workload_validator: Any) -> None:
    for name, project in baked.items():
        workload = yaml.safe_load((project / "config" / "workload.yaml").read_text())
        errors = [f"{e.json_path}: {e.message}" for e in workload_validator.iter_errors(workload)]
        assert errors == [], name


def test_catalogs_pass_backstages_own_validator(baked: dict[str, Path], backstage_validate: Any) -> None:
    results = backstage_validate([project / "catalog" / "catalog-info.yaml" for project in baked.values()])
    failures = [result for result in results if not result["ok"]]
    assert failures == []
    assert {result["kind"] for result in results} >= {"Component"}


@pytest.mark.parametrize(("template", "case"), INVALID, ids=_ids(INVALID))
def test_invalid_values_fail_with_a_clear_message(cookies: Any, template: Template, case: Case) -> None:
    result = cookies.bake(template=str(template.directory), extra_context=dict(case.values))
    assert result.exit_code != 0 and result.project_path is None
    (name,) = case.values
    with pytest.raises(AnswersError, match=f"^invalid answers: {re.escape(name)}: "):
        template.resolve(case.values)


@pytest.mark.parametrize(
    ("case", "claim_options"),
    [
        ("cnn-trainer:defaults", []),
        ("cnn-trainer:data_source=postgres", ["db_claim"]),
        ("cnn-trainer:mlflow_claim=True", []),
    ],
)
def test_a_chosen_service_gets_a_service_claim(baked: dict[str, Path], case: str, claim_options: list[str]) -> None:
    template = next(t for t in TEMPLATES if t.name == case.split(":")[0])
    values = template.resolve(next(c.values for t, c in VALID if f"{t.name}:{c.id}" == case))
    expected = {str(values[name]) for name in claim_options} | ({"mlflow"} if values["mlflow_claim"] else set())
    workload = yaml.safe_load((baked[case] / "config" / "workload.yaml").read_text())
    found = {claim["ref"]["name"] for claim in workload["spec"].get("serviceClaims") or []}
    assert found == expected

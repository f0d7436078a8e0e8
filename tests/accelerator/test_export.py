"""The exported accelerator.yaml files: schema-valid, model-valid, TAP conventions, fresh, and CRs/CLI output."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft7Validator

from generator.accelerator.compile import SENTINEL, compile_template, free_texts
from generator.accelerator.export import ACCELERATORS_DIR, CATALOG_FILE, accelerator_files, stale_files
from generator.accelerator.model import ACCELERATOR_FILE, parse_document
from generator.build import generated_files
from generator.cli import main
from tests.support import REPO

from .conftest import TEMPLATES

DOCUMENTS = [Path(ACCELERATOR_FILE)] + [Path(ACCELERATORS_DIR) / t.name / ACCELERATOR_FILE for t in TEMPLATES]


def _load(exported: Path, rel: Path) -> dict[str, Any]:
    return yaml.safe_load((exported / rel).read_text(encoding="utf-8"))


@pytest.mark.parametrize("rel", DOCUMENTS, ids=str)
def test_accelerator_yaml_is_valid_against_schemastore(rel: Path, exported: Path,
                                                       accelerator_schema: dict[str, Any]) -> None:
    errors = sorted(Draft7Validator(accelerator_schema).iter_errors(_load(exported, rel)), key=lambda e: e.json_path)
    assert not errors, [f"{e.json_path}: {e.message}" for e in errors[:5]]


@pytest.mark.parametrize("rel", DOCUMENTS, ids=str)
def test_accelerator_yaml_follows_tap_conventions(rel: Path, exported: Path) -> None:
    document = parse_document(_load(exported, rel))
    meta = document.accelerator
    assert "accelerator" not in meta.displayName.lower()
    assert all(re.fullmatch(r"[a-z0-9+#]+(-[a-z0-9+#]+)*", tag) and len(tag) <= 63 for tag in meta.tags)
    names = [option.name for option in meta.options]
    assert len(names) == len(set(names))
    for option in meta.options:
        assert option.dataType == {"checkbox": "boolean"}.get(option.inputType, option.dataType)
        if option.validationRegex:
            assert option.validationRegex.startswith("^") and option.validationRegex.endswith("$")
        if option.dependsOn:
            assert option.dependsOn.name in names
        if option.choices:
            assert option.defaultValue in [choice.value for choice in option.choices]
    engine = _load(exported, rel)["engine"]
    assert engine["merge"][-1] == {"type": "Provenance"}, "each engine ends with Provenance"


def test_committed_accelerators_are_fresh() -> None:
    """`tapml build --check` would pass, and accelerators/ holds no stale file the build no longer writes."""
    expected = generated_files()
    stale = [str(path) for path, text in expected.items()
             if not (REPO / path).is_file() or (REPO / path).read_text(encoding="utf-8") != text]
    assert not stale, f"run `tapml build`: {stale[:5]}"
    extra = [str(path) for path in stale_files(REPO, expected)]
    assert not extra, f"delete files the build no longer writes: {extra[:5]}"


def test_sentinels_are_unique_and_never_prefixes() -> None:
    for template in TEMPLATES:
        tokens = [item.sentinel for item in free_texts(template)]
        assert len(set(tokens)) == len(tokens)
        assert not [(a, b) for a in tokens for b in tokens if a != b and b.startswith(a)]
        assert all(SENTINEL.fullmatch(token) for token in tokens)


def test_free_text_patterns_keep_jinja_delimiters_out() -> None:
    """cookiecutter renders answers as Jinja, TAP substitutes them verbatim: a pattern admitting `{{` breaks parity."""
    probes = ("{{x}}", "{%x%}", "{#x#}", "a {{ b }} c", "{{")
    for template in TEMPLATES:
        for name, option in template.options.items():
            if option.type == "string" and option.pattern:
                admitted = [p for p in probes if re.search(option.pattern, p)]
                assert not admitted, f"{template.name}.{name}: pattern admits {admitted}"


def test_project_name_maps_to_built_in_artifact_id(exported: Path) -> None:
    for template in TEMPLATES:
        document = parse_document(_load(exported, Path(ACCELERATORS_DIR) / template.name / ACCELERATOR_FILE))
        assert "projectName" not in [option.name for option in document.accelerator.options]
        assert any(item.expression == "#artifactId" for item in free_texts(template))


def test_root_options_show_only_for_their_template(exported: Path) -> None:
    document = parse_document(_load(exported, Path(ACCELERATOR_FILE)))
    options = {option.name: option for option in document.accelerator.options}
    assert [choice.value for choice in options["template"].choices] == [t.name for t in TEMPLATES]
    for template in TEMPLATES:
        compiled = compile_template(template)
        for option in compiled.options:
            root_name = next(name for name in options if name.lower().endswith(str(option["name"]).lower())
                             and name.startswith(template.name.split("-")[0]))
            chain = options[root_name].dependsOn
            while chain is not None and chain.name != "template":
                chain = options[chain.name].dependsOn
            assert chain is not None and chain.value == template.name, root_name


def test_catalog_info_is_a_backstage_component(exported: Path, backstage_validate: Any) -> None:
    results = backstage_validate([exported / CATALOG_FILE])
    assert all(result["ok"] for result in results), results


def test_build_producer_is_registered() -> None:
    files = generated_files()
    assert Path(ACCELERATOR_FILE) in files and Path(CATALOG_FILE) in files
    assert set(accelerator_files(TEMPLATES, REPO)) <= set(files)


def test_accelerator_manifests_command(tmp_path: Path) -> None:
    output = tmp_path / "crs.yaml"
    result = CliRunner().invoke(
        main, ["accelerator-manifests", "--git-url", "https://github.com/example/tapml.git", "--branch", "release",
               "-o", str(output)])
    assert result.exit_code == 0, result.stderr
    docs = list(yaml.safe_load_all(output.read_text(encoding="utf-8")))
    assert [d["metadata"]["name"] for d in docs] == ["tapml", *[t.name for t in TEMPLATES]]
    for doc in docs:
        assert doc["apiVersion"] == "accelerator.apps.tanzu.vmware.com/v1alpha1" and doc["kind"] == "Accelerator"
        assert doc["spec"]["git"]["url"] == "https://github.com/example/tapml.git"
        assert doc["spec"]["git"]["ref"] == {"branch": "release"}
    assert [d["spec"]["git"].get("subPath") for d in docs[1:]] == [f"accelerators/{t.name}" for t in TEMPLATES]
    lines = result.stdout.splitlines()
    assert lines[1] == ("tanzu accelerator create cnn-trainer --git-repository https://github.com/example/tapml.git "
                        "--git-branch release --git-sub-path accelerators/cnn-trainer") or len(TEMPLATES) == 0
    assert all(line.startswith("tanzu accelerator create ") for line in lines)


def test_accelerator_manifests_rejects_a_bad_url(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["accelerator-manifests", "--git-url", "not a url",
                                                       "-o", str(tmp_path / "x.yaml")])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "--git-url" in result.stderr

"""The exported accelerator.yaml files: schema-valid, model-valid, TAP conventions, fresh, and CRs/CLI output."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft7Validator

from generator.accelerator.compile import compile_template
from generator.accelerator.export import ACCELERATORS_DIR, CATALOG_FILE, accelerator_files, stale_files
from generator.accelerator.model import ACCELERATOR_FILE, parse_document
from generator.accelerator.names import OptionNames
from generator.accelerator.preview import Fragments, declared_options
from generator.build import generated_files
from generator.cli import main
from tests.support import REPO

from .conftest import TEMPLATES

DOCUMENTS = [Path(ACCELERATOR_FILE)] + [Path(ACCELERATORS_DIR) / t.name / ACCELERATOR_FILE for t in TEMPLATES]


def _load(exported: Path, rel: Path) -> dict[str, Any]:
    return yaml.safe_load((exported / rel).read_text(encoding="utf-8"))


@pytest.mark.parametrize("rel", DOCUMENTS, ids=str)
def test_accelerator_yaml_is_valid_against_schemastore(
    rel: Path, exported: Path, accelerator_schema: dict[str, Any]
) -> None:
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
    stale = [
        str(path)
        for path, text in expected.items()
        if not (REPO / path).is_file() or (REPO / path).read_text(encoding="utf-8") != text
    ]
    assert not stale, f"run `tapml build`: {stale[:5]}"
    extra = [str(path) for path in stale_files(TEMPLATES, REPO, expected)]
    assert not extra, f"delete files the build no longer writes: {extra[:5]}"


def test_every_placeholder_and_marker_in_a_stored_file_is_resolved_by_the_engine() -> None:
    for template in TEMPLATES:
        compiled = compile_template(template)
        text = "\n".join(content.decode("utf-8") for content in compiled.files.values())
        placeholders = set(re.findall(r"\[\[([A-Za-z][A-Za-z0-9]*)\]\]", text + " ".join(compiled.files)))
        known = {OptionNames(template).camel(name) for name in [*template.options, *template.derived]}
        assert placeholders <= known, placeholders - known
        labels = set(re.findall(r"\[\[if ([^\]]+)\]\]", text))
        assert labels == set(compiled.segments), "every marked segment has its drop transform"
        assert set(re.findall(r"\[\[end ([^\]]+)\]\]", text)) == labels


def test_project_name_is_tap_s_name_field_made_safe(exported: Path) -> None:
    for template in TEMPLATES:
        document = parse_document(_load(exported, Path(ACCELERATORS_DIR) / template.name / ACCELERATOR_FILE))
        assert "projectName" not in [option.name for option in document.accelerator.options]
        main = document.engine.merge[0]  # type: ignore[union-attr]
        assert [symbol.name for symbol in main.let][:2] == ["projectWords", "projectSlug"]
        assert "#projectName" in main.let[0].expression


def test_root_options_show_only_for_their_template(exported: Path) -> None:
    document = parse_document(_load(exported, Path(ACCELERATOR_FILE)))
    assert [o.name for o in document.accelerator.options] == ["template"]
    assert [choice.value for choice in document.accelerator.options[0].choices] == [t.name for t in TEMPLATES]
    assert [item.name for item in document.accelerator.imports] == [t.name for t in TEMPLATES]
    options = {o.name: o for o in declared_options(document, Fragments(exported))}
    for template in TEMPLATES:
        names = OptionNames(template)
        for option in compile_template(template).options:
            chain = options[names.prefixed(names.snake(option.name))].dependsOn
            while chain is not None and chain.name != "template":
                chain = options[chain.name].dependsOn
            assert chain is not None and chain.value == template.name, option.name


def test_catalog_info_is_a_backstage_component(exported: Path, backstage_validate: Any) -> None:
    results = backstage_validate([exported / CATALOG_FILE])
    assert all(result["ok"] for result in results), results


def test_build_producer_is_registered() -> None:
    files = generated_files()
    assert Path(ACCELERATOR_FILE) in files and Path(CATALOG_FILE) in files
    assert set(accelerator_files(TEMPLATES, REPO)[0]) <= set(files)


def test_accelerator_manifests_command(tmp_path: Path) -> None:
    output = tmp_path / "crs.yaml"
    result = CliRunner().invoke(
        main,
        [
            "accelerator-manifests",
            "--git-url",
            "https://github.com/example/tapml.git",
            "--branch",
            "release",
            "-o",
            str(output),
        ],
    )
    assert result.exit_code == 0, result.stderr
    docs = list(yaml.safe_load_all(output.read_text(encoding="utf-8")))
    names = [t.name for t in TEMPLATES]
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == (
        [("Fragment", name) for name in names] + [("Accelerator", "tapml")] + [("Accelerator", n) for n in names]
    )
    for doc in docs:
        assert doc["apiVersion"] == "accelerator.apps.tanzu.vmware.com/v1alpha1"
        assert doc["metadata"]["namespace"] == "accelerator-system"
        assert doc["spec"]["git"]["url"] == "https://github.com/example/tapml.git"
        assert doc["spec"]["git"]["ref"] == {"branch": "release"}
    sub_paths = [d["spec"]["git"].get("subPath") for d in docs if d["metadata"]["name"] != "tapml"]
    assert sub_paths == [f"accelerators/{name}" for name in names] * 2
    lines = result.stdout.splitlines()
    cnn = names.index("cnn-trainer")  # templates come in name order
    assert lines[cnn] == (
        "tanzu accelerator fragment create cnn-trainer --display-name 'CNN trainer' "
        "--git-repository https://github.com/example/tapml.git --git-branch release "
        "--git-sub-path accelerators/cnn-trainer"
    )
    assert lines[len(names) + 1 + cnn] == (
        "tanzu accelerator create cnn-trainer --git-repository "
        "https://github.com/example/tapml.git --git-branch release "
        "--git-sub-path accelerators/cnn-trainer"
    )
    assert [line.split()[2] for line in lines] == ["fragment"] * len(names) + ["create"] * (len(names) + 1)


def test_accelerator_manifests_rejects_a_bad_url(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["accelerator-manifests", "--git-url", "not a url", "-o", str(tmp_path / "x.yaml")]
    )
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "--git-url" in result.stderr

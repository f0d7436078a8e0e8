"""`tapml preview` as a command: option handling, one-line errors with exit 2, defaults, atomic output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator.accelerator.export import ACCELERATORS_DIR
from generator.cli import main

from .conftest import PROVENANCE_FILE, TEMPLATES

TEMPLATE = next(template for template in TEMPLATES if template.name == "cnn-trainer")  # its options below


def _preview(exported: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["preview", str(exported / ACCELERATORS_DIR / TEMPLATE.name), *args])
    return result.exit_code, result.stderr


def _first_regex_option(exported: Path) -> dict[str, object]:
    path = exported / ACCELERATORS_DIR / TEMPLATE.name / "accelerator.yaml"
    options = yaml.safe_load(path.read_text(encoding="utf-8"))["accelerator"]["options"]
    return next(o for o in options if o.get("validationRegex") and o.get("dataType", "string") == "string")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"noSuchOption": 1}', "unknown option 'noSuchOption'"),
        ('{"artifactId": "x"}', "derives it from projectName"),
        ('{"projectName": 7}', "projectName: expected text"),
        ('{"projectName": null}', "projectName: expected text"),
        ('{"epochs": null}', "epochs: expected number, got null"),
        ('{"augmentation": null}', "augmentation: expected boolean, got null"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(exported: Path, tmp_path: Path, options: str, message: str) -> None:
    code, stderr = _preview(exported, "--options", options, "-o", str(tmp_path / "out"))
    assert code == 2 and message in stderr and stderr.count("\n") == 1, stderr
    assert not (tmp_path / "out").exists()


def test_value_failing_validation_regex_gives_one_line(exported: Path, tmp_path: Path) -> None:
    option = _first_regex_option(exported)
    code, stderr = _preview(
        exported, "--options", json.dumps({option["name"]: '"{bad}" value'}), "-o", str(tmp_path / "out")
    )
    assert code == 2 and "does not match" in stderr and stderr.count("\n") == 1, stderr


def test_wrong_types_and_choices_are_reported(exported: Path, tmp_path: Path) -> None:
    path = exported / ACCELERATORS_DIR / TEMPLATE.name / "accelerator.yaml"
    options = yaml.safe_load(path.read_text(encoding="utf-8"))["accelerator"]["options"]
    bad: dict[str, object] = {}
    for option in options:
        if option.get("dataType") == "boolean":
            bad[option["name"]] = "yes"
        elif option.get("dataType") == "number":
            bad[option["name"]] = "32"
        elif option.get("choices"):
            bad[option["name"]] = "not-a-choice"
    code, stderr = _preview(exported, "--options", json.dumps(bad), "-o", str(tmp_path / "out"))
    assert code == 2 and stderr.count("\n") == 1
    assert stderr.count(";") == len(bad) - 1, "every problem is listed in the one line"


def test_options_file_and_exactly_one_source(exported: Path, tmp_path: Path) -> None:
    code, stderr = _preview(exported, "-o", str(tmp_path / "out"))
    assert code == 2 and "exactly one" in stderr
    code, stderr = _preview(exported, "--options-file", str(tmp_path / "missing.json"), "-o", str(tmp_path / "o"))
    assert code == 2 and "cannot read" in stderr


def test_defaults_apply_and_project_name_defaults_to_the_accelerator_name(exported: Path, tmp_path: Path) -> None:
    code, stderr = _preview(exported, "--options", "{}", "-o", str(tmp_path / "out"))
    assert code == 0, stderr
    info = yaml.safe_load((tmp_path / "out" / PROVENANCE_FILE).read_text(encoding="utf-8"))
    values = {item["name"]: item["value"] for item in info["options"]}
    assert values["projectName"] == TEMPLATE.name
    for name, option in TEMPLATE.options.items():
        camel = name.split("_")[0] + "".join(p.title() for p in name.split("_")[1:])
        if camel in values and camel != "projectName":
            assert values[camel] == option.default


def test_existing_output_is_kept_unless_forced(exported: Path, tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("mine", encoding="utf-8")
    code, stderr = _preview(exported, "--options", "{}", "-o", str(target))
    assert code == 2 and "exists" in stderr and (target / "keep.txt").read_text(encoding="utf-8") == "mine"
    code, _ = _preview(exported, "--options", "{}", "-o", str(target), "--force")
    assert code == 0 and not (target / "keep.txt").exists()
    assert not [p for p in tmp_path.iterdir() if "staging" in p.name], "staging directory left behind"


def test_integer_options_render_without_decimals(exported: Path, tmp_path: Path) -> None:
    integers = [name for name, option in TEMPLATE.options.items() if option.type == "integer"]
    if not integers:
        pytest.skip("template has no integer option")
    name = integers[0]
    option = TEMPLATE.options[name]
    value = option.max if option.max is not None else 12345
    camel = name.split("_")[0] + "".join(p.title() for p in name.split("_")[1:])
    code, stderr = _preview(exported, "--options", json.dumps({camel: value}), "-o", str(tmp_path / "out"))
    assert code == 0, stderr
    answers = (tmp_path / "out" / ".tapml-answers.yaml").read_text(encoding="utf-8")
    assert f"{name}: {value}\n" in answers


@pytest.mark.parametrize(
    ("name", "slug", "package"),
    [
        ("My Project", "my-project", "my_project"),
        ("class", "class", "class_app"),
        ("mlflow", "mlflow", "mlflow_app"),
        ("  42 Ünïcode--Name__x ", "n-code-name-x", "n_code_name_x"),
        ("", "app", "app"),
        ("tests", "tests", "tests_app"),
        ("a" * 45 + "-b", "a" * 40, "a" * 40),
    ],
)
def test_any_name_typed_into_tap_gives_a_valid_project(
    exported: Path, tmp_path: Path, name: str, slug: str, package: str
) -> None:
    code, stderr = _preview(exported, "--options", json.dumps({"projectName": name}), "-o", str(tmp_path / "out"))
    assert code == 0, stderr
    workload = yaml.safe_load((tmp_path / "out" / "config" / "workload.yaml").read_text(encoding="utf-8"))
    assert workload["metadata"]["name"] == slug
    assert (tmp_path / "out" / "src" / package).is_dir()


def test_preview_validates_its_output_like_tapml_new(tmp_path: Path) -> None:
    accelerator = tmp_path / "acc"
    (accelerator / "config").mkdir(parents=True)
    (accelerator / "accelerator.yaml").write_text("accelerator: {displayName: x, description: x}\n", encoding="utf-8")
    (accelerator / "config" / "workload.yaml").write_text("kind: Workload\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["preview", str(accelerator), "--options", "{}", "-o", str(tmp_path / "out")])
    assert result.exit_code == 1 and "README.md: missing" in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()
    result = CliRunner().invoke(
        main, ["preview", str(accelerator), "--options", "{}", "-o", str(tmp_path / "out"), "--no-validate"]
    )
    assert result.exit_code == 0, result.stderr


def test_a_broken_cross_field_rule_stops_generation_in_every_channel(exported: Path, tmp_path: Path) -> None:
    function = next(t for t in TEMPLATES if t.rules)
    result = CliRunner().invoke(
        main,
        [
            "preview",
            str(exported / ACCELERATORS_DIR / function.name),
            "--options",
            json.dumps({"minScale": 5, "maxScale": 2}),
            "-o",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 2 and "min_scale <= max_scale" in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()
    result = CliRunner().invoke(
        main,
        [
            "new",
            function.name,
            "--no-input",
            "--set",
            "min_scale=5",
            "--set",
            "max_scale=2",
            "-o",
            str(tmp_path / "new"),
        ],
    )
    assert result.exit_code == 2 and "min_scale (5) must not exceed max_scale (2)" in result.stderr

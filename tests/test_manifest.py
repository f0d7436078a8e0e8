"""The template model and its expression language: one meaning in Python, Jinja and SpEL."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import jinja2
import pytest
import yaml

from generator.cookiecutter_files import cookiecutter_json, cookiecutter_key
from generator.errors import ExpressionError, ManifestError
from generator.expressions import Condition
from generator.manifest import load_all, parse_manifest
from generator.names import PROJECT_NAME_PATTERN

TEMPLATES = load_all()
GRID = {"source": ["digits", "folder", "postgres"], "flag": [True, False], "other": [True, False]}
CONDITIONS = [
    "source == 'digits' or not flag and other",
    "source == 'postgres'",
    "source != 'digits' and flag",
    "not flag or other",
    "source in ('folder', 'postgres') and not (flag and other)",
    "source not in ['digits']",
]


@pytest.mark.parametrize("source", CONDITIONS)
def test_jinja_compilation_agrees_with_python_evaluation(source: str) -> None:
    condition = Condition.parse(source)
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        "{% if " + condition.to_jinja() + " %}yes{% else %}no{% endif %}"
    )
    for combo in itertools.product(*GRID.values()):
        values = dict(zip(GRID, combo))
        expected = "yes" if condition.evaluate(values) else "no"
        assert template.render(cookiecutter=values) == expected, values


def test_spel_compilation_uses_camel_case_symbols() -> None:
    condition = Condition.parse("data_source in ('folder', 'postgres') and not use_gpu")
    symbol = lambda name: "#" + name.split("_")[0] + "".join(p.title() for p in name.split("_")[1:])  # noqa: E731
    assert condition.to_spel(symbol) == "{'folder', 'postgres'}.contains(#dataSource) && !#useGpu"


@pytest.mark.parametrize(
    "source",
    [*CONDITIONS, "not (flag or other)", "not source == 'digits' or flag and other", "(flag or other) and not other"],
)
def test_spel_compilation_keeps_the_meaning_with_fewer_parentheses(source: str) -> None:
    from generator.accelerator.spel import evaluate

    condition = Condition.parse(source)
    spel = condition.to_spel(lambda name: "#" + name)
    for combo in itertools.product(*GRID.values()):
        values = dict(zip(GRID, combo))
        assert evaluate(spel, values) is condition.evaluate(values), (spel, values)


@pytest.mark.parametrize("source", ["__import__('os')", "a.b == 1", "f(x)", "a + b", "1 == 1 == 1", "x +"])
def test_conditions_outside_the_subset_are_rejected(source: str) -> None:
    with pytest.raises(ExpressionError):
        Condition.parse(source)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_derived_values_render_the_same_in_jinja_and_python(template) -> None:
    values = template.defaults()
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    for name, derived in template.derived.items():
        assert env.from_string(derived.to_jinja()).render(cookiecutter=values) == template.context(values)[name]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_cookiecutter_json_mirrors_the_manifest(template) -> None:
    config = json.loads(cookiecutter_json(template))
    for name, option in template.options.items():
        value = config[name]
        if option.type == "choice":
            assert value[0] == option.default and sorted(value) == sorted(option.choice_values)
        else:
            assert value == option.default
        assert name in config["__prompts__"]
    for name in template.derived:
        assert cookiecutter_key(template, name) in config


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_every_template_file_reference_is_known(template) -> None:
    """Each `cookiecutter.X` used in the template is an option, a derived value or a tapml constant."""
    known = set(template.options) | {cookiecutter_key(template, n) for n in template.derived}
    known |= set(template.constants())
    used = set()
    for path in template.project_dir.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="ignore") + str(path.relative_to(template.directory))
            used |= set(__import__("re").findall(r"cookiecutter\.([A-Za-z_][A-Za-z0-9_]*)", text))
    assert used - known == set()


PROJECT = {"type": "string", "label": "n", "default": "a", "pattern": PROJECT_NAME_PATTERN}
BASE = {"name": "t", "display_name": "T", "description": "d", "tags": ["x"], "options": {"project_name": PROJECT}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"options": {"project_name": {"type": "string", "label": "n", "default": "a", "pattern": "[a-z]+"}}},
            "anchored",
        ),
        ({"options": {"project_name": {**PROJECT, "default": "A1"}}}, "does not match"),
        ({"options": {"project_name": {**PROJECT, "pattern": "^[a-z]+$"}}}, "one naming rule"),
        (
            {"options": {"name": {"type": "string", "label": "n", "default": "a", "pattern": "^[a-z]+$"}}},
            "project_name",
        ),
        ({"tags": ["Bad Tag"]}, "lower-case"),
        ({"files": [{"path": "x.py", "when": "missing == 'y'"}]}, "unknown option"),
        ({"options": {**BASE["options"], "free": {"type": "string", "label": "f", "default": "x"}}}, "needs a pattern"),
        ({"options": {**BASE["options"], "n": {"type": "integer", "label": "n", "default": "5"}}}, "not a integer"),
        (
            {
                "options": {
                    **BASE["options"],
                    "c": {"type": "choice", "label": "c", "default": "z", "choices": [{"value": "a", "text": "A"}]},
                }
            },
            "not one of the choices",
        ),
        ({"unexpected": 1}, "Extra inputs"),
        (
            {"options": {**BASE["options"], "n": {"type": "integer", "label": "n", "default": 5, "min": 1}}},
            "both min and max",
        ),
        (
            {"options": {**BASE["options"], "n": {"type": "integer", "label": "n", "default": 50, "min": 1, "max": 9}}},
            "outside 1..9",
        ),
        (
            {
                "options": {
                    **BASE["options"],
                    "c": {"type": "choice", "label": "c", "default": "a b", "choices": [{"value": "a b", "text": "A"}]},
                }
            },
            "should match pattern",
        ),
        (
            {
                "options": {
                    **BASE["options"],
                    "free": {"type": "string", "label": "f", "default": "x", "pattern": "^.+$"},
                }
            },
            "must refuse",
        ),
        ({"rules": [{"check": "nope > 1", "message": "m"}]}, "unknown option"),
        ({"rules": [{"check": "project_name == 'b'", "message": "m"}]}, "the defaults break rule"),
        ({"rules": [{"check": "project_name == 'a'", "message": "{missing}"}]}, "names an unknown value"),
    ],
)
def test_bad_manifests_are_rejected_naming_the_file(tmp_path: Path, change: dict, message: str) -> None:
    manifest = tmp_path / "tapml.yaml"
    manifest.write_text(yaml.safe_dump({**BASE, **change}))
    with pytest.raises(ManifestError) as raised:
        parse_manifest(manifest)
    assert str(manifest) in str(raised.value) and message in str(raised.value)

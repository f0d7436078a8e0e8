"""Compiling small templates written in the test: every construct we support, and every one we refuse."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from generator.accelerator.export import ACCELERATORS_DIR, accelerator_files
from generator.accelerator.preview import preview
from generator.build import cookiecutter_files
from generator.errors import CompileError
from generator.manifest import PROJECT_DIR, Template, parse_manifest
from generator.render import render_to

from .conftest import PROVENANCE_FILE, read_tree

MANIFEST = """\
name: demo
display_name: Demo
description: A test template.
tags: [python]
options:
  project_name: {type: string, label: Name, default: demo-app, pattern: '^[a-z][-a-z0-9]*$', required: true}
  title: {type: string, label: Title, default: Hello, pattern: '^[^{}]+$'}
  size: {type: integer, label: Size, default: 32, min: 1, max: 999}
  fancy: {type: boolean, label: Fancy, default: true}
  mode: {type: choice, label: Mode, default: a,
         choices: [{value: a, text: A}, {value: b, text: B}, {value: c, text: C}]}
derived:
  module: {from: project_name, transforms: [{replace: ['-', '_']}, upper: null]}
files:
  - {path: 'extra_{{cookiecutter.__module}}.txt', when: "mode != 'a' and fancy"}
  - {path: 'docs', when: "not fancy"}
copy_without_render: ['static/*']
"""

FILES = {
    "README.md": "# {{ cookiecutter.title }} ({{ cookiecutter.project_name }})\n{% if cookiecutter.fancy %}"
                 "Fancy {{ cookiecutter.size }}px!\n{% endif %}Mode: {{ cookiecutter.mode }}\n",
    "src/{{cookiecutter.__module}}/size_{{cookiecutter.size}}.py": "SIZE = {{ cookiecutter.size }}\n",
    "src/{{cookiecutter.__module}}/{% if cookiecutter.mode == 'b' %}b_only.py{% endif %}": "B\n",
    "extra_{{cookiecutter.__module}}.txt": "extra for {{ cookiecutter.title }}\n",
    "docs/guide.md": "guide {% if cookiecutter.mode == 'c' %}C{% else %}not C{% endif %}\n",
    "static/raw.txt": "{{ cookiecutter.title }} stays verbatim\n",
    "{% raw %}t.txt{% endraw %}": "constants: {{ cookiecutter._tapml_template }}\n",
}


def make_template(root: Path, files: dict[str, str], manifest: str = MANIFEST) -> Template:
    """Write a template (manifest, files, generated cookiecutter.json and hooks) under `root/templates`."""
    directory = root / "templates" / "demo"
    (directory / PROJECT_DIR).mkdir(parents=True)
    (directory / "tapml.yaml").write_text(manifest, encoding="utf-8")
    for rel, text in files.items():
        (directory / PROJECT_DIR / rel).parent.mkdir(parents=True, exist_ok=True)
        (directory / PROJECT_DIR / rel).write_text(text, encoding="utf-8")
    template = parse_manifest(directory / "tapml.yaml")
    for path, text in cookiecutter_files([template], root).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return template


def export(template: Template, root: Path) -> Path:
    for path, text in accelerator_files([template], root).items():
        (root / "out" / path).parent.mkdir(parents=True, exist_ok=True)
        (root / "out" / path).write_text(text, encoding="utf-8", newline="\n")
    return root / "out" / ACCELERATORS_DIR / template.name


@pytest.mark.parametrize("values", [
    {}, {"fancy": False}, {"mode": "b"}, {"mode": "c", "fancy": False},
    {"project_name": "x-y-z", "title": "It's $1 & \\ ü", "size": 7, "mode": "b"},
])
def test_every_supported_construct_round_trips(tmp_path: Path, values: dict[str, object]) -> None:
    template = make_template(tmp_path, FILES)
    accelerator = export(template, tmp_path)
    resolved = template.resolve(values)
    expected = read_tree(render_to(template, resolved, tmp_path / "new"))
    options = {"projectName": resolved["project_name"], **{k: v for k, v in values.items() if k != "project_name"}}
    actual = read_tree(preview(accelerator, options, tmp_path / "preview"))
    del actual[PROVENANCE_FILE]
    assert actual == expected
    assert actual["static/raw.txt"] == b"{{ cookiecutter.title }} stays verbatim\n"


@pytest.mark.parametrize(("text", "line", "message"), [
    ("a\n{{ cookiecutter.title | upper }}\n", 2, "filter"),
    ("a\nb\n{% if cookiecutter.title == 'x' %}x{% endif %}\n", 3, "branch"),
    ("{% for c in cookiecutter.project_name %}{{ c }}{% endfor %}\n", 1, "branch"),
    ("{{ cookiecutter.size + 1 }}\n", 1, "expression"),
    ("{% set t = cookiecutter.title %}{{ t }}\n", 1, "free-text"),
    ("{{ cookiecutter.__module.lower() }}\n", 1, "free-text"),
    ("{{ cookiecutter | tojson }}\n", 1, "whole cookiecutter"),
    ("{% include 'other.txt' %}\n", 1, "include"),
])
def test_uncompilable_constructs_fail_with_file_line_and_fix(tmp_path: Path, text: str, line: int,
                                                             message: str) -> None:
    template = make_template(tmp_path, {"bad.txt": text})
    with pytest.raises(CompileError, match=message) as caught:
        accelerator_files([template], tmp_path)
    assert f"bad.txt:{line}:" in str(caught.value)
    assert caught.value.hint


def test_reserved_sentinel_word_in_a_template_is_refused(tmp_path: Path) -> None:
    template = make_template(tmp_path, {"x.txt": "TAPMLSENTINEL0001X\n"})
    with pytest.raises(CompileError, match="reserved"):
        accelerator_files([template], tmp_path)


def test_display_name_and_names_follow_tap_rules(tmp_path: Path) -> None:
    clash = MANIFEST.replace("  fancy:", "  artifact_id: {type: boolean, label: A, default: true}\n  fancy:")
    template = make_template(tmp_path, {"x.txt": "x\n"}, clash)
    with pytest.raises(CompileError, match="artifactId"):
        accelerator_files([template], tmp_path)


def test_display_name_must_not_say_accelerator(tmp_path: Path) -> None:
    manifest = MANIFEST.replace("display_name: Demo", "display_name: Demo Accelerator")
    template = make_template(tmp_path, {"x.txt": "x\n"}, manifest)
    with pytest.raises(CompileError, match="accelerator"):
        accelerator_files([template], tmp_path)


def test_variants_are_grouped_and_only_referenced_options_vary(tmp_path: Path) -> None:
    template = make_template(tmp_path, {"one.txt": textwrap.dedent("""\
        {% if cookiecutter.mode in ['a', 'b'] %}ab{% else %}c{% endif %}
        """), "plain.txt": "{{ cookiecutter.title }}\n"})
    accelerator = export(template, tmp_path)
    stored = sorted(p.relative_to(accelerator).as_posix() for p in accelerator.rglob("*") if p.is_file())
    assert len([p for p in stored if p.endswith("one.txt")]) == 2  # 3 mode values, 2 distinct outputs
    assert "plain.txt" in stored
    engine = yaml.safe_load((accelerator / "accelerator.yaml").read_text(encoding="utf-8"))["engine"]
    conditions = {child.get("condition") for child in engine["merge"][0]["merge"]}
    assert {"(#mode == 'a') || (#mode == 'b')", "#mode == 'c'"} <= conditions


@pytest.mark.parametrize("mode", ["a", "b", "c"])
def test_a_printed_choice_is_substituted_and_a_branched_one_varies(tmp_path: Path, mode: str) -> None:
    files = {"printed.txt": "mode {{ cookiecutter.mode }}\n",
             "both.txt": "mode {{ cookiecutter.mode }}{% if cookiecutter.mode == 'b' %} (b){% endif %}\n"}
    template = make_template(tmp_path, files)
    accelerator = export(template, tmp_path)
    stored = sorted(p.relative_to(accelerator).as_posix() for p in accelerator.rglob("*") if p.is_file())
    assert stored.count("printed.txt") == 1 and not any(p.endswith("/printed.txt") for p in stored)
    assert len([p for p in stored if p.endswith("/both.txt")]) == 3
    engine = yaml.safe_load((accelerator / "accelerator.yaml").read_text(encoding="utf-8"))["engine"]
    replaced = [pair for step in engine["merge"][0]["chain"] if step.get("applyTo")
                for transform in step["transformations"] for pair in transform["substitutions"]]
    assert [pair["with"] for pair in replaced].count("#mode") == 1

    expected = read_tree(render_to(template, template.resolve({"mode": mode}), tmp_path / "new"))
    actual = read_tree(preview(accelerator, {"projectName": "demo-app", "mode": mode}, tmp_path / "preview"))
    del actual[PROVENANCE_FILE]
    assert actual == expected
    assert actual["printed.txt"] == f"mode {mode}\n".encode()

"""Compiling small templates written in the test: every construct we support, and every one we refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

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
  project_name: {type: string, label: Name, default: demo-app, pattern: '^(?=.{1,40}$)[a-z][a-z0-9]*(-[a-z0-9]+)*$',
                 required: true}
  title: {type: string, label: Title, default: Hello, pattern: '^[^{}\\[\\]]+$'}
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
    "nested.txt": "{% if cookiecutter.fancy %}F{% if cookiecutter.mode == 'b' %}B{% else %}notB{% endif %}"
    "{% if cookiecutter.fancy %}again{% endif %}{% endif %}\n{{ cookiecutter.fancy }}"
    " {{ 'x' if cookiecutter.mode == 'c' else 'y' }} {{ cookiecutter.mode | upper }}\n",
    "blocks.py": (
        "import os\n{%- if cookiecutter.fancy %}\nFANCY = True\n{%- endif %}\nSIZE = {{ cookiecutter.size }}\n"
    ),
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
    for path, text in cookiecutter_files([template], root)[0].items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return template


def export(template: Template, root: Path) -> Path:
    files, _ = accelerator_files([template], root)
    for path, text in files.items():
        (root / "out" / path).parent.mkdir(parents=True, exist_ok=True)
        (root / "out" / path).write_text(text, encoding="utf-8", newline="\n")
    return root / "out" / ACCELERATORS_DIR / template.name


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"fancy": False},
        {"mode": "b"},
        {"mode": "c", "fancy": False},
        {"project_name": "x-y-z", "title": "It's $1 & \\ ü", "size": 7, "mode": "b"},
    ],
)
def test_every_supported_construct_round_trips(tmp_path: Path, values: dict[str, object]) -> None:
    template = make_template(tmp_path, FILES)
    accelerator = export(template, tmp_path)
    resolved = template.resolve(values)
    expected = read_tree(render_to(template, resolved, tmp_path / "new"))
    options = {"projectName": resolved["project_name"], **{k: v for k, v in values.items() if k != "project_name"}}
    actual = read_tree(preview(accelerator, options, tmp_path / "preview", validate=False))
    del actual[PROVENANCE_FILE]
    assert actual == expected
    assert actual["static/raw.txt"] == b"{{ cookiecutter.title }} stays verbatim\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a\n{{ cookiecutter.title | upper }}\n", 2, "filter"),
        ("a\nb\n{% if cookiecutter.title == 'x' %}x{% endif %}\n", 3, "branch"),
        ("{% for c in cookiecutter.project_name %}{{ c }}{% endfor %}\n", 1, "branch"),
        ("{{ cookiecutter.size + 1 }}\n", 1, "expression"),
        ("{% set t = cookiecutter.title %}{{ t }}\n", 1, "free-text"),
        ("{{ cookiecutter.__module.lower() }}\n", 1, "free-text"),
        ("{{ cookiecutter | tojson }}\n", 1, "whole cookiecutter"),
        ("{% include 'other.txt' %}\n", 1, "include"),
    ],
)
def test_uncompilable_constructs_fail_with_file_line_and_fix(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    template = make_template(tmp_path, {"bad.txt": text})
    with pytest.raises(CompileError, match=message) as caught:
        accelerator_files([template], tmp_path)
    assert f"bad.txt:{line}:" in str(caught.value)
    assert caught.value.hint


@pytest.mark.parametrize("text", ["[[if x]]\n", "a [[title]] b\n", "TAPMLPH_x_\n"])
def test_placeholder_and_marker_syntax_in_a_template_is_refused(tmp_path: Path, text: str) -> None:
    template = make_template(tmp_path, {"x.txt": text})
    with pytest.raises(CompileError, match="reserve"):
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


def _stored(accelerator: Path) -> list[str]:
    return sorted(p.relative_to(accelerator).as_posix() for p in accelerator.rglob("*") if p.is_file())


def test_each_file_is_stored_once_with_readable_placeholders_and_markers(tmp_path: Path) -> None:
    template = make_template(tmp_path, FILES)
    accelerator = export(template, tmp_path)
    stored = _stored(accelerator)
    assert not [p for p in stored if p.startswith(".tapml-variants")]
    assert "src/[[module]]/size_[[size]].py" in stored and "extra_[[module]].txt" in stored
    blocks = (accelerator / "blocks.py").read_text(encoding="utf-8")
    assert blocks == "import os\n[[if #fancy]]FANCY = True\n[[end #fancy]]SIZE = [[size]]\n"
    nested = (accelerator / "nested.txt").read_text(encoding="utf-8")
    assert "[[if #mode == 'b']]B[[end #mode == 'b']][[if #mode != 'b']]notB[[end #mode != 'b']]" in nested
    assert nested.count("[[if #fancy]]") == 2, "the inner `if fancy` is inside the outer one: not marked again"


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"fancy": False},
        {"mode": "b"},
        {"mode": "c", "fancy": False},
        {"mode": "c"},
        {"project_name": "x-y-z", "title": "It's $1 & \\ ü [[if #fancy]]", "size": 7, "mode": "b"},
    ],
)
def test_markers_never_reach_the_output(tmp_path: Path, values: dict[str, object]) -> None:
    template = make_template(
        tmp_path, {**FILES, "title.txt": "{{ cookiecutter.title }}\n"} if "title" in values else FILES
    )
    accelerator = export(template, tmp_path)
    resolved = template.resolve({k: v for k, v in values.items() if k != "title"})
    resolved["title"] = str(values.get("title", resolved["title"]))
    options = {"projectName": resolved["project_name"], **{k: v for k, v in values.items() if k != "project_name"}}
    if "[[" in str(values.get("title", "")):
        # a value may never be read as a marker: the template's pattern refuses it, and so does preview
        with pytest.raises(Exception, match="does not match"):
            preview(accelerator, options, tmp_path / "preview", validate=False)
        return
    actual = read_tree(preview(accelerator, options, tmp_path / "preview", validate=False))
    assert not [path for path, data in actual.items() if b"[[" in data or "[[" in path]


def test_a_file_that_cannot_carry_markers_becomes_variants_and_the_build_says_why(tmp_path: Path) -> None:
    files = {"set.txt": "{% set x = cookiecutter.fancy %}{% if x %}yes{% else %}no{% endif %}\n"}
    template = make_template(tmp_path, files)
    _, notes = accelerator_files([template], tmp_path)
    assert len(notes) == 1 and "set.txt" in notes[0] and "2 whole-file variants" in notes[0] and "assign" in notes[0]
    accelerator = export(template, tmp_path)
    for fancy in (True, False):
        expected = read_tree(render_to(template, template.resolve({"fancy": fancy}), tmp_path / f"new{fancy}"))
        actual = read_tree(
            preview(
                accelerator, {"projectName": "demo-app", "fancy": fancy}, tmp_path / f"preview{fancy}", validate=False
            )
        )
        del actual[PROVENANCE_FILE]
        assert actual == expected


def _lines(accelerator: Path) -> int:
    return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in accelerator.rglob("*") if p.is_file())


def test_a_new_boolean_option_costs_lines_in_proportion_to_the_lines_it_changes(tmp_path: Path) -> None:
    body = "".join(f"line {i}\n" for i in range(300))
    before = make_template(tmp_path / "before", {"big.txt": body, "other.txt": body})
    manifest = MANIFEST.replace("  fancy:", "  extra: {type: boolean, label: Extra, default: false}\n  fancy:")
    changed = body.replace("line 150\n", "{% if cookiecutter.extra %}extra line\n{% endif %}line 150\n")
    after = make_template(tmp_path / "after", {"big.txt": changed, "other.txt": body}, manifest)
    grown = _lines(export(after, tmp_path / "after")) - _lines(export(before, tmp_path / "before"))
    assert 0 < grown <= 12, f"one boolean used on one line grew the accelerator by {grown} lines"


@pytest.mark.parametrize("mode", ["a", "b", "c"])
def test_a_printed_choice_is_substituted_and_a_branched_one_is_marked(tmp_path: Path, mode: str) -> None:
    files = {
        "printed.txt": "mode {{ cookiecutter.mode }}\n",
        "both.txt": "mode {{ cookiecutter.mode }}{% if cookiecutter.mode == 'b' %} (b){% endif %}\n",
    }
    template = make_template(tmp_path, files)
    accelerator = export(template, tmp_path)
    assert (accelerator / "printed.txt").read_text(encoding="utf-8") == "mode [[mode]]\n"
    assert (accelerator / "both.txt").read_text(
        encoding="utf-8"
    ) == "mode [[mode]][[if #mode == 'b']] (b)[[end #mode == 'b']]\n"
    expected = read_tree(render_to(template, template.resolve({"mode": mode}), tmp_path / "new"))
    actual = read_tree(
        preview(accelerator, {"projectName": "demo-app", "mode": mode}, tmp_path / "preview", validate=False)
    )
    del actual[PROVENANCE_FILE]
    assert actual == expected
    assert actual["printed.txt"] == f"mode {mode}\n".encode()

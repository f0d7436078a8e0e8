"""`tapml preview` of the exported accelerators equals `tapml new` byte for byte, for every template and case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.accelerator.export import ACCELERATORS_DIR
from generator.accelerator.preview import preview
from generator.cli import main
from generator.manifest import Template
from generator.render import render_to
from tests.matrix import Case, valid_cases

from .conftest import PROVENANCE_FILE, TEMPLATES, accelerator_options, read_tree

CASES = [(t, c) for t in TEMPLATES for c in valid_cases(t)]
IDS = [f"{t.name}:{c.id}" for t, c in CASES]


def _reference(template: Template, case: Case, tmp_path: Path) -> dict[str, bytes]:
    project = render_to(template, template.resolve(case.values), tmp_path / "new")
    return read_tree(project)


def _previewed(directory: Path, options: dict[str, object], target: Path) -> dict[str, bytes]:
    files = read_tree(preview(directory, options, target))
    assert PROVENANCE_FILE in files, "the engine must end with Provenance"
    del files[PROVENANCE_FILE]
    return files


def _assert_same(expected: dict[str, bytes], actual: dict[str, bytes]) -> None:
    assert sorted(actual) == sorted(expected)
    different = [path for path in expected if expected[path] != actual[path]]
    assert not different, f"contents differ: {different}"


@pytest.mark.parametrize(("template", "case"), CASES, ids=IDS)
def test_template_accelerator_matches_tapml_new(template: Template, case: Case, tmp_path: Path, exported: Path) -> None:
    expected = _reference(template, case, tmp_path)
    options = accelerator_options(template, case.values)
    _assert_same(expected, _previewed(exported / ACCELERATORS_DIR / template.name, options, tmp_path / "preview"))


ROOT_CASES = [
    (t, c) for t in TEMPLATES for c in valid_cases(t) if c.id in ("defaults", "odd-free-text", "all-booleans-flipped")
]


@pytest.mark.parametrize(("template", "case"), ROOT_CASES, ids=[f"{t.name}:{c.id}" for t, c in ROOT_CASES])
def test_root_accelerator_matches_tapml_new(template: Template, case: Case, tmp_path: Path, exported: Path) -> None:
    expected = _reference(template, case, tmp_path)
    options = accelerator_options(template, case.values, root=True)
    _assert_same(expected, _previewed(exported, options, tmp_path / "preview"))


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.name for t in TEMPLATES])
def test_cli_preview_matches_cli_new(template: Template, tmp_path: Path, exported: Path) -> None:
    case = valid_cases(template)[1]
    options = tmp_path / "options.json"
    options.write_text(json.dumps(accelerator_options(template, case.values)), encoding="utf-8")
    runner = CliRunner()
    sets = [f"--set={name}={value}" for name, value in case.values.items()]
    made = runner.invoke(main, ["new", template.name, "--no-input", *sets, "-o", str(tmp_path / "new")])
    assert made.exit_code == 0, made.output
    accelerator = exported / ACCELERATORS_DIR / template.name
    shown = runner.invoke(
        main, ["preview", str(accelerator), "--options-file", str(options), "-o", str(tmp_path / "preview")]
    )
    assert shown.exit_code == 0, shown.output
    actual = read_tree(tmp_path / "preview")
    del actual[PROVENANCE_FILE]
    _assert_same(read_tree(tmp_path / "new"), actual)


def test_matrix_covers_every_choice_and_boolean() -> None:
    for template in TEMPLATES:
        cases = valid_cases(template)
        for name, option in template.options.items():
            seen = {template.resolve(case.values)[name] for case in cases}
            if option.type == "choice":
                assert seen == set(option.choice_values), name
            elif option.type == "boolean":
                assert seen == {True, False}, name
            else:
                assert len(seen) >= 2, f"{template.name}.{name}: no non-default value in the matrix"

"""Project names: one rule for every channel, and TAP's free Name field derived to the same names."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from generator.accelerator.compile import compile_template
from generator.accelerator.spel import evaluate
from generator.manifest import load_all
from generator.names import (
    PROJECT_ENTRIES,
    RESERVED,
    THIRD_PARTY,
    is_project_name,
    name_problems,
    package_name,
    project_slug,
)

TEMPLATES = load_all()
HOSTILE = [
    "My Project",
    "class",
    "import",
    "mlflow",
    "Keras",
    "tests",
    "json",
    "--x--",
    "9lives",
    "",
    " ",
    "ÄÖÜ",
    "İstanbul",
    "a" * 80,
    "x_y_z",
    "UPPER-case",
    "name.with.dots",
    "über-model",
    "a--b",
    "-a-",
    "a-",
    "app",
    "dígits cnn",
    "\t\ttabs\n",
    "Ⅻ roman",
    "ｆｕｌｌｗｉｄｔｈ",
    "emoji 🚀 model",
    "con",
    "src",
]


def _random_names(count: int) -> list[str]:
    rng = random.Random(20261130)
    alphabet = "abcxyz019-_ .AZÄé🚀\t"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 50))) for _ in range(count)]


NAMES = HOSTILE + _random_names(300)


def _spel(template_name: str) -> dict[str, str]:
    template = next(t for t in TEMPLATES if t.name == template_name)
    main = compile_template(template).engine.merge[0]  # type: ignore[index]
    return {symbol.name: symbol.expression for symbol in main.let}  # type: ignore[union-attr]


@pytest.mark.parametrize("template", [t.name for t in TEMPLATES])
def test_spel_derivation_equals_the_python_one_for_any_name(template: str) -> None:
    symbols = _spel(template)
    for name in NAMES:
        scope: dict[str, object] = {"projectName": name}
        for symbol, expression in symbols.items():
            scope[symbol] = evaluate(expression, scope)
        assert scope["projectSlug"] == project_slug(name), repr(name)
        assert scope["packageName"] == package_name(project_slug(name)), repr(name)


def test_every_derived_name_is_a_valid_project_name_except_for_reserved_packages() -> None:
    for name in NAMES:
        slug = project_slug(name)
        assert is_project_name(slug), (name, slug)
        assert re.fullmatch(r"[a-z][a-z0-9_]*", package_name(slug)), (name, slug)
        assert package_name(slug) not in RESERVED


def test_names_tapml_accepts_are_unchanged_by_the_derivation() -> None:
    accepted = [name for name in [*NAMES, "digits-cnn", "a", "x1-y2", "a" * 40] if not name_problems(name)]
    assert len(accepted) > 5
    for name in accepted:
        assert project_slug(name) == name and package_name(name) == name.replace("-", "_")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("mlflow", "shadows the mlflow library"),
        ("class", "is a Python keyword"),
        ("tests", "'tests' folder"),
        ("json", "standard library module 'json'"),
        ("logging", "standard library"),
        ("sklearn", "shadows the sklearn library"),
        ("My Project", "must start with a letter"),
        ("a--b", "single '-'"),
        ("a" * 41, "at most 40"),
    ],
)
def test_tapml_new_refuses_a_name_in_one_line_naming_the_reason(name: str, reason: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "new",
            TEMPLATES[0].name,
            "--no-input",
            "--set",
            f"project_name={name}",
            "-o",
            str(tmp_path / "p"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and reason in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "p").exists()


def test_the_cookiecutter_hook_refuses_the_same_names(tmp_path: Path) -> None:
    from cookiecutter.main import cookiecutter

    with pytest.raises(Exception, match="Hook script failed"):
        cookiecutter(
            str(TEMPLATES[0].directory),
            no_input=True,
            output_dir=str(tmp_path),
            extra_context={"project_name": "mlflow"},
        )
    assert list(tmp_path.iterdir()) == []


def _imports(text: str) -> set[str]:
    return set(re.findall(r"^\s*(?:from|import)\s+([A-Za-z_][A-Za-z0-9_]*)", text, re.MULTILINE))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_reserved_names_cover_every_module_the_project_imports_and_its_top_level_entries(template) -> None:
    imported: set[str] = set()
    for path in template.project_dir.rglob("*.py"):
        imported |= _imports(path.read_text(encoding="utf-8"))
    imported = {name for name in imported if not name.startswith(("_", "test_")) and "{" not in name}
    missing = {name for name in imported if name.lower() not in RESERVED and name != "__future__"}
    assert not missing, f"add to generator/names.py THIRD_PARTY: {sorted(missing)}"
    entries = {
        path.stem if path.suffix == ".py" else path.name
        for path in template.project_dir.iterdir()
        if not path.name.startswith((".", "{"))
    }
    unlisted = {entry for entry in entries if re.fullmatch(r"[a-z][a-z0-9_]*", entry) and entry not in RESERVED}
    assert not unlisted, f"add to generator/names.py PROJECT_ENTRIES: {sorted(unlisted)}"
    assert set(PROJECT_ENTRIES) | {n.lower() for n in THIRD_PARTY} <= set(RESERVED) | {"IPython".lower()}

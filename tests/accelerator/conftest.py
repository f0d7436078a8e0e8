"""Shared helpers of the accelerator tests: the parity option matrix, tree reading, node, and schema access."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from generator.accelerator.export import ACCELERATORS_DIR, prefixed
from generator.accelerator.options import camel
from generator.manifest import PROJECT_NAME_OPTION, Option, OptionValue, Template, load_all

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO.parent / "shared" / "schemas" / "tap-accelerator.schema.json"
IN_CI = os.environ.get("CI", "").lower() == "true"
PROVENANCE_FILE = "accelerator-info.yaml"

# Non-default free-text candidates, odd ones first: spaces, quotes, `$1`, backslashes, unicode, glob characters.
ODD_TEXT = (
    "Vision lab: it's a demo, with (punctuation) & $1 \\back\\slash, ünïcode * ? [x] — done.",
    "Vision lab: it's a demo, with (punctuation) & $1 $g1 #artifactId ünïcode * ? [x] — done.",
    "Vision lab: a demo, with spaces & more",
    "vision-lab", "ml-team.v2", "ml_team", "feature/x1", "https://git.example.org:8443/team/vision-lab.git",
    "photos/train_2024", "labelled_images", "models_v2", "x", "a-b", "Q",
)


def require(what: str, why: str) -> NoReturn:
    """Skip on a developer machine, fail when CI=true."""
    message = f"{what} unavailable: {why}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: required tools must be present, not skipped)")
    pytest.skip(message)


@dataclass(frozen=True)
class Case:
    """One parity case: manifest values (snake_case) that differ from the defaults."""

    id: str
    values: dict[str, OptionValue] = field(default_factory=dict)


def odd_value(option: Option, name: str = "x", used: frozenset[OptionValue] = frozenset()) -> OptionValue | None:
    """A valid non-default value, as unusual as the option's pattern or range allows, and not in `used`.

    Distinct values per option make a swapped substitution visible.
    """
    if option.type == "integer":
        low, high = option.min or 0, option.max if option.max is not None else 10**6
        picks = [high, low + 1, (low + high) // 2, low, high - 1]
        return next((v for v in picks if v != option.default and v not in used and low <= v <= high), None)
    if option.type != "string":
        return None
    slug = name.replace("_", "-")
    for candidate in (*ODD_TEXT, f"v-{slug}", f"v_{name}", f"v{slug}/x", f"https://git.example.org/{slug}.git"):
        try:
            if candidate != option.default and candidate not in used and option.coerce(candidate) == candidate:
                return candidate
        except ValueError:
            continue
    return None


def odd_values(template: Template) -> dict[str, OptionValue]:
    """A distinct unusual value for every free-text option of `template`."""
    values: dict[str, OptionValue] = {}
    for name, option in template.options.items():
        value = odd_value(option, name, frozenset(values.values()))
        if value is not None:
            values[name] = value
    return values


def parity_cases(template: Template) -> list[Case]:
    """Defaults; every choice value (with odd free text); both values of every boolean; everything flipped."""
    odd = odd_values(template)
    cases = [Case("defaults"), Case("odd-free-text", odd)]
    for name, option in template.options.items():
        if option.type == "choice":
            cases += [Case(f"{name}={value}", {**odd, name: value}) for value in option.choice_values
                      if value != option.default]
        elif option.type == "boolean":
            cases.append(Case(f"{name}={not option.default}", {name: not option.default}))
    flipped = {n: not o.default for n, o in template.options.items() if o.type == "boolean"}
    if flipped:
        cases.append(Case("all-booleans-flipped", {**odd, **flipped}))
    return cases


def accelerator_options(template: Template, values: dict[str, OptionValue], *, root: bool = False) -> dict[str, Any]:
    """The --options JSON for `values`: camelCase names (prefixed for the root), project name as projectName."""
    resolved = template.resolve(values)
    options: dict[str, Any] = {"projectName": resolved[PROJECT_NAME_OPTION]}
    if root:
        options["template"] = template.name
    for name, value in values.items():
        if name != PROJECT_NAME_OPTION:
            options[prefixed(template, name) if root else camel(name)] = resolved[name]
    return options


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def accelerator_dir(template: Template) -> Path:
    return REPO / ACCELERATORS_DIR / template.name


TEMPLATES = load_all()


@pytest.fixture(scope="session")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        require("node", "node is not on PATH")
    return found


def run_node(node: str, script: str, payload: Any) -> Any:
    """Run a node script reading JSON on stdin and printing JSON; return the parsed output."""
    done = subprocess.run([node, "-e", script], input=json.dumps(payload), capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="session")
def accelerator_schema() -> dict[str, Any]:
    if not SCHEMA.is_file():
        require("tap-accelerator.schema.json", f"{SCHEMA} not found beside the repository")
    return json.loads(SCHEMA.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh export of every template (what `tapml build` writes), in a scratch repository root.

    Parity runs on this, so a stale commit shows up in the drift test alone, not as parity noise.
    """
    from generator.accelerator.export import accelerator_files

    root = tmp_path_factory.mktemp("exported")
    for path, text in accelerator_files(TEMPLATES, REPO).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8", newline="\n")
    return root

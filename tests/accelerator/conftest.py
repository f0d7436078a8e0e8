"""Shared helpers of the accelerator tests: the parity option matrix, tree reading, node, and schema access."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, NoReturn

import pytest

from generator.accelerator.export import ACCELERATORS_DIR, prefixed
from generator.accelerator.options import camel
from generator.manifest import PROJECT_NAME_OPTION, OptionValue, Template, load_all

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO.parent / "shared" / "schemas" / "tap-accelerator.schema.json"
IN_CI = os.environ.get("CI", "").lower() == "true"
PROVENANCE_FILE = "accelerator-info.yaml"

def require(what: str, why: str) -> NoReturn:
    """Skip on a developer machine, fail when CI=true."""
    message = f"{what} unavailable: {why}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: required tools must be present, not skipped)")
    pytest.skip(message)


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

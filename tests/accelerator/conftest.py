"""Shared helpers of the accelerator tests: option JSON, tree reading, node scripts and the exported accelerators."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from generator.accelerator.export import ACCELERATORS_DIR
from generator.accelerator.names import OptionNames
from generator.manifest import PROJECT_NAME_OPTION, OptionValue, Template, load_all
from tests.support import REPO

PROVENANCE_FILE = "accelerator-info.yaml"


def accelerator_options(template: Template, values: dict[str, OptionValue], *, root: bool = False) -> dict[str, Any]:
    """The --options JSON for `values`: camelCase names (prefixed for the root), project name as projectName."""
    resolved = template.resolve(values)
    names = OptionNames(template)
    options: dict[str, Any] = {"projectName": resolved[PROJECT_NAME_OPTION]}
    if root:
        options["template"] = template.name
    for name in values:
        if name != PROJECT_NAME_OPTION:
            options[names.prefixed(name) if root else names.camel(name)] = resolved[name]
    return options


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def accelerator_dir(template: Template) -> Path:
    return REPO / ACCELERATORS_DIR / template.name


TEMPLATES = load_all()


def run_node(node: str, script: str, payload: Any) -> Any:
    """Run a node script reading JSON on stdin and printing JSON; return the parsed output."""
    done = subprocess.run(
        [node, "-e", script], input=json.dumps(payload), capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="session")
def accelerator_schema(schemas_dir: Path) -> dict[str, Any]:
    return json.loads((schemas_dir / "tap-accelerator.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh export of every template (what `tapml build` writes), in a scratch repository root.

    Parity runs on this, so a stale commit shows up in the drift test alone, not as parity noise.
    """
    from generator.accelerator.export import accelerator_files

    root = tmp_path_factory.mktemp("exported")
    files, _ = accelerator_files(TEMPLATES, REPO)
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8", newline="\n")
    return root

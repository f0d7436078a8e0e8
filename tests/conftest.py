"""Shared fixtures: real services (PostgreSQL, node), the vendored schemas, and baking helpers.

Tests that need a service skip when it is missing on a developer machine, but fail when CI=true:
in CI a skipped test is not a passed test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from generator.manifest import Template, load_all
from tests.matrix import valid_cases
from tests.support import SHARED, require

NODE_DIR = Path(__file__).resolve().parent / "node"


@pytest.fixture(scope="session")
def templates() -> list[Template]:
    return load_all()


@pytest.fixture(scope="session")
def baked(cookies_session: Any, templates: list[Template]) -> dict[str, Path]:
    """Every valid case of every template (tests/matrix.py), baked once with plain cookiecutter: `name:case`."""
    projects = {}
    for template in templates:
        for case in valid_cases(template):
            result = cookies_session.bake(template=str(template.directory), extra_context=dict(case.values))
            assert result.exit_code == 0, f"{template.name}:{case.id}: {result.exception}"
            projects[f"{template.name}:{case.id}"] = result.project_path
    return projects


@pytest.fixture(scope="session")
def schemas_dir() -> Path:
    path = SHARED / "schemas"
    if not path.is_dir():
        require("../shared/schemas", f"{path} not found beside the repository")
    return path


@pytest.fixture(scope="session")
def workload_validator(schemas_dir: Path) -> Any:
    from jsonschema import Draft7Validator

    schema = json.loads((schemas_dir / "carto.run-workload-v1alpha1.schema.json").read_text())
    return Draft7Validator(schema)


@pytest.fixture(scope="session")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        require("node", "node is not on PATH")
    return found


@pytest.fixture(scope="session")
def backstage_validate(node: str) -> Callable[[list[Path]], list[dict[str, Any]]]:
    """Run Backstage's own @backstage/catalog-model over files; one result dict per document."""
    if not (NODE_DIR / "node_modules" / "@backstage" / "catalog-model").is_dir():
        require("@backstage/catalog-model", f"run `npm ci --prefix {NODE_DIR}`")

    def validate(files: list[Path]) -> list[dict[str, Any]]:
        done = subprocess.run(
            [node, str(NODE_DIR / "validate-catalog.js"), *map(str, files)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        assert results, f"validator printed nothing: {done.stderr}"
        return results

    return validate


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A reachable PostgreSQL server; checked once here so a bad URL fails with one clear message."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        require("PostgreSQL", "TEST_DATABASE_URL is not set (scripts/postgres.sh prints one)")
    try:
        with psycopg.connect(url, connect_timeout=10) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        pytest.fail(f"TEST_DATABASE_URL does not reach PostgreSQL: {error}")
    return url


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep cookiecutter's replay files and caches out of the real home directory."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home

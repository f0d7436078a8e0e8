"""The deep tier: each baked project's own test suite, run in this (shared) environment with real services.

Every template is run with its defaults, plus the variants listed in DEEP_VARIANTS (those whose code paths
differ most: other data sources, other model sources). The projects' suites start their own MLflow servers;
PostgreSQL comes from TEST_DATABASE_URL. With CI=true a skipped inner test fails this test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from generator.manifest import Template, load_all
from generator.render import render
from tests.support import IN_CI

# Chosen so that every conditional test file of every template runs in at least one variant
# (test_every_conditional_test_file_runs_somewhere checks that).
DEEP_VARIANTS: dict[str, list[dict[str, object]]] = {
    "cnn-trainer": [
        {"data_source": "folder"},
        {"data_source": "postgres", "mlflow_claim": True, "augmentation": False},
    ],
    "image-function": [
        {"model_source": "keras_file", "allow_url_input": True, "log_predictions": True, "mlflow_claim": True},
        {"model_source": "mobilenet_v2", "allow_url_input": True},
    ],
}


def _cases() -> list[tuple[Template, dict[str, object], str]]:
    cases = []
    for template in load_all():
        for values in [{}, *DEEP_VARIANTS.get(template.name, [])]:
            known = {k: v for k, v in values.items() if k in template.options}
            if known == values:
                label = ",".join(f"{k}={v}" for k, v in values.items()) or "defaults"
                cases.append((template, values, label))
    return cases


CASES = _cases()


@pytest.mark.slow
@pytest.mark.parametrize(("template", "values", "label"), CASES, ids=[f"{t.name}:{l}" for t, _, l in CASES])
def test_generated_project_passes_its_own_tests(
    template: Template, values: dict[str, object], label: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if values.get("data_source") == "postgres":
        env["TEST_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    project = render(template, template.resolve(values), tmp_path / "project")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=1200, check=False)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, f"{summary}\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    assert re.search(r"\d+ passed", summary), summary
    if IN_CI:
        assert "skipped" not in summary, f"inner tests skipped in CI: {done.stdout[-3000:]}"


@pytest.mark.parametrize("template", load_all(), ids=lambda t: t.name)
def test_every_conditional_test_file_runs_somewhere(template: Template) -> None:
    test_rules = [rule for rule in template.files if rule.path.startswith("tests/")]
    variants = [template.resolve(values) for t, values, _ in CASES if t.name == template.name]
    never = [rule.path for rule in test_rules if not any(rule.condition.evaluate(v) for v in variants)]
    assert never == []

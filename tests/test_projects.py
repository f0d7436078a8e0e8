"""The deep tier: each baked project's own test suite, run as its TAP test Pipeline runs it, with real services.

Every template is run with its defaults, plus the variants listed in DEEP_VARIANTS (those whose code paths
differ most: other data sources, other model sources). Each project is served as a source tarball, fetched by
its Pipeline's own fetch script and tested with the Pipeline's command, `sh scripts/test.sh`, whose install step
runs offline in a venv over the shared one (tests/pipeline.py). The projects' suites start their own MLflow
servers; PostgreSQL comes from TEST_DATABASE_URL. With CI=true a skipped inner test fails this test.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from generator.manifest import Template, load_all
from generator.render import render
from tests.pipeline import PIPELINE_FILE, fetch, load_pipeline, overlay_venv, run_test_step
from tests.support import IN_CI

# Chosen so that every conditional test file of every template runs in at least one variant
# (test_every_conditional_test_file_runs_somewhere checks that).
DEEP_VARIANTS: dict[str, list[dict[str, object]]] = {
    "cnn-trainer": [
        {"data_source": "folder"},
        {"data_source": "postgres", "mlflow_claim": True, "augmentation": False},
    ],
    "image-function": [
        # The defaults serve MLflow with the ONNX runtime; these two add the ONNX runtime on a converted Keras file
        # (the convert command) and the TensorFlow runtime (MobileNetV2, with its preprocessing in the graph).
        {"model_source": "keras_file", "allow_url_input": True, "log_predictions": True, "mlflow_claim": True},
        {"model_source": "mobilenet_v2", "runtime": "tensorflow", "allow_url_input": True},
    ],
    # Defaults: the bundled digits and batch prediction over a folder; then both from PostgreSQL tables.
    "argo-pipeline": [
        {"data_source": "postgres"},
    ],
    "jupyter-utilities": [
        {"database": "greenplum", "allow_url_input": True, "mlflow_claim": True},
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
    env: dict[str, str] = {}
    if values.get("data_source") == "postgres" or values.get("database") in ("postgres", "greenplum"):
        env["TEST_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    project = render(template, template.resolve(values), tmp_path / "project")
    pipeline = load_pipeline(project) if (project / PIPELINE_FILE).is_file() else None
    source = tmp_path / "source"
    if pipeline:
        fetched = fetch(project, pipeline, source)
        assert fetched.returncode == 0, fetched.stderr
    else:
        shutil.copytree(project, source)
    done = run_test_step(source, pipeline, overlay_venv(tmp_path / "venv"), "-q", "-p", "no:cacheprovider", "-rs",
                         install=True, extra_env=env)
    assert "Requirement already satisfied" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
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

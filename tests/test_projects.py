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
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.manifest import Template, load_all
from generator.render import render
from tests.pipeline import PIPELINE_FILE, fetch, load_pipeline, overlay_venv, run_test_step
from tests.support import IN_CI


@dataclass(frozen=True)
class Variant:
    """Answers other than the defaults, and the test files to run with them (none listed: the whole suite).

    A variant lists test files where its answers change only part of the project and the rest of the suite costs
    minutes of CI: the defaults case runs that rest exactly as the Pipeline does.
    """

    values: dict[str, object]
    tests: tuple[str, ...] = ()


# Chosen so that every conditional test file of every template runs in at least one case
# (test_every_conditional_test_file_runs_somewhere checks that).
DEEP_VARIANTS: dict[str, list[Variant]] = {
    # The data sources differ in how images are read (held-out split, errors, bindings); training on the arrays
    # they give is the defaults case's.
    "cnn-trainer": [
        Variant({"data_source": "folder"}, tests=("tests/test_folder_source.py",)),
        Variant(
            {"data_source": "postgres", "mlflow_claim": True, "augmentation": False},
            tests=("tests/test_postgres_source.py", "tests/test_mlflow_binding.py"),
        ),
    ],
    "image-function": [
        # Every model source with both runtimes. The defaults serve MLflow with the ONNX runtime; the TensorFlow
        # runtime on MLflow runs the whole suite too (alias swap, batching, limits), as do the ONNX runtime on a
        # converted Keras file and the TensorFlow runtime on MobileNetV2 (preprocessing in the graph). The last two
        # combinations differ from those only in how the model is loaded: their API, start-up and convert tests run.
        Variant({"runtime": "tensorflow"}),
        Variant({"model_source": "keras_file", "allow_url_input": True, "log_predictions": True, "mlflow_claim": True}),
        Variant({"model_source": "mobilenet_v2", "runtime": "tensorflow", "allow_url_input": True}),
        Variant({"model_source": "mobilenet_v2"}, tests=("tests/test_convert.py", "tests/test_api.py")),
        Variant(
            {"model_source": "keras_file", "runtime": "tensorflow"},
            tests=("tests/test_api.py", "tests/test_startup.py"),
        ),
    ],
    # Defaults: the bundled digits and batch prediction over a folder. PostgreSQL changes the ingest and predict
    # steps only (the steps after ingest read its artifact): test_predict.py runs whole local runs that ingest
    # from a table and predict over one; the step-by-step checks stay with the defaults.
    "argo-pipeline": [
        Variant({"data_source": "postgres"}, tests=("tests/test_predict.py",)),
    ],
    # Greenplum, URL input and the MLflow claim change the database helpers, notebook 04's URL cell and the
    # service files; notebook 02 (training, the suite's longest test) reads none of them.
    "jupyter-utilities": [
        Variant(
            {"database": "greenplum", "allow_url_input": True, "mlflow_claim": True},
            tests=(
                "tests/test_database.py",
                "tests/test_greenplum.py",
                "tests/test_url_guard.py",
                "tests/test_image_urls.py",
                "tests/test_helpers.py",
                "tests/test_services.py",
                "tests/test_hub.py",
            ),
        ),
    ],
}


def _cases() -> list[tuple[Template, Variant, str]]:
    cases = []
    for template in load_all():
        for variant in [Variant({}), *DEEP_VARIANTS.get(template.name, [])]:
            if set(variant.values) <= set(template.options):
                label = ",".join(f"{k}={v}" for k, v in variant.values.items()) or "defaults"
                cases.append((template, variant, label))
    return cases


CASES = _cases()


@pytest.mark.slow
@pytest.mark.parametrize(("template", "variant", "label"), CASES, ids=[f"{case[0].name}:{case[2]}" for case in CASES])
def test_generated_project_passes_its_own_tests(
    template: Template, variant: Variant, label: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    answers = template.resolve(variant.values)
    env: dict[str, str] = {}
    if answers.get("data_source") == "postgres" or answers.get("database") in ("postgres", "greenplum"):
        env["TEST_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    project = render(template, answers, tmp_path / "project")
    pipeline = load_pipeline(project) if (project / PIPELINE_FILE).is_file() else None
    source = tmp_path / "source"
    if pipeline:
        fetched = fetch(project, pipeline, source)
        assert fetched.returncode == 0, fetched.stderr
    else:
        shutil.copytree(project, source)
    done = run_test_step(
        source,
        pipeline,
        overlay_venv(tmp_path / "venv"),
        "-q",
        "-p",
        "no:cacheprovider",
        "-rs",
        *variant.tests,
        install=True,
        extra_env=env,
        timeout=1800,
    )
    assert "Requirement already satisfied" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, f"{summary}\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    assert re.search(r"\d+ passed", summary), summary
    if IN_CI:
        assert "skipped" not in summary, f"inner tests skipped in CI: {done.stdout[-3000:]}"


@pytest.mark.parametrize("template", load_all(), ids=lambda t: t.name)
def test_every_conditional_test_file_runs_somewhere(template: Template) -> None:
    test_rules = [rule for rule in template.files if rule.path.startswith("tests/")]
    cases = [(template.resolve(v.values), v.tests) for t, v, _ in CASES if t.name == template.name]
    never = [
        rule.path
        for rule in test_rules
        if not any(rule.condition.evaluate(answers) and (not tests or rule.path in tests) for answers, tests in cases)
    ]
    assert never == []


def test_variants_name_test_files_that_exist() -> None:
    for template, variant, label in CASES:
        answers = template.resolve(variant.values)
        for test_file in variant.tests:
            rule = next((r for r in template.files if r.path == test_file), None)
            assert (template.project_dir / test_file).is_file(), f"{template.name}:{label}: no {test_file}"
            generated = rule is None or rule.condition.evaluate(answers)
            assert generated, f"{template.name}:{label}: {test_file} is not generated with these answers"

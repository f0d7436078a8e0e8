"""Project names that are safe from every channel: the rule, the reasons for refusing, and its three forms.

A project name is used as the Cartographer workload name (a DNS-1123 label), the Backstage entity name, the
registered model name and, with `-` turned into `_`, the Python package name. `tapml new` and the cookiecutter
hook accept only names that already have that shape (`is_project_name`) and that do not shadow a module the
project imports (`name_problems`). TAP's Name field cannot be validated, so the accelerator derives the same
names from whatever is typed there (`project_slug`, `package_name`, and their SpEL forms): for every name
`tapml new` accepts, the derivation is the identity, so both channels give the same project.
"""

from __future__ import annotations

import keyword
import re
import sys

from .hook_runtime import reserved_problem

MAX_LENGTH = 40
PROJECT_NAME_PATTERN = rf"^(?=.{{1,{MAX_LENGTH}}}$)[a-z][a-z0-9]*(-[a-z0-9]+)*$"
PACKAGE_SUFFIX = "_app"
EMPTY_NAME = "app"

# Libraries the generated projects import (a test checks every template's imports are listed here).
THIRD_PARTY = (
    "absl",
    "fastapi",
    "flask",
    "google",
    "greenplumpython",
    "h5py",
    "hera",
    "httptools",
    "httpx",
    "ipykernel",
    "IPython",
    "jinja2",
    "jupyter",
    "jupyterlab",
    "jupyter_server",
    "keras",
    "matplotlib",
    "mlflow",
    "multipart",
    "nbclient",
    "nbformat",
    "numpy",
    "onnx",
    "onnxruntime",
    "pandas",
    "PIL",
    "psycopg",
    "psycopg2",
    "pydantic",
    "pyservicebinding",
    "pytest",
    "requests",
    "scipy",
    "setuptools",
    "sklearn",
    "sqlalchemy",
    "starlette",
    "tensorflow",
    "tf2onnx",
    "uvicorn",
    "uvloop",
    "yaml",
)
# Top-level folders and modules of generated projects, and names Python tooling treats specially.
PROJECT_ENTRIES = (
    "argo",
    "catalog",
    "config",
    "conftest",
    "data",
    "docs",
    "func",
    "mlruns",
    "model",
    "models",
    "notebooks",
    "pipeline",
    "pipelines",
    "scripts",
    "servers",  # the tests' shared helper module (tests/servers.py)
    "setup",
    "site",
    "src",
    "test",
    "tests",
    # shared modules, which the shared tests import by these names
    "holdout",
    "mlflow_setup",
    "model_card",
    "onnx_export",
    "promotion",
    "url_guard",
)


def _reasons() -> dict[str, str]:
    reasons: dict[str, str] = {}
    for name in PROJECT_ENTRIES:
        reasons[name] = f"shadows the project's own {name!r} folder or module"
    for name in THIRD_PARTY:
        reasons[name.lower()] = f"shadows the {name} library"
    for name in sorted(sys.stdlib_module_names):
        if not name.startswith("_"):
            reasons[name.lower()] = f"shadows the Python standard library module {name!r}"
    for name in [*keyword.kwlist, *keyword.softkwlist]:
        if name.islower() and name.isidentifier() and name != "_":
            reasons[name] = "is a Python keyword"
    return reasons


def _is_candidate(package: str) -> bool:
    """Whether some valid project name turns into this package name (others need no entry)."""
    return re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", package) is not None and len(package) <= MAX_LENGTH


RESERVED: dict[str, str] = {name: reason for name, reason in sorted(_reasons().items()) if _is_candidate(name)}


def is_project_name(name: str) -> bool:
    """The shape every channel can use unchanged: lower-case words of letters and digits joined by single '-'."""
    return re.fullmatch(PROJECT_NAME_PATTERN, name) is not None


SHAPE_RULE = (
    f"must start with a letter, use lower-case letters, digits and single '-', end with a letter or "
    f"digit, and be at most {MAX_LENGTH} characters"
)


def name_problems(name: str) -> list[str]:
    """Why `name` cannot be a project name, one reason each; empty when it can."""
    if not is_project_name(name):
        return [f"{name!r} {SHAPE_RULE}"]
    reason = reserved_problem(name, RESERVED)
    return [reason] if reason else []


def project_slug(text: str) -> str:
    """The project name TAP's free Name field stands for: lower-case, other characters to '-', trimmed."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower())
    slug = re.sub(r"^[^a-z]+", "", slug)
    slug = re.sub(rf"^(.{{{MAX_LENGTH}}}).+$", r"\1", slug)
    slug = re.sub(r"-+$", "", slug)
    return slug or EMPTY_NAME


def package_name(slug: str) -> str:
    """The Python package of a project: never a keyword, never a module the project would shadow."""
    package = slug.replace("-", "_")
    return package + PACKAGE_SUFFIX if package in RESERVED else package


def spel_project_words(source: str) -> str:
    """`project_slug` in SpEL over the SpEL expression `source` (TAP's `#projectName`), before the empty case."""
    return (
        f"{source}.toLowerCase().replaceAll('[^a-z0-9]+', '-').replaceAll('^[^a-z]+', '')"
        f".replaceAll('^(.{{{MAX_LENGTH}}}).+$', '$1').replaceAll('-+$', '')"
    )


def spel_project_slug(words: str) -> str:
    """`project_slug` in SpEL, given the SpEL variable `words` holding `spel_project_words`."""
    return f"{words} == '' ? '{EMPTY_NAME}' : {words}"


def spel_reserved() -> str:
    """The reserved package names as a SpEL inline list."""
    return "{" + ", ".join(f"'{name}'" for name in RESERVED) + "}"


def spel_package_name(slug: str, reserved: str = "") -> str:
    """`package_name` in SpEL, over the SpEL expression `slug`; `reserved` is a variable holding
    `spel_reserved()` (the list is inlined when none is given)."""
    package = f"{slug}.replace('-', '_')"
    return f"{reserved or spel_reserved()}.contains({package}) ? {package} + '{PACKAGE_SUFFIX}' : {package}"

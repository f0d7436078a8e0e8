"""`tapml preview`: run an accelerator's engine locally, as TAP would, and write the project atomically.

Options come as JSON (the shape of `tanzu accelerator generate --options`). Declared options not given take
their `defaultValue`; `projectName` defaults to the accelerator name (as the tanzu CLI does) and `artifactId`
is derived from it (spaces become `_`, empty becomes `app`). Unknown options, wrong types, values outside the
choices or failing `validationRegex` are reported together in one `OptionsError`.
"""

from __future__ import annotations

import datetime
import getpass
import json
import re
import uuid
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from ..errors import AcceleratorError, OptionsError
from ..output import write_atomically
from . import engine, spel
from .model import AcceleratorDocument, AcceleratorOption, load_document

SKIPPED_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__", ".pytest_cache"})
_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "boolean": (bool,), "number": (int, float)}


def parse_options(text: str, source: str = "--options") -> dict[str, object]:
    """A JSON object of option values; anything else is one clear `OptionsError`."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OptionsError(f"{source}: not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})") from None
    if not isinstance(data, dict):
        raise OptionsError(f"{source}: expected a JSON object of option values, got {type(data).__name__}")
    return data


def resolve(document: AcceleratorDocument, given: Mapping[str, object], default_name: str) -> dict[str, object]:
    """The engine's variables: every declared option (given or default) plus `projectName` and `artifactId`."""
    names = {option.name for option in document.accelerator.options}
    problems = [f"unknown option {key!r}" + (" (TAP derives it from projectName)" if key == "artifactId" else "")
                for key in given if key not in names and key != "projectName"]
    values: dict[str, object] = {}
    for option in document.accelerator.options:
        value = given.get(option.name, option.defaultValue)
        problem = check_value(option, value) if option.name in given else None
        if problem:
            problems.append(f"{option.name}: {problem}")
        values[option.name] = value
    project = given.get("projectName", document.accelerator.name or default_name)
    if not isinstance(project, str):
        problems.append(f"projectName: expected text, got {json.dumps(project)}")
        project = str(project)
    if problems:
        raise OptionsError("invalid options: " + "; ".join(problems))
    values["projectName"] = project
    values["artifactId"] = project.replace(" ", "_") or "app"
    return values


def check_value(option: AcceleratorOption, value: object) -> str | None:
    """Why `value` is not acceptable for `option`, or None."""
    if value is None:
        return "a value is required" if option.required else None
    kinds = _TYPES[option.dataType]
    if not isinstance(value, kinds) or (option.dataType == "number" and isinstance(value, bool)):
        return f"expected {option.dataType}, got {json.dumps(value)}"
    if option.choices and value not in [choice.value for choice in option.choices]:
        return f"{json.dumps(value)} is not one of {', '.join(c.value for c in option.choices)}"
    text = spel.java_string(value)
    if option.required and text == "":
        return "a value is required"
    if option.validationRegex and text and not re.search(spel.java_regex(option.validationRegex), text):
        return f"{text!r} does not match {option.validationRegex}"
    return None


def generate(directory: Path, given: Mapping[str, object]) -> list[engine.File]:
    """Run the engine of the accelerator in `directory`; return the resulting files (paths unique)."""
    document = load_document(directory)
    variables = resolve(document, given, directory.resolve().name)
    declared = [option.name for option in document.accelerator.options]

    def provenance() -> bytes:
        return provenance_yaml(document, directory, variables, declared).encode("utf-8")

    files = engine.read_tree(directory, SKIPPED_DIRS)
    if document.engine is not None:
        files = engine.run(document.engine, files, engine.Scope(variables, provenance))
    duplicates = sorted(path for path, count in Counter(f.path for f in files).items() if count > 1)
    if duplicates:
        raise AcceleratorError(f"unresolved duplicate paths: {', '.join(duplicates[:5])}",
                               hint="add a UniquePath transform or onConflict")
    return files


def provenance_yaml(document: AcceleratorDocument, directory: Path, variables: Mapping[str, object],
                    declared: list[str]) -> str:
    """accelerator-info.yaml as Provenance writes it: who, when, which accelerator, which options."""
    import yaml

    info = {
        "id": str(uuid.uuid4()),
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "username": getpass.getuser(),
        "source": "tapml preview",
        "accelerator": {"name": document.accelerator.name or directory.resolve().name,
                        "source": {"path": str(directory.resolve())}},
        "fragments": [],
        "options": [{"name": name, "value": variables[name]} for name in ["projectName", *declared]],
    }
    return yaml.safe_dump(info, sort_keys=False, allow_unicode=True)


def preview(directory: Path, given: Mapping[str, object], target: Path, *, force: bool = False) -> Path:
    """Generate into `target` atomically: staged beside it, moved into place only when complete."""

    def generate_into(staging: Path) -> Path:
        project = staging / "project"
        project.mkdir()
        for f in generate(directory, given):
            _write(project, f)
        return project

    return write_atomically(target, generate_into, force=force)


def _write(root: Path, f: engine.File) -> None:
    parts = f.path.split("/")
    if f.path.startswith("/") or ".." in parts or "" in parts:
        raise AcceleratorError(f"refusing to write outside the output folder: {f.path!r}")
    path = root.joinpath(*parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(f.load())


__all__ = ["generate", "parse_options", "preview", "resolve"]

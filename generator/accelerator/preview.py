"""`tapml preview`: run an accelerator's engine locally, as TAP would, and write the project atomically.

Options come as JSON (the shape of `tanzu accelerator generate --options`). Declared options (the
accelerator's own, then those its fragments expose) that are not given take their `defaultValue`;
`projectName` defaults to the accelerator name (as the tanzu CLI does) and `artifactId` is derived from it
(spaces become `_`, empty becomes `app`). Unknown options, null values, wrong types, values outside the
choices or failing `validationRegex` are reported together in one `OptionsError`. Fragments are found by
name: `--fragment NAME=DIR`, else `accelerators/<name>` below the accelerator or a sibling folder `<name>`.
The result is validated like `tapml new`'s before it is written.
"""

from __future__ import annotations

import datetime
import getpass
import json
import re
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import AcceleratorError, OptionsError
from ..output import write_atomically
from ..validate import check_project
from . import engine, spel
from .model import AcceleratorDocument, AcceleratorOption, DependsOnRule, Import, load_document

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


@dataclass
class Fragments:
    """Imported fragments by name, found on disk and read once."""

    directory: Path
    given: Mapping[str, Path] = field(default_factory=dict)
    loaded: dict[str, engine.Fragment] = field(default_factory=dict)

    def folder(self, name: str) -> Path:
        candidates = (
            [self.given[name]]
            if name in self.given
            else [self.directory / "accelerators" / name, self.directory.parent / name, self.directory / name]
        )
        for candidate in candidates:
            if (candidate / "accelerator.yaml").is_file():
                return candidate
        raise AcceleratorError(
            f"fragment {name!r} not found (looked in {', '.join(map(str, candidates))})",
            hint="pass --fragment NAME=DIR",
        )

    def __call__(self, name: str) -> engine.Fragment:
        if name not in self.loaded:
            folder = self.folder(name)
            self.loaded[name] = engine.Fragment(load_document(folder), engine.read_tree(folder, SKIPPED_DIRS))
        return self.loaded[name]


def declared_options(document: AcceleratorDocument, fragments: Fragments) -> list[AcceleratorOption]:
    """The options a user is asked for: the accelerator's own, then each import's exposed ones, in order."""
    options = list(document.accelerator.options)
    for item in document.accelerator.imports:
        options += exposed(item, fragments(item.name).document, fragments)
    return options


def exposed(item: Import, fragment: AcceleratorDocument, fragments: Fragments) -> list[AcceleratorOption]:
    """A fragment's options as the importing accelerator shows them (renamed by `as`, gated by `dependsOn`)."""
    own = declared_options(fragment, fragments)
    rules = item.expose if item.expose is not None else ()
    if item.expose is None:
        return own
    out = []
    renamed = {rule.name for rule in rules if rule.name != "*"}
    for rule in rules:
        if rule.name == "*":
            continue
        option = next((o for o in own if o.name == rule.name), None)
        if option is None:
            raise AcceleratorError(f"imports {item.name}: expose names unknown option {rule.name!r}")
        update: dict[str, object] = {"name": rule.as_ or rule.name}
        if rule.dependsOn is not None:
            update["dependsOn"] = DependsOnRule(name=rule.dependsOn.name, value=rule.dependsOn.value)
        out.append(option.model_copy(update=update))
    if any(rule.name == "*" for rule in rules):
        out += [option for option in own if option.name not in renamed]
    return out


def resolve(options: list[AcceleratorOption], given: Mapping[str, object], default_name: str) -> dict[str, object]:
    """The engine's variables: every declared option (given or default) plus `projectName` and `artifactId`."""
    names = {option.name for option in options}
    problems = [
        f"unknown option {key!r}" + (" (TAP derives it from projectName)" if key == "artifactId" else "")
        for key in given
        if key not in names and key != "projectName"
    ]
    values: dict[str, object] = {}
    for option in options:
        value = given.get(option.name, option.defaultValue)
        problem = check_value(option, value, given=option.name in given)
        if problem:
            problems.append(f"{option.name}: {problem}")
        values[option.name] = value
    project = given.get("projectName", default_name)
    if not isinstance(project, str):
        problems.append(f"projectName: expected text, got {json.dumps(project)}")
        project = str(project)
    if problems:
        raise OptionsError("invalid options: " + "; ".join(problems))
    values["projectName"] = project
    values["artifactId"] = project.replace(" ", "_") or "app"
    return values


def check_value(option: AcceleratorOption, value: object, *, given: bool = True) -> str | None:
    """Why `value` is not acceptable for `option`, or None."""
    if value is None:
        return f"expected {option.dataType}, got null" if given else "no value given and no defaultValue"
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


def generate(
    directory: Path, given: Mapping[str, object], fragment_dirs: Mapping[str, Path] | None = None
) -> list[engine.File]:
    """Run the engine of the accelerator in `directory`; return the resulting files (paths unique)."""
    document = load_document(directory)
    fragments = Fragments(directory, dict(fragment_dirs or {}))
    options = declared_options(document, fragments)
    variables = resolve(options, given, document.accelerator.name or directory.resolve().name)

    def provenance() -> bytes:
        return provenance_yaml(document, directory, variables, [o.name for o in options]).encode("utf-8")

    files = engine.read_tree(directory, SKIPPED_DIRS)
    if document.engine is not None:
        files = engine.run(document.engine, files, engine.Scope(variables, provenance, fragments))
    duplicates = sorted(path for path, count in Counter(f.path for f in files).items() if count > 1)
    if duplicates:
        raise AcceleratorError(
            f"unresolved duplicate paths: {', '.join(duplicates[:5])}", hint="add a UniquePath transform or onConflict"
        )
    return files


def provenance_yaml(
    document: AcceleratorDocument, directory: Path, variables: Mapping[str, object], declared: list[str]
) -> str:
    """accelerator-info.yaml as Provenance writes it: who, when, which accelerator, which options."""
    info = {
        "id": str(uuid.uuid4()),
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "username": getpass.getuser(),
        "source": "tapml preview",
        "accelerator": {
            "name": document.accelerator.name or directory.resolve().name,
            "source": {"path": str(directory.resolve())},
        },
        "fragments": [{"name": item.name} for item in document.accelerator.imports],
        "options": [{"name": name, "value": variables[name]} for name in ["projectName", *declared]],
    }
    return yaml.safe_dump(info, sort_keys=False, allow_unicode=True)


def preview(
    directory: Path,
    given: Mapping[str, object],
    target: Path,
    *,
    force: bool = False,
    fragment_dirs: Mapping[str, Path] | None = None,
    validate: bool = True,
) -> Path:
    """Generate into `target` atomically: staged beside it, validated, moved into place only when complete."""

    def generate_into(staging: Path) -> Path:
        project = staging / "project"
        project.mkdir()
        for f in generate(directory, given, fragment_dirs):
            _write(project, f)
        if validate:
            check_project(project)
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

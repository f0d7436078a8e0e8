"""The template model: one `tapml.yaml` per template is the single source of truth.

From it come the cookiecutter files (`build.py`), the TAP accelerator (`accelerator/`), the CLI prompts,
answer validation and the test matrix. A manifest looks like this::

    name: cnn-trainer
    display_name: CNN trainer
    description: Train a Keras CNN and register it in MLflow.
    tags: [python, tensorflow, mlflow]
    options:
      project_name: {type: string, label: Project name, default: digits-cnn,
                     pattern: '^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$', required: true}
      data_source:  {type: choice, label: Training data, default: digits,
                     choices: [{value: digits, text: Bundled digits}, {value: postgres, text: PostgreSQL}]}
      db_table:     {type: string, default: images, pattern: '^[a-z_][a-z0-9_]*$',
                     depends_on: {name: data_source, value: postgres}}
    derived:
      package_name: {from: project_name, transforms: [{replace: ['-', '_']}]}
    files:
      - {path: 'src/{{cookiecutter.package_name}}/postgres.py', when: "data_source == 'postgres'"}
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import __version__
from .errors import AnswersError, ExpressionError, ManifestError, UnknownTemplate
from .expressions import Condition, Transform
from .names import PROJECT_NAME_PATTERN, name_problems

MANIFEST_NAME = "tapml.yaml"
PROJECT_DIR = "{{cookiecutter.project_name}}"
PROJECT_NAME_OPTION = "project_name"
SHARED_DIR = "_shared"
PINS_FILE = "pins.yaml"
_OPTION_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_CHOICE_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Text a free-text value must never contain: the compiled accelerators use `[[name]]` placeholders and
# `{`, `}` would break YAML and JSON; a pattern that accepts one of these probes is refused.
_UNSAFE_PROBES = ("[[x]]", "{x}")
_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}

OptionType = Literal["string", "boolean", "choice", "integer"]
OptionValue = str | bool | int


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Strict):
    value: str = Field(pattern=_CHOICE_VALUE.pattern)
    text: str


class DependsOn(_Strict):
    """Ask this option only when option `name` has `value` (or is true, when `value` is omitted)."""

    name: str
    value: str | bool = True


class Option(_Strict):
    """A question of the template: typed, with its label and help for every channel."""

    type: OptionType
    label: str
    help: str = ""
    default: OptionValue
    required: bool = False
    pattern: str | None = None
    choices: tuple[Choice, ...] = ()
    min: int | None = None
    max: int | None = None
    depends_on: DependsOn | None = None
    secret: bool = False

    @field_validator("pattern")
    @classmethod
    def _anchored(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            if not (pattern.startswith("^") and pattern.endswith("$")):
                raise ValueError("pattern must be anchored with ^...$ (TAP matches substrings otherwise)")
            re.compile(pattern)
        return pattern

    @model_validator(mode="after")
    def _consistent(self) -> Option:
        expected = {"string": str, "boolean": bool, "choice": str, "integer": int}[self.type]
        if type(self.default) is not expected:
            raise ValueError(f"default {self.default!r} is not a {self.type}")
        if self.type == "choice":
            if not self.choices:
                raise ValueError("a choice option needs choices")
            if self.default not in self.choice_values:
                raise ValueError(f"default {self.default!r} is not one of the choices")
        elif self.choices:
            raise ValueError("only choice options take choices")
        if self.pattern and self.type != "string":
            raise ValueError("only string options take a pattern")
        if self.type == "string" and not self.pattern:
            raise ValueError("a string option needs a pattern: every value lands in code and YAML")
        if (self.min is not None or self.max is not None) and self.type != "integer":
            raise ValueError("only integer options take min/max")
        if self.type == "integer" and (self.min is None or self.max is None):
            raise ValueError("an integer option needs both min and max (TAP checks the range with a regex)")
        if self.type == "integer" and not self.min <= self.default <= self.max:  # type: ignore[operator]
            raise ValueError(f"default {self.default} is outside {self.min}..{self.max}")
        if self.pattern and any(re.fullmatch(self.pattern, probe) for probe in _UNSAFE_PROBES):
            raise ValueError("the pattern must refuse '[', ']', '{' and '}' (accelerator placeholders use them)")
        if self.type == "string" and self.pattern and not re.fullmatch(self.pattern, str(self.default)):
            raise ValueError(f"default {self.default!r} does not match the pattern")
        return self

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)

    def coerce(self, raw: object) -> OptionValue:
        """Turn a raw value (from --set, an answers file or a prompt) into this option's type.

        Raises ValueError with a short reason that names what is accepted.
        """
        if self.type == "boolean":
            return _to_bool(raw)
        if self.type == "integer":
            return self._to_int(raw)
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise ValueError(f"expected text, got {raw!r}")
        value = str(raw)
        if self.type == "choice" and value not in self.choice_values:
            raise ValueError(f"{value!r} is not one of {', '.join(self.choice_values)}")
        # fullmatch: Python's `$` also matches before a final newline; JavaScript's does not
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise ValueError(f"{value!r} does not match {self.pattern}")
        return value

    def _to_int(self, raw: object) -> int:
        if isinstance(raw, bool) or raw is None:
            raise ValueError(f"expected an integer, got {raw!r}")
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise ValueError(f"expected an integer, got {raw!r}") from None
        if self.min is not None and value < self.min:
            raise ValueError(f"{value} is below the minimum {self.min}")
        if self.max is not None and value > self.max:
            raise ValueError(f"{value} is above the maximum {self.max}")
        return value


def _to_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


class Derived(_Strict):
    """A value computed from an option, never asked (package names, slugs)."""

    from_: str = Field(alias="from")
    transforms: tuple[str | dict[str, tuple[str, ...] | None], ...] = ()

    @cached_property
    def steps(self) -> tuple[Transform, ...]:
        steps = []
        for item in self.transforms:
            ((op, args),) = item.items() if isinstance(item, dict) else ((item, None),)
            if op not in ("replace", "lower", "upper", "python_package"):
                raise ValueError(f"unknown transform {op!r}")
            steps.append(Transform(op, tuple(args or ())))  # type: ignore[arg-type]
        return tuple(steps)

    def compute(self, values: Mapping[str, OptionValue]) -> str:
        value = str(values[self.from_])
        for step in self.steps:
            value = step.apply(value)
        return value

    def to_jinja(self) -> str:
        return "{{ cookiecutter." + self.from_ + "".join(step.to_jinja() for step in self.steps) + " }}"


class Rule(_Strict):
    """A rule across options, e.g. `min_scale <= max_scale`; `message` may name values as `{option}`."""

    check: str
    message: str

    @cached_property
    def condition(self) -> Condition:
        return Condition.parse(self.check)


class SharedPart(_Strict):
    """A file or folder of `templates/_shared/` that `tapml build` copies into the template's project."""

    from_: str = Field(alias="from")
    to: str


class ConditionalFile(_Strict):
    """Files (a glob relative to the project root, as written in the template) kept only when `when` holds."""

    path: str
    when: str

    @cached_property
    def condition(self) -> Condition:
        return Condition.parse(self.when)


class Template(_Strict):
    """One template: metadata, typed options, derived values and conditional files."""

    name: str
    display_name: str
    description: str
    tags: tuple[str, ...]
    options: dict[str, Option]
    derived: dict[str, Derived] = {}
    files: tuple[ConditionalFile, ...] = ()
    rules: tuple[Rule, ...] = ()
    shared: tuple[SharedPart, ...] = ()
    copy_without_render: tuple[str, ...] = ()
    directory: Path = Field(exclude=True)

    @model_validator(mode="after")
    def _coherent(self) -> Template:
        names = list(self.options) + list(self.derived)
        for name in names:
            if not _OPTION_NAME.match(name):
                raise ValueError(f"option name {name!r} must be snake_case")
        project = self.options.get(PROJECT_NAME_OPTION)
        if project is None or project.type != "string" or project.pattern != PROJECT_NAME_PATTERN:
            raise ValueError(
                f"every template needs a string option {PROJECT_NAME_OPTION!r} with the pattern "
                f"{PROJECT_NAME_PATTERN!r} (one naming rule for every channel)"
            )
        for name, option in self.options.items():
            if option.depends_on and option.depends_on.name not in self.options:
                raise ValueError(f"{name}.depends_on names unknown option {option.depends_on.name!r}")
        for name, derived in self.derived.items():
            if derived.from_ not in self.options:
                raise ValueError(f"derived {name!r} comes from unknown option {derived.from_!r}")
            _ = derived.steps
        for conditional in self.files:
            unknown = conditional.condition.names() - set(self.options)
            if unknown:
                raise ValueError(f"condition {conditional.when!r} names unknown option(s) {sorted(unknown)}")
        for rule in self.rules:
            unknown = rule.condition.names() - set(self.options)
            if unknown:
                raise ValueError(f"rule {rule.check!r} names unknown option(s) {sorted(unknown)}")
            try:
                rule.message.format(**self.defaults())
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"rule message {rule.message!r} names an unknown value: {exc}") from None
            try:
                rule.condition.evaluate(self.defaults())
            except (TypeError, ExpressionError) as exc:
                raise ValueError(f"rule {rule.check!r} cannot be checked: {exc}") from None
            if not rule.condition.evaluate(self.defaults()):
                raise ValueError(f"the defaults break rule {rule.check!r}")
        for tag in self.tags:
            if not re.fullmatch(r"[a-z0-9+#]+(-[a-z0-9+#]+)*", tag):
                raise ValueError(f"tag {tag!r} must be lower-case words joined by '-'")
        return self

    @property
    def project_dir(self) -> Path:
        return self.directory / PROJECT_DIR

    def defaults(self) -> dict[str, OptionValue]:
        return {name: option.default for name, option in self.options.items()}

    def is_asked(self, name: str, values: Mapping[str, OptionValue]) -> bool:
        """Whether option `name` applies, given the values of the options before it."""
        depends = self.options[name].depends_on
        return depends is None or values.get(depends.name) == depends.value

    def resolve(self, given: Mapping[str, object]) -> dict[str, OptionValue]:
        """Validate `given` over the defaults; report every unknown key and bad value in one error."""
        problems = [
            f"unknown option {key!r}" + (" (derived values are computed, not set)" if key in self.derived else "")
            for key in given
            if key not in self.options
        ]
        values = self.defaults()
        for name, option in self.options.items():
            if name not in given:
                continue
            raw = given[name]
            try:
                if name == PROJECT_NAME_OPTION and isinstance(raw, str) and name_problems(raw):
                    raise ValueError(name_problems(raw)[0])
                values[name] = option.coerce(raw)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        if PROJECT_NAME_OPTION not in given:
            problems += [f"{PROJECT_NAME_OPTION}: {p}" for p in name_problems(str(values[PROJECT_NAME_OPTION]))]
        if not problems:
            problems += [rule.message.format(**values) for rule in self.rules if not rule.condition.evaluate(values)]
        if problems:
            raise AnswersError(problems)
        return values

    @property
    def shared_dir(self) -> Path:
        return self.directory.parent / SHARED_DIR

    @cached_property
    def pins(self) -> dict[str, str]:
        """Versions every generated project pins alike (`templates/_shared/pins.yaml`), as `cookiecutter._pins`."""
        path = self.shared_dir / PINS_FILE
        if not path.is_file():
            return {}
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return {str(key): str(value) for key, value in data.items()}

    def constants(self) -> dict[str, object]:
        """The private cookiecutter values every file may print: template, generator version, pins."""
        constants: dict[str, object] = {"_tapml_template": self.name, "_tapml_version": __version__}
        if self.pins:
            constants["_pins"] = dict(self.pins)
        if self.copy_without_render:
            constants["_copy_without_render"] = list(self.copy_without_render)
        constants["_new_lines"] = "\n"
        return constants

    def jinja_context(self, values: Mapping[str, OptionValue]) -> dict[str, object]:
        """The `cookiecutter` mapping templates render with: typed values, derived `__name`s, constants."""
        derived = {f"__{name}": item.compute(values) for name, item in self.derived.items()}
        return {**values, **derived, **self.constants()}

    def context(self, values: Mapping[str, OptionValue]) -> dict[str, OptionValue]:
        """Option values plus derived values: everything a template file can refer to."""
        return {**values, **{name: derived.compute(values) for name, derived in self.derived.items()}}


# An installed wheel carries templates/ inside the package (pyproject.toml maps it to generator.templates).
PACKAGED_TEMPLATES = Path(__file__).resolve().parent / "templates"


def templates_root() -> Path:
    """The templates folder: `$TAPML_TEMPLATES` when set; else the copy inside an installed package; else
    `templates/` beside the `generator` package (a source checkout, editable installs included)."""
    override = os.environ.get("TAPML_TEMPLATES")
    if override:
        return Path(override)
    return PACKAGED_TEMPLATES if PACKAGED_TEMPLATES.is_dir() else PACKAGED_TEMPLATES.parent.parent / "templates"


def template_names(root: Path | None = None) -> list[str]:
    root = root or templates_root()
    return sorted(path.parent.name for path in root.glob(f"*/{MANIFEST_NAME}"))


def load_template(name: str, root: Path | None = None) -> Template:
    """Load and check `templates/<name>/tapml.yaml`."""
    root = root or templates_root()
    manifest = root / name / MANIFEST_NAME
    if not manifest.is_file():
        known = ", ".join(template_names(root)) or "none"
        raise UnknownTemplate(f"unknown template {name!r}", hint=f"known templates: {known}")
    return parse_manifest(manifest)


def parse_manifest(manifest: Path) -> Template:
    try:
        data: Any = yaml.safe_load(manifest.read_text(encoding="utf-8"))
        return Template.model_validate({**data, "directory": manifest.parent})
    except yaml.YAMLError as exc:
        raise ManifestError(f"not valid YAML: {exc}", path=manifest) from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in exc.errors())
        raise ManifestError(problems, path=manifest) from None


def load_all(root: Path | None = None) -> list[Template]:
    return [load_template(name, root) for name in template_names(root)]

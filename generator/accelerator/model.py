"""A typed model of `accelerator.yaml`: the `accelerator:` metadata and options, and the `engine:` transforms.

The export validates everything it writes through this model, and the local engine (`engine.py`) reads
accelerator.yaml only through it. Transforms the engine does not implement are rejected when the document is
loaded (`UnsupportedTransform`), so nothing is ever silently skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import AcceleratorError, UnsupportedTransform
from .names import BUILT_INS

ACCELERATOR_FILE = "accelerator.yaml"
OPTION_NAME = r"^[a-z][a-zA-Z0-9]*$"
FRAGMENT_NAME = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
SUPPORTED = (
    "Combo",
    "Include",
    "Exclude",
    "Merge",
    "Chain",
    "Let",
    "ReplaceText",
    "RewritePath",
    "UniquePath",
    "Provenance",
    "InvokeFragment",
)
Strategy = Literal["Fail", "UseFirst", "UseLast", "Append"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ChoiceItem(_Strict):
    value: str
    text: str


class DependsOnRule(_Strict):
    name: str = Field(pattern=OPTION_NAME)
    value: str | bool | int | None = None


class AcceleratorOption(_Strict):
    """One form field of the TAP GUI and one `#name` variable of the engine."""

    name: str = Field(pattern=OPTION_NAME)
    label: str
    description: str | None = None
    inputType: Literal["text", "textarea", "checkbox", "select", "radio"] = "text"  # noqa: N815
    dataType: Literal["string", "boolean", "number"] = "string"  # noqa: N815
    defaultValue: str | bool | int | float | None = None  # noqa: N815
    required: bool = False
    choices: tuple[ChoiceItem, ...] = ()
    validationRegex: str | None = None  # noqa: N815
    dependsOn: DependsOnRule | None = None  # noqa: N815

    @field_validator("name")
    @classmethod
    def _not_built_in(cls, name: str) -> str:
        if name in BUILT_INS:
            raise ValueError(f"{name!r} is a TAP built-in and must not be declared")
        return name


class Expose(_Strict):
    """How an imported fragment's option appears in the importing accelerator (renamed, gated)."""

    name: str = Field(pattern=r"^\*$|" + OPTION_NAME[1:])
    as_: str | None = Field(default=None, alias="as", pattern=OPTION_NAME)
    dependsOn: DependsOnRule | None = None  # noqa: N815


class Import(_Strict):
    """A fragment whose files and (exposed) options this accelerator uses."""

    name: str = Field(pattern=FRAGMENT_NAME)
    expose: tuple[Expose, ...] | None = None


class AcceleratorMeta(_Strict):
    name: str | None = None
    displayName: str  # noqa: N815
    description: str
    iconUrl: str | None = None  # noqa: N815
    tags: tuple[str, ...] = ()
    options: tuple[AcceleratorOption, ...] = ()
    imports: tuple[Import, ...] = ()


class Symbol(_Strict):
    name: str = Field(pattern=OPTION_NAME)
    expression: str


class Substitution(_Strict):
    text: str = Field(min_length=1)
    with_: str = Field(alias="with")


class RegexReplace(_Strict):
    pattern: str
    with_: str = Field(alias="with")


class _Base(_Strict):
    condition: str | None = None
    name: str | None = None


class Include(_Base):
    type: Literal["Include"]
    patterns: tuple[str, ...]


class Exclude(_Base):
    type: Literal["Exclude"]
    patterns: tuple[str, ...]


class Merge(_Base):
    type: Literal["Merge"]
    sources: tuple[Transform, ...] = ()


class Chain(_Base):
    type: Literal["Chain"]
    transformations: tuple[Transform, ...] = ()
    applyTo: tuple[str, ...] | None = None  # noqa: N815


class Let(_Base):
    type: Literal["Let"]
    symbols: tuple[Symbol, ...] = ()
    in_: Transform = Field(alias="in")


class ReplaceText(_Base):
    type: Literal["ReplaceText"]
    substitutions: tuple[Substitution, ...] = ()
    regex: RegexReplace | None = None


class RewritePath(_Base):
    type: Literal["RewritePath"]
    regex: str | None = None
    rewriteTo: str | None = None  # noqa: N815
    matchOrFail: bool = False  # noqa: N815


class UniquePath(_Base):
    type: Literal["UniquePath"]
    strategy: Strategy = "Fail"


class Provenance(_Base):
    type: Literal["Provenance"]


class InvokeFragment(_Base):
    type: Literal["InvokeFragment"]
    reference: str = Field(pattern=FRAGMENT_NAME)
    let: tuple[Symbol, ...] | None = None
    anchor: str | None = Field(default=None, pattern=r"^$|^[^/]$|^[^/](.+)[^/]$")


class Combo(_Base):
    type: Literal["Combo"] = "Combo"
    let: tuple[Symbol, ...] | None = None
    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] | None = None
    merge: tuple[Transform, ...] | None = None
    chain: tuple[Transform, ...] | None = None
    applyTo: tuple[str, ...] | None = None  # noqa: N815
    onConflict: Strategy | None = None  # noqa: N815


Transform = (
    Combo
    | Include
    | Exclude
    | Merge
    | Chain
    | Let
    | ReplaceText
    | RewritePath
    | UniquePath
    | Provenance
    | InvokeFragment
)


class AcceleratorDocument(_Strict):
    """The whole accelerator.yaml."""

    accelerator: AcceleratorMeta
    engine: Transform | None = None

    @field_validator("engine", mode="before")
    @classmethod
    def _known_types(cls, engine: Any) -> Any:
        _check_types(engine, "engine")
        return engine

    def option(self, name: str) -> AcceleratorOption | None:
        return next((option for option in self.accelerator.options if option.name == name), None)


_CHILD_KEYS = ("merge", "chain", "sources", "transformations")


def _check_types(node: Any, where: str) -> None:
    """Reject transform types outside `SUPPORTED` with their location, before pydantic's union errors."""
    if not isinstance(node, dict):
        return
    kind = node.get("type", "Combo")
    if kind not in SUPPORTED:
        raise UnsupportedTransform(
            f"{where}: transform type {kind!r} is not supported by the local engine",
            hint=f"supported: {', '.join(SUPPORTED)}",
        )
    for key in _CHILD_KEYS:
        for index, child in enumerate(node.get(key) or ()):
            _check_types(child, f"{where}.{key}[{index}]")
    if isinstance(node.get("in"), dict):
        _check_types(node["in"], f"{where}.in")


for _model in (Merge, Chain, Let, Combo):
    _model.model_rebuild()
AcceleratorDocument.model_rebuild()


def parse_document(data: Any, *, source: object = ACCELERATOR_FILE) -> AcceleratorDocument:
    """Validate a parsed accelerator.yaml; problems become one `AcceleratorError` listing `loc: msg`."""
    if not isinstance(data, dict):
        raise AcceleratorError(f"{source}: not a mapping")
    try:
        return AcceleratorDocument.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in exc.errors()[:5])
        raise AcceleratorError(f"{source}: {problems}") from None


def load_document(directory: Path) -> AcceleratorDocument:
    """Read `<directory>/accelerator.yaml` through the model."""
    path = directory / ACCELERATOR_FILE
    if not path.is_file():
        raise AcceleratorError(f"{path}: no accelerator.yaml", hint="pass an accelerator directory")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise AcceleratorError(f"{path}: not valid YAML: {exc}") from None
    return parse_document(data, source=path)


# --- writing ----------------------------------------------------------------------------------------------

_FIRST_KEYS = ("type", "name", "condition")
_FLOW_WIDTH = 110


def to_data(model: BaseModel) -> Any:
    """The model as plain data, with only the fields that were set, `type`/`name`/`condition` first."""
    return _ordered(model.model_dump(by_alias=True, exclude_unset=True, mode="json"))


def _ordered(value: Any) -> Any:
    if isinstance(value, dict):
        keys = [key for key in _FIRST_KEYS if key in value] + [key for key in value if key not in _FIRST_KEYS]
        return {key: _ordered(value[key]) for key in keys}
    if isinstance(value, list):
        return [_ordered(item) for item in value]
    return value


class _Dumper(yaml.SafeDumper):
    """Block style for structure, flow style for short leaf mappings and lists (`{name: x, value: y}`)."""


def _is_leaf(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return all(
        not isinstance(item, (dict, list)) or (isinstance(item, dict) and _is_leaf(item) and len(item) <= 2)
        for item in items
    )


def _fits(value: Any) -> bool:
    return _is_leaf(value) and len(yaml.safe_dump(value, default_flow_style=True, width=10_000)) <= _FLOW_WIDTH


def _represent_dict(dumper: _Dumper, data: dict[str, Any]) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=bool(data) and _fits(data))


def _represent_list(dumper: _Dumper, data: list[Any]) -> yaml.Node:
    flow = bool(data) and all(not isinstance(item, (dict, list)) for item in data) and _fits(data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_str(dumper: _Dumper, data: str) -> yaml.Node:
    """SpEL and regexes stay readable: double quotes when text holds `'` (SpEL strings) and no backslash,
    a literal block when it holds both (regexes over SpEL labels), otherwise YAML's own choice."""
    if "'" in data and "\n" not in data:
        if "\\" not in data and '"' not in data:
            return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
        if not data.startswith(" ") and not data.endswith(" "):
            return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)


def dump_yaml(data: Any) -> str:
    """Stable, readable YAML: keys in the order given, short leaves on one line, no wrapping, unicode kept."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=10_000, allow_unicode=True)

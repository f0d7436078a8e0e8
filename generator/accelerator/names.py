"""One name map for a template's values in TAP: snake_case manifest names, camelCase accelerator options,
root-accelerator names (prefixed with the template), SpEL variables and the placeholders of compiled files.

The project name is not an option in TAP: it is the built-in Name field (`#projectName`), from which the
engine derives `#projectSlug` (see `generator.names`); `[[projectName]]` placeholders are replaced by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..manifest import PROJECT_NAME_OPTION, Template

ACCELERATORS_DIR = "accelerators"
ROOT_NAME = "tapml"
ROOT_DISPLAY_NAME = "ML projects for TAP"
ROOT_OPTION = "template"
PROJECT_SLUG = "projectSlug"
PROJECT_WORDS = "projectWords"
RESERVED_NAMES = "reservedPackageNames"
BUILT_INS = ("projectName", "artifactId", "bsGitRepository", "bsGitBranch", "files")
ENGINE_SYMBOLS = (PROJECT_SLUG, PROJECT_WORDS, RESERVED_NAMES)


def camel(name: str) -> str:
    """`data_source` → `dataSource` (TAP option names match `^[a-z][a-zA-Z0-9]*$`)."""
    head, *rest = [part for part in name.split("_") if part]
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def placeholder(camel_name: str) -> str:
    return f"[[{camel_name}]]"


@dataclass(frozen=True)
class OptionNames:
    """Every name of `template`'s options and derived values, in each form the export writes."""

    template: Template

    @cached_property
    def _snake_by_camel(self) -> dict[str, str]:
        return {camel(name): name for name in [*self.template.options, *self.template.derived]}

    def camel(self, name: str) -> str:
        return camel(name)

    def snake(self, camel_name: str) -> str:
        return self._snake_by_camel[camel_name]

    def prefixed(self, name: str) -> str:
        """The root accelerator's name: `cnn-trainer` + `data_source` → `cnnTrainerDataSource`."""
        option = camel(name)
        return camel(self.template.name.replace("-", "_")) + option[:1].upper() + option[1:]

    def symbol(self, name: str) -> str:
        """The SpEL variable holding option or derived value `name`."""
        return "#" + (PROJECT_SLUG if name == PROJECT_NAME_OPTION else camel(name))

    def placeholder(self, name: str) -> str:
        return placeholder(camel(name))

    def clashes(self) -> list[str]:
        """Manifest names whose TAP form collides with a built-in, the derived slug or another name."""
        problems = []
        seen: dict[str, str] = {}
        for name in [*self.template.options, *self.template.derived]:
            if name == PROJECT_NAME_OPTION:
                continue
            symbol = camel(name)
            if symbol in BUILT_INS or symbol in ENGINE_SYMBOLS:
                problems.append(f"{name!r} becomes #{symbol}, which clashes with a TAP built-in")
            elif symbol in seen:
                problems.append(f"{name!r} becomes #{symbol}, which clashes with {seen[symbol]!r}")
            seen[symbol] = name
        return problems

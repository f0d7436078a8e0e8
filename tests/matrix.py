"""Option combinations for bake tests, driven by each template's manifest (cookiecutter-data-science style).

Independent options are cycled, not multiplied: one case with the defaults, one per non-default choice value,
one per flipped boolean, and one with every free-text option changed to another valid value. Invalid cases come
from the manifest too: a value outside each pattern, range and choice list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.manifest import Option, OptionValue, Template

# Valid non-default values for free-text options, tried in order until one matches the option's pattern.
_ALTERNATIVES = ("vision-lab", "Vision lab: a demo, with (punctuation) & more.", "ml-team", "feature/x1",
                 "https://git.example.org/team/vision-lab.git", "photos/train", "labelled_images", "models_v2",
                 "x", "a-b")


@dataclass(frozen=True)
class Case:
    id: str
    values: dict[str, OptionValue] = field(default_factory=dict)


def valid_cases(template: Template) -> list[Case]:
    cases = [Case("defaults")]
    for name, option in template.options.items():
        if option.type == "choice":
            cases += [Case(f"{name}={value}", {name: value}) for value in option.choice_values if value != option.default]
        elif option.type == "boolean":
            cases.append(Case(f"{name}={not option.default}", {name: not option.default}))
    changed = {name: value for name, option in template.options.items()
               if (value := _other_value(option)) is not None}
    cases.append(Case("free-text-changed", changed))
    return cases


def invalid_cases(template: Template) -> list[Case]:
    cases = []
    for name, option in template.options.items():
        if option.type == "choice":
            cases.append(Case(f"{name}-not-a-choice", {name: "not-a-choice"}))
        elif option.type == "integer" and option.min is not None:
            cases.append(Case(f"{name}-below-min", {name: option.min - 1}))
        elif option.type == "string":
            cases.append(Case(f"{name}-bad-pattern", {name: 'bad "value" {{x}}'}))
    return cases


def _other_value(option: Option) -> OptionValue | None:
    if option.type == "integer":
        value = int(option.default) + 1
        return value if option.max is None or value <= option.max else int(option.default) - 1
    if option.type != "string":
        return None
    for candidate in _ALTERNATIVES:
        try:
            if candidate != option.default and option.coerce(candidate) == candidate:
                return candidate
        except ValueError:
            continue
    return None

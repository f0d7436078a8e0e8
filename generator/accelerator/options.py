"""Manifest options as TAP accelerator options: camelCase names, input and data types, regexes, dependsOn.

The project name is not declared: it is TAP's built-in Name field (`#projectName`), from which the engine
derives the project's names (`generator.names`). Integer options become `dataType: number` with a
`validationRegex` that accepts exactly the integers from `min` to `max`, since accelerator options have no range
fields.
"""

from __future__ import annotations

from ..manifest import PROJECT_NAME_OPTION, Option, Template
from .model import AcceleratorOption, ChoiceItem, DependsOnRule
from .names import OptionNames


def accelerator_options(template: Template) -> list[AcceleratorOption]:
    """The `accelerator.options` of one template (the project name is TAP's built-in Name field)."""
    names = OptionNames(template)
    return [
        option_entry(names.camel(name), option, _depends_on(names, option))
        for name, option in template.options.items()
        if name != PROJECT_NAME_OPTION
    ]


def _depends_on(names: OptionNames, option: Option) -> DependsOnRule | None:
    if option.depends_on is None:
        return None
    return DependsOnRule(name=names.camel(option.depends_on.name), value=option.depends_on.value)


def option_entry(name: str, option: Option, depends_on: DependsOnRule | None) -> AcceleratorOption:
    """One option: name, label, description, input and data type, default, rules (TAP omits text/string)."""
    fields: dict[str, object] = {"name": name, "label": option.label}
    if option.help:
        fields["description"] = option.help
    if option.type == "boolean":
        fields.update(inputType="checkbox", dataType="boolean")
    elif option.type == "choice":
        fields.update(inputType="select", choices=tuple(ChoiceItem(value=c.value, text=c.text) for c in option.choices))
    elif option.type == "integer":
        fields["dataType"] = "number"
    fields["defaultValue"] = option.default
    if option.required:
        fields["required"] = True
    if option.type == "string" and option.pattern:
        fields["validationRegex"] = option.pattern
    elif option.type == "integer":
        fields["validationRegex"] = integer_regex(option.min, option.max)
    if depends_on is not None:
        fields["dependsOn"] = depends_on
    return AcceleratorOption.model_validate(fields)


def integer_regex(low: int | None, high: int | None) -> str:
    """An anchored regex (JavaScript and Java) accepting exactly the canonical integers in [low, high]."""
    if low is None and high is None:
        return "^(0|-?[1-9][0-9]*)$"
    if low is None or high is None:
        bound = "minimum" if high is None else "maximum"
        raise ValueError(f"an integer option needs both min and max, got only a {bound}")
    alternatives: list[str] = []
    if low < 0:
        negative = _nonnegative(max(1, -high) if high < 0 else 1, -low)
        alternatives.append("-(" + "|".join(negative) + ")" if len(negative) > 1 else "-" + negative[0])
    if high >= 0:
        alternatives.extend(_nonnegative(max(low, 0), high))
    return "^(" + "|".join(alternatives) + ")$"


def _nonnegative(low: int, high: int) -> list[str]:
    """Alternatives for [low, high], low >= 0, split so each is digits, classes and `[0-9]` runs."""
    pieces: list[str] = []
    start = low
    for stop in _stops(low, high):
        pieces.append(_pattern(start, stop))
        start = stop + 1
    return pieces


def _stops(low: int, high: int) -> list[int]:
    stops = {high}
    nines = 1
    stop = _fill_nines(low, nines)
    while low <= stop < high:
        stops.add(stop)
        nines += 1
        stop = _fill_nines(low, nines)
    zeros = 1
    stop = _fill_zeros(high + 1, zeros) - 1
    while low < stop <= high:
        stops.add(stop)
        zeros += 1
        stop = _fill_zeros(high + 1, zeros) - 1
    return sorted(stops)


def _fill_nines(value: int, count: int) -> int:
    text = str(value)
    return int(text[:-count] + "9" * count) if count < len(text) else int(10**count) - 1


def _fill_zeros(value: int, count: int) -> int:
    step: int = 10**count
    return value - value % step


def _pattern(start: int, stop: int) -> str:
    a, b = str(start), str(stop)
    if len(a) != len(b):
        raise AssertionError(f"range {start}-{stop} spans digit counts")
    out, free = "", 0
    for x, y in zip(a, b):
        if x == y:
            out += x
        elif x == "0" and y == "9":
            free += 1
        else:
            out += f"[{x}-{y}]"
    return out + ("[0-9]" if free == 1 else f"[0-9]{{{free}}}" if free else "")

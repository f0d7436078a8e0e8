"""Manifest options as TAP accelerator options: camelCase names, input and data types, regexes, dependsOn.

The project name is not declared: it maps onto TAP's built-in `#artifactId` (the `projectName` the UI or CLI
sends, spaces turned into `_`). Integer options become `dataType: number` with a `validationRegex` that accepts
exactly the integers from `min` to `max`, since accelerator options have no range fields.
"""

from __future__ import annotations

from ..manifest import PROJECT_NAME_OPTION, Option, Template

PROJECT_SYMBOL = "#artifactId"


def camel(name: str) -> str:
    """`data_source` → `dataSource` (TAP option names match `^[a-z][a-zA-Z0-9]*$`)."""
    head, *rest = [part for part in name.split("_") if part]
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def spel_symbol(template: Template, name: str) -> str:
    """The SpEL variable holding option or derived value `name`."""
    return PROJECT_SYMBOL if name == PROJECT_NAME_OPTION else "#" + camel(name)


def accelerator_options(template: Template) -> list[dict[str, object]]:
    """The `accelerator.options` list of one template (the project name is TAP's built-in)."""
    return [option_entry(camel(name), option, _depends_on(template, option))
            for name, option in template.options.items() if name != PROJECT_NAME_OPTION]


def _depends_on(template: Template, option: Option) -> dict[str, object] | None:
    if option.depends_on is None:
        return None
    return {"name": camel(option.depends_on.name), "value": option.depends_on.value}


def option_entry(name: str, option: Option, depends_on: dict[str, object] | None) -> dict[str, object]:
    """One option in accelerator.yaml key order: name, label, description, types, default, rules."""
    entry: dict[str, object] = {"name": name, "label": option.label}
    if option.help:
        entry["description"] = option.help
    if option.type == "boolean":
        entry.update(inputType="checkbox", dataType="boolean")
    elif option.type == "choice":
        entry.update(inputType="select", dataType="string",
                     choices=[{"value": c.value, "text": c.text} for c in option.choices])
    else:
        entry.update(inputType="text", dataType="number" if option.type == "integer" else "string")
    entry["defaultValue"] = option.default
    if option.required:
        entry["required"] = True
    if option.type == "string" and option.pattern:
        entry["validationRegex"] = option.pattern
    elif option.type == "integer":
        entry["validationRegex"] = integer_regex(option.min, option.max)
    if depends_on is not None:
        entry["dependsOn"] = depends_on
    return entry


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


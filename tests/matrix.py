"""Option combinations for bake and parity tests, driven by each template's manifest (cookiecutter-data-science style).

Independent options are cycled, not multiplied: the defaults; every free-text option at once set to a distinct,
unusual valid value, and at its longest (generated lines must hold it: formatting, YAML);
every non-default choice value (with that free text); each boolean flipped; all booleans
flipped; then pairwise cases, so every pair of values of any two boolean or choice options appears together
(what the accelerator's segments need: each is kept in some case and dropped in another). Invalid cases come
from the manifest too: a value outside each pattern, range and choice list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.manifest import Option, OptionValue, Template

# Non-default free-text candidates, odd ones first: spaces, quotes, `$1`, backslashes, unicode, glob characters.
ODD_TEXT = (
    "Vision lab: it's a demo, with (punctuation) & $1 \\back\\slash, ünïcode * ? [x] — done.",
    "Vision lab: it's a demo, with (punctuation) & $1 $g1 #artifactId #projectSlug ünïcode * ? — done.",
    "Vision lab: a demo, with spaces & more",
    "vision-lab",
    "ml-team.v2",
    "ml_team",
    "feature/x1",
    "https://git.example.org:8443/team/vision-lab.git",
    "photos/train_2024",
    "labelled_images",
    "models_v2",
    "x",
    "a-b",
    "Q",
    "*/30 2-4 * * MON-FRI",
    "America/Argentina/Buenos_Aires",
)


@dataclass(frozen=True)
class Case:
    """One combination: manifest values (snake_case) that differ from the defaults."""

    id: str
    values: dict[str, OptionValue] = field(default_factory=dict)


def odd_value(option: Option, name: str = "x", used: frozenset[OptionValue] = frozenset()) -> OptionValue | None:
    """A valid non-default value, as unusual as the option's pattern or range allows, and not in `used`.

    Distinct values per option make a swapped substitution visible.
    """
    if option.type == "integer":
        low, high = option.min or 0, option.max if option.max is not None else 10**6
        picks = [high, low + 1, (low + high) // 2, low, high - 1]
        return next((v for v in picks if v != option.default and v not in used and low <= v <= high), None)
    if option.type != "string":
        return None
    slug = name.replace("_", "-")
    fallbacks = (f"v-{slug}", f"v_{name}", f"v{slug}/x", f"https://git.example.org/{slug}.git", f"{slug}.example.org")
    for candidate in (*ODD_TEXT, *fallbacks):
        try:
            if candidate != option.default and candidate not in used and option.coerce(candidate) == candidate:
                return candidate
        except ValueError:
            continue
    return None


def odd_values(template: Template) -> dict[str, OptionValue]:
    """A distinct unusual value for every free-text option of `template`."""
    values: dict[str, OptionValue] = {}
    for name, option in template.options.items():
        value = odd_value(option, name, frozenset(values.values()))
        if value is not None:
            values[name] = value
    return values


def longest_value(option: Option, limit: int = 300) -> str | None:
    """The longest valid value of a string option up to `limit` characters: `a`s, after a URL prefix if need be."""
    if option.type != "string":
        return None
    for prefix in ("", "https://a.example.org/"):
        for length in range(limit - len(prefix), 0, -1):
            candidate = prefix + "a" * length
            try:
                if option.coerce(candidate) == candidate:
                    return candidate
            except ValueError:
                continue
    return None


def longest_values(template: Template) -> dict[str, OptionValue]:
    values: dict[str, OptionValue] = {}
    for name, option in template.options.items():
        value = longest_value(option)
        if value is not None:
            values[name] = value
    return values


def valid_cases(template: Template) -> list[Case]:
    """Defaults; odd free text; longest free text; every choice value and all booleans flipped (each with odd and with
    longest free text); each boolean flipped."""
    odd = odd_values(template)
    longest = longest_values(template)
    cases = [Case("defaults"), Case("odd-free-text", odd), Case("longest-free-text", longest)]
    for name, option in template.options.items():
        if option.type == "choice":
            for value in option.choice_values:
                if value != option.default:
                    cases.append(Case(f"{name}={value}", {**odd, name: value}))
                    cases.append(Case(f"longest-free-text,{name}={value}", {**longest, name: value}))
        elif option.type == "boolean":
            cases.append(Case(f"{name}={not option.default}", {name: not option.default}))
    flipped = {n: not o.default for n, o in template.options.items() if o.type == "boolean"}
    if flipped:
        cases.append(Case("all-booleans-flipped", {**odd, **flipped}))
        cases.append(Case("longest-free-text,all-booleans-flipped", {**longest, **flipped}))
    return cases + pairwise_cases(template, odd)


def pairwise_cases(template: Template, odd: dict[str, OptionValue]) -> list[Case]:
    """Greedy all-pairs over the boolean and choice options: each new case covers the most uncovered pairs."""
    space = {
        n: ((True, False) if o.type == "boolean" else o.choice_values)
        for n, o in template.options.items()
        if o.type in ("boolean", "choice")
    }
    names = list(space)
    uncovered = {
        ((a, x), (b, y)) for i, a in enumerate(names) for b in names[i + 1 :] for x in space[a] for y in space[b]
    }
    cases: list[Case] = []
    while uncovered:
        values: dict[str, OptionValue] = {}
        for name in names:
            values[name] = max(
                space[name],
                key=lambda value: (
                    sum(
                        ((other, values[other]), (name, value)) in uncovered
                        or ((name, value), (other, values[other])) in uncovered
                        for other in values
                    )
                    + 0.5 * sum(1 for pair in uncovered if (name, value) in pair)
                ),
            )
        covered = {pair for pair in uncovered if all(values[n] == v for n, v in pair)}
        if not covered:
            pair = min(uncovered, key=repr)
            values.update(dict(pair))
            covered = {p for p in uncovered if all(values[n] == v for n, v in p)}
        uncovered -= covered
        cases.append(Case(f"pairwise-{len(cases) + 1}", {**odd, **values}))
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

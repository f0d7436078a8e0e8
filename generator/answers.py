"""Where answers come from: `--answers` files, `--set key=value` pairs and interactive prompts."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click
import yaml

from .errors import AnswersError, NoTerminal
from .manifest import OptionValue, Template


def read_answers_file(path: Path, template: Template) -> dict[str, Any]:
    """Answers from a YAML file: a `.tapml-answers.yaml` (with `template:` and `answers:`) or a plain mapping."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AnswersError([f"cannot read {path}: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise AnswersError([f"{path} is not UTF-8 text (byte {exc.start}); give a YAML answers file"]) from None
    except yaml.YAMLError as exc:
        raise AnswersError([f"{path} is not valid YAML: {str(exc).splitlines()[0]}"]) from None
    if not isinstance(data, dict):
        raise AnswersError([f"{path} must hold a mapping of option names to values"])
    if "answers" in data:
        if data.get("template") not in (None, template.name):
            raise AnswersError([f"{path} was made by template {data['template']!r}, not {template.name!r}"])
        data = data["answers"]
        if not isinstance(data, dict):
            raise AnswersError([f"{path}: 'answers' must be a mapping"])
    return dict(data)


def parse_set_pairs(pairs: Iterable[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    problems = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            problems.append(f"--set {pair!r} is not key=value")
        else:
            values[key.strip()] = value
    if problems:
        raise AnswersError(problems)
    return values


def prompt_for_values(template: Template, given: dict[str, Any], interactive: bool) -> dict[str, Any]:
    """Ask for every applicable option not already given; with no terminal, say how to go on."""
    if all(name in given for name in template.options):
        return dict(given)
    if not interactive:
        raise NoTerminal(
            "no terminal to ask questions on",
            hint="pass --no-input to take defaults, with --set key=value or --answers FILE",
        )
    values = dict(given)
    known: dict[str, OptionValue] = template.resolve({k: v for k, v in given.items() if k in template.options})
    for name, option in template.options.items():
        if name in given or not template.is_asked(name, known):
            continue
        label = option.label + (f" ({option.help})" if option.help else "")
        while True:
            raw = _ask(option.type, label, option.default, option.choice_values, option.secret)
            try:
                known[name] = values[name] = option.coerce(raw)
                break
            except ValueError as exc:
                click.echo(f"  {exc}", err=True)
    return values


def _ask(kind: str, label: str, default: OptionValue, choices: tuple[str, ...], secret: bool) -> object:
    if kind == "boolean":
        return click.confirm(label, default=bool(default), err=True)
    if kind == "choice":
        return click.prompt(label, default=default, type=click.Choice(choices), err=True)
    return click.prompt(label, default=default, hide_input=secret, err=True)

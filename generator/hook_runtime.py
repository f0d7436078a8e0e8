"""What the generated cookiecutter hooks run, so that plain `cookiecutter` applies tapml's checks.

Cookiecutter hooks cannot import tapml (they run as loose scripts), so `tapml build` writes each template's
hooks as this module's source followed by the template's data. Standard library only, and no Jinja
delimiters in this file: the hooks are rendered by cookiecutter before they run.

The condition language here is the one tapml manifests use (`expressions.Condition` evaluates with it too):
Python syntax over option names, with `==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `not in`, `and`, `or`, `not`.
"""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Tuple,
    ast.List,
)
TRUE = {"true", "yes", "y", "on", "1"}
FALSE = {"false", "no", "n", "off", "0"}


class ConditionError(ValueError):
    """A condition outside the supported subset, or one naming an unknown option."""


def parse_condition(source: str) -> ast.expr:
    """Parse and check a condition; nothing is ever passed to `eval`."""
    try:
        module = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConditionError(f"cannot parse condition {source!r}: {exc.msg}") from None
    for node in ast.walk(module):
        if not isinstance(node, ALLOWED_NODES):
            raise ConditionError(
                f"condition {source!r} uses {type(node).__name__}; "
                "use option names, literals, comparisons, in, and, or, not"
            )
        if isinstance(node, ast.Compare) and len(node.ops) != 1:
            raise ConditionError(f"condition {source!r} chains comparisons; split them with 'and'")
    return module.body


def evaluate(node: ast.expr, values: Mapping[str, Any]) -> Any:
    """The value of a parsed condition over typed option values."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in values:
            raise ConditionError(f"condition names unknown option {node.id!r}")
        return values[node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(evaluate(item, values) for item in node.elts)
    if isinstance(node, ast.UnaryOp):
        return not evaluate(node.operand, values)
    if isinstance(node, ast.BoolOp):
        results = (bool(evaluate(value, values)) for value in node.values)
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.Compare):
        return _compare(node.ops[0], evaluate(node.left, values), evaluate(node.comparators[0], values))
    raise ConditionError(f"unsupported expression node {type(node).__name__}")


def _compare(op: ast.cmpop, left: Any, right: Any) -> bool:
    if isinstance(op, ast.Eq):
        return bool(left == right)
    if isinstance(op, ast.NotEq):
        return bool(left != right)
    if isinstance(op, ast.In):
        return left in right
    if isinstance(op, ast.NotIn):
        return left not in right
    if isinstance(op, ast.Lt):
        return bool(left < right)
    if isinstance(op, ast.LtE):
        return bool(left <= right)
    if isinstance(op, ast.Gt):
        return bool(left > right)
    return bool(left >= right)


def coerce(check: Mapping[str, Any], raw: Any) -> tuple[Any, str | None]:
    """The typed value of one answer and, when it is not acceptable, why."""
    kind = check["type"]
    if kind == "boolean":
        text = str(raw).strip().lower()
        if isinstance(raw, bool) or text in TRUE | FALSE:
            return (raw if isinstance(raw, bool) else text in TRUE), None
        return raw, f"expected true or false, got {raw!r}"
    if kind == "integer":
        try:
            number = int(str(raw).strip()) if not isinstance(raw, bool) else None
        except ValueError:
            number = None
        if number is None:
            return raw, f"expected an integer, got {raw!r}"
        if number < check["min"]:
            return number, f"{number} is below the minimum {check['min']}"
        if number > check["max"]:
            return number, f"{number} is above the maximum {check['max']}"
        return number, None
    value = str(raw)
    if kind == "choice" and value not in check["choices"]:
        return value, f"{value!r} is not one of {', '.join(check['choices'])}"
    if kind == "string" and not re.fullmatch(check["pattern"], value):
        return value, f"{value!r} does not match {check['pattern']}"
    return value, None


def answer_problems(data: Mapping[str, Any], answers: Mapping[str, Any]) -> list[str]:
    """Every problem with the answers: types, patterns, ranges, the project name and cross-field rules."""
    typed: dict[str, Any] = {}
    problems = []
    project = data["project_option"]
    for name, check in data["options"].items():
        typed[name], problem = coerce(check, answers[name])
        if problem and name == project:
            problem = f"{str(answers[name])!r} {data['project_rule']}"
        elif not problem and name == project:
            problem = reserved_problem(str(typed[name]), data["reserved"])
        if problem:
            problems.append(f"{name}: {problem}")
    if not problems:  # rules compare typed values, so they need every value valid first
        problems += [
            rule["message"].format(**typed)
            for rule in data["rules"]
            if not evaluate(parse_condition(rule["check"]), typed)
        ]
    return problems


def reserved_problem(name: str, reserved: Mapping[str, str]) -> str | None:
    """Why the project `name` cannot be used although it has the right shape (its package would clash)."""
    package = name.replace("-", "_")
    if package not in reserved:
        return None
    return f"{name!r} {reserved[package]}" + ("" if package == name else f" (as the package {package!r})")


def unselected(files: list[Mapping[str, str]], answers: Mapping[str, Any], checks: Mapping[str, Any]) -> list[str]:
    """The globs of conditional files whose condition is false for these answers."""
    typed = {name: coerce(check, answers[name])[0] for name, check in checks.items()}
    return [rule["path"] for rule in files if not evaluate(parse_condition(rule["when"]), typed)]


def remove(root: Path, globs: list[str]) -> None:
    """Delete what the globs match below `root`, then every folder left empty."""
    for pattern in globs:
        for path in sorted(root.glob(pattern), reverse=True):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()

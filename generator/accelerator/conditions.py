"""A short condition for a set of option assignments: what a compiled segment or file is kept for.

The compiler knows a segment's condition as the assignments of boolean and choice options under which
cookiecutter renders it. `describe` turns that set into the shortest of a few readable forms (one option's
test, a conjunction, a disjunction, or a decomposition on the first option), as a `Condition` that prints
as Python (manifests, tests) and SpEL (accelerator.yaml, segment markers).
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Mapping, Sequence
from typing import Any, cast

from ..expressions import Condition
from ..manifest import Template

Assignment = tuple[object, ...]


def domains(template: Template, names: Sequence[str]) -> dict[str, tuple[object, ...]]:
    """Every value of each boolean or choice option in `names`, in manifest order."""
    out: dict[str, tuple[object, ...]] = {}
    for name in [n for n in template.options if n in names]:
        option = template.options[name]
        out[name] = (True, False) if option.type == "boolean" else option.choice_values
    return out


def assignments(space: Mapping[str, tuple[object, ...]]) -> list[Assignment]:
    return list(itertools.product(*space.values()))


def describe(space: Mapping[str, tuple[object, ...]], holds: set[Assignment]) -> Condition | bool:
    """The condition true exactly on `holds` within `space`; plain True/False when it does not vary."""
    names = list(space)
    rows = set(holds)
    for name in list(names):  # drop options whose every value leads to the same verdict
        index = names.index(name)
        projected: dict[Assignment, set[object]] = {}
        for row in rows:
            projected.setdefault(row[:index] + row[index + 1 :], set()).add(row[index])
        if all(seen == set(space[name]) for seen in projected.values()):
            rows = set(projected)
            names.pop(index)
    if not rows:
        return False
    if not names:
        return True
    tree = _tree({name: space[name] for name in names}, rows)
    return Condition.from_tree(ast.fix_missing_locations(ast.Expression(tree)).body)


def _tree(space: Mapping[str, tuple[object, ...]], rows: set[Assignment]) -> ast.expr:
    names = list(space)
    if len(names) == 1:
        return _one(names[0], space[names[0]], {row[0] for row in rows})
    projections = [{row[i] for row in rows} for i in range(len(names))]
    if len(rows) == _product_size(projections):
        return _join(ast.And(), [_one(n, space[n], p) for n, p in zip(names, projections) if p != set(space[n])])
    complement = set(assignments(space)) - rows
    outside = [{row[i] for row in complement} for i in range(len(names))]
    if len(complement) == _product_size(outside):
        return _join(
            ast.Or(), [_one(n, space[n], set(space[n]) - p) for n, p in zip(names, outside) if p != set(space[n])]
        )
    return _decompose(space, rows)


def _decompose(space: Mapping[str, tuple[object, ...]], rows: set[Assignment]) -> ast.expr:
    """Split on the first option: values that share the rest's condition are tested together."""
    first, *rest = space
    rest_space = {name: space[name] for name in rest}
    by_rest: dict[frozenset[Assignment], list[object]] = {}
    for value in space[first]:
        sub = frozenset(row[1:] for row in rows if row[0] == value)
        if sub:
            by_rest.setdefault(sub, []).append(value)
    terms = []
    for sub, values in by_rest.items():
        head = _one(first, space[first], set(values))
        described = describe(rest_space, set(sub))
        terms.append(head if described is True else _join(ast.And(), [head, described.tree]))  # type: ignore[union-attr]
    return _join(ast.Or(), terms)


def _one(name: str, domain: tuple[object, ...], values: set[object]) -> ast.expr:
    symbol = ast.Name(id=name, ctx=ast.Load())
    if domain == (True, False):
        return symbol if values == {True} else ast.UnaryOp(op=ast.Not(), operand=symbol)
    kept = [value for value in domain if value in values]
    dropped = [value for value in domain if value not in values]
    if len(kept) == 1:
        return ast.Compare(left=symbol, ops=[ast.Eq()], comparators=[_constant(kept[0])])
    if len(dropped) == 1:
        return ast.Compare(left=symbol, ops=[ast.NotEq()], comparators=[_constant(dropped[0])])
    items = ast.Tuple(elts=[_constant(value) for value in kept], ctx=ast.Load())
    return ast.Compare(left=symbol, ops=[ast.In()], comparators=[items])


def _constant(value: object) -> ast.expr:
    return ast.Constant(cast(Any, value))


def _join(op: ast.boolop, terms: list[ast.expr]) -> ast.expr:
    return terms[0] if len(terms) == 1 else ast.BoolOp(op=op, values=terms)


def _product_size(sets: list[set[object]]) -> int:
    size = 1
    for values in sets:
        size *= len(values)
    return size


def negate(template: Template, condition: Condition) -> Condition | bool:
    """The shortest condition that holds exactly when `condition` does not."""
    space = domains(template, sorted(condition.names()))
    holds = {a for a in assignments(space) if not condition.evaluate(dict(zip(space, a)))}
    return describe(space, holds)

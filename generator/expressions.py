"""The small expression language of manifests, with one evaluator and two compilers.

Conditions (`when:` of a conditional file) are Python-syntax boolean expressions over option names:
`data_source == 'postgres'`, `not enable_url_input`, `model_source in ('mlflow', 'file') and flag`.
They evaluate in Python (tapml), compile to Jinja (cookiecutter hooks) and to SpEL (TAP engine), so
all three channels select the same files. Nothing is ever passed to `eval`.

Derived values are a source option plus a chain of string operations (`replace`, `lower`, `upper`),
compiled the same three ways.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .errors import ExpressionError

_ALLOWED_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.Compare, ast.Eq,
    ast.NotEq, ast.In, ast.NotIn, ast.Name, ast.Load, ast.Constant, ast.Tuple, ast.List,
)


@dataclass(frozen=True)
class Condition:
    """A parsed, checked condition. `source` is the text as written in the manifest."""

    source: str
    tree: ast.expr

    @classmethod
    def parse(cls, source: str) -> Condition:
        try:
            module = ast.parse(source.strip(), mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"cannot parse condition {source!r}: {exc.msg}") from None
        for node in ast.walk(module):
            if not isinstance(node, _ALLOWED_NODES):
                raise ExpressionError(
                    f"condition {source!r} uses {type(node).__name__}",
                    hint="use option names, literals, ==, !=, in, and, or, not",
                )
            if isinstance(node, ast.Compare) and len(node.ops) != 1:
                raise ExpressionError(f"condition {source!r} chains comparisons; split them with 'and'")
        return cls(source, module.body)

    def names(self) -> set[str]:
        return {node.id for node in ast.walk(self.tree) if isinstance(node, ast.Name)}

    def evaluate(self, values: Mapping[str, Any]) -> bool:
        return bool(_evaluate(self.tree, values))

    def to_jinja(self) -> str:
        return _compile(self.tree, _JINJA)

    def to_spel(self, symbol: Callable[[str], str]) -> str:
        """SpEL text; `symbol` maps an option name to its SpEL variable (e.g. `#dataSource`)."""
        return _compile(self.tree, _Dialect("&&", "||", "!", "true", "false", symbol, _spel_membership))


def _evaluate(node: ast.expr, values: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in values:
            raise ExpressionError(f"condition names unknown option {node.id!r}")
        return values[node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_evaluate(item, values) for item in node.elts)
    if isinstance(node, ast.UnaryOp):
        return not _evaluate(node.operand, values)
    if isinstance(node, ast.BoolOp):
        results = (bool(_evaluate(value, values)) for value in node.values)
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.Compare):
        left, right = _evaluate(node.left, values), _evaluate(node.comparators[0], values)
        op = node.ops[0]
        if isinstance(op, ast.Eq):
            return left == right
        if isinstance(op, ast.NotEq):
            return left != right
        return (left in right) if isinstance(op, ast.In) else (left not in right)
    raise ExpressionError(f"unsupported expression node {type(node).__name__}")


@dataclass(frozen=True)
class _Dialect:
    and_: str
    or_: str
    not_: str
    true: str
    false: str
    symbol: Callable[[str], str]
    membership: Callable[[str, Sequence[str], bool], str]


def _jinja_membership(left: str, items: Sequence[str], negate: bool) -> str:
    return f"{left} {'not in' if negate else 'in'} [{', '.join(items)}]"


def _spel_membership(left: str, items: Sequence[str], negate: bool) -> str:
    test = f"{{{', '.join(items)}}}.contains({left})"
    return f"!{test}" if negate else test


_JINJA = _Dialect("and", "or", "not ", "true", "false", lambda name: f"cookiecutter.{name}", _jinja_membership)


def _literal(value: object, dialect: _Dialect) -> str:
    if isinstance(value, bool):
        return dialect.true if value else dialect.false
    if isinstance(value, str):
        return "'" + value.replace("'", "''" if dialect is not _JINJA else "\\'") + "'"
    if isinstance(value, int):
        return str(value)
    raise ExpressionError(f"unsupported literal {value!r}")


def _compile(node: ast.expr, dialect: _Dialect) -> str:
    if isinstance(node, ast.Constant):
        return _literal(node.value, dialect)
    if isinstance(node, ast.Name):
        return dialect.symbol(node.id)
    if isinstance(node, ast.UnaryOp):
        return f"{dialect.not_}({_compile(node.operand, dialect)})"
    if isinstance(node, ast.BoolOp):
        joiner = f" {dialect.and_ if isinstance(node.op, ast.And) else dialect.or_} "
        return "(" + joiner.join(_compile(value, dialect) for value in node.values) + ")"
    if isinstance(node, ast.Compare):
        left, op, right = node.left, node.ops[0], node.comparators[0]
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(right, (ast.Tuple, ast.List)):
                raise ExpressionError("'in' needs a literal list on its right")
            items = [_compile(item, dialect) for item in right.elts]
            return dialect.membership(_compile(left, dialect), items, isinstance(op, ast.NotIn))
        symbol = "==" if isinstance(op, ast.Eq) else "!="
        return f"({_compile(left, dialect)} {symbol} {_compile(right, dialect)})"
    raise ExpressionError(f"unsupported expression node {type(node).__name__}")


# --- derived values -------------------------------------------------------------------------------

StringOp = Literal["replace", "lower", "upper"]


@dataclass(frozen=True)
class Transform:
    """One string operation of a derived value: `replace` takes (old, new); the others take nothing."""

    op: StringOp
    args: tuple[str, ...] = ()

    def apply(self, value: str) -> str:
        if self.op == "replace":
            return value.replace(self.args[0], self.args[1])
        return value.lower() if self.op == "lower" else value.upper()

    def to_jinja(self) -> str:
        if self.op == "replace":
            old, new = (_literal(arg, _JINJA) for arg in self.args)
            return f"|replace({old}, {new})"
        return f"|{self.op}"

    def to_spel(self) -> str:
        if self.op == "replace":
            old, new = (_literal(arg, _SPEL_LITERALS) for arg in self.args)
            return f".replace({old}, {new})"
        return ".toLowerCase()" if self.op == "lower" else ".toUpperCase()"


_SPEL_LITERALS = _Dialect("&&", "||", "!", "true", "false", str, _spel_membership)

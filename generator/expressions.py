"""The small expression language of manifests, with one evaluator and two compilers.

Conditions (`when:` of a conditional file, `check:` of a rule) are Python-syntax expressions over option names:
`data_source == 'postgres'`, `not enable_url_input`, `model_source in ('mlflow', 'file') and flag`.
They evaluate in Python (tapml), compile to Jinja (cookiecutter hooks) and to SpEL (TAP engine), so
all three channels select the same files. Nothing is ever passed to `eval`.

Derived values are a source option plus a chain of string operations (`replace`, `lower`, `upper`,
`python_package`), compiled the same three ways.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .errors import ExpressionError
from .hook_runtime import ConditionError, evaluate, parse_condition
from .names import package_name, spel_package_name


@dataclass(frozen=True)
class Condition:
    """A parsed, checked condition. `source` is the text as written in the manifest."""

    source: str
    tree: ast.expr

    @classmethod
    def parse(cls, source: str) -> Condition:
        try:
            return cls(source, parse_condition(source))
        except ConditionError as exc:
            raise ExpressionError(str(exc)) from None

    @classmethod
    def from_tree(cls, tree: ast.expr) -> Condition:
        return cls(ast.unparse(tree), tree)

    def names(self) -> set[str]:
        return {node.id for node in ast.walk(self.tree) if isinstance(node, ast.Name)}

    def evaluate(self, values: Mapping[str, Any]) -> bool:
        try:
            return bool(evaluate(self.tree, values))
        except ConditionError as exc:
            raise ExpressionError(str(exc)) from None

    def to_jinja(self) -> str:
        return _compile(self.tree, _JINJA, 0)

    def to_spel(self, symbol: Callable[[str], str]) -> str:
        """SpEL text with no more parentheses than needed; `symbol` maps an option name to its variable."""
        return _compile(self.tree, _Dialect("&&", "||", "!", "true", "false", symbol, _spel_membership), 0)


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
_COMPARISONS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
# Binding strength: or < and < comparison < not < primary (SpEL and Jinja agree on this order, except that
# Jinja's `not` binds looser than a comparison, so Jinja text always gets its parentheses).
_OR, _AND, _COMPARE, _NOT, _PRIMARY = 1, 2, 3, 4, 5


def _literal(value: object, dialect: _Dialect) -> str:
    if isinstance(value, bool):
        return dialect.true if value else dialect.false
    if isinstance(value, str):
        return "'" + value.replace("'", "''" if dialect is not _JINJA else "\\'") + "'"
    if isinstance(value, int):
        return str(value)
    raise ExpressionError(f"unsupported literal {value!r}")


def _compile(node: ast.expr, dialect: _Dialect, outer: int) -> str:
    text, strength = _compile_node(node, dialect)
    if dialect is _JINJA:
        return text if strength == _PRIMARY else f"({text})"
    return f"({text})" if strength < outer else text


def _compile_node(node: ast.expr, dialect: _Dialect) -> tuple[str, int]:
    if isinstance(node, ast.Constant):
        return _literal(node.value, dialect), _PRIMARY
    if isinstance(node, ast.Name):
        return dialect.symbol(node.id), _PRIMARY
    if isinstance(node, ast.UnaryOp):
        return dialect.not_ + _compile(node.operand, dialect, _NOT), _NOT
    if isinstance(node, ast.BoolOp):
        strength = _AND if isinstance(node.op, ast.And) else _OR
        joiner = f" {dialect.and_ if strength == _AND else dialect.or_} "
        return joiner.join(_compile(value, dialect, strength + 1) for value in node.values), strength
    if isinstance(node, ast.Compare):
        left, op, right = node.left, node.ops[0], node.comparators[0]
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(right, (ast.Tuple, ast.List)):
                raise ExpressionError("'in' needs a literal list on its right")
            items = [_compile(item, dialect, _PRIMARY) for item in right.elts]
            negate = isinstance(op, ast.NotIn)
            return dialect.membership(_compile(left, dialect, _PRIMARY), items, negate), _NOT if negate else _PRIMARY
        symbol = _COMPARISONS[type(op)]
        return f"{_compile(left, dialect, _PRIMARY)} {symbol} {_compile(right, dialect, _PRIMARY)}", _COMPARE
    raise ExpressionError(f"unsupported expression node {type(node).__name__}")


# --- derived values -------------------------------------------------------------------------------

StringOp = Literal["replace", "lower", "upper", "python_package"]


@dataclass(frozen=True)
class Transform:
    """One string operation of a derived value: `replace` takes (old, new); the others take nothing.

    `python_package` turns a project name into its package name (`names.package_name`). Its Jinja form is a
    plain `-` to `_`, which is the same for every project name that cookiecutter's hook lets through.
    """

    op: StringOp
    args: tuple[str, ...] = ()

    def apply(self, value: str) -> str:
        if self.op == "replace":
            return value.replace(self.args[0], self.args[1])
        if self.op == "python_package":
            return package_name(value)
        return value.lower() if self.op == "lower" else value.upper()

    def to_jinja(self) -> str:
        if self.op == "replace":
            old, new = (_literal(arg, _JINJA) for arg in self.args)
            return f"|replace({old}, {new})"
        if self.op == "python_package":
            return "|replace('-', '_')"
        return f"|{self.op}"

    def to_spel(self, subject: str, reserved: str = "") -> str:
        """This step applied to the SpEL expression `subject`; `reserved` names the reserved-names list."""
        if self.op == "replace":
            old, new = (_literal(arg, _SPEL_LITERALS) for arg in self.args)
            return f"{subject}.replace({old}, {new})"
        if self.op == "python_package":
            return spel_package_name(subject, reserved)
        return subject + (".toLowerCase()" if self.op == "lower" else ".toUpperCase()")


_SPEL_LITERALS = _Dialect("&&", "||", "!", "true", "false", str, _spel_membership)

"""A safe parser and evaluator for the subset of Spring Expression Language (SpEL) tapml emits.

Supported: `#var`, string literals `'..'` (`''` escapes a quote), `true`, `false`, `null`, integer and decimal
numbers, `==`, `!=`, `&&`/`and`, `||`/`or`, `!`/`not`, parentheses, `+` (numeric addition, otherwise string
concatenation with Java's `String.valueOf` rendering), `<`, `<=`, `>`, `>=` on numbers or strings, ternary
`a ? b : c`, inline lists `{'a', 'b'}`, the methods `.replace(a, b)`, `.replaceAll(regex, replacement)` (Java regex
and `$1` syntax), `.toLowerCase()`, `.toUpperCase()`, `.contains(x)`, `.matches(regex)`, `.startsWith(x)`,
`.endsWith(x)` and `T(java.lang.String).valueOf(x)`. Anything else raises `SpelError`; nothing is passed to `eval`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import SpelError

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>\d+(?:\.\d+)?)
    | (?P<string>'(?:[^']|'')*')
    | (?P<var>\#[A-Za-z_][A-Za-z0-9_]*)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*[A-Za-z0-9_]|[A-Za-z_])
    | (?P<op>==|!=|<=|>=|&&|\|\||[-+!?:(){},.<>])
    )""",
    re.VERBOSE,
)
_WORD_OPS = {"and": "&&", "or": "||", "not": "!"}
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_METHODS = {
    "replace": 2,
    "replaceAll": 2,
    "toLowerCase": 0,
    "toUpperCase": 0,
    "contains": 1,
    "matches": 1,
    "startsWith": 1,
    "endsWith": 1,
}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        if source[pos:].strip() == "":
            break
        match = _TOKEN.match(source, pos)
        if not match or match.end() == pos:
            raise SpelError(f"cannot parse SpEL {source!r} at position {pos}")
        kind = match.lastgroup or "op"
        text = match.group(kind)
        if kind == "ident" and text in _WORD_OPS:
            kind, text = "op", _WORD_OPS[text]
        tokens.append(Token(kind, text, match.start(kind)))
        pos = match.end()
    tokens.append(Token("end", "", len(source)))
    return tokens


Node = tuple[Any, ...]


class _Parser:
    """Recursive descent: ternary > or > and > equality > additive > unary > postfix > primary."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0

    def fail(self, what: str) -> SpelError:
        token = self.tokens[self.index]
        return SpelError(f"SpEL {self.source!r}: {what} at position {token.pos} ({token.text or 'end'!r})")

    def peek(self, text: str) -> bool:
        return self.tokens[self.index].text == text and self.tokens[self.index].kind in ("op", "ident")

    def take(self, text: str | None = None) -> Token:
        token = self.tokens[self.index]
        if text is not None and not self.peek(text):
            raise self.fail(f"expected {text!r}")
        self.index += 1
        return token

    def parse(self) -> Node:
        node = self.ternary()
        if self.tokens[self.index].kind != "end":
            raise self.fail("unexpected token")
        return node

    def ternary(self) -> Node:
        test = self.binary(0)
        if self.peek("?"):
            self.take("?")
            yes = self.ternary()
            self.take(":")
            return ("if", test, yes, self.ternary())
        return test

    _LEVELS: tuple[tuple[str, ...], ...] = (("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="), ("+",))

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while any(self.peek(op) for op in self._LEVELS[level]):
            op = self.take().text
            node = (op, node, self.binary(level + 1))
        return node

    def unary(self) -> Node:
        if self.peek("!"):
            self.take("!")
            return ("!", self.unary())
        if self.peek("-"):
            self.take("-")
            return ("neg", self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while self.peek("."):
            self.take(".")
            name = self.take()
            if name.kind != "ident" or name.text not in _METHODS:
                raise SpelError(f"SpEL {self.source!r}: unsupported method {name.text!r}")
            args = self.arguments()
            if len(args) != _METHODS[name.text]:
                raise SpelError(f"SpEL {self.source!r}: {name.text} takes {_METHODS[name.text]} argument(s)")
            node = ("call", node, name.text, tuple(args))
        return node

    def arguments(self) -> list[Node]:
        self.take("(")
        args: list[Node] = []
        while not self.peek(")"):
            args.append(self.ternary())
            if not self.peek(")"):
                self.take(",")
        self.take(")")
        return args

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return ("lit", float(token.text) if "." in token.text else int(token.text))
        if token.kind == "string":
            return ("lit", token.text[1:-1].replace("''", "'"))
        if token.kind == "var":
            return ("var", token.text[1:])
        if token.kind == "ident":
            return self.keyword(token)
        if token.text == "(":
            node = self.ternary()
            self.take(")")
            return node
        if token.text == "{":
            items: list[Node] = []
            while not self.peek("}"):
                items.append(self.ternary())
                if not self.peek("}"):
                    self.take(",")
            self.take("}")
            return ("list", tuple(items))
        self.index -= 1
        raise self.fail("unexpected token")

    def keyword(self, token: Token) -> Node:
        literals: dict[str, object] = {"true": True, "false": False, "null": None}
        if token.text in literals:
            return ("lit", literals[token.text])
        if token.text == "T":
            self.take("(")
            type_name = self.take()
            self.take(")")
            self.take(".")
            method = self.take()
            if type_name.text != "java.lang.String" or method.text != "valueOf":
                raise SpelError(f"SpEL {self.source!r}: only T(java.lang.String).valueOf(x) is supported")
            args = self.arguments()
            if len(args) != 1:
                raise SpelError(f"SpEL {self.source!r}: valueOf takes one argument")
            return ("valueOf", args[0])
        self.index -= 1
        raise self.fail("unknown identifier")


def parse(source: str) -> Node:
    """Parse SpEL `source` into a small tuple tree; raise `SpelError` outside the subset."""
    return _Parser(source).parse()


def java_string(value: object) -> str:
    """`String.valueOf(value)` as Java renders it: `true`, `null`, `32`, `32.0`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else f"{int(value)}.0"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(java_string(item) for item in value) + "]"
    return str(value)


def evaluate(source: str, variables: Mapping[str, object]) -> object:
    """Evaluate SpEL `source` with `#name` bound to `variables[name]`."""
    return _Evaluator(source, variables).run(parse(source))


@dataclass
class _Evaluator:
    source: str
    variables: Mapping[str, object]

    def error(self, message: str) -> SpelError:
        return SpelError(f"SpEL {self.source!r}: {message}")

    def run(self, node: Node) -> object:
        handler: Callable[[Node], object] = getattr(self, "_" + _HANDLERS.get(node[0], "unknown"))
        return handler(node)

    def _unknown(self, node: Node) -> object:
        raise self.error(f"unsupported node {node[0]!r}")

    def _lit(self, node: Node) -> object:
        return node[1]

    def _var(self, node: Node) -> object:
        if node[1] not in self.variables:
            raise self.error(f"variable #{node[1]} is not defined")
        return self.variables[node[1]]

    def _list(self, node: Node) -> object:
        return [self.run(item) for item in node[1]]

    def _if(self, node: Node) -> object:
        return self.run(node[2]) if self._truth(self.run(node[1])) else self.run(node[3])

    def _not(self, node: Node) -> object:
        return not self._truth(self.run(node[1]))

    def _neg(self, node: Node) -> object:
        value = self.run(node[1])
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"cannot negate {value!r}")
        return -value

    def _logic(self, node: Node) -> object:
        left = self._truth(self.run(node[1]))
        if node[0] == "&&":
            return left and self._truth(self.run(node[2]))
        return left or self._truth(self.run(node[2]))

    def _equality(self, node: Node) -> object:
        left, right = self.run(node[1]), self.run(node[2])
        same = _numeric_equal(left, right) if _is_number(left) and _is_number(right) else left == right
        same = same and (type(left) is bool) == (type(right) is bool)
        return same if node[0] == "==" else not same

    def _order(self, node: Node) -> object:
        left, right = self.run(node[1]), self.run(node[2])
        if not (_is_number(left) and _is_number(right)) and not (isinstance(left, str) and isinstance(right, str)):
            raise self.error(f"cannot compare {java_string(left)} and {java_string(right)}")
        return _ORDER[node[0]](left, right)

    def _plus(self, node: Node) -> object:
        left, right = self.run(node[1]), self.run(node[2])
        if _is_number(left) and _is_number(right):
            return left + right  # type: ignore[operator]
        if isinstance(left, str) or isinstance(right, str):
            return java_string(left) + java_string(right)
        raise self.error(f"cannot add {left!r} and {right!r}")

    def _valueOf(self, node: Node) -> object:  # noqa: N802 - mirrors the Java name
        return java_string(self.run(node[1]))

    def _call(self, node: Node) -> object:
        target = self.run(node[1])
        args = [self.run(arg) for arg in node[3]]
        method = node[2]
        if method == "contains" and isinstance(target, list):
            return any(item == args[0] and type(item) is type(args[0]) for item in target)
        if not isinstance(target, str):
            raise self.error(f"{method}() needs a string, got {java_string(target)}")
        if any(not isinstance(arg, str) for arg in args):
            raise self.error(f"{method}() takes string arguments")
        return _string_method(target, method, [str(arg) for arg in args])

    def _truth(self, value: object) -> bool:
        if not isinstance(value, bool):
            raise self.error(f"expected a boolean, got {java_string(value)}")
        return value


def _string_method(target: str, method: str, args: list[str]) -> object:
    if method == "replace":
        return target.replace(args[0], args[1])
    if method == "replaceAll":
        return re.sub(java_regex(args[0]), java_replacement(args[1]), target)
    if method == "toLowerCase":
        return target.lower()
    if method == "toUpperCase":
        return target.upper()
    if method == "contains":
        return args[0] in target
    if method == "startsWith":
        return target.startswith(args[0])
    if method == "endsWith":
        return target.endswith(args[0])
    return re.fullmatch(java_regex(args[0]), target) is not None


def java_regex(pattern: str) -> str:
    """A Java regex in Python syntax: named groups `(?<n>` become `(?P<n>`; the rest of our subset is shared."""
    return re.sub(r"\(\?<([A-Za-z][A-Za-z0-9]*)>", r"(?P<\1>", pattern)


def java_replacement(replacement: str) -> str:
    """Java's `$1`/`${name}` replacement syntax (with `\\` escapes) in Python's `re.sub` syntax."""
    out, index = [], 0
    while index < len(replacement):
        char = replacement[index]
        if char == "\\" and index + 1 < len(replacement):
            out.append(replacement[index + 1].replace("\\", "\\\\"))
            index += 2
            continue
        group = re.match(r"\$(\d+|\{[A-Za-z][A-Za-z0-9]*\})", replacement[index:])
        if char == "$" and group:
            out.append(f"\\g<{group.group(1).strip('{}')}>")
            index += group.end()
            continue
        if char == "$":
            raise SpelError(f"illegal group reference in replacement {replacement!r}")
        out.append("\\\\" if char == "\\" else char)
        index += 1
    return "".join(out)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numeric_equal(left: object, right: object) -> bool:
    return float(left) == float(right)  # type: ignore[arg-type]


_HANDLERS = {
    "lit": "lit",
    "var": "var",
    "list": "list",
    "if": "if",
    "!": "not",
    "neg": "neg",
    "&&": "logic",
    "||": "logic",
    "==": "equality",
    "!=": "equality",
    "<": "order",
    "<=": "order",
    ">": "order",
    ">=": "order",
    "+": "plus",
    "valueOf": "valueOf",
    "call": "call",
}

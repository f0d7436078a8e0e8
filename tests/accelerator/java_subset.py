"""A checker for the regex subset that JavaScript (TAP GUI), Java (TAP engine) and Python (tapml) read alike.

It parses with Python's own regex parser and rejects what the three dialects treat differently or lack:
lookbehind, named groups, possessive quantifiers, atomic groups, conditionals, inline flags, `\\A`/`\\Z`,
`\\p{..}` classes, Unicode-sensitive shorthand classes (`\\d`, `\\w`, `\\s` differ between the three), `&&` or
`[` inside a character class (Java intersection/union), a `{` that is not a quantifier (an error in Java),
and letter escapes outside a small shared set.
"""

from __future__ import annotations

import re
import warnings
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser as parser  # type: ignore[attr-defined]
from typing import Any

_SHARED_ESCAPES = set("nrtfbB") | set("123456789")
_ALLOWED_AT = {c.AT_BEGINNING, c.AT_END, c.AT_BOUNDARY, c.AT_NON_BOUNDARY}


def problems(pattern: str) -> list[str]:
    """Why `pattern` is outside the common subset; empty when it is inside."""
    found = _lexical(pattern)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # Python's own nested-set warnings; we report them
            tree = parser.parse(pattern)
    except re.error as exc:
        return [*found, f"not a Python regex: {exc}"]
    if tree.state.flags & ~c.SRE_FLAG_UNICODE:
        found.append("inline flags such as (?i) are not supported by JavaScript")
    _walk(tree, found)
    return found


def _walk(items: Any, found: list[str]) -> None:
    for op, arg in items:
        if op is c.POSSESSIVE_REPEAT:
            found.append("possessive quantifiers are not supported by JavaScript")
        elif op is c.ATOMIC_GROUP:
            found.append("atomic groups are not supported by JavaScript")
        elif op is c.GROUPREF_EXISTS:
            found.append("conditional groups are not supported by JavaScript or Java")
        elif op is c.AT and arg not in _ALLOWED_AT:
            found.append(f"anchor {arg} (\\A, \\Z) is not supported by JavaScript")
        elif op in (c.ASSERT, c.ASSERT_NOT):
            if arg[0] < 0:
                found.append("lookbehind is not in the common subset")
            _walk(arg[1], found)
        elif op is c.SUBPATTERN:
            if arg[1] or arg[2]:
                found.append("scoped inline flags are not supported by JavaScript")
            _walk(arg[3], found)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            _walk(arg[2], found)
        elif op is c.BRANCH:
            for branch in arg[1]:
                _walk(branch, found)


def _lexical(pattern: str) -> list[str]:
    found: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            escaped = pattern[index + 1]
            if escaped == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}", pattern[index + 2 : index + 4]):
                index += 4  # \xhh: two hex digits mean one character in all three
                continue
            if escaped.isalnum() and escaped not in _SHARED_ESCAPES:
                found.append(f"escape \\{escaped} is not read alike by JavaScript, Java and Python")
            index += 2
            continue
        if in_class:
            if char == "[":
                found.append("'[' inside a character class is a nested class in Java; escape it")
            elif pattern.startswith("&&", index):
                found.append("'&&' inside a character class is an intersection in Java")
            elif char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            if pattern.startswith("[^]", index) or pattern.startswith("[]", index):
                found.append("']' first in a class means different things in JavaScript and Java")
        elif re.match(r"\(\?(P?<[A-Za-z])", pattern[index:]):
            found.append("named groups differ: (?<n>) in Java/JS, (?P<n>) in Python")
        elif char == "{" and not re.match(r"\{\d+(,\d*)?\}", pattern[index:]):
            found.append("a '{' that is not a quantifier is an error in Java; escape it")
        index += 1
    return found


# --- regexes the engine runs (Java and our Python engine; never JavaScript) ----------------------------------

_ENGINE_FLAGS = re.compile(r"^\(\?[sm]+\)")


def engine_problems(pattern: str) -> list[str]:
    """Why a regex the TAP engine runs (ReplaceText, RewritePath, SpEL `replaceAll`) is unsafe on Java.

    Leading `(?s)`/`(?m)` flags are fine there. Refused: anything outside the shared syntax above (other than
    those flags), a repeated group (Java recurses once per repetition of a group, so `(.|\\n)*` on a large
    file overflows its stack), nested quantifiers (catastrophic backtracking) and backreferences.
    """
    found = problems(_ENGINE_FLAGS.sub("", pattern))
    tree = parser.parse(pattern)
    _walk_engine(tree, found, inside_repeat=False)
    return found


def _walk_engine(items: Any, found: list[str], inside_repeat: bool) -> None:
    for op, arg in items:
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            _low, _high, body = arg
            if inside_repeat:
                found.append("a quantifier inside a repeated group can backtrack catastrophically")
            if any(inner_op in (c.SUBPATTERN, c.BRANCH) for inner_op, _ in body):
                found.append("a repeated group or alternation recurses in Java on long input")
            _walk_engine(body, found, inside_repeat=True)
        elif op is c.SUBPATTERN:
            _walk_engine(arg[3], found, inside_repeat)
        elif op is c.BRANCH:
            for branch in arg[1]:
                _walk_engine(branch, found, inside_repeat)
        elif op in (c.ASSERT, c.ASSERT_NOT):
            _walk_engine(arg[1], found, inside_repeat)
        elif op is c.GROUPREF:
            found.append("backreferences are not allowed in engine regexes")

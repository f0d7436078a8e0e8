"""Compile one template file into one accelerator file: Jinja branches become marked segments.

The TAP engine does not run Jinja. A file is rendered ahead of time with every branch kept: each `{% if %}`
over boolean and choice options becomes a run of segments, each wrapped in markers naming, in SpEL, when
it is kept (`[[if #mlflowClaim]]...[[end #mlflowClaim]]`). The engine drops the segments whose condition is
false and then every marker (`ReplaceText` with a regex). An expression printed from those options (a
boolean, `{{ 'a' if cookiecutter.x else 'b' }}`) becomes one segment per value. Free-text values print as
placeholders that the engine replaces with SpEL.

Anything else that depends on a boolean or choice option (`{% set %}`, a loop over it, an option mixed with
template variables in a test) raises `NoMarkers`; the compiler then stores that file as whole-file variants
and says why. Every compiled file is checked before it is written: for each assignment of its options,
dropping segments as the engine will gives exactly what cookiecutter renders.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from jinja2 import Environment, Template, TemplateError, TemplateSyntaxError, nodes

from ..errors import CompileError
from ..expressions import Condition
from .conditions import Assignment, describe

CC = "cookiecutter"
OPEN, CLOSE = "[[if ", "[[end "
MARKER = re.compile(r"\[\[(?:if|end) [^\]\r\n]*\]\]")
FILTER_FIX = (
    "declare a derived value in tapml.yaml `derived:` (replace/lower/upper/python_package) and write "
    "{{ cookiecutter.__NAME }}, or turn the value into a boolean/choice option"
)
BRANCH_FIX = (
    "branch on a boolean or choice option instead, or declare the file in tapml.yaml `files:` with a `when:` condition"
)
_RUNTIME_KEYS = ("_template", "_output_dir", "_repo_dir", "_checkout")


class NoMarkers(Exception):
    """The file cannot carry segment markers; `str()` says why, for `tapml build` to report."""


@dataclass(frozen=True)
class Vocabulary:
    """What one template's files may refer to, and how each value appears in a compiled file.

    `text`: cookiecutter keys printed as placeholders (string and integer options, derived values, and choice
    options, which may also branch). `branch`: the boolean and choice options with all their values.
    `base`: the rest of the context (constants such as `_pins`, and placeholder values for `text`).
    `label`: the SpEL text of a condition, which names its segments.
    """

    text: Mapping[str, str]
    branch: Mapping[str, tuple[object, ...]]
    base: Mapping[str, object]
    label: Callable[[Condition], str]

    def context(self, assignment: Mapping[str, object]) -> dict[str, object]:
        return {CC: {**self.base, **assignment}}


@dataclass
class Marked:
    """A compiled text and the conditions of the segments it holds, by label."""

    text: str
    segments: dict[str, Condition] = field(default_factory=dict)


def open_marker(label: str) -> str:
    return f"{OPEN}{label}]]"


def close_marker(label: str) -> str:
    return f"{CLOSE}{label}]]"


def drop_pattern(label: str) -> str:
    """The regex that removes every segment labelled `label`, markers included (Java and Python alike).

    `(?s)` lets `.` cross lines; the lazy `.*?` is a single-character loop, which Java runs without recursion.
    """
    return "(?s)" + java_quote(open_marker(label)) + ".*?" + java_quote(close_marker(label))


def java_quote(text: str) -> str:
    """A regex matching `text` literally, valid in Java and Python."""
    return re.sub(r"([\\.\[\]{}()*+?^$|])", r"\\\1", text)


def keep_segments(text: str, verdicts: Mapping[str, bool]) -> str:
    """What the engine leaves of `text`: segments whose label is false dropped, then every marker removed."""
    for label, kept in verdicts.items():
        if not kept:
            text = re.sub(drop_pattern(label), "", text)
    return MARKER.sub("", text)


# --- checking what a file refers to -------------------------------------------------------------------------


def cookiecutter_key(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name) and node.node.name == CC:
        return str(node.attr)
    if (
        isinstance(node, nodes.Getitem)
        and isinstance(node.node, nodes.Name)
        and node.node.name == CC
        and isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, str)
    ):
        return node.arg.value
    return None


def walk(node: nodes.Node, parent: nodes.Node | None) -> Iterator[tuple[nodes.Node, nodes.Node | None]]:
    yield node, parent
    for child in node.iter_child_nodes():
        yield from walk(child, node)


def check_references(tree: nodes.Node, vocab: Vocabulary, where: object, options: Mapping[str, str]) -> None:
    """Raise `CompileError` for any use of a free-text value other than a plain print, and similar misuse.

    `options` maps each text key to its kind (`string`, `integer`, `derived`, `choice`).
    """
    for node, parent in walk(tree, None):
        if isinstance(node, (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
            raise CompileError(
                "{% include/import/extends %} cannot be compiled per file",
                path=where,
                line=node.lineno,
                hint="inline the shared text, or make it a shared part",
            )
        key = cookiecutter_key(node)
        if key is None:
            if (
                isinstance(node, nodes.Name)
                and node.name == CC
                and not (
                    parent is not None
                    and cookiecutter_key(parent) is not None
                    and getattr(parent, "node", None) is node
                )
            ):
                raise CompileError(
                    "the whole cookiecutter context is used",
                    path=where,
                    line=node.lineno,
                    hint="refer to single values as {{ cookiecutter.NAME }}",
                )
            continue
        if key in _RUNTIME_KEYS:
            raise CompileError(
                f"cookiecutter.{key} depends on where cookiecutter runs",
                path=where,
                line=node.lineno,
                hint="use a manifest option instead",
            )
        if options.get(key, "choice") != "choice" and not isinstance(parent, nodes.Output):
            kind = (
                "a filter or expression"
                if isinstance(parent, (nodes.Filter, nodes.Call, nodes.Concat, nodes.BinExpr, nodes.Getattr))
                else "a branch"
            )
            raise CompileError(
                f"{kind} uses free-text value {key!r}; the TAP engine only substitutes it verbatim",
                path=where,
                line=node.lineno,
                hint=FILTER_FIX if kind != "a branch" else BRANCH_FIX,
            )


def _keys(node: nodes.Node) -> set[str]:
    return {key for child, _ in walk(node, None) if (key := cookiecutter_key(child)) is not None}


def _locals(node: nodes.Node) -> set[str]:
    names = {child.name for child, _ in walk(node, None) if isinstance(child, nodes.Name) and child.name != CC}
    return names - {"true", "false", "none", "True", "False", "None"}


# --- turning branches into segments -------------------------------------------------------------------------


@dataclass
class _Compiler:
    env: Environment
    vocab: Vocabulary
    where: object
    segments: dict[str, Condition] = field(default_factory=dict)

    def body(self, statements: list[nodes.Node], enclosing: tuple[str, ...]) -> list[nodes.Node]:
        out: list[nodes.Node] = []
        for statement in statements:
            out.extend(self.statement(statement, enclosing))
        return out

    def statement(self, node: nodes.Node, enclosing: tuple[str, ...]) -> list[nodes.Node]:
        if isinstance(node, nodes.If) and any(self._branch_keys(item.test) for item in [node, *node.elif_]):
            return self.branches(node, enclosing)
        if isinstance(node, nodes.Output):
            return [nodes.Output(self.output(node.nodes, enclosing), lineno=node.lineno)]
        self._check_header(node)
        for name in node.fields:
            value = getattr(node, name)
            is_node_list = isinstance(value, list) and value and all(isinstance(item, nodes.Node) for item in value)
            if is_node_list and (name in ("body", "else_") or isinstance(value[0], nodes.Stmt)):
                setattr(node, name, self.body(value, enclosing))
        return [node]

    def _branch_keys(self, node: nodes.Node) -> set[str]:
        return _keys(node) & set(self.vocab.branch)

    def _check_header(self, node: nodes.Node) -> None:
        """A loop, assignment or block whose own expressions depend on a branch option cannot be marked."""
        for name in node.fields:
            value = getattr(node, name)
            parts = value if isinstance(value, list) else [value]
            for part in parts:
                if isinstance(part, nodes.Expr) and self._branch_keys(part):
                    raise NoMarkers(
                        f"line {node.lineno}: {type(node).__name__.lower()} depends on "
                        f"{', '.join(sorted(self._branch_keys(part)))}"
                    )

    def branches(self, node: nodes.If, enclosing: tuple[str, ...]) -> list[nodes.Node]:
        chain = [node, *node.elif_]
        keys = sorted(set().union(*(self._branch_keys(item.test) for item in chain)))
        if any(_locals(item.test) for item in chain):
            raise NoMarkers(f"line {node.lineno}: a condition mixes options with template variables")
        space = self._space(keys)
        picked: dict[int, set[Assignment]] = {}
        for assignment in itertools.product(*space.values()):
            values = dict(zip(space, assignment))
            index = next((i for i, item in enumerate(chain) if self._truth(item.test, values)), len(chain))
            picked.setdefault(index, set()).add(assignment)
        bodies = [item.body for item in chain] + [node.else_]
        out: list[nodes.Node] = []
        for index, body in enumerate(bodies):
            if index in picked and body:
                out.extend(self.segment(describe(space, picked[index]), body, enclosing, node.lineno))
        return out

    def segment(
        self, condition: Condition | bool, body: list[nodes.Node], enclosing: tuple[str, ...], lineno: int
    ) -> list[nodes.Node]:
        if condition is False:
            return []
        if condition is True:
            return self.body(body, enclosing)
        label = self.vocab.label(condition)
        if label in enclosing:  # already inside a segment with the same condition: always kept here
            return self.body(body, enclosing)
        self.segments[label] = condition
        return [
            nodes.Output([nodes.TemplateData(open_marker(label))], lineno=lineno),
            *self.body(body, (*enclosing, label)),
            nodes.Output([nodes.TemplateData(close_marker(label))], lineno=lineno),
        ]

    def output(self, items: list[nodes.Expr], enclosing: tuple[str, ...]) -> list[nodes.Expr]:
        out: list[nodes.Expr] = []
        for item in items:
            keys = self._branch_keys(item)
            plain_choice = cookiecutter_key(item) in self.vocab.text
            if isinstance(item, nodes.TemplateData) or not keys or plain_choice:
                out.append(item)
                continue
            if _locals(item) or _keys(item) - keys - {key for key in _keys(item) if key.startswith("_")}:
                raise NoMarkers(f"line {item.lineno}: a printed expression mixes options with other values")
            out.extend(self.printed(item, sorted(keys), enclosing))
        return out

    def printed(self, item: nodes.Expr, keys: list[str], enclosing: tuple[str, ...]) -> list[nodes.Expr]:
        """One segment per distinct text the expression prints."""
        space = self._space(keys)
        by_text: dict[str, set[Assignment]] = {}
        for assignment in itertools.product(*space.values()):
            text = self._render([nodes.Output([item])], dict(zip(space, assignment)))
            by_text.setdefault(text, set()).add(assignment)
        out: list[nodes.Expr] = []
        for text, holds in by_text.items():
            condition = describe(space, holds)
            if text and condition is not False:
                label = self.vocab.label(condition) if isinstance(condition, Condition) else ""
                if not label or label in enclosing:
                    out.append(nodes.TemplateData(text))
                else:
                    self.segments[label] = condition  # type: ignore[assignment]
                    out.append(nodes.TemplateData(open_marker(label) + text + close_marker(label)))
        return out

    def _space(self, keys: list[str]) -> dict[str, tuple[object, ...]]:
        return {key: self.vocab.branch[key] for key in keys}

    def _truth(self, test: nodes.Node, values: Mapping[str, object]) -> bool:
        return self._render([nodes.If(test, [nodes.Output([nodes.TemplateData("1")])], [], [])], values) == "1"

    def _render(self, body: list[nodes.Node], values: Mapping[str, object]) -> str:
        try:
            return render_tree(self.env, nodes.Template(body, lineno=1), self.vocab.context(values))
        except TemplateError as exc:
            raise CompileError(
                f"cannot render: {exc.message or type(exc).__name__}",
                path=self.where,
                hint="cookiecutter fails here too",
            ) from None


def render_tree(env: Environment, tree: nodes.Template, context: Mapping[str, object]) -> str:
    tree.set_environment(env)
    tree.set_lineno(1)
    code = env.compile(tree)
    return env.template_class.from_code(env, code, env.make_globals(None), None).render(**context)


def parse(env: Environment, source: str, where: object) -> nodes.Template:
    try:
        return env.parse(source)
    except TemplateSyntaxError as exc:
        raise CompileError(f"Jinja syntax error: {exc.message}", path=where, line=exc.lineno) from None


def compile_text(env: Environment, source: str, vocab: Vocabulary, where: object, kinds: Mapping[str, str]) -> Marked:
    """The marked text of one file; `NoMarkers` when it cannot carry markers; checked against cookiecutter."""
    tree = parse(env, source, where)
    check_references(tree, vocab, where, kinds)
    compiler = _Compiler(env, vocab, where)
    tree.body = compiler.body(tree.body, ())
    poisoned = {key: _Poison(key) for key, values in vocab.branch.items() if key not in vocab.text}
    try:
        text = render_tree(env, tree, vocab.context(poisoned))
    except (_PoisonTouched, TemplateError) as exc:
        raise NoMarkers(f"an option is used where it cannot be marked ({exc})") from None
    marked = Marked(_markers_at_line_starts(text, compiler.segments), compiler.segments)
    _verify(env, source, vocab, marked, where)
    return marked


def _markers_at_line_starts(text: str, segments: Mapping[str, Condition]) -> str:
    """`x[[if c]]\nbody[[end c]]\ny` reads better, and means the same, as `x\n[[if c]]body\n[[end c]]y`."""
    for label in segments:
        opening, closing = open_marker(label), close_marker(label)
        start = text.find(opening)
        while start != -1:
            body_start = start + len(opening)
            end = text.find(closing, body_start)
            after = end + len(closing)
            if text[body_start : body_start + 1] == "\n" and text[after : after + 1] == "\n":
                text = f"{text[:start]}\n{opening}{text[body_start + 1 : end]}\n{closing}{text[after + 1 :]}"
            start = text.find(opening, after)
    return text


def _verify(env: Environment, source: str, vocab: Vocabulary, marked: Marked, where: object) -> None:
    """For every assignment of the options the file uses, the engine's result equals cookiecutter's."""
    keys = sorted(_keys(parse(env, source, where)) & set(vocab.branch))
    for assignment in itertools.product(*(vocab.branch[key] for key in keys)):
        values = dict(zip(keys, assignment))
        expected = _rendered(env, source, vocab, values)
        verdicts = {label: condition.evaluate(values) for label, condition in marked.segments.items()}
        actual = keep_segments(marked.text, verdicts)
        for key, value in values.items():
            if key in vocab.text:  # a printed choice: the engine substitutes its placeholder
                actual = actual.replace(vocab.text[key], str(value))
        if actual != expected:
            raise NoMarkers(f"its segments do not reproduce cookiecutter's output for {values}")


@lru_cache(maxsize=4096)
def _template(env: Environment, source: str) -> Template:
    return env.from_string(source)


def _rendered(env: Environment, source: str, vocab: Vocabulary, values: Mapping[str, object]) -> str:
    return str(_template(env, source).render(**vocab.context(values)))


class _PoisonTouched(Exception):
    pass


class _Poison:
    """Stands for a boolean option after its branches became segments: any remaining use is an error."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _touch(self, *_: object) -> bool:
        raise _PoisonTouched(self.name)

    __bool__ = __str__ = __eq__ = __ne__ = __hash__ = __iter__ = __len__ = _touch  # type: ignore[assignment]

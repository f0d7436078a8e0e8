"""Render one template file the way cookiecutter does, with free-text values replaced by sentinels.

The TAP engine does not run Jinja, so each file is rendered ahead of time: every free-text value (string and
integer options, derived values) becomes a unique sentinel that `ReplaceText` swaps for a SpEL expression later,
and the file is rendered once per combination of the boolean/choice options its Jinja actually branches on. A
choice option that a file only prints keeps its sentinel there, so it costs a substitution, not a variant.
Identical outputs are grouped; each group becomes one variant selected by a SpEL condition.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, TemplateError, TemplateSyntaxError, nodes

from ..errors import CompileError

CC = "cookiecutter"
FILTER_FIX = ("declare a derived value in tapml.yaml `derived:` (replace/lower/upper) and write "
              "{{ cookiecutter.__NAME }}, or turn the value into a boolean/choice option")
BRANCH_FIX = ("branch on a boolean or choice option instead, or declare the file in tapml.yaml `files:` "
              "with a `when:` condition")

Combo = tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class Variant:
    """One distinct rendering: the relative output path (None: cookiecutter writes no file) and the bytes."""

    path: str | None
    content: bytes
    combos: tuple[Combo, ...]


@dataclass(frozen=True)
class Vocabulary:
    """What the compiler knows about the cookiecutter context of one template."""

    free: frozenset[str]
    branch: Mapping[str, tuple[object, ...]]
    base: Mapping[str, object]
    printable: frozenset[str] = frozenset()  # branch options with a sentinel in `base`: a plain print is no branch


def referenced(source: str, env: Environment, vocab: Vocabulary, where: Path, offset: int = 0) -> set[str]:
    """Branch options the Jinja `source` uses; raise `CompileError` for any non-plain use of a free-text value."""
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        raise CompileError(f"Jinja syntax error: {exc.message}", path=where, line=exc.lineno) from None
    found: set[str] = set()
    for node, parent in _walk(tree, None):
        if isinstance(node, (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
            raise CompileError("{% include/import/extends %} cannot be compiled per file", path=where,
                               line=node.lineno, hint="inline the shared text")
        key = _cookiecutter_key(node)
        if key is None:
            if isinstance(node, nodes.Name) and node.name == CC and not _is_key_access(parent, node):
                raise CompileError("the whole cookiecutter context is used", path=where, line=node.lineno,
                                   hint="refer to single values as {{ cookiecutter.NAME }}")
            continue
        if key in vocab.free and not isinstance(parent, nodes.Output):
            kind = "a filter or expression" if isinstance(parent, (nodes.Filter, nodes.Call, nodes.Concat,
                                                                    nodes.BinExpr, nodes.Getattr)) else "a branch"
            hint = FILTER_FIX if kind != "a branch" else BRANCH_FIX
            raise CompileError(f"{kind} uses free-text value {key!r}; the TAP engine only substitutes it verbatim",
                               path=where, line=node.lineno + offset, hint=hint)
        if key in vocab.branch and not (key in vocab.printable and isinstance(parent, nodes.Output)):
            found.add(key)
        elif key in ("_template", "_output_dir", "_repo_dir", "_checkout"):
            raise CompileError(f"cookiecutter.{key} depends on where cookiecutter runs", path=where,
                               line=node.lineno, hint="use a manifest option instead")
    return found


def _walk(node: nodes.Node, parent: nodes.Node | None) -> Iterator[tuple[nodes.Node, nodes.Node | None]]:
    yield node, parent
    for child in node.iter_child_nodes():
        yield from _walk(child, node)


def _cookiecutter_key(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name) and node.node.name == CC:
        return str(node.attr)
    if (isinstance(node, nodes.Getitem) and isinstance(node.node, nodes.Name) and node.node.name == CC
            and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str)):
        return node.arg.value
    return None


def _is_key_access(parent: nodes.Node | None, node: nodes.Node) -> bool:
    return parent is not None and _cookiecutter_key(parent) is not None and getattr(parent, "node", None) is node


def combinations(names: Sequence[str], vocab: Vocabulary) -> list[Combo]:
    """Every assignment of the given branch options, in a stable order."""
    ordered = sorted(names)
    return [tuple(zip(ordered, values)) for values in itertools.product(*(vocab.branch[n] for n in ordered))]


@dataclass
class FileRenderer:
    """Renders paths and contents of one template's project folder like cookiecutter's generate_files."""

    project_dir: Path
    vocab: Vocabulary

    def __post_init__(self) -> None:
        from cookiecutter.environment import StrictEnvironment  # type: ignore[import-untyped]

        self.env: Environment = StrictEnvironment(context={CC: dict(self.vocab.base)}, keep_trailing_newline=True)
        self.env.loader = FileSystemLoader([str(self.project_dir), str(self.project_dir.parent / "templates")])

    def context(self, combo: Combo) -> dict[str, object]:
        return {CC: {**self.vocab.base, **dict(combo)}}

    def render_path(self, rel: str, combo: Combo) -> str:
        return self.env.from_string(rel).render(**self.context(combo))

    def render_text(self, rel: str, combo: Combo, newline: str | None) -> bytes:
        text = self.env.get_template(rel.replace("\\", "/")).render(**self.context(combo))
        if newline in ("\r\n", "\r"):
            text = text.replace("\n", newline)
        return text.encode("utf-8")

    def variants(self, rel: str, copy_only: bool, binary: bool, tail: str = "") -> list[Variant]:
        """Every distinct (path, content) of file `rel`, each with the combinations that produce it.

        `tail` is the part of the path below a copy-only folder: cookiecutter renders only the folder's name.
        """
        where = self.project_dir / (rel + tail)
        names = referenced(rel, self.env, self.vocab, where)
        newline: str | None = None
        if not (copy_only or binary):
            source = where.read_text(encoding="utf-8")
            names |= referenced(source, self.env, self.vocab, where)
            configured = self.vocab.base.get("_new_lines")
            newline = configured if isinstance(configured, str) and configured else _detect_newline(where)
        groups: dict[tuple[str | None, bytes], list[Combo]] = {}
        raw = where.read_bytes() if (copy_only or binary) else b""
        for combo in combinations(sorted(names), self.vocab):
            try:
                path = _output_path(self.render_path(rel, combo) + tail)
                content = raw if (copy_only or binary) else self.render_text(rel, combo, newline)
            except TemplateError as exc:
                raise CompileError(f"cannot render: {exc.message or type(exc).__name__}", path=where,
                                   line=getattr(exc, "lineno", None), hint="cookiecutter fails here too") from None
            groups.setdefault((path, content), []).append(combo)
        return [Variant(path, content, tuple(combos)) for (path, content), combos in groups.items()]


def _output_path(rendered: str) -> str | None:
    """cookiecutter skips a file whose rendered name is empty (the path is then a folder)."""
    parts = rendered.split("/")
    return None if any(part == "" for part in parts) else rendered


def _detect_newline(path: Path) -> str | None:
    with path.open(encoding="utf-8") as handle:
        handle.readline()
        newlines = handle.newlines
    found = newlines[0] if isinstance(newlines, tuple) else newlines
    return str(found) if found is not None else None

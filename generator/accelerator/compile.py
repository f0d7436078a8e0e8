"""Compile a tapml template into a TAP accelerator: each project file once, plus an `accelerator.yaml` engine.

A compiled file sits at its own path. Free-text values and templated path segments read `[[optionName]]`;
branches over boolean and choice options stay in the file as segments marked with the SpEL condition that
keeps them (see `segments.py`). The engine then:

- includes every file, and files that exist only for some answers (manifest `files:`, or a Jinja path that
  renders empty) only under their condition;
- drops the segments whose condition is false, then every marker (`ReplaceText` regexes);
- replaces the placeholders with SpEL (`#projectSlug`, `#dataSource`, `let` symbols for derived values) and
  renames the paths that hold them (`RewritePath`);
- fails generation when a cross-field rule of the manifest is broken (as far as TAP can check one).

A file that cannot carry markers (see `segments.NoMarkers`) is stored once per distinct rendering under
`.tapml-variants/<n>/`, and the build says which file and why.
"""

from __future__ import annotations

import ast
import fnmatch
import itertools
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from binaryornot.check import is_binary
from jinja2 import Environment, TemplateError

from ..errors import CompileError
from ..expressions import Condition
from ..manifest import MANIFEST_NAME, Template
from ..names import spel_project_slug, spel_project_words, spel_reserved
from .conditions import describe, domains, negate
from .model import (
    ACCELERATOR_FILE,
    AcceleratorOption,
    Chain,
    Combo,
    Provenance,
    RegexReplace,
    ReplaceText,
    RewritePath,
    Substitution,
    Symbol,
    Transform,
)
from .names import PROJECT_SLUG, PROJECT_WORDS, RESERVED_NAMES, OptionNames
from .options import accelerator_options
from .segments import (
    CC,
    MARKER,
    Marked,
    NoMarkers,
    Vocabulary,
    check_references,
    compile_text,
    cookiecutter_key,
    drop_pattern,
    java_quote,
    parse,
    walk,
)

VARIANTS_DIR = ".tapml-variants"
TOKEN_PREFIX = "TAPMLPH_"
TOKEN = re.compile(TOKEN_PREFIX + r"([A-Za-z0-9]+)_")
RESERVED_TEXT = re.compile(r"\[\[(?:if |end |[A-Za-z][A-Za-z0-9]*\]\])|" + TOKEN_PREFIX)
_ANT_SPECIAL = set("*?{}\\")


def token(camel_name: str) -> str:
    """The compiler's own stand-in for a placeholder (glob-safe); written out as `[[camelName]]`."""
    return f"{TOKEN_PREFIX}{camel_name}_"


def display(text: str) -> str:
    return TOKEN.sub(r"[[\1]]", text)


@dataclass(frozen=True)
class Entry:
    """One stored file: where it is kept, its bytes, when it is included, and whether text transforms apply."""

    stored: str
    path: str
    content: bytes
    condition: Condition | None
    text: bool


@dataclass
class CompiledTemplate:
    """A template's accelerator: stored files, options and engine, and what the tests and the build report.

    `segments` and `includes` map the SpEL label of every conditional segment and conditional file (or
    variant) to its condition, so tests can show each is both kept and removed by some option set.
    """

    template: Template
    files: dict[str, bytes]
    options: list[AcceleratorOption]
    engine: Combo
    segments: dict[str, Condition] = field(default_factory=dict)
    includes: dict[str, Condition] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Context:
    template: Template
    names: OptionNames
    vocab: Vocabulary
    kinds: dict[str, str]
    env: Environment
    compiled: CompiledTemplate

    def label(self, condition: Condition) -> str:
        return condition.to_spel(self.names.symbol)


def compile_template(template: Template) -> CompiledTemplate:
    """Compile `template`; raise `CompileError` (file, line, fix) for constructs the engine cannot reproduce."""
    names = OptionNames(template)
    manifest = template.directory / MANIFEST_NAME
    if "accelerator" in template.display_name.lower():
        raise CompileError(
            "display_name must not contain 'accelerator' (TAP best practice)",
            path=manifest,
            hint="the GUI already lists accelerators",
        )
    for clash in names.clashes():
        raise CompileError(clash, path=manifest, hint="rename the option")
    compiled = CompiledTemplate(template, {}, accelerator_options(template), Combo())
    context = _context(template, names, compiled)
    entries = _apply_file_rules(context, list(_entries(context)))
    compiled.files = {display(entry.stored): entry.content for entry in entries}
    compiled.engine = _engine(context, entries)
    return compiled


def _context(template: Template, names: OptionNames, compiled: CompiledTemplate) -> _Context:
    from cookiecutter.environment import StrictEnvironment

    text: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for name, option in template.options.items():
        if option.type != "boolean":
            text[name], kinds[name] = token(names.camel(name)), option.type
    for name in template.derived:
        text[f"__{name}"], kinds[f"__{name}"] = token(names.camel(name)), "derived"
    branch = domains(template, [n for n, o in template.options.items() if o.type in ("boolean", "choice")])
    base = {**template.constants(), **text}
    vocab = Vocabulary(text, branch, base, lambda condition: condition.to_spel(names.symbol))
    env = StrictEnvironment(context={CC: dict(base)}, keep_trailing_newline=True)
    return _Context(template, names, vocab, kinds, env, compiled)


# --- files ----------------------------------------------------------------------------------------------------


def _walk_project(template: Template) -> Iterator[tuple[str, str, bool]]:
    """(path to render, verbatim tail, copy-only) for every file, in cookiecutter's order."""
    root = template.project_dir
    globs = template.copy_without_render
    for folder, dirs, files in os.walk(root):
        rel_folder = Path(folder).relative_to(root).as_posix()
        rel_folder = "" if rel_folder == "." else rel_folder + "/"
        kept = []
        for name in sorted(dirs):
            if any(fnmatch.fnmatch(rel_folder + name, glob) for glob in globs):
                for inner in sorted((Path(folder) / name).rglob("*")):
                    if inner.is_file():
                        yield rel_folder + name, "/" + inner.relative_to(Path(folder) / name).as_posix(), True
            elif name != "__pycache__":
                kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            yield rel_folder + name, "", any(fnmatch.fnmatch(rel_folder + name, glob) for glob in globs)


def _entries(context: _Context) -> Iterator[Entry]:
    template = context.template
    for rel, tail, copy_only in _walk_project(template):
        source = template.project_dir / (rel + tail)
        binary = not copy_only and is_binary(str(source))
        _check_reserved(rel + tail, source.read_bytes(), source, binary)
        paths = _paths(context, rel, tail, source)
        if not paths:
            continue
        if copy_only or binary:
            yield from _place(context, paths, [(source.read_bytes(), None)], text=False)
            continue
        try:
            marked = compile_text(context.env, source.read_text(encoding="utf-8"), context.vocab, source, context.kinds)
        except NoMarkers as reason:
            yield from _variants(context, rel, source, paths, str(reason))
            continue
        context.compiled.segments.update(marked.segments)
        yield from _place(context, paths, [(display(marked.text).encode("utf-8"), None)], text=True)


def _check_reserved(rel: str, data: bytes, source: Path, binary: bool) -> None:
    text = rel + ("" if binary else data.decode("utf-8", errors="replace"))
    found = RESERVED_TEXT.search(text)
    if found:
        raise CompileError(
            f"contains {found.group()!r}, which compiled accelerators reserve for placeholders and segment markers",
            path=source,
            hint="write it differently",
        )


def _paths(context: _Context, rel: str, tail: str, source: Path) -> list[tuple[str, Condition | None]]:
    """Each distinct non-empty path the file renders to, with the condition under which it does."""
    keys = sorted(_referenced(context, rel, source) & set(context.vocab.branch))
    space = {key: context.vocab.branch[key] for key in keys}
    by_path: dict[str, set[tuple[object, ...]]] = {}
    for assignment in itertools.product(*space.values()):
        try:
            rendered = context.env.from_string(rel).render(**context.vocab.context(dict(zip(keys, assignment))))
        except TemplateError as exc:
            raise CompileError(f"cannot render the path: {exc.message}", path=source) from None
        path = rendered + tail
        if "" not in path.split("/"):  # cookiecutter skips a file whose rendered name is empty
            by_path.setdefault(path, set()).add(assignment)
    out: list[tuple[str, Condition | None]] = []
    for path, holds in by_path.items():
        described = describe(space, holds)
        out.append((path, described if isinstance(described, Condition) else None))
    if len(out) > 1:
        context.compiled.notes.append(
            f"{context.template.name}: {rel} is stored {len(out)} times: its path depends on {', '.join(keys)}"
        )
    return out


def _referenced(context: _Context, text: str, source: Path) -> set[str]:
    tree = parse(context.env, text, source)
    check_references(tree, context.vocab, source, context.kinds)
    return {key for node, _ in walk(tree, None) if (key := cookiecutter_key(node)) is not None}


def _place(
    context: _Context,
    paths: list[tuple[str, Condition | None]],
    contents: list[tuple[bytes, Condition | None]],
    *,
    text: bool,
    variants: bool = False,
) -> Iterator[Entry]:
    for path, path_condition in paths:
        for content, content_condition in contents:
            condition = _both(context, path_condition, content_condition)
            if condition is False:
                continue
            stored = path
            if variants:
                number = len({e for e in context.compiled.includes if e.startswith(VARIANTS_DIR)}) + 1
                stored = f"{VARIANTS_DIR}/{number}/{path}"
                context.compiled.includes[stored] = condition  # type: ignore[assignment]
            yield Entry(stored, path, content, condition if isinstance(condition, Condition) else None, text)


def _variants(
    context: _Context, rel: str, source: Path, paths: list[tuple[str, Condition | None]], reason: str
) -> Iterator[Entry]:
    """Whole-file variants: one rendering per distinct output over the options the file uses."""
    text = source.read_text(encoding="utf-8")
    keys = sorted(_referenced(context, text, source) & set(context.vocab.branch))
    space = {key: context.vocab.branch[key] for key in keys}
    by_content: dict[bytes, set[tuple[object, ...]]] = {}
    for assignment in itertools.product(*space.values()):
        values = dict(zip(keys, assignment))
        try:
            rendered = context.env.from_string(text).render(**context.vocab.context(values))
        except TemplateError as exc:
            raise CompileError(f"cannot render: {exc.message}", path=source) from None
        by_content.setdefault(display(rendered).encode("utf-8"), set()).add(assignment)
    contents = [(content, describe(space, holds)) for content, holds in by_content.items()]
    context.compiled.notes.append(
        f"{context.template.name}: {rel} is stored as {len(contents)} whole-file variants: {reason}"
    )
    yield from _place(context, paths, contents, text=True, variants=len(contents) > 1)  # type: ignore[arg-type]


def _both(context: _Context, first: Condition | bool | None, second: Condition | bool | None) -> Condition | bool:
    """The conjunction of two conditions, rewritten in its shortest form."""
    parts = [c for c in (first, second) if c is not None and c is not True]
    if any(c is False for c in parts):
        return False
    conditions = [c for c in parts if isinstance(c, Condition)]
    if not conditions:
        return True
    names = sorted(set().union(*(c.names() for c in conditions)))
    space = domains(context.template, names)
    holds = {a for a in itertools.product(*space.values()) if all(c.evaluate(dict(zip(space, a))) for c in conditions)}
    return describe(space, holds)


def _apply_file_rules(context: _Context, entries: list[Entry]) -> list[Entry]:
    """AND each entry's condition with the `when:` of every manifest `files:` rule whose glob matches it.

    The post-generation hook removes matches with `Path.glob`, so matching runs the same glob over an empty
    copy of the placeholder-named tree.
    """
    template = context.template
    if not template.files:
        return entries
    with tempfile.TemporaryDirectory(prefix="tapml-accelerator-") as scratch:
        root = Path(scratch)
        for entry in entries:
            (root / entry.path).parent.mkdir(parents=True, exist_ok=True)
            (root / entry.path).touch()
        matched: list[tuple[set[str], Condition]] = []
        for rule in template.files:
            keys = _referenced(context, rule.path, template.directory / MANIFEST_NAME)
            if keys & set(context.vocab.branch) - set(context.vocab.text):
                raise CompileError(
                    f"files: path {rule.path!r} uses a boolean option",
                    path=template.directory / MANIFEST_NAME,
                    hint="use it in `when:` instead",
                )
            pattern = context.env.from_string(rule.path).render(**context.vocab.context({}))
            hits = {
                p.relative_to(root).as_posix()
                for hit in root.glob(pattern)
                for p in ([hit] if hit.is_file() else hit.rglob("*"))
                if p.is_file()
            }
            matched.append((hits, rule.condition))
    out = []
    for entry in entries:
        condition: Condition | bool | None = entry.condition
        for hits, rule_condition in matched:
            if entry.path in hits:
                condition = _both(context, condition, rule_condition)
        if condition is False:
            continue
        out.append(
            Entry(
                entry.stored,
                entry.path,
                entry.content,
                condition if isinstance(condition, Condition) else None,
                entry.text,
            )
        )
    return out


# --- the engine -----------------------------------------------------------------------------------------------


def _engine(context: _Context, entries: list[Entry]) -> Combo:
    """The template's engine: select the files, drop segments, fill placeholders; Provenance beside it."""
    where = context.template.directory / MANIFEST_NAME
    for entry in entries:
        _check_path(entry.stored, where)
    conditional = [e for e in entries if e.condition is not None]
    groups: dict[str, list[Entry]] = {}
    for entry in conditional:
        label = context.label(entry.condition)  # type: ignore[arg-type]
        groups.setdefault(label, []).append(entry)
        if not entry.stored.startswith(VARIANTS_DIR):
            context.compiled.includes[label] = entry.condition  # type: ignore[assignment]
    catch_all = Combo(
        include=("**",),
        exclude=(
            ACCELERATOR_FILE,
            *([f"{VARIANTS_DIR}/**"] if any(e.stored.startswith(VARIANTS_DIR) for e in entries) else []),
            *sorted(display(e.stored) for e in conditional if not e.stored.startswith(VARIANTS_DIR)),
        ),
    )
    children: list[Transform] = [catch_all]
    for label, members in groups.items():
        child: dict[str, object] = {"condition": label, "include": tuple(sorted(display(e.stored) for e in members))}
        folders = sorted({e.stored.split("/")[1] for e in members if e.stored.startswith(VARIANTS_DIR)})
        if folders:
            child["chain"] = tuple(
                RewritePath(type="RewritePath", regex=java_quote(f"{VARIANTS_DIR}/{n}/") + "(.*)", rewriteTo="#g1")
                for n in folders
            )
        children.append(Combo.model_validate(child))
    main = Combo(let=_symbols(context), merge=tuple(children), chain=tuple(_chain(context, entries)))
    return Combo(merge=(main, Provenance(type="Provenance")))


def _symbols(context: _Context) -> tuple[Symbol, ...]:
    names = context.names
    symbols = [
        Symbol(name=PROJECT_WORDS, expression=spel_project_words("#projectName")),
        Symbol(name=PROJECT_SLUG, expression=spel_project_slug("#" + PROJECT_WORDS)),
    ]
    if any(step.op == "python_package" for derived in context.template.derived.values() for step in derived.steps):
        symbols.append(Symbol(name=RESERVED_NAMES, expression=spel_reserved()))
    for name, derived in context.template.derived.items():
        expression = names.symbol(derived.from_)
        for step in derived.steps:
            expression = step.to_spel(expression, "#" + RESERVED_NAMES)
        symbols.append(Symbol(name=names.camel(name), expression=expression))
    return tuple(symbols)


def _chain(context: _Context, entries: list[Entry]) -> list[Transform]:
    names = context.names
    steps: list[Transform] = []
    for rule in context.template.rules:
        broken = Condition.from_tree(ast.UnaryOp(op=ast.Not(), operand=rule.condition.tree))
        steps.append(
            RewritePath(
                type="RewritePath",
                name=f"rule: {rule.check}",
                condition=broken.to_spel(names.symbol),
                regex=java_quote(f"generation stopped: {rule.check} does not hold"),
                matchOrFail=True,
            )
        )
    text_steps: list[Transform] = []
    for label in sorted(context.compiled.segments):
        dropped = negate(context.template, context.compiled.segments[label])
        text_steps.append(
            ReplaceText(
                type="ReplaceText",
                condition=context.label(dropped),  # type: ignore[arg-type]
                regex=RegexReplace(pattern=drop_pattern(label), **{"with": "''"}),
            )
        )
    if context.compiled.segments:
        text_steps.append(ReplaceText(type="ReplaceText", regex=RegexReplace(pattern=MARKER.pattern, **{"with": "''"})))
    used = {
        match
        for e in entries
        if e.text
        for match in re.findall(r"\[\[([A-Za-z][A-Za-z0-9]*)\]\]", e.content.decode("utf-8"))
    }
    pairs = [
        Substitution(text=names.placeholder(name), **{"with": _value(context, name)})
        for name in _text_names(context)
        if names.camel(name) in used
    ]
    if pairs:
        text_steps.append(ReplaceText(type="ReplaceText", substitutions=tuple(pairs)))
    binaries = [e for e in entries if not e.text]
    if binaries and text_steps:
        steps.append(
            Chain(
                type="Chain",
                applyTo=tuple(sorted(display(e.path) for e in entries if e.text)),
                transformations=tuple(text_steps),
            )
        )
    else:
        steps.extend(text_steps)
    steps.extend(_path_rewrites(context, entries))
    return steps


def _text_names(context: _Context) -> list[str]:
    return [n for n, o in context.template.options.items() if o.type != "boolean"] + list(context.template.derived)


def _value(context: _Context, name: str) -> str:
    symbol = context.names.symbol(name)
    option = context.template.options.get(name)
    return f"T(java.lang.String).valueOf({symbol})" if option is not None and option.type == "integer" else symbol


def _path_rewrites(context: _Context, entries: list[Entry]) -> list[Transform]:
    """One RewritePath per placeholder used in paths (repeated for a path that holds it more than once)."""
    counts: dict[str, int] = {}
    for entry in entries:
        for name in set(TOKEN.findall(entry.path)):
            counts[name] = max(counts.get(name, 0), len(re.findall(re.escape(token(name)), entry.path)))
    rewrites: list[Transform] = []
    for name in [context.names.camel(n) for n in _text_names(context)]:
        for _ in range(counts.get(name, 0)):
            snake = context.names.snake(name)
            rewrites.append(
                RewritePath(
                    type="RewritePath",
                    regex="(.*)" + java_quote(f"[[{name}]]") + "(.*)",
                    rewriteTo=f"#g1 + {context.names.symbol(snake)} + #g2",
                )
            )
    return rewrites


def _check_path(path: str, where: Path) -> None:
    if path == ACCELERATOR_FILE:
        raise CompileError(f"the project may not contain {path!r}: the accelerator uses that name", path=where)
    if _ANT_SPECIAL & set(display(path)):
        raise CompileError(
            f"path {display(path)!r} holds a glob character; TAP include patterns cannot name it",
            path=where,
            hint="rename the file",
        )


def marked_text(compiled: CompiledTemplate) -> Mapping[str, str]:
    """The stored text files (for tests that read what a platform engineer reads)."""
    return {path: content.decode("utf-8") for path, content in compiled.files.items() if b"\0" not in content}


__all__ = ["VARIANTS_DIR", "CompiledTemplate", "Marked", "compile_template", "display", "token"]

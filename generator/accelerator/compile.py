"""Compile a tapml template into a TAP accelerator: pre-rendered files plus an `accelerator.yaml`.

The engine does not run Jinja. Each file is rendered with every free-text value replaced by a sentinel
(`TAPMLSENTINEL0001X`: fixed width, so none is a prefix of another) and once per combination of the boolean and
choice options its Jinja branches on (a choice that is only printed is substituted like free text). The accelerator then carries:

- unconditional files at their path; conditional ones (tapml.yaml `files:`) at their path too, left out of the
  catch-all Merge child and included by a child with a `condition:`;
- Jinja variants under `.tapml-variants/<n>/`, one folder per condition, moved back by `RewritePath`;
- `ReplaceText` from sentinels to SpEL (`#artifactId` for the project name, `#<option>` otherwise, `let` symbols
  for derived values), and `RewritePath` for paths that hold sentinels;
- a `Provenance` transform last.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from binaryornot.check import is_binary

from ..build import cookiecutter_json
from ..errors import CompileError
from ..manifest import MANIFEST_NAME, PROJECT_NAME_OPTION, Template
from .model import ACCELERATOR_FILE, RESERVED
from .options import accelerator_options, camel, spel_symbol
from .variants import CC, Combo, FileRenderer, Vocabulary

SENTINEL_PREFIX = "TAPMLSENTINEL"
SENTINEL = re.compile(SENTINEL_PREFIX + r"\d{4}X")
VARIANTS_DIR = ".tapml-variants"
_ANT_SPECIAL = set("*?{}[]\\")


@dataclass(frozen=True)
class FreeText:
    """A value the engine substitutes verbatim: its cookiecutter key, sentinel and SpEL expression."""

    key: str
    sentinel: str
    expression: str


@dataclass(frozen=True)
class Entry:
    """One file the engine may emit: its final path (still with sentinels), bytes and SpEL condition."""

    path: str
    content: bytes
    condition: str | None
    rendered: bool


@dataclass(frozen=True)
class CompiledTemplate:
    """A template's accelerator: `files` (path under the accelerator folder → bytes), options and engine body."""

    template: Template
    files: dict[str, bytes]
    options: list[dict[str, object]]
    main: dict[str, object]


def free_texts(template: Template) -> list[FreeText]:
    """Sentinels for values the engine can substitute verbatim, in manifest order: string, integer and choice
    options and derived values. A choice option is also a branch option: it takes its sentinel only where a
    file prints it as a plain `{{ cookiecutter.NAME }}` and branches on it nowhere."""
    items: list[FreeText] = []
    names = [n for n, o in template.options.items() if o.type != "boolean"] + list(template.derived)
    for index, name in enumerate(names, start=1):
        key = f"__{name}" if name in template.derived else name
        expression = spel_symbol(template, name)
        if name in template.options and template.options[name].type == "integer":
            expression = f"T(java.lang.String).valueOf({expression})"
        items.append(FreeText(key, f"{SENTINEL_PREFIX}{index:04d}X", expression))
    return items


def vocabulary(template: Template, free: list[FreeText]) -> Vocabulary:
    """The cookiecutter context with sentinels for free text and defaults for the branch options."""
    base: dict[str, object] = json.loads(cookiecutter_json(template))
    base.pop("__prompts__", None)
    branch: dict[str, tuple[object, ...]] = {}
    for name, option in template.options.items():
        if option.type == "boolean":
            branch[name] = (True, False)
        elif option.type == "choice":
            branch[name] = option.choice_values
        base[name] = option.default
    for item in free:
        base[item.key] = item.sentinel
    keys = {item.key for item in free}
    return Vocabulary(frozenset(keys - branch.keys()), branch, base, frozenset(keys & branch.keys()))


def compile_template(template: Template) -> CompiledTemplate:
    """Compile `template`; raise `CompileError` (file, line, fix) for constructs the engine cannot reproduce."""
    _check_names(template)
    free = free_texts(template)
    vocab = vocabulary(template, free)
    renderer = FileRenderer(template.project_dir, vocab)
    entries = _apply_file_rules(template, renderer, list(_entries(template, renderer, vocab)))
    files, main = _engine(template, entries, free)
    return CompiledTemplate(template, files, accelerator_options(template), main)


def _check_names(template: Template) -> None:
    """TAP naming rules: no "accelerator" in the display name; camelCase option names unique and not built-in."""
    if "accelerator" in template.display_name.lower():
        raise CompileError("display_name must not contain 'accelerator' (TAP best practice)",
                           path=template.directory / MANIFEST_NAME, hint="the GUI already lists accelerators")
    seen: dict[str, str] = {}
    for name in [*template.options, *template.derived]:
        if name == PROJECT_NAME_OPTION:
            continue
        symbol = camel(name)
        if symbol in RESERVED or symbol in seen:
            clash = "a TAP built-in" if symbol in RESERVED else f"{seen[symbol]!r}"
            raise CompileError(f"{name!r} becomes #{symbol}, which clashes with {clash}",
                               path=template.directory / MANIFEST_NAME, hint="rename the option")
        seen[symbol] = name


def _walk_project(template: Template, copy_globs: tuple[str, ...]) -> Iterator[tuple[str, str, bool]]:
    """(path to render, verbatim tail, copy-only) for every file, in cookiecutter's order."""
    import fnmatch

    root = template.project_dir
    for folder, dirs, files in os.walk(root):
        rel_folder = Path(folder).relative_to(root).as_posix()
        rel_folder = "" if rel_folder == "." else rel_folder + "/"
        kept = []
        for name in sorted(dirs):
            if any(fnmatch.fnmatch(rel_folder + name, glob) for glob in copy_globs):
                for inner in sorted((Path(folder) / name).rglob("*")):
                    if inner.is_file():
                        tail = inner.relative_to(Path(folder) / name).as_posix()
                        yield rel_folder + name, "/" + tail, True
            else:
                kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            rel = rel_folder + name
            yield rel, "", any(fnmatch.fnmatch(rel, glob) for glob in copy_globs)


def _entries(template: Template, renderer: FileRenderer, vocab: Vocabulary) -> Iterator[Entry]:
    for rel, tail, copy_only in _walk_project(template, template.copy_without_render):
        source = template.project_dir / (rel + tail)
        data = source.read_bytes()
        if SENTINEL_PREFIX.encode() in data or SENTINEL_PREFIX in rel + tail:
            raise CompileError(f"contains the reserved word {SENTINEL_PREFIX}", path=source)
        binary = not copy_only and is_binary(str(source))
        variants = renderer.variants(rel, copy_only, binary, tail)
        for variant in variants:
            if variant.path is None:
                continue
            condition = None if len(variants) == 1 else combos_condition(variant.combos, template)
            yield Entry(variant.path, variant.content, condition, not (copy_only or binary))


def combos_condition(combos: tuple[Combo, ...], template: Template) -> str:
    """SpEL that holds exactly for `combos`, dropping options whose every value is covered."""
    rows = {tuple(combo) for combo in combos}
    names = [name for name, _ in combos[0]]
    for name in list(names):
        values = set(_values(template, name))
        index = names.index(name)
        projected: dict[tuple[tuple[str, object], ...], set[object]] = {}
        for row in rows:
            projected.setdefault(row[:index] + row[index + 1:], set()).add(row[index][1])
        if all(seen == values for seen in projected.values()):
            rows = set(projected)
            names.pop(index)
    terms = [" && ".join(_equals(template, name, value) for name, value in row) for row in sorted(rows, key=repr)]
    if not names:
        return "true"
    return terms[0] if len(terms) == 1 else " || ".join(f"({term})" for term in terms)


def _values(template: Template, name: str) -> tuple[object, ...]:
    option = template.options[name]
    return (True, False) if option.type == "boolean" else option.choice_values


def _equals(template: Template, name: str, value: object) -> str:
    symbol = spel_symbol(template, name)
    if isinstance(value, bool):
        return symbol if value else f"!{symbol}"
    return f"{symbol} == '{str(value).replace(chr(39), chr(39) * 2)}'"


def _apply_file_rules(template: Template, renderer: FileRenderer, entries: list[Entry]) -> list[Entry]:
    """AND each entry's condition with the `when:` of every tapml.yaml `files:` rule whose glob matches it.

    The post-generation hook removes matches with `Path.glob`, so matching runs the same glob over an empty
    copy of the sentinel-named tree.
    """
    if not template.files:
        return entries
    with tempfile.TemporaryDirectory(prefix="tapml-accelerator-") as scratch:
        root = Path(scratch)
        for entry in entries:
            (root / entry.path).parent.mkdir(parents=True, exist_ok=True)
            (root / entry.path).touch()
        matched: list[tuple[set[str], str]] = []
        for rule in template.files:
            if renderer.vocab.branch.keys() & _rule_names(rule.path, renderer):
                raise CompileError(f"files: path {rule.path!r} uses a boolean/choice option",
                                   path=template.directory / MANIFEST_NAME, hint="use it in `when:` instead")
            pattern = renderer.render_path(rule.path, ())
            hits = {p.relative_to(root).as_posix() for hit in root.glob(pattern)
                    for p in ([hit] if hit.is_file() else hit.rglob("*")) if p.is_file()}
            matched.append((hits, rule.condition.to_spel(lambda name: spel_symbol(template, name))))
    out = []
    for entry in entries:
        parts = [entry.condition] if entry.condition else []
        parts += [condition for hits, condition in matched if entry.path in hits]
        condition = parts[0] if len(parts) == 1 else " && ".join(f"({p})" for p in parts) if parts else None
        out.append(Entry(entry.path, entry.content, condition, entry.rendered))
    return out


def _rule_names(path: str, renderer: FileRenderer) -> set[str]:
    return set(re.findall(CC + r"\.(\w+)", path))


@dataclass
class _Layout:
    """Where entries are stored: `files` by stored path; conditional includes grouped by condition."""

    files: dict[str, bytes]
    groups: dict[str, list[str]]
    natural: list[str]
    folders: dict[str, int]


def _place(entries: list[Entry], where: Path) -> _Layout:
    """Unconditional and sole conditional files keep their path; Jinja variants go to `.tapml-variants/<n>/`."""
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.path] = counts.get(entry.path, 0) + 1
    layout = _Layout({}, {}, [], {})
    for entry in entries:
        _check_path(entry.path, where)
        stored = entry.path
        if entry.condition is None and counts[entry.path] > 1:
            raise CompileError(f"two template files render to {entry.path!r}", path=where)
        if entry.condition is not None and counts[entry.path] == 1:
            layout.natural.append(stored)
            layout.groups.setdefault(entry.condition, []).append(stored)
        elif entry.condition is not None:
            folder = layout.folders.setdefault(entry.condition, len(layout.folders) + 1)
            stored = f"{VARIANTS_DIR}/{folder}/{entry.path}"
            # Named one by one, not `folder/**`: a stale file left by an older build is never picked up.
            layout.groups.setdefault(entry.condition, []).append(stored)
        layout.files[stored] = entry.content
    return layout


def _merge_children(layout: _Layout) -> list[dict[str, object]]:
    """The catch-all child (without conditional files and variants), then one child per condition."""
    merge: list[dict[str, object]] = [
        {"include": ["**"], "exclude": [ACCELERATOR_FILE, f"{VARIANTS_DIR}/**", *layout.natural]}]
    for condition, includes in layout.groups.items():
        child: dict[str, object] = {"condition": condition, "include": includes}
        if condition in layout.folders:
            folder = _java_quote(f"{VARIANTS_DIR}/{layout.folders[condition]}/")
            child["chain"] = [{"type": "RewritePath", "regex": folder + "(.*)", "rewriteTo": "#g1"}]
        merge.append(child)
    return merge


def _engine(template: Template, entries: list[Entry],
            free: list[FreeText]) -> tuple[dict[str, bytes], dict[str, object]]:
    """Place the entries in the accelerator folder and build the engine Combo that selects and fills them."""
    layout = _place(entries, template.directory / MANIFEST_NAME)
    main: dict[str, object] = {}
    symbols = [{"name": camel(name), "expression": spel_symbol(template, derived.from_)
                + "".join(step.to_spel() for step in derived.steps)} for name, derived in template.derived.items()]
    if symbols:
        main["let"] = symbols
    main["merge"] = _merge_children(layout)
    chain = _substitutions(entries, free) + _path_rewrites(entries, free)
    if chain:
        main["chain"] = chain
    return layout.files, main


def _check_path(path: str, where: Path) -> None:
    if path == ACCELERATOR_FILE or path.startswith(VARIANTS_DIR + "/"):
        raise CompileError(f"the project may not contain {path!r}: the accelerator uses that name", path=where)
    if _ANT_SPECIAL & set(path):
        raise CompileError(f"path {path!r} holds a glob character; TAP include patterns cannot name it", path=where,
                           hint="rename the file")


def _substitutions(entries: list[Entry], free: list[FreeText]) -> list[dict[str, object]]:
    targets = sorted({e.path for e in entries if e.rendered and SENTINEL.search(e.content.decode("utf-8"))})
    used = {token for e in entries if e.rendered for token in SENTINEL.findall(e.content.decode("utf-8"))}
    pairs = [{"text": item.sentinel, "with": item.expression} for item in free if item.sentinel in used]
    if not pairs:
        return []
    return [{"type": "Chain", "applyTo": targets,
             "transformations": [{"type": "ReplaceText", "substitutions": pairs}]}]


def _path_rewrites(entries: list[Entry], free: list[FreeText]) -> list[dict[str, object]]:
    """One RewritePath per folder (or file) name that holds sentinels, deepest first."""
    expressions = {item.sentinel: item.expression for item in free}
    prefixes: dict[str, bool] = {}
    for entry in entries:
        parts = entry.path.split("/")
        marked = [i for i, part in enumerate(parts) if SENTINEL.search(part)]
        if marked:
            prefixes["/".join(parts[: marked[-1] + 1])] = marked[-1] < len(parts) - 1
    rewrites: list[dict[str, object]] = []
    for prefix in sorted(prefixes, key=lambda p: (-p.count("/"), p)):
        target = _concat(prefix, expressions.__getitem__)
        if prefixes[prefix]:
            rewrites.append({"type": "RewritePath", "regex": _java_quote(prefix + "/") + "(.*)",
                             "rewriteTo": f"{target} + '/' + #g1"})
        else:
            rewrites.append({"type": "RewritePath", "regex": _java_quote(prefix), "rewriteTo": target})
    return rewrites


def _concat(text: str, expression: Callable[[str], str]) -> str:
    """SpEL for `text` with each sentinel replaced by its expression: `'src/' + #packageName`."""
    parts: list[str] = []
    position = 0
    for found in SENTINEL.finditer(text):
        if found.start() > position:
            parts.append(_literal(text[position:found.start()]))
        parts.append(expression(found.group()))
        position = found.end()
    if position < len(text):
        parts.append(_literal(text[position:]))
    return " + ".join(parts)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _java_quote(text: str) -> str:
    """A regex matching `text` literally, valid in Java and Python."""
    return re.sub(r"([\\.\[\]{}()*+?^$|])", r"\\\1", text)


__all__ = ["CompiledTemplate", "compile_template", "free_texts", "SENTINEL_PREFIX", "VARIANTS_DIR"]

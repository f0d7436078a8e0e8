"""A local evaluator for the TAP accelerator `engine:` transforms, from their documented semantics.

A FileSet is an ordered list of files that may hold the same path more than once. Each transform maps a
FileSet to a FileSet. Conditions: a false `condition` makes a transform yield nothing inside a Merge and
act as the identity inside a Chain (and at the top of the engine). Combo runs as
`Let(let, Chain(Include(include or **), Exclude(exclude), Chain(Merge(merge), UniquePath(onConflict or UseLast)),
Chain(chain, applyTo)))`. Paths match Ant globs (`**` any number of folders, `*` and `?` within one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import AcceleratorError, UnsupportedTransform
from . import spel
from .model import (
    AcceleratorDocument,
    Chain,
    Combo,
    Exclude,
    Include,
    InvokeFragment,
    Let,
    Merge,
    Provenance,
    ReplaceText,
    RewritePath,
    Symbol,
    Transform,
    UniquePath,
)

DEFAULT_PATH_REGEX = r"^(?<folder>.*/)?(?<filename>([^/]+?|)(?=(?<ext>\.[^/.]*)?)$)"
DEFAULT_REWRITE_TO = "#folder + #filename"
PROVENANCE_FILE = "accelerator-info.yaml"


@dataclass(frozen=True)
class File:
    """One file of a FileSet: a relative POSIX path and a loader of its bytes (read lazily)."""

    path: str
    load: Callable[[], bytes] = field(compare=False, repr=False)

    def with_path(self, path: str) -> File:
        return File(path, self.load)

    def with_bytes(self, content: bytes) -> File:
        return File(self.path, lambda: content)


FileSet = list[File]
ProvenanceWriter = Callable[[], bytes]


@dataclass(frozen=True)
class Fragment:
    """An imported fragment: its accelerator.yaml and its own files."""

    document: AcceleratorDocument
    files: FileSet


FragmentFinder = Callable[[str], Fragment]


def _no_fragments(name: str) -> Fragment:
    raise AcceleratorError(f"InvokeFragment: fragment {name!r} is not available", hint="pass --fragment NAME=DIR")


@dataclass(frozen=True)
class Scope:
    """Variables visible to SpEL, how Provenance renders its file, and where imported fragments are."""

    variables: Mapping[str, object]
    provenance: ProvenanceWriter
    fragment: FragmentFinder = _no_fragments

    def child(self, extra: Mapping[str, object]) -> Scope:
        return Scope({**self.variables, **extra}, self.provenance, self.fragment)

    def eval(self, expression: str) -> object:
        return spel.evaluate(expression, self.variables)

    def eval_str(self, expression: str, what: str) -> str:
        value = self.eval(expression)
        if value is None:
            raise AcceleratorError(f"{what}: expression {expression!r} evaluated to null")
        if isinstance(value, (list, dict)):
            raise AcceleratorError(f"{what} {expression!r} gave {spel.java_string(value)}, not text")
        return spel.java_string(value)


def run(transform: Transform, files: FileSet, scope: Scope) -> FileSet:
    """Apply the engine's root transform (a chain position: a false condition is the identity)."""
    return _apply(transform, files, scope, in_merge=False)


def _apply(transform: Transform, files: FileSet, scope: Scope, *, in_merge: bool) -> FileSet:
    if transform.condition is not None:
        verdict = scope.eval(transform.condition)
        if not isinstance(verdict, bool):
            raise AcceleratorError(f"condition {transform.condition!r} gave {spel.java_string(verdict)}, not a boolean")
        if not verdict:
            return [] if in_merge else list(files)
    handler = _HANDLERS.get(type(transform))
    if handler is None:
        raise UnsupportedTransform(f"transform {type(transform).__name__} is not supported by the local engine")
    return handler(transform, files, scope)


def _include(t: Include, files: FileSet, scope: Scope) -> FileSet:
    return [f for f in files if matches_any(f.path, t.patterns)]


def _exclude(t: Exclude, files: FileSet, scope: Scope) -> FileSet:
    return [f for f in files if not matches_any(f.path, t.patterns)]


def _merge(t: Merge, files: FileSet, scope: Scope) -> FileSet:
    return merge(t.sources, files, scope)


def merge(sources: tuple[Transform, ...], files: FileSet, scope: Scope) -> FileSet:
    """Each source gets a copy of the input; the output is their union, in source order."""
    out: FileSet = []
    for source in sources:
        out.extend(_apply(source, list(files), scope, in_merge=True))
    return out


def chain(steps: tuple[Transform, ...], files: FileSet, scope: Scope, apply_to: tuple[str, ...] | None) -> FileSet:
    """Compose `steps`; with `apply_to` only matching files go through, the rest bypass and are merged back."""
    if apply_to is not None:
        bypass = [f for f in files if not matches_any(f.path, apply_to)]
        selected = [f for f in files if matches_any(f.path, apply_to)]
        return bypass + chain(steps, selected, scope, None)
    for step in steps:
        files = _apply(step, files, scope, in_merge=False)
    return files


def _chain(t: Chain, files: FileSet, scope: Scope) -> FileSet:
    return chain(t.transformations, files, scope, t.applyTo)


def bind(symbols: tuple[Symbol, ...], scope: Scope) -> Scope:
    """A new scope with `symbols` evaluated in order; later ones see earlier ones, inner names shadow outer."""
    for symbol in symbols:
        scope = scope.child({symbol.name: scope.eval(symbol.expression)})
    return scope


def _let(t: Let, files: FileSet, scope: Scope) -> FileSet:
    return _apply(t.in_, files, bind(t.symbols, scope), in_merge=False)


def _combo(t: Combo, files: FileSet, scope: Scope) -> FileSet:
    scope = bind(t.let or (), scope)
    files = [f for f in files if matches_any(f.path, t.include or ("**",))]
    files = [f for f in files if not matches_any(f.path, t.exclude or ())]
    if t.merge is not None:
        files = unique_paths(merge(t.merge, files, scope), t.onConflict or "UseLast")
    if t.chain is not None:
        files = chain(t.chain, files, scope, t.applyTo)
    elif t.applyTo is not None:
        raise AcceleratorError("Combo applyTo without chain has no effect", hint="add a chain or drop applyTo")
    return files


def _replace_text(t: ReplaceText, files: FileSet, scope: Scope) -> FileSet:
    if t.regex is None and not t.substitutions:
        raise AcceleratorError("ReplaceText needs substitutions or regex")
    pairs = [(s.text, scope.eval_str(s.with_, "ReplaceText with")) for s in t.substitutions]
    compiled = None
    if t.regex is not None:
        compiled = (
            re.compile(spel.java_regex(t.regex.pattern)),
            spel.java_replacement(scope.eval_str(t.regex.with_, "ReplaceText regex with")),
        )
    out: FileSet = []
    for f in files:
        text = _decode(f)
        for old, new in pairs:  # in the listed order, each over the result of the previous one
            text = text.replace(old, new)
        if compiled is not None:
            text = compiled[0].sub(compiled[1], text)
        out.append(f.with_bytes(text.encode("utf-8")))
    return out


def _decode(f: File) -> str:
    try:
        return f.load().decode("utf-8")
    except UnicodeDecodeError:
        raise AcceleratorError(f"{f.path}: ReplaceText needs UTF-8 text", hint="scope it with applyTo") from None


def _rewrite_path(t: RewritePath, files: FileSet, scope: Scope) -> FileSet:
    pattern = re.compile(spel.java_regex(t.regex or DEFAULT_PATH_REGEX))
    names = {index: name for name, index in pattern.groupindex.items()}
    out: FileSet = []
    for f in files:
        found = pattern.fullmatch(f.path)
        if found is None:
            if t.matchOrFail:
                raise AcceleratorError(f"RewritePath: {f.path!r} does not match {t.regex or DEFAULT_PATH_REGEX!r}")
            out.append(f)
            continue
        groups: dict[str, object] = {f"g{i}": found.group(i) or "" for i in range(pattern.groups + 1)}
        groups.update({name: found.group(index) or "" for index, name in names.items()})
        if t.regex is None:
            groups["ext"] = groups["g4"] = _java_default_ext(str(groups["filename"]))
        target = scope.child(groups).eval_str(t.rewriteTo or DEFAULT_REWRITE_TO, "RewritePath rewriteTo")
        out.append(f.with_path(_clean(target)))
    return out


def _java_default_ext(filename: str) -> str:
    """`#ext` of the default regex as Java reports it: its lookahead keeps the last `.suffix` it captured.

    (Python resets captures when backtracking out of a lookahead, so its own `ext` would always be empty.)
    """
    found = re.search(r"(?<=.)(\.[^/.]*)$", filename)
    return found.group(1) if found else ""


def _clean(path: str) -> str:
    if not path or path.startswith("/") or ".." in path.split("/"):
        raise AcceleratorError(f"RewritePath produced an unsafe path {path!r}")
    return path


def _unique_path(t: UniquePath, files: FileSet, scope: Scope) -> FileSet:
    return unique_paths(files, t.strategy)


def unique_paths(files: FileSet, strategy: str) -> FileSet:
    """Resolve same-path files: Fail, UseFirst, UseLast or Append (contents concatenated, earlier first)."""
    by_path: dict[str, list[File]] = {}
    for f in files:
        by_path.setdefault(f.path, []).append(f)
    out: FileSet = []
    for path, group in by_path.items():
        if len(group) == 1:
            out.append(group[0])
        elif strategy == "Fail":
            raise AcceleratorError(f"UniquePath: {len(group)} files at {path!r} (strategy Fail)")
        elif strategy == "UseFirst":
            out.append(group[0])
        elif strategy == "UseLast":
            out.append(group[-1])
        elif strategy == "Append":
            out.append(group[0].with_bytes(b"".join(f.load() for f in group)))
        else:
            raise UnsupportedTransform(f"UniquePath strategy {strategy!r} is not supported by the local engine")
    return out


def _invoke_fragment(t: InvokeFragment, files: FileSet, scope: Scope) -> FileSet:
    """Run an imported fragment's engine in place on the files that reach it plus the fragment's own files.

    Options the fragment declares that nothing set take their defaults; `let` binds values for the call.
    """
    if t.anchor:
        raise UnsupportedTransform("InvokeFragment anchor is not supported by the local engine")
    fragment = scope.fragment(t.reference)
    defaults = {
        option.name: option.defaultValue
        for option in fragment.document.accelerator.options
        if option.name not in scope.variables
    }
    inner = bind(t.let or (), scope.child(defaults))
    combined = list(files) + list(fragment.files)
    if fragment.document.engine is None:
        return combined
    return run(fragment.document.engine, combined, inner)


def _provenance(t: Provenance, files: FileSet, scope: Scope) -> FileSet:
    content = scope.provenance()
    return [File(PROVENANCE_FILE, lambda: content)]


@lru_cache(maxsize=512)
def ant_regex(pattern: str) -> re.Pattern[str]:
    """An Ant path pattern as a regex: `**` spans folders, `*` and `?` stay inside one path segment."""
    out, index = [], 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:[^/]*/)*")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(out))


def matches_any(path: str, patterns: tuple[str, ...] | list[str]) -> bool:
    return any(ant_regex(pattern).fullmatch(path) for pattern in patterns)


def read_tree(root: Path, skip: frozenset[str] = frozenset({".git"})) -> FileSet:
    """The files below `root` as a FileSet (sorted, contents read lazily); folders named in `skip` are left out."""
    files: FileSet = []
    for path in sorted(_walk(root, skip)):
        files.append(File(path.relative_to(root).as_posix(), path.read_bytes))
    return files


def _walk(folder: Path, skip: frozenset[str]) -> list[Path]:
    found: list[Path] = []
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            if entry.name not in skip:
                found.extend(_walk(entry, skip))
        elif entry.is_file():
            found.append(entry)
    return found


_HANDLERS: dict[type, Callable[..., FileSet]] = {
    Include: _include,
    Exclude: _exclude,
    Merge: _merge,
    Chain: _chain,
    Let: _let,
    Combo: _combo,
    ReplaceText: _replace_text,
    RewritePath: _rewrite_path,
    UniquePath: _unique_path,
    Provenance: _provenance,
    InvokeFragment: _invoke_fragment,
}

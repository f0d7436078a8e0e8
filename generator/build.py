"""`tapml build`: write (or check) every file generated from the template manifests.

Two stages, because the second reads what the first writes: the templates' own generated files
(cookiecutter.json, hooks, the answers template and the copies of shared parts), then what is compiled from
the finished templates (the TAP accelerators, the root accelerator.yaml and catalog-info.yaml). Files the
build owns but no longer produces are deleted (or reported by `--check`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .accelerator.export import accelerator_files, stale_files
from .cookiecutter_files import cookiecutter_files
from .errors import NotACheckout, OutOfDate
from .manifest import PACKAGED_TEMPLATES, Template, load_all, templates_root
from .shared import shared_files, stale_copies

Files = dict[Path, str]
Produced = tuple[Files, list[str]]  # files by repository path, and notes for the maintainer
Producer = Callable[[list[Template], Path], Produced]
StaleFinder = Callable[[list[Template], Path, Files], list[Path]]


@dataclass(frozen=True)
class Stage:
    """Producers whose output is complete before the next stage reads the templates."""

    producers: tuple[Producer, ...]
    stale: tuple[StaleFinder, ...] = field(default=())


STAGES = (
    Stage((cookiecutter_files, shared_files), (stale_copies,)),
    Stage((accelerator_files,), (stale_files,)),
)


@dataclass
class Report:
    """What a build changed (or, with `--check`, would change), and notes on how it compiled."""

    changed: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def build(root: Path | None = None, *, check: bool = False) -> Report:
    """Write every generated file and delete stale ones, or with `check` raise `OutOfDate` naming the drift."""
    root = root or templates_root()
    require_checkout(root)
    repo = root.parent
    report = Report()
    for stage in STAGES:
        templates = load_all(root)  # again per stage: the manifests' view of files the last stage wrote
        expected: Files = {}
        for producer in stage.producers:
            files, notes = producer(templates, repo)
            expected.update(files)
            report.notes += notes
        changed = [path for path, text in expected.items() if _read(repo / path) != text]
        stale = sorted({path for finder in stage.stale for path in finder(templates, repo, expected)})
        if check and (changed or stale):
            names = [*map(str, changed), *(f"{path} (stale)" for path in stale)]
            raise OutOfDate(
                f"{len(names)} generated file(s) out of date: {', '.join(names[:5])}", hint="run `tapml build`"
            )
        if not check:
            _write_all(repo, ((path, expected[path]) for path in changed))
            _delete_all(repo, stale)
        report.changed += changed + stale
    return report


def require_checkout(root: Path) -> None:
    """Refuse to build the templates an installed package carries: generated files belong in a source checkout."""
    if root.resolve() == PACKAGED_TEMPLATES:
        raise NotACheckout(
            f"tapml build regenerates files in a source checkout, and this tapml runs from an installed package "
            f"({PACKAGED_TEMPLATES.parent})",
            hint="run it in a clone of the tapml repository, or set TAPML_TEMPLATES to a checkout's templates/",
        )


def generated_files(root: Path | None = None) -> Files:
    """Everything the build produces from the templates as they are on disk (for tests and previews)."""
    root = root or templates_root()
    templates = load_all(root)
    files: Files = {}
    for stage in STAGES:
        for producer in stage.producers:
            files.update(producer(templates, root.parent)[0])
    return files


def _delete_all(repo: Path, paths: Iterable[Path]) -> None:
    for path in paths:
        (repo / path).unlink()
        folder = (repo / path).parent
        while folder != repo and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _write_all(repo: Path, files: Iterable[tuple[Path, str]]) -> None:
    for path, text in files:
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="\n")

"""Render a template into a project: staged in a temporary directory, validated, then moved into place.

Rendering goes through cookiecutter's own generator (with the generated hooks), so `tapml new` and a plain
`cookiecutter templates/<name>` run produce the same files. Nothing reaches the target until the
whole project rendered and validated (see `output.write_atomically`).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from cookiecutter.exceptions import CookiecutterException
from cookiecutter.generate import generate_files

from .errors import RenderError
from .manifest import OptionValue, Template
from .output import write_atomically
from .validate import check_project

CC = "cookiecutter"


def render(template: Template, values: Mapping[str, OptionValue], target: Path, *, force: bool = False) -> Path:
    """Render `template` with resolved `values` into the directory `target`; return `target`."""

    def render_checked(staging: Path) -> Path:
        project = render_to(template, values, staging)
        check_project(project)
        return project

    return write_atomically(target, render_checked, force=force)


def render_to(template: Template, values: Mapping[str, OptionValue], output_dir: Path) -> Path:
    """Run cookiecutter's generator (files and hooks) into `output_dir`; return the project directory it made.

    The context is built from the typed values (cookiecutter's own prompting would turn integers into text);
    it holds exactly what a plain `cookiecutter` run of the generated cookiecutter.json holds.
    """
    context = {
        CC: {
            **template.jinja_context(values),
            "_template": str(template.directory),
            "_output_dir": str(output_dir.resolve()),
            "_repo_dir": str(template.directory),
            "_checkout": None,
        }
    }
    try:
        made = generate_files(
            repo_dir=str(template.directory), context=context, output_dir=str(output_dir), accept_hooks=True
        )
    except (CookiecutterException, ValueError, OSError) as exc:
        raise RenderError(f"rendering {template.name} failed: {_first_line(exc)}") from None
    project = Path(made)
    _drop_bytecode(project)
    return project


def _drop_bytecode(project: Path) -> None:
    """Remove `__pycache__` folders cookiecutter copied from the template: pip byte-compiles every `.py` file of
    a wheel it installs, the template files carried in the package included."""
    for cache in sorted(project.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache)


def list_tree(project: Path) -> list[str]:
    """Every file below `project`, relative and sorted: what `--dry-run` shows."""
    return sorted(str(path.relative_to(project)) for path in project.rglob("*") if path.is_file())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]

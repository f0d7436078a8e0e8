"""Render a template into a project: staged in a temporary directory, validated, then moved into place.

Rendering goes through cookiecutter itself (with the generated hooks), so `tapml new` and a plain
`cookiecutter templates/<name>` run produce the same files. Nothing reaches the target until the
whole project rendered and validated; on any error or Ctrl-C the staging directory is removed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cookiecutter.exceptions import CookiecutterException
from cookiecutter.main import cookiecutter

from .errors import RenderError, TargetExists
from .manifest import OptionValue, Template
from .validate import check_project


def render(template: Template, values: Mapping[str, OptionValue], target: Path, *, force: bool = False) -> Path:
    """Render `template` with resolved `values` into the directory `target`; return `target`."""
    target = target.resolve()
    if _is_occupied(target) and not force:
        raise TargetExists(f"{target} exists and is not empty", hint="choose another -o or pass --force")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tapml-staging", dir=target.parent))
    try:
        project = render_to(template, values, staging)
        check_project(project)
        _publish(project, target, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def render_to(template: Template, values: Mapping[str, OptionValue], output_dir: Path) -> Path:
    """Run cookiecutter non-interactively into `output_dir`; return the project directory it made."""
    extra = {name: value if isinstance(value, bool) else str(value) for name, value in values.items()}
    with tempfile.TemporaryDirectory(prefix="tapml-cookiecutter-") as scratch:
        config = Path(scratch) / "config.yaml"
        config.write_text(f"cookiecutters_dir: {scratch}/templates\nreplay_dir: {scratch}/replay\n", encoding="utf-8")
        try:
            made = cookiecutter(
                str(template.directory),
                no_input=True,
                extra_context=extra,
                output_dir=str(output_dir),
                config_file=str(config),
                accept_hooks=True,
            )
        except (CookiecutterException, ValueError, OSError) as exc:
            raise RenderError(f"rendering {template.name} failed: {_first_line(exc)}") from None
    return Path(made)


def list_tree(project: Path) -> list[str]:
    """Every file below `project`, relative and sorted: what `--dry-run` shows."""
    return sorted(str(path.relative_to(project)) for path in project.rglob("*") if path.is_file())


def _is_occupied(target: Path) -> bool:
    return target.exists() and (not target.is_dir() or any(target.iterdir()))


def _publish(project: Path, target: Path, staging: Path) -> None:
    """Swap the rendered project into `target`; an existing target's `.git` is carried over."""
    if target.exists():
        if (target / ".git").is_dir():
            (target / ".git").rename(project / ".git")
        target.rename(staging / "replaced")
    project.rename(target)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]

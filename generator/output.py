"""Atomic output: a project appears at its target complete, or not at all.

`tapml new` and `tapml preview` both stage their output in a temporary directory beside the target (same
file system, so the final move is a rename), then swap it into place. On any error or Ctrl-C the staging
directory is removed and the target is untouched.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import TargetExists


def write_atomically(target: Path, produce: Callable[[Path], Path], *, force: bool = False) -> Path:
    """Call `produce(staging)`, which writes a project below `staging` and returns its directory; publish it.

    A non-empty `target` is refused unless `force`, which replaces it but carries its `.git` over.
    Returns the resolved target.
    """
    target = target.resolve()
    if is_occupied(target) and not force:
        raise TargetExists(f"{target} exists and is not empty", hint="choose another -o or pass --force")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tapml-staging", dir=target.parent))
    try:
        _publish(produce(staging), target, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def is_occupied(target: Path) -> bool:
    return target.exists() and (not target.is_dir() or any(target.iterdir()))


def _publish(project: Path, target: Path, staging: Path) -> None:
    """Swap the staged project into `target`; an existing target's `.git` is carried over."""
    if target.exists():
        if (target / ".git").is_dir():
            (target / ".git").rename(project / ".git")
        target.rename(staging / "replaced")
    project.rename(target)

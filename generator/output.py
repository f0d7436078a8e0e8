"""Atomic output: a project appears at its target complete, or not at all.

`tapml new` and `tapml preview` both stage their output in a temporary directory beside the target (same
file system, so the final move is a rename), then swap it into place. On any error or Ctrl-C the staging
directory and any parent folders made for it are removed and the target is as it was. What the file system
refuses becomes one `OutputError` line naming the path and the reason.

`--force` replaces a non-empty target but never loses work it cannot get back: it refuses the current
directory (or a folder holding it) and a git work tree with uncommitted or untracked changes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import OutputError, ReplaceRefused, TargetExists

STAGING_SUFFIX = ".tapml-staging"
_REPLACED = "replaced"  # inside the staging folder: the old target, until the new one is in place
_NAME_IN_PREFIX = 32  # staging names stay far below NAME_MAX whatever the target's name


def write_atomically(target: Path, produce: Callable[[Path], Path], *, force: bool = False) -> Path:
    """Call `produce(staging)`, which writes a project below `staging` and returns its directory; publish it.

    A non-empty `target` is refused unless `force`, which replaces it but carries its `.git` over.
    Returns the resolved target.
    """
    try:
        target = target.resolve()
        check_target(target, force=force)
    except OSError as exc:
        raise _os_failure(exc, target) from None
    except RuntimeError:  # pathlib's report of a symbolic link loop
        raise OutputError(f"cannot write {target}: a symbolic link loop") from None
    created: list[Path] = []
    staging: Path | None = None
    try:
        created = _make_parents(target)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{target.name[:_NAME_IN_PREFIX]}.", suffix=STAGING_SUFFIX, dir=target.parent)
        )
        _publish(produce(staging), target, staging)
    except BaseException as exc:
        _undo(staging, target, created)
        if isinstance(exc, OSError):
            raise _os_failure(exc, target, staging) from None
        raise
    shutil.rmtree(staging, ignore_errors=True)  # and with it a replaced target
    return target


def is_occupied(target: Path) -> bool:
    return target.exists() and (not target.is_dir() or any(target.iterdir()))


def check_target(target: Path, *, force: bool) -> None:
    """Refuse, before anything is written, a target that cannot or must not be replaced."""
    if os.path.ismount(target):
        raise OutputError(
            f"cannot write {target}: it is a mount point, which tapml cannot move a project onto",
            hint=f"choose a folder inside it: -o {target / 'NAME'}",
        )
    if _holds_current_directory(target):
        raise ReplaceRefused(
            f"refusing to replace {target}: it is the current directory or holds it",
            hint="run tapml from a folder outside it and name a new -o folder",
        )
    folder = target.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"cannot create {target}: {folder} is not a folder")
    if is_occupied(target):
        if not force:
            raise TargetExists(f"{target} exists and is not empty", hint="choose another -o or pass --force")
        if target.is_dir():
            _refuse_to_lose_git_work(target)


def _holds_current_directory(target: Path) -> bool:
    try:
        here = Path.cwd().resolve()
    except OSError:  # the current directory was deleted: nothing to protect
        return False
    return here == target or target in here.parents


def _refuse_to_lose_git_work(target: Path) -> None:
    """`--force` keeps `.git` but replaces every other file: refuse when that drops changes git does not hold."""
    has_git = os.path.lexists(target / ".git")
    git = shutil.which("git")
    if git is None:
        if has_git:
            raise ReplaceRefused(
                f"refusing to replace {target}: it is a git work tree and git is not installed "
                "to check it for uncommitted work",
                hint="install git, or move the folder away and generate a new one",
            )
        return
    env = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
    if has_git:  # look at this repository only, never one that holds it
        env["GIT_CEILING_DIRECTORIES"] = str(target.parent)
    done = subprocess.run(
        [git, "status", "--porcelain", "--untracked-files=all", "--", "."],
        cwd=target,
        env=env,
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    if done.returncode != 0:
        if has_git:
            reason = (done.stderr.strip().splitlines() or ["git status failed"])[-1]
            raise ReplaceRefused(
                f"refusing to replace {target}: git cannot read its .git ({reason})",
                hint="repair or move .git away, or choose another -o",
            )
        return  # not inside a git work tree
    changes = done.stdout.splitlines()
    if changes:
        raise ReplaceRefused(
            f"refusing to replace {target}: git shows {len(changes)} uncommitted or untracked path(s), "
            f"e.g. {changes[0][3:]}",
            hint="commit or stash them first, or choose another -o",
        )


def _make_parents(target: Path) -> list[Path]:
    """Create the target's missing parent folders; return them, outermost first, for `_undo`."""
    missing = [folder for folder in [target.parent, *target.parent.parents] if not folder.exists()]
    created: list[Path] = []
    try:
        for folder in reversed(missing):
            folder.mkdir()
            created.append(folder)
    except BaseException:
        _remove_folders(created)
        raise
    return created


def _publish(project: Path, target: Path, staging: Path) -> None:
    """Swap the staged project into `target`. An existing target moves into `staging` first (one rename, so a
    failure changes nothing), its `.git` into the project; `_undo` puts both back if the swap fails."""
    if os.path.lexists(target):
        target.rename(staging / _REPLACED)
        git = staging / _REPLACED / ".git"
        if os.path.lexists(git):
            git.rename(project / ".git")
    project.rename(target)


def _undo(staging: Path | None, target: Path, created: list[Path]) -> None:
    """Put a replaced target back, then remove the staging folder and the parents made for it."""
    if staging is None:
        _remove_folders(created)
        return
    replaced = staging / _REPLACED
    if os.path.lexists(replaced):
        try:
            _restore(replaced, staging, target)
        except OSError as exc:  # the user's files stay in `replaced`: say where, delete nothing
            raise OutputError(
                f"could not put {target} back ({exc.strerror or exc}); its files are in {replaced}",
                hint="move them back by hand",
            ) from None
    shutil.rmtree(staging, ignore_errors=True)
    _remove_folders(created)


def _restore(replaced: Path, staging: Path, target: Path) -> None:
    moved_git = next((p / ".git" for p in staging.iterdir() if p != replaced and os.path.lexists(p / ".git")), None)
    if moved_git is not None and not os.path.lexists(replaced / ".git"):
        moved_git.rename(replaced / ".git")
    if not os.path.lexists(target):
        replaced.rename(target)


def _remove_folders(created: list[Path]) -> None:
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            break


def _os_failure(exc: OSError, target: Path, staging: Path | None = None) -> OutputError:
    """One line for what the file system refused: the path and why (staging paths are named as the target)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    path = Path(os.fsdecode(exc.filename)) if exc.filename else target
    if path == target or path.name.endswith(STAGING_SUFFIX) or (staging is not None and staging in path.parents):
        return OutputError(f"cannot write {target}: {reason}")
    return OutputError(f"cannot write {target}: {path}: {reason}")

"""What the file system refuses, and what `--force` must never lose, on real file systems in real processes.

We run as root, so permission bits alone do not stop us: read-only cases use a read-only tmpfs mount or run
the CLI with the capabilities that override file permissions dropped (setpriv), and the immutable cases use
`chattr +i` (always undone). Each failure must be one `error:` line, exit 2, no traceback, the target as it
was and no staging folder left.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from generator.output import STAGING_SUFFIX
from tests.support import REPO, require

TAPML = [sys.executable, "-m", "generator"]
NO_DAC_OVERRIDE = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
GIT_USER = ["-c", "user.name=tapml tests", "-c", "user.email=tests@example.org"]


def tapml(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, prefix: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [*(prefix or []), *TAPML, *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def new(
    target: Path,
    *extra: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    prefix: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return tapml("new", "cnn-trainer", "--no-input", "-o", str(target), *extra, cwd=cwd, env=env, prefix=prefix)


def assert_refused(done: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Exit 2 with exactly one error line (after the progress line) and no traceback; return that line."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if not line.startswith("Rendering ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for fragment in fragments:
        assert fragment in lines[0], done.stderr
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path below `folder` with its content (None for folders): equal snapshots mean untouched."""
    return {
        str(path.relative_to(folder)): None if path.is_dir() else path.read_bytes()
        for path in sorted(folder.rglob("*"))
    }


def assert_no_staging_left(folder: Path) -> None:
    assert not [path for path in folder.iterdir() if path.name.endswith(STAGING_SUFFIX)]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *GIT_USER, *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def committed_repo(folder: Path) -> Path:
    """A git work tree holding one committed file, with nothing uncommitted."""
    folder.mkdir(parents=True)
    git(folder, "init", "-q", "-b", "main")
    (folder / "notes.txt").write_text("my committed notes\n")
    git(folder, "add", "notes.txt")
    git(folder, "commit", "-q", "-m", "notes")
    return folder


@contextmanager
def tmpfs(mount_point: Path, *, read_only: bool = False) -> Iterator[Path]:
    mount_point.mkdir(parents=True, exist_ok=True)
    options = "size=8m" + (",ro" if read_only else "")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tapml-test", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        require("mounting a tmpfs", done.stderr.strip() or "mount failed (needs root with CAP_SYS_ADMIN)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


@contextmanager
def immutable(path: Path) -> Iterator[Path]:
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        require("chattr +i", done.stderr.strip() or "chattr failed (needs root and ext4/xfs/btrfs)")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def require_setpriv() -> None:
    if shutil.which("setpriv") is None:
        require("setpriv", "util-linux setpriv is not on PATH")


# --- the file system refuses ----------------------------------------------------------------------------------


def test_target_on_a_read_only_mount_is_one_line(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", read_only=True) as mount:
        assert_refused(new(mount / "p"), f"cannot write {mount / 'p'}", "Read-only file system")
        assert list(mount.iterdir()) == []


def test_target_in_a_folder_we_may_not_write_is_one_line(tmp_path: Path) -> None:
    require_setpriv()
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o555)
    done = new(parent / "p", prefix=NO_DAC_OVERRIDE)
    assert_refused(done, f"cannot write {parent / 'p'}", "Permission denied")
    assert list(parent.iterdir()) == []


def test_immutable_parent_is_one_line(tmp_path: Path) -> None:
    parent = tmp_path / "frozen"
    parent.mkdir()
    with immutable(parent):
        assert_refused(new(parent / "p"), f"cannot write {parent / 'p'}", "Operation not permitted")
    assert list(parent.iterdir()) == []


def test_immutable_empty_target_is_left_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "p"
    target.mkdir()
    with immutable(target):
        assert_refused(new(target), f"cannot write {target}", "Operation not permitted")
        assert list(target.iterdir()) == []
    assert sorted(path.name for path in tmp_path.iterdir()) == ["p"]


def test_force_on_an_immutable_target_keeps_every_file(tmp_path: Path) -> None:
    target = tmp_path / "p"
    target.mkdir()
    (target / "work.txt").write_text("mine\n")
    before = snapshot(target)
    with immutable(target):
        assert_refused(new(target, "--force"), f"cannot write {target}")
    assert snapshot(target) == before
    assert_no_staging_left(tmp_path)


def test_a_failed_swap_puts_the_target_and_its_git_back(tmp_path: Path) -> None:
    """The old target is moved aside first; when moving its (immutable) .git fails, both go back."""
    target = committed_repo(tmp_path / "p")
    before = snapshot(target)
    with immutable(target / ".git"):
        assert_refused(new(target, "--force"), f"cannot write {target}", "Operation not permitted")
    assert snapshot(target) == before
    assert git(target, "log", "--format=%s") == "notes\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["p"]


def test_parent_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("not a folder\n")
    assert_refused(new(tmp_path / "file.txt" / "deeper" / "p"), f"{tmp_path / 'file.txt'} is not a folder")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file.txt"]


def test_name_too_long_for_the_file_system_is_one_line(tmp_path: Path) -> None:
    assert_refused(new(tmp_path / "made" / ("n" * 300)), "File name too long")
    assert list(tmp_path.iterdir()) == []  # the parent folder made for it is gone too


def test_a_long_name_the_file_system_takes_works(tmp_path: Path) -> None:
    """The staging folder's name must not push a valid target name past NAME_MAX."""
    target = tmp_path / ("n" * 250)
    assert new(target).returncode == 0
    assert (target / "config" / "workload.yaml").is_file()
    assert_no_staging_left(tmp_path)


def test_missing_parents_are_made_and_removed_again_on_failure(tmp_path: Path) -> None:
    made = tmp_path / "a" / "b"
    assert new(made / "p", "--set", "epochs=0").returncode == 2  # refused before any folder is made
    done = tapml("new", "cnn-trainer", "--no-input", "-o", str(made / ("n" * 300)))
    assert_refused(done, "File name too long")
    assert list(tmp_path.iterdir()) == []
    assert new(made / "p").returncode == 0
    assert (made / "p" / "README.md").is_file()


@pytest.mark.parametrize("occupied", [False, True], ids=["empty", "not-empty"])
def test_mount_point_target_is_refused_before_anything(tmp_path: Path, occupied: bool) -> None:
    with tmpfs(tmp_path / "mnt") as mount:
        if occupied:
            (mount / "data.txt").write_text("on the mount\n")
        before = snapshot(mount)
        assert_refused(new(mount, "--force"), f"cannot write {mount}: it is a mount point", f"-o {mount / 'NAME'}")
        assert snapshot(mount) == before
    assert_no_staging_left(tmp_path)


def test_preview_into_a_read_only_mount_is_one_line(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", read_only=True) as mount:
        done = tapml("preview", str(REPO / "accelerators" / "cnn-trainer"), "--options", "{}", "-o", str(mount / "p"))
        assert_refused(done, f"cannot write {mount / 'p'}", "Read-only file system")
        assert list(mount.iterdir()) == []


# --- answers and options files --------------------------------------------------------------------------------


def test_binary_answers_file_is_one_line(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_bytes(bytes(range(256)) * 4)
    assert_refused(new(tmp_path / "p", "--answers", str(answers)), str(answers), "not UTF-8 text")
    answers.write_bytes(b"epochs: 3\n\x00\x01\x02\n")  # UTF-8, but not YAML text
    assert_refused(new(tmp_path / "p", "--answers", str(answers)), str(answers), "not valid YAML")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["answers.yaml"]


def test_unreadable_answers_file_is_one_line(tmp_path: Path) -> None:
    assert_refused(new(tmp_path / "p", "--answers", str(tmp_path)), f"cannot read {tmp_path}", "Is a directory")
    require_setpriv()
    answers = tmp_path / "answers.yaml"
    answers.write_text("epochs: 3\n")
    answers.chmod(0)
    done = new(tmp_path / "p", "--answers", str(answers), prefix=NO_DAC_OVERRIDE)
    assert_refused(done, f"cannot read {answers}", "Permission denied")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["answers.yaml"]


def test_binary_options_file_is_one_line(tmp_path: Path) -> None:
    options = tmp_path / "options.json"
    options.write_bytes(b"\xff\xfe{}")
    done = tapml(
        "preview", str(REPO / "accelerators" / "cnn-trainer"), "--options-file", str(options), "-o", str(tmp_path / "p")
    )
    assert_refused(done, str(options), "not UTF-8 text")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["options.json"]


# --- --force never loses the user's work ----------------------------------------------------------------------


def test_force_refuses_the_current_directory(tmp_path: Path) -> None:
    here = tmp_path / "here"
    here.mkdir()
    (here / "work.txt").write_text("mine\n")
    assert_refused(new(Path("."), "--force", cwd=here), f"refusing to replace {here}", "current directory")
    assert_refused(new(Path(".."), "--force", cwd=here), f"refusing to replace {tmp_path}", "current directory")
    assert_refused(new(Path("."), cwd=tmp_path / "here"), "current directory")
    assert (here / "work.txt").read_text() == "mine\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["here"]


def test_force_refuses_a_git_work_tree_with_untracked_files(tmp_path: Path) -> None:
    target = committed_repo(tmp_path / "p")
    (target / "draft.py").write_text("print('not committed yet')\n")
    before = snapshot(target)
    assert_refused(
        new(target, "--force"),
        f"refusing to replace {target}",
        "uncommitted or untracked",
        "draft.py",
        "commit or stash",
    )
    assert snapshot(target) == before


def test_force_refuses_a_git_work_tree_with_uncommitted_changes(tmp_path: Path) -> None:
    target = committed_repo(tmp_path / "p")
    (target / "notes.txt").write_text("edited, not committed\n")
    before = snapshot(target)
    assert_refused(new(target, "--force"), "1 uncommitted or untracked path(s)", "notes.txt")
    assert snapshot(target) == before


def test_force_refuses_changes_of_an_enclosing_work_tree(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "repo")
    target = repo / "service"
    target.mkdir()
    (target / "app.py").write_text("print('untracked in the enclosing repository')\n")
    assert_refused(new(target, "--force"), "uncommitted or untracked", "service/app.py")
    assert (target / "app.py").exists()


def test_force_replaces_a_clean_work_tree_and_keeps_its_history(tmp_path: Path) -> None:
    target = committed_repo(tmp_path / "p")
    done = new(target, "--force")
    assert done.returncode == 0, done.stderr
    assert not (target / "notes.txt").exists() and (target / "config" / "workload.yaml").is_file()
    assert git(target, "log", "--format=%s") == "notes\n"
    assert " D notes.txt" in git(target, "status", "--porcelain").splitlines()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["p"]


def test_force_refuses_a_git_folder_git_cannot_read(tmp_path: Path) -> None:
    target = tmp_path / "p"
    (target / ".git").mkdir(parents=True)
    (target / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (target / "work.txt").write_text("mine\n")
    before = snapshot(target)
    assert_refused(new(target, "--force"), f"refusing to replace {target}", "git cannot read its .git")
    assert snapshot(target) == before


def test_force_without_git_installed_refuses_a_work_tree(tmp_path: Path) -> None:
    target = committed_repo(tmp_path / "p")
    empty_path = tmp_path / "no-tools"
    empty_path.mkdir()
    before = snapshot(target)
    assert_refused(new(target, "--force", env={"PATH": str(empty_path)}), "git is not installed")
    assert snapshot(target) == before


def test_force_replaces_a_plain_folder(tmp_path: Path) -> None:
    target = tmp_path / "p"
    target.mkdir()
    (target / "old.txt").write_text("old\n")
    done = new(target, "--force")
    assert done.returncode == 0, done.stderr
    assert not (target / "old.txt").exists() and (target / "README.md").is_file()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["p"]

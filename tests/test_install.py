"""tapml installs like any tool: the wheel carries every template, and its `tapml` generates each of them.

Builds the wheel from a clean copy of the sources (setuptools reuses a stale build/ folder otherwise), installs
it into a fresh venv with its dependencies from the package index, and runs that venv's `tapml` with nothing of
this checkout on its path.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from generator.manifest import load_all, templates_root
from generator.render import list_tree, render
from tests.support import REPO, require

SOURCES = ["pyproject.toml", "README.md", "generator", "templates"]
NETWORK_TROUBLE = (
    "No matching distribution found",
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Could not fetch URL",
    "ConnectTimeout",
    "ReadTimeout",
    "Network is unreachable",
)


def pip(*args: str) -> None:
    """Run pip from this interpreter; a failure that looks like the network is a missing service, else a bug."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        output = done.stdout + done.stderr
        if any(sign in output for sign in NETWORK_TROUBLE):
            require("the package index", output.strip().splitlines()[-1])
        pytest.fail(f"pip {' '.join(args)} failed:\n{output}")


def source_files(folder: Path) -> set[str]:
    return {
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(REPO / name, source / name)
    pip("wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "dist"), str(source))
    [wheel] = (tmp_path / "dist").glob("tapml-*.whl")
    return wheel


def installed_tapml(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "TAPML_TEMPLATES")}
    return subprocess.run(
        [str(venv / "bin" / "tapml"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.service
def test_the_wheel_installs_a_tapml_that_generates_every_template(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    carried = set(zipfile.ZipFile(wheel).namelist())
    missing = {f"generator/templates/{name}" for name in source_files(templates_root())} - carried
    missing |= {f"generator/{name}" for name in source_files(REPO / "generator")} - carried
    assert not missing, f"the wheel lacks {sorted(missing)[:10]}"

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip("--python", str(venv / "bin" / "python"), "install", "--quiet", str(wheel))
    work = tmp_path / "work"
    work.mkdir()

    listed = installed_tapml(venv, "list", cwd=work)
    assert listed.returncode == 0, listed.stderr
    templates = load_all()
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [t.name for t in templates]

    for template in templates:
        made = installed_tapml(venv, "new", template.name, "--no-input", "-o", str(work / template.name), cwd=work)
        assert made.returncode == 0, made.stderr
        expected = render(template, template.resolve({}), tmp_path / "from-source" / template.name)
        assert list_tree(work / template.name) == list_tree(expected)
        _, mismatch, errors = filecmp.cmpfiles(expected, work / template.name, list_tree(expected), shallow=False)
        assert (mismatch, errors) == ([], [])

    site_packages = next((venv / "lib").glob("python3.*/site-packages"))
    before = sorted(map(str, site_packages.rglob("*")))
    refused = installed_tapml(venv, "build", cwd=work)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert refused.stderr.count("\n") == 1 and "installed package" in refused.stderr, refused.stderr
    assert sorted(map(str, site_packages.rglob("*"))) == before

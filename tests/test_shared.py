"""Shared parts: written once under templates/_shared/, copied by `tapml build`, checked by `--check`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from generator.manifest import PROJECT_DIR, load_all
from generator.names import PROJECT_NAME_PATTERN
from generator.shared import MARK, shared_files

MANIFEST = {
    "name": "tiny",
    "display_name": "Tiny",
    "description": "A test template.",
    "tags": ["test"],
    "options": {
        "project_name": {"type": "string", "label": "Name", "default": "tiny-app", "pattern": PROJECT_NAME_PATTERN}
    },
    "shared": [{"from": "python/helper.py", "to": "src/helper.py"}, {"from": "docs", "to": "docs"}],
}


def _build(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", "build", *args],
        capture_output=True,
        text=True,
        env={"TAPML_TEMPLATES": str(root / "templates"), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def _tree(root: Path) -> Path:
    shared = root / "templates" / "_shared"
    (shared / "python").mkdir(parents=True)
    (shared / "python" / "helper.py").write_text('"""Helper."""\nVALUE = 1\n')
    (shared / "docs").mkdir()
    (shared / "docs" / "index.md").write_text("# Docs\n")
    template = root / "templates" / "tiny"
    (template / PROJECT_DIR / "tests").mkdir(parents=True)
    (template / PROJECT_DIR / "README.md").write_text("# {{ cookiecutter.project_name }}\n")
    (template / "tapml.yaml").write_text(yaml.safe_dump(MANIFEST))
    return template / PROJECT_DIR


def test_build_copies_shared_parts_with_a_header_and_check_catches_drift(tmp_path: Path) -> None:
    project = _tree(tmp_path)
    assert _build(tmp_path).returncode == 0
    helper = (project / "src" / "helper.py").read_text()
    assert helper == f"# {MARK}python/helper.py; do not edit.\n" + '"""Helper."""\nVALUE = 1\n'
    assert (project / "docs" / "index.md").read_text().startswith(f"<!-- {MARK}docs/index.md; do not edit. -->\n")
    assert _build(tmp_path, "--check").returncode == 0
    (project / "src" / "helper.py").write_text(helper + "EDITED = True\n")
    checked = _build(tmp_path, "--check")
    assert checked.returncode == 1 and "src/helper.py" in checked.stderr
    assert _build(tmp_path).returncode == 0 and "EDITED" not in (project / "src" / "helper.py").read_text()


def test_a_copy_no_longer_listed_is_stale(tmp_path: Path) -> None:
    project = _tree(tmp_path)
    assert _build(tmp_path).returncode == 0
    manifest = tmp_path / "templates" / "tiny" / "tapml.yaml"
    manifest.write_text(yaml.safe_dump({**MANIFEST, "shared": MANIFEST["shared"][1:]}))
    checked = _build(tmp_path, "--check")
    assert checked.returncode == 1 and "(stale)" in checked.stderr
    assert _build(tmp_path).returncode == 0 and not (project / "src" / "helper.py").exists()
    assert (project / "README.md").is_file(), "hand-written files are never touched"


def test_committed_templates_hold_exactly_their_shared_copies() -> None:
    templates = load_all()
    files, _ = shared_files(templates, templates[0].directory.parent.parent)
    for path, text in files.items():
        repo = templates[0].directory.parent.parent
        assert (repo / path).read_text(encoding="utf-8") == text, path

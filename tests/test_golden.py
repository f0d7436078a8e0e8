"""Golden digests: every generated file of a few option sets per template, by path and sha256, committed.

An unintended change to any generated file shows up here and in review. Regenerate with
`TAPML_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py` (refused in CI) and read the diff.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from generator.manifest import Template, load_all
from generator.render import render_to
from tests.matrix import valid_cases
from tests.support import IN_CI, REPO

GOLDEN_DIR = REPO / "tests" / "golden"
CASES = ("defaults", "odd-free-text", "all-booleans-flipped")
REGENERATE = os.environ.get("TAPML_REGENERATE_GOLDEN") == "1"


def digests(template: Template, values: dict[str, object], scratch: Path) -> dict[str, str]:
    project = render_to(template, template.resolve(values), scratch)
    return {
        path.relative_to(project).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(project.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("template", load_all(), ids=lambda t: t.name)
def test_generated_files_match_their_golden_digests(template: Template, tmp_path: Path) -> None:
    golden = GOLDEN_DIR / f"{template.name}.json"
    cases = {case.id: case.values for case in valid_cases(template) if case.id in CASES}
    actual = {case_id: digests(template, values, tmp_path / case_id) for case_id, values in cases.items()}
    if REGENERATE:
        if IN_CI:
            pytest.fail("TAPML_REGENERATE_GOLDEN=1 is refused in CI: regenerate locally and commit the diff")
        golden.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert golden.is_file(), f"no golden digests for {template.name}: run with TAPML_REGENERATE_GOLDEN=1"
    expected = json.loads(golden.read_text(encoding="utf-8"))
    for case_id in cases:
        changed = sorted(
            path
            for path in {*expected[case_id], *actual[case_id]}
            if expected[case_id].get(path) != actual[case_id].get(path)
        )
        assert not changed, (
            f"{template.name}:{case_id}: generated files changed: {changed[:8]} "
            "(intended? regenerate with TAPML_REGENERATE_GOLDEN=1 and commit)"
        )

"""What was compiled is what was tested: every conditional segment, conditional file and variant of every
accelerator is kept in at least one parity case and removed in another."""

from __future__ import annotations

import pytest

from generator.accelerator.compile import compile_template
from generator.manifest import Template
from tests.matrix import valid_cases

from .conftest import TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.name for t in TEMPLATES])
def test_every_compiled_condition_is_both_kept_and_removed_by_the_parity_cases(template: Template) -> None:
    compiled = compile_template(template)
    conditions = {
        **{f"segment {label}": c for label, c in compiled.segments.items()},
        **{f"include {label}": c for label, c in compiled.includes.items()},
    }
    assert conditions, "a template with boolean or choice options compiles to conditional parts"
    cases = [template.resolve(case.values) for case in valid_cases(template)]
    one_sided = {
        name: sorted({condition.evaluate(values) for values in cases}) for name, condition in conditions.items()
    }
    untested = {name: seen for name, seen in one_sided.items() if seen != [False, True]}
    assert not untested, f"never both kept and removed by a parity case: {untested}"

"""The safe SpEL subset: what it evaluates, and that everything else is refused (nothing reaches eval)."""

from __future__ import annotations

import pytest

from generator.accelerator.spel import evaluate, java_string
from generator.errors import SpelError
from generator.expressions import Condition
from generator.manifest import load_all

VARS = {"name": "my-app", "flag": True, "off": False, "size": 32, "choice": "b", "nothing": None}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("#name", "my-app"),
        ("'it''s'", "it's"),
        ("true", True),
        ("null", None),
        ("42", 42),
        ("1.5", 1.5),
        ("#name == 'my-app'", True),
        ("#name != 'my-app'", False),
        ("#flag && #off", False),
        ("#flag and !#off", True),
        ("#off || #flag", True),
        ("#off or not #flag", False),
        ("!(#flag && #off)", True),
        ("'a' + #name + 1", "amy-app1"),
        ("#size + 1", 33),
        ("'n=' + #size", "n=32"),
        ("'b=' + #flag", "b=true"),
        ("#name.replace('-', '_')", "my_app"),
        ("#name.toUpperCase().toLowerCase()", "my-app"),
        ("{'a', 'b'}.contains(#choice)", True),
        ("{'a'}.contains(#choice)", False),
        ("!{'a'}.contains(#choice)", True),
        ("#flag ? 'yes' : 'no'", "yes"),
        ("#off ? 'yes' : #flag ? 'maybe' : 'no'", "maybe"),
        ("T(java.lang.String).valueOf(#size)", "32"),
        ("#name.matches('[a-z]+(-[a-z]+)*')", True),
        ("#name.startsWith('my') && #name.endsWith('app') && #name.contains('-')", True),
        ("#size == 32", True),
        ("#size == 32.0", True),
        ("#flag == true", True),
        ("#nothing == null", True),
    ],
)
def test_evaluates(source: str, expected: object) -> None:
    assert evaluate(source, VARS) == expected


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('true')",
        "T(java.lang.Runtime).getRuntime().exec('id')",
        "#name.getClass()",
        "#undefined",
        "#name +",
        "'unterminated",
        "#flag ? 'a'",
        "new java.io.File('x')",
        "#name[0]",
        "#a = 1",
        "#name && true",
        "!#name",
        "@bean",
        "#size.replace('a', 'b')",
        "{1, 2}.size()",
    ],
)
def test_refuses(source: str) -> None:
    with pytest.raises(SpelError):
        evaluate(source, VARS)


def test_java_string() -> None:
    assert [java_string(v) for v in (True, None, 32, 32.0, 0.5, "x", ["a", 1])] == [
        "true",
        "null",
        "32",
        "32.0",
        "0.5",
        "x",
        "[a, 1]",
    ]


def test_manifest_conditions_compile_to_equivalent_spel() -> None:
    """Every `files:` condition gives the same verdict in Python and through its SpEL translation."""
    import itertools

    for template in load_all():
        asked = [n for n, o in template.options.items() if o.type in ("boolean", "choice")]
        domains = [
            (True, False) if template.options[n].type == "boolean" else template.options[n].choice_values for n in asked
        ]
        for rule in template.files:
            condition = Condition.parse(rule.when)
            spel = condition.to_spel(lambda name: "#" + name)
            for values in itertools.product(*domains):
                context = {**template.defaults(), **dict(zip(asked, values))}
                assert evaluate(spel, context) == condition.evaluate(context), (rule.when, context)

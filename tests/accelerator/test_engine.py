"""The local engine against the documented transform semantics (docs-tap AA/transforms/*)."""

from __future__ import annotations

from typing import Any

import pytest

from generator.accelerator import engine
from generator.accelerator.model import parse_document
from generator.errors import AcceleratorError, UnsupportedTransform


def _files(tree: dict[str, str]) -> engine.FileSet:
    return [engine.File(path, (lambda text=text: text.encode())) for path, text in tree.items()]


def _run(transform: dict[str, Any], tree: dict[str, str], **variables: object) -> dict[str, str]:
    document = parse_document({"accelerator": {"displayName": "t", "description": "t"}, "engine": transform})
    assert document.engine is not None
    out = engine.run(document.engine, _files(tree), engine.Scope(variables, lambda: b"provenance\n"))
    paths = [f.path for f in out]
    assert len(paths) == len(set(paths)), f"duplicates left: {paths}"
    return {f.path: f.load().decode() for f in out}


TREE = {"README.md": "# NAME\n", "src/app.py": "NAME = 1\n", "src/util.py": "x\n", "docs/a.txt": "a\n"}


def test_combo_runs_let_include_exclude_merge_chain_whatever_the_key_order() -> None:
    combo = {
        "chain": [{"type": "ReplaceText", "substitutions": [{"text": "NAME", "with": "#upper"}]}],
        "merge": [
            {"include": ["**"]},
            {"include": ["src/app.py"], "chain": [{"type": "RewritePath", "rewriteTo": "'src/' + #lower + '.py'"}]},
        ],
        "exclude": ["src/util.py"],
        "include": ["src/**", "README.md"],
        "let": [
            {"name": "lower", "expression": "#name.toLowerCase()"},
            {"name": "upper", "expression": "#lower.toUpperCase()"},
        ],
    }
    assert _run(combo, TREE, name="Demo") == {
        "README.md": "# DEMO\n",
        "src/app.py": "DEMO = 1\n",
        "src/demo.py": "DEMO = 1\n",
    }


def test_merge_conflicts_use_last_by_default_and_on_conflict_otherwise() -> None:
    def combo(strategy: str | None) -> dict[str, Any]:
        first = {
            "include": ["README.md"],
            "chain": [{"type": "ReplaceText", "substitutions": [{"text": "NAME", "with": "'first'"}]}],
        }
        last = {
            "include": ["README.md"],
            "chain": [{"type": "ReplaceText", "substitutions": [{"text": "NAME", "with": "'last'"}]}],
        }
        return {"merge": [first, last], **({"onConflict": strategy} if strategy else {})}

    assert _run(combo(None), TREE) == {"README.md": "# last\n"}
    assert _run(combo("UseFirst"), TREE) == {"README.md": "# first\n"}
    assert _run(combo("Append"), TREE) == {"README.md": "# first\n# last\n"}
    with pytest.raises(AcceleratorError, match="strategy Fail"):
        _run(combo("Fail"), TREE)


def test_false_condition_yields_nothing_in_a_merge() -> None:
    merge = {
        "type": "Merge",
        "sources": [{"condition": "#flag", "include": ["README.md"]}, {"condition": "!#flag", "include": ["docs/**"]}],
    }
    assert _run(merge, TREE, flag=True) == {"README.md": "# NAME\n"}
    assert _run({"type": "Merge", "sources": [{"condition": "false", "include": ["**"]}]}, TREE) == {}
    assert _run({"type": "Merge", "sources": []}, TREE) == {}


def test_false_condition_is_the_identity_in_a_chain() -> None:
    chain = {
        "type": "Chain",
        "transformations": [
            {"type": "Exclude", "patterns": ["**"], "condition": "#flag"},
            {"type": "ReplaceText", "condition": "#flag == false", "substitutions": [{"text": "NAME", "with": "'x'"}]},
        ],
    }
    assert _run(chain, TREE, flag=False)["README.md"] == "# x\n"
    assert _run(chain, TREE, flag=True) == {}
    assert _run({"type": "Exclude", "patterns": ["**"], "condition": "false"}, TREE) == TREE


def test_catch_all_gotcha_a_false_child_does_not_remove_what_the_catch_all_included() -> None:
    merge = {"merge": [{"include": ["**"]}, {"condition": "false", "include": ["docs/**"]}]}
    assert "docs/a.txt" in _run(merge, TREE)
    fixed = {"merge": [{"include": ["**"], "exclude": ["docs/**"]}, {"condition": "false", "include": ["docs/**"]}]}
    assert "docs/a.txt" not in _run(fixed, TREE)


def test_chain_apply_to_lets_other_files_bypass() -> None:
    chain = {
        "type": "Chain",
        "applyTo": ["src/*.py"],
        "transformations": [
            {"type": "ReplaceText", "substitutions": [{"text": "NAME", "with": "'n'"}]},
            {"type": "RewritePath", "rewriteTo": "#folder + 'x_' + #filename"},
        ],
    }
    assert _run(chain, TREE) == {
        "README.md": "# NAME\n",
        "src/x_app.py": "n = 1\n",
        "src/x_util.py": "x\n",
        "docs/a.txt": "a\n",
    }


def test_rewrite_path_default_groups_and_numbered_groups() -> None:
    seen = {"type": "RewritePath", "rewriteTo": "'[' + #folder + '|' + #filename + '|' + #ext + '|' + #g0 + ']'"}
    out = _run(seen, {"a/b/c.tar.gz": "", "README": "", ".env": ""})
    assert set(out) == {"[a/b/|c.tar.gz|.gz|a/b/c.tar.gz]", "[|README||README]", "[|.env||.env]"}
    numbered = {"type": "RewritePath", "regex": "src/(?<mod>[a-z]+)\\.py", "rewriteTo": "'lib/' + #g1 + '_' + #mod"}
    assert set(_run(numbered, TREE)) == {"README.md", "lib/app_app", "lib/util_util", "docs/a.txt"}


def test_rewrite_path_match_or_fail() -> None:
    strict = {"type": "RewritePath", "regex": "src/(.*)", "rewriteTo": "#g1", "matchOrFail": True}
    with pytest.raises(AcceleratorError, match="does not match"):
        _run(strict, TREE)
    assert set(_run({**strict, "matchOrFail": False}, TREE)) == {"README.md", "app.py", "util.py", "docs/a.txt"}


def test_replace_text_applies_substitutions_in_order_so_overlapping_tokens_matter() -> None:
    tree = {"f": "FOOBAR FOO"}
    short_first = {
        "type": "ReplaceText",
        "substitutions": [{"text": "FOO", "with": "'1'"}, {"text": "FOOBAR", "with": "'2'"}],
    }
    long_first = {
        "type": "ReplaceText",
        "substitutions": [{"text": "FOOBAR", "with": "'2'"}, {"text": "FOO", "with": "'1'"}],
    }
    assert _run(short_first, tree) == {"f": "1BAR 1"}
    assert _run(long_first, tree) == {"f": "2 1"}


def test_replace_text_is_literal_and_regex_uses_java_group_syntax() -> None:
    literal = {"type": "ReplaceText", "substitutions": [{"text": "NAME", "with": "#v"}]}
    assert _run(literal, {"f": "NAME"}, v="$1 \\ .*")["f"] == "$1 \\ .*"
    regex = {"type": "ReplaceText", "regex": {"pattern": "(?m)^(?<key>\\w+) = (\\d)$", "with": "'$2 = ${key} \\$'"}}
    assert _run(regex, {"f": "NAME = 1\nx = 2\n"})["f"] == "1 = NAME $\n2 = x $\n"


def test_let_scopes_shadow_and_see_earlier_symbols() -> None:
    let = {
        "type": "Let",
        "symbols": [{"name": "a", "expression": "#a + '!'"}, {"name": "b", "expression": "#a + #a"}],
        "in": {"type": "ReplaceText", "substitutions": [{"text": "NAME", "with": "#b"}]},
    }
    assert _run(let, {"f": "NAME"}, a="x")["f"] == "x!x!"


def test_null_substitution_fails_like_tap() -> None:
    with pytest.raises(AcceleratorError, match="evaluated to null"):
        _run({"type": "ReplaceText", "substitutions": [{"text": "NAME", "with": "#v"}]}, TREE, v=None)


def test_provenance_ignores_its_input() -> None:
    assert _run({"merge": [{"include": ["README.md"]}, {"type": "Provenance"}]}, TREE) == {
        "README.md": "# NAME\n",
        "accelerator-info.yaml": "provenance\n",
    }


def test_numbers_render_like_java() -> None:
    text = {
        "type": "ReplaceText",
        "substitutions": [{"text": "N", "with": "T(java.lang.String).valueOf(#n)"}, {"text": "M", "with": "#m"}],
    }
    assert _run(text, {"f": "N M"}, n=32, m=2.0)["f"] == "32 2.0"


@pytest.mark.parametrize(
    "transform",
    [
        {"type": "YTT"},
        {"type": "OpenRewriteRecipe", "recipe": "x"},
        {"type": "Loop", "on": "#x"},
        {"type": "InvokeFragment", "reference": "x", "anchor": "sub"},
        {"type": "UseEncoding", "encoding": "UTF-8"},
        {"merge": [{"type": "Chain", "transformations": [{"type": "YTT"}]}]},
    ],
)
def test_unsupported_transforms_are_reported(transform: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedTransform, match="not supported"):
        _run(transform, TREE)


@pytest.mark.parametrize(
    "transform",
    [
        {"include": ["**"], "surprise": 1},
        {"type": "UniquePath", "strategy": "NWayDiff"},
        {"type": "RewritePath", "regex": "x", "bogus": True},
    ],
)
def test_unknown_fields_and_strategies_are_reported(transform: dict[str, Any]) -> None:
    with pytest.raises(AcceleratorError):
        _run(transform, TREE)


@pytest.mark.parametrize(
    ("pattern", "path", "matched"),
    [
        ("**", "a/b/c", True),
        ("src/**", "src/a/b.py", True),
        ("**/*.py", "a.py", True),
        ("**/*.py", "a/b.py", True),
        ("*.py", "a/b.py", False),
        ("a/?.py", "a/b.py", True),
        (".tapml-variants/**", ".tapml-variants/1/x", True),
        ("src/app.py", "src/app.py", True),
        ("src/app.py", "src/app.pyc", False),
    ],
)
def test_ant_patterns(pattern: str, path: str, matched: bool) -> None:
    assert engine.matches_any(path, [pattern]) is matched


def test_invoke_fragment_runs_the_fragment_on_reaching_and_own_files_with_let_and_defaults() -> None:
    fragment = parse_document(
        {
            "accelerator": {
                "displayName": "f",
                "description": "f",
                "options": [
                    {"name": "greeting", "label": "g", "defaultValue": "hello"},
                    {"name": "who", "label": "w", "defaultValue": "nobody"},
                ],
            },
            "engine": {
                "chain": [
                    {
                        "type": "ReplaceText",
                        "substitutions": [{"text": "GREETING", "with": "#greeting"}, {"text": "WHO", "with": "#who"}],
                    }
                ]
            },
        }
    )
    own = [engine.File("own.txt", lambda: b"GREETING WHO\n")]
    found: list[str] = []

    def finder(name: str) -> engine.Fragment:
        found.append(name)
        return engine.Fragment(fragment, own)

    document = parse_document(
        {
            "accelerator": {"displayName": "h", "description": "h", "options": [{"name": "name", "label": "n"}]},
            "engine": {
                "exclude": ["skip/**"],
                "chain": [
                    {"type": "InvokeFragment", "reference": "frag", "let": [{"name": "who", "expression": "#name"}]}
                ],
            },
        }
    )
    files = {"host.txt": "WHO\n", "skip/x.txt": "WHO\n"}
    out = engine.run(document.engine, _files(files), engine.Scope({"name": "ann"}, lambda: b"", finder))
    assert {f.path: f.load() for f in out} == {"host.txt": b"ann\n", "own.txt": b"hello ann\n"}
    assert found == ["frag"]


@pytest.mark.parametrize("extra", [{"types": [{"name": "T", "struct": []}]}])
def test_unsupported_accelerator_features_are_reported(extra: dict[str, Any]) -> None:
    with pytest.raises(AcceleratorError, match=next(iter(extra))):
        parse_document({"accelerator": {"displayName": "t", "description": "t", **extra}})

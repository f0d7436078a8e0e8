"""Every validationRegex we emit gives the same verdicts in JavaScript (node, as the TAP GUI) and Python, and
stays inside the subset Java reads alike. Without node the test skips locally and fails when CI=true."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.accelerator.export import ACCELERATORS_DIR
from generator.accelerator.model import ACCELERATOR_FILE
from generator.accelerator.spel import java_string
from tests.matrix import ODD_TEXT, valid_cases

from .conftest import TEMPLATES, run_node
from .java_subset import engine_problems, problems

REJECT_PROBES = (
    "",
    " ",
    "a b",
    "UPPER",
    "-lead",
    "trail-",
    "x" * 300,
    'quo"te',
    "{{x}}",
    "back\\slash",
    "tab\there",
    "ünï",
    "٣",
    "0",
    "-1",
    "007",
    "1.5",
    "1e3",
    "99999999",
    "a/b",
    "http://x.y/z",
    "https://x.y",
    "https://h:99/p",
    "a_b",
    "a.b",
    "_a",
    "a" * 63,
    "a" * 64,
    "$1",
    "*",
    "?",
    "#",
    "é" * 3,
    "\u00a0",
    "a\u2028b",
)
NODE_SCRIPT = r"""
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(({regex, samples}) => {
    const compiled = new RegExp(regex);
    return samples.map((s) => compiled.test(s));
  });
  process.stdout.write(JSON.stringify(out));
});
"""


def _emitted_options(exported: Path) -> list[dict[str, Any]]:
    options = []
    for path in [exported / ACCELERATOR_FILE, *(exported / ACCELERATORS_DIR).glob(f"*/{ACCELERATOR_FILE}")]:
        options += yaml.safe_load(path.read_text(encoding="utf-8"))["accelerator"]["options"]
    return [option for option in options if option.get("validationRegex")]


def _samples(option: dict[str, Any]) -> list[str]:
    """Accepted samples (default and every matrix value of options with this regex) plus rejected probes."""
    accepted = {java_string(option["defaultValue"])}
    for template in TEMPLATES:
        for case in valid_cases(template):
            accepted |= {java_string(v) for v in case.values.values() if not isinstance(v, bool)}
    return sorted(accepted | set(ODD_TEXT) | set(REJECT_PROBES))


def test_validation_regexes_agree_in_node_and_python(exported: Path, node: str) -> None:
    options = _emitted_options(exported)
    assert options, "no validationRegex emitted"
    payload = [{"regex": option["validationRegex"], "samples": _samples(option)} for option in options]
    verdicts = run_node(node, NODE_SCRIPT, payload)
    for option, item, in_node in zip(options, payload, verdicts):
        in_python = [re.search(item["regex"], sample) is not None for sample in item["samples"]]
        differ = [s for s, a, b in zip(item["samples"], in_node, in_python) if a != b]
        assert not differ, f"{option['name']} {item['regex']!r}: node and Python disagree on {differ}"
        assert in_python[item["samples"].index(java_string(option["defaultValue"]))], "default rejected"
        assert not all(in_python), f"{option['name']}: the regex rejects nothing we tried"


def test_validation_regexes_are_anchored_and_in_the_java_subset(exported: Path) -> None:
    for option in _emitted_options(exported):
        regex = option["validationRegex"]
        assert regex.startswith("^") and regex.endswith("$"), regex
        assert problems(regex) == [], f"{option['name']}: {problems(regex)}"


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("^(?<=a)b$", "lookbehind"),
        ("^(?<n>a)$", "named"),
        ("^a++$", "possessive"),
        ("^(?>a)$", "atomic"),
        ("^\\p{L}$", "escape"),
        ("(?i)^a$", "inline"),
        ("^[a&&b]$", "intersection"),
        ("^[[a]]$", "nested"),
        ("\\Aa\\Z", "anchor"),
        ("^a{x$", "quantifier"),
        ("^\\d+$", "escape"),
        ("^(a)?(?(1)b|c)$", "conditional"),
        ("^\\x{41}$", "escape"),
        ("^\\x4$", "escape"),
    ],
)
def test_java_subset_checker_rejects(pattern: str, reason: str) -> None:
    assert any(reason in problem for problem in problems(pattern)), problems(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        "^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$",
        '^[^"\\\\{}]{1,200}$',
        "^(?:a|b)*?c(?=d)(?!e)\\.$",
        "^(a)\\1$",
        "^[^\\x00-\\x1f]+$",
    ],
)
def test_java_subset_checker_accepts(pattern: str) -> None:
    assert problems(pattern) == []


def _engine_regexes(node: Any) -> list[str]:
    """Every regex the engine runs: ReplaceText/RewritePath patterns and Java regexes inside SpEL calls."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "RewritePath" and node.get("regex"):
            found.append(node["regex"])
        if isinstance(node.get("regex"), dict):
            found.append(node["regex"]["pattern"])
        for key in ("expression", "condition"):
            if isinstance(node.get(key), str):
                found += re.findall(r"\.(?:replaceAll|matches)\('((?:[^']|'')*)'", node[key])
        for value in node.values():
            found += _engine_regexes(value)
    elif isinstance(node, list):
        for item in node:
            found += _engine_regexes(item)
    return found


@pytest.mark.parametrize(
    "rel", [Path(ACCELERATOR_FILE)] + [Path(ACCELERATORS_DIR) / t.name / ACCELERATOR_FILE for t in TEMPLATES], ids=str
)
def test_every_regex_the_engine_runs_is_safe_on_java(rel: Path, exported: Path) -> None:
    document = yaml.safe_load((exported / rel).read_text(encoding="utf-8"))
    regexes = _engine_regexes(document.get("engine"))
    if rel != Path(ACCELERATOR_FILE):
        assert any(pattern.startswith("(?s)") for pattern in regexes), "segment drops are engine regexes"
    unsafe = {pattern: engine_problems(pattern.replace("''", "'")) for pattern in regexes}
    assert not {p: why for p, why in unsafe.items() if why}


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(?s)a(.|\n)*?b", "recurses"),
        ("(a+)+b", "backtrack"),
        ("(x)\\1", "backreference"),
        ("(?i)x", "inline"),
    ],
)
def test_engine_regex_checker_rejects(pattern: str, reason: str) -> None:
    assert any(reason in problem for problem in engine_problems(pattern)), engine_problems(pattern)


@pytest.mark.parametrize(
    "pattern", ["(?s)\\[\\[if #a\\]\\].*?\\[\\[end #a\\]\\]", "(.*)\\[\\[x\\]\\](.*)", "^(.{40}).+$", "[^a-z0-9]+"]
)
def test_engine_regex_checker_accepts(pattern: str) -> None:
    assert engine_problems(pattern) == []

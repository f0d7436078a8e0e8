"""The jupyter-utilities Hub values, validated as Helm validates them: merged over the chart's defaults, against the
Zero to JupyterHub chart's own values schema (vendored in ../shared/schemas; the generated projects do not need it).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

TEMPLATE = "jupyter-utilities"
VALUES = Path("config") / "jupyterhub" / "values.yaml"


def helm_merge(base: Any, override: Any) -> Any:
    """Helm's merge: mappings key by key, a null removes the key, any other value replaces."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = helm_merge(base.get(key), value)
        return merged
    return override


@pytest.fixture(scope="module")
def chart(schemas_dir: Path) -> tuple[dict[str, Any], Any]:
    """The chart's default values and a validator of its values schema."""
    from jsonschema import Draft7Validator

    defaults = yaml.safe_load((schemas_dir / "z2jh-values.default.yaml").read_text(encoding="utf-8"))
    schema = json.loads((schemas_dir / "z2jh-values.schema.json").read_text(encoding="utf-8"))
    return defaults, Draft7Validator(schema)


def problems(values: dict[str, Any], chart: tuple[dict[str, Any], Any]) -> list[str]:
    defaults, validator = chart
    merged = helm_merge(defaults, values)
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(merged)]


def test_the_hub_values_of_every_case_validate_against_the_chart_schema(
    baked: dict[str, Path], chart: tuple[dict[str, Any], Any]
) -> None:
    checked = 0
    for key, project in baked.items():
        if key.startswith(f"{TEMPLATE}:"):
            values = yaml.safe_load((project / VALUES).read_text(encoding="utf-8"))
            assert problems(values, chart) == [], key
            checked += 1
    assert checked > 1


def test_the_chart_schema_catches_a_misspelled_or_mistyped_value(
    baked: dict[str, Path], chart: tuple[dict[str, Any], Any]
) -> None:
    values = yaml.safe_load((baked[f"{TEMPLATE}:defaults"] / VALUES).read_text(encoding="utf-8"))
    misspelled = copy.deepcopy(values)
    misspelled["singleuser"]["networkPolicy"]["egressAllowRule"] = {"privateIPs": True}
    mistyped = copy.deepcopy(values)
    mistyped["cull"]["timeout"] = "an hour"
    assert any("egressAllowRule" in problem for problem in problems(misspelled, chart))
    assert any("cull.timeout" in problem for problem in problems(mistyped, chart))

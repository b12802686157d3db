"""`premia schema` describes every key an editor should complete, including plugins' own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from premia.cli import cli
from premia.plugins import Registry

DEMO = Path(__file__).resolve().parents[2] / "core" / "src" / "premia" / "demo" / "program.yaml"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    result = CliRunner().invoke(cli, ["schema"], obj={"registry": Registry()})
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def demo() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    return data


def test_the_demo_program_is_valid(validator: jsonschema.Draft202012Validator) -> None:
    assert list(validator.iter_errors(demo())) == []


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("rules", {"mode": "hole"}),  # tiered mode is whole | marginal
        ("rules", {"tierz": []}),  # a misspelt rule parameter
        ("sources", {"settings": {"streams": {"deals": {"files": "a.csv", "idd": "x"}}}}),
        ("providers", {"settings": {"catalog": "c.yaml", "auto_fulfill": True}}),
    ],
)
def test_plugin_keys_are_checked(
    validator: jsonschema.Draft202012Validator, where: str, change: dict[str, Any]
) -> None:
    doc = demo()
    if where == "rules":
        doc["rules"][1].update(change)  # the tiered rule
    elif where == "sources":
        doc["sources"][0].update(change)
    else:
        doc["rewards"]["providers"][0].update(change)
    assert list(validator.iter_errors(doc)) != []

"""The JSON Schema of the program file, with the rule types and plugins installed.

``ProgramConfig`` alone knows only the common keys of a rule and that a source's
``settings`` is an object. This schema adds, for every registered rule type, source type and
provider type, its own parameters or settings, selected by ``type``, so an editor completes
``tiers``, ``within`` or a CSV stream's ``columns`` and flags a misspelt key.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from premia.plugins import Registry
from premia.program import ProgramConfig, RuleConfig


def program_schema(registry: Registry) -> dict[str, Any]:
    """Return the program file's JSON Schema with every installed type's own keys."""
    schema = ProgramConfig.model_json_schema()
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    common = RuleConfig.model_json_schema()
    rule_variants = []
    for name, cls in sorted(registry.rules.items()):
        params = _inline(cls.Params, defs)
        props = {**copy.deepcopy(common["properties"]), **params.get("properties", {})}
        props["type"] = {"const": name, "title": "Type", "description": _first_line(cls.__doc__)}
        rule_variants.append(
            {
                "title": f"rule type {name}",
                "type": "object",
                "properties": props,
                "required": sorted({"name", "type", "metric", *params.get("required", [])}),
                "additionalProperties": False,
            }
        )
    if rule_variants:
        schema["properties"]["rules"]["items"] = {"oneOf": rule_variants}
    schema["properties"]["sources"]["items"] = _typed_variants(
        registry.sources, defs, schema["$defs"]["SourceConfig"], "source"
    )
    providers = schema["$defs"]["RewardsConfig"]["properties"]["providers"]
    providers["items"] = _typed_variants(
        registry.providers, defs, schema["$defs"]["ProviderConfig"], "provider"
    )
    return schema


def _typed_variants(
    types: dict[str, Any], defs: dict[str, Any], base: dict[str, Any], what: str
) -> dict[str, Any]:
    """One variant per registered type, whose ``settings`` is that type's settings model."""
    variants = []
    for name, cls in sorted(types.items()):
        entry = copy.deepcopy(base)
        entry["title"] = f"{what} type {name}"
        entry["properties"]["type"] = {"const": name, "title": "Type"}
        entry["properties"]["settings"] = _inline(cls.Settings, defs)
        variants.append(entry)
    return {"oneOf": variants} if variants else base


def _inline(model: type[BaseModel], defs: dict[str, Any]) -> dict[str, Any]:
    """Return ``model``'s schema, moving its definitions into the shared ``$defs``."""
    sub = model.model_json_schema(ref_template="#/$defs/{model}")
    for key, value in sub.pop("$defs", {}).items():
        defs.setdefault(key, value)
    return sub


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if doc and doc.strip() else ""

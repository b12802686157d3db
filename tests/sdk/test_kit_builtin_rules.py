"""The built-in rule types pass the SDK's rule contract kit (as a third-party rule would)."""

from __future__ import annotations

from typing import Any

import pytest

from premia import RuleType
from premia.builtin_rules.every import EveryRule
from premia.builtin_rules.rank import RankRule
from premia.builtin_rules.threshold import ThresholdRule
from premia.builtin_rules.tiered import TieredRule
from premia_sdk.testing import RuleContract


class TestThresholdContract(RuleContract):
    @pytest.fixture
    def rule_type(self) -> type[RuleType[Any]]:
        return ThresholdRule

    @pytest.fixture
    def valid_params(self) -> dict[str, Any]:
        return {"target": "100", "reward": {"points": 500, "badge": "Closer"}}

    @pytest.fixture
    def invalid_params(self) -> list[dict[str, Any]]:
        return [
            {"target": "100"},
            {"target": "100", "reward": {}},
            {"target": "100", "reward": {"points": 5, "rate": {"points": 1}}},
            {"target": "a lot", "reward": {"points": 5}},
        ]


class TestTieredContract(RuleContract):
    @pytest.fixture(params=["whole", "marginal"])
    def valid_params(self, request: pytest.FixtureRequest) -> dict[str, Any]:
        return {
            "mode": request.param,
            "tiers": [
                {"at": "10", "reward": {"points": 100}, "name": "Bronze"},
                {"at": "1000", "reward": {"rate": {"points": 1, "per": 100}}},
                {"at": "10000", "reward": {"points": 5000, "item": "GC-25"}},
            ],
        }

    @pytest.fixture
    def rule_type(self) -> type[RuleType[Any]]:
        return TieredRule

    @pytest.fixture
    def invalid_params(self) -> list[dict[str, Any]]:
        tiers = [{"at": "10", "reward": {"points": 1}}, {"at": "5", "reward": {"points": 2}}]
        return [
            {"tiers": tiers[:1]},
            {"mode": "whole", "tiers": []},
            {"mode": "whole", "tiers": tiers},
        ]


class TestRankContract(RuleContract):
    @pytest.fixture(
        params=[
            {"top": 3, "reward": {"points": 100}},
            {"top": 2, "within": "region", "rewards": [{"points": 300}, {"points": 100}]},
            {"top": 1, "order": "asc", "min_value": "5000", "reward": {"badge": "Thrifty"}},
        ],
        ids=["top-3", "within-region", "ascending"],
    )
    def valid_params(self, request: pytest.FixtureRequest) -> dict[str, Any]:
        params: dict[str, Any] = request.param
        return params

    @pytest.fixture
    def rule_type(self) -> type[RuleType[Any]]:
        return RankRule

    @pytest.fixture
    def invalid_params(self) -> list[dict[str, Any]]:
        return [
            {"top": 2},
            {"top": 2, "rewards": [{"points": 1}]},
            {"top": 0, "reward": {"points": 1}},
            {"top": 1, "reward": {"points": 1}, "rewards": [{"points": 1}]},
        ]


class TestEveryContract(RuleContract):
    @pytest.fixture
    def rule_type(self) -> type[RuleType[Any]]:
        return EveryRule

    @pytest.fixture
    def valid_params(self) -> dict[str, Any]:
        return {"every": "1000", "reward": {"points": 10}, "max_steps": 50}

    @pytest.fixture
    def invalid_params(self) -> list[dict[str, Any]]:
        return [
            {"every": "0", "reward": {"points": 10}},
            {"every": "5", "reward": {"rate": {"points": 1}}},
            {"every": "5", "reward": {"points": 10}, "max_steps": 0},
        ]

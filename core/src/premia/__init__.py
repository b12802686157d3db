"""Premia: results-based sales and channel incentives.

This module is the public API for plugin authors: everything a plugin needs is importable
from here. The rest of the package is the engine and may change between versions.
"""

from __future__ import annotations

import pluggy

from premia.errors import (
    ConfigError,
    PluginError,
    PremiaError,
    ProviderError,
    QuotaExhausted,
    RedemptionRefused,
    RuleError,
    SourceError,
)
from premia.events import AchievementUnlocked, RewardFailed, RewardFulfilled, SyncFinished
from premia.facts import FACT_KINDS, BadRecord, Batch, Fact, JSONValue
from premia.hookspecs import HOOKSPEC_VERSION
from premia.providers import (
    CatalogItem,
    OrderRequest,
    OrderResult,
    OrderStatus,
    ProviderContext,
    RewardProvider,
)
from premia.rewards import Rate, Reward, Rounding
from premia.rules import GrantSpec, Progress, RuleInput, RuleOutcome, RuleParticipant, RuleType
from premia.sources import CheckResult, Source, SourceContext, StreamInfo

hookimpl = pluggy.HookimplMarker("premia")
"""Marker for hook implementations: ``@premia.hookimpl``."""

__all__ = [
    "FACT_KINDS",
    "HOOKSPEC_VERSION",
    "AchievementUnlocked",
    "BadRecord",
    "Batch",
    "CatalogItem",
    "CheckResult",
    "ConfigError",
    "Fact",
    "GrantSpec",
    "JSONValue",
    "OrderRequest",
    "OrderResult",
    "OrderStatus",
    "PluginError",
    "PremiaError",
    "Progress",
    "ProviderContext",
    "ProviderError",
    "QuotaExhausted",
    "Rate",
    "RedemptionRefused",
    "Reward",
    "RewardFailed",
    "RewardFulfilled",
    "RewardProvider",
    "Rounding",
    "RuleError",
    "RuleInput",
    "RuleOutcome",
    "RuleParticipant",
    "RuleType",
    "Source",
    "SourceContext",
    "SourceError",
    "StreamInfo",
    "SyncFinished",
    "hookimpl",
]

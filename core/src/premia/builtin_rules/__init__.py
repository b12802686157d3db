"""Built-in rule types, registered through the same hook as third-party rule types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("premia")


@hookimpl
def premia_register_rules(register: Callable[[type[Any]], None]) -> None:
    """Register threshold, tiered, rank and every."""
    from premia.builtin_rules.every import EveryRule
    from premia.builtin_rules.rank import RankRule
    from premia.builtin_rules.threshold import ThresholdRule
    from premia.builtin_rules.tiered import TieredRule

    for rule in (ThresholdRule, TieredRule, RankRule, EveryRule):
        register(rule)

"""Entry point of the ``rewards_catalog`` plugin (``[project.entry-points.premia]``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import premia
from premia_rewards_catalog.provider import LocalCatalog

PREMIA_HOOKSPEC_VERSION = 1
"""The version of the Premia hook contract this plugin is written against."""


@premia.hookimpl
def premia_register_providers(register: Callable[[type[premia.RewardProvider[Any]]], None]) -> None:
    """Register the ``rewards_catalog`` provider type."""
    register(LocalCatalog)

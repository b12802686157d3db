"""The ``csv`` plugin: registers :class:`~premia_csv.source.CsvSource` with Premia."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import premia
from premia_csv.source import CsvSource

PREMIA_HOOKSPEC_VERSION = 1
"""The version of Premia's hook contract this plugin implements."""


@premia.hookimpl
def premia_register_sources(register: Callable[[type[premia.Source[Any]]], None]) -> None:
    """Register the ``csv`` source type."""
    register(CsvSource)

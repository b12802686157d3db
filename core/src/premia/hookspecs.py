"""Hook specifications: the whole contract between Premia and its plugins.

Registration hooks receive a ``register`` callback so a plugin may contribute zero, one or
many types. Event hooks are called with keyword arguments; their results are ignored and an
exception in one implementation is logged without stopping the others.

Implement a hook with :data:`premia.hookimpl` in a module named by an entry point in the
``premia`` group::

    [project.entry-points.premia]
    mycrm = "premia_mycrm.plugin"
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from premia.events import AchievementUnlocked, RewardFailed, RewardFulfilled, SyncFinished
    from premia.providers import RewardProvider
    from premia.rules import RuleType
    from premia.sources import Source

HOOKSPEC_VERSION = 1
"""Version of this contract. A plugin declares the version it targets as
``PREMIA_HOOKSPEC_VERSION`` in its plugin module. The core refuses, with a clear message, a
plugin that targets a newer version than it implements (upgrade premia) or one older than
:data:`HOOKSPEC_MIN_VERSION` (upgrade the plugin)."""

HOOKSPEC_MIN_VERSION = 1
"""Oldest contract version this core still supports. Raised only with a major release."""

hookspec = pluggy.HookspecMarker("premia")


@hookspec
def premia_register_sources(register: Callable[[type[Source[Any]]], None]) -> None:
    """Register KPI source types (connectors), e.g. ``register(CsvSource)``.

    Each class subclasses :class:`premia.sources.Source`, names itself with ``type_name`` and
    declares its ``Settings`` model. Two plugins registering the same ``type_name`` is an
    error reported at load time.

    .. versionadded:: 1
    """


@hookspec
def premia_register_rules(register: Callable[[type[RuleType[Any]]], None]) -> None:
    """Register rule types, e.g. ``register(ThresholdRule)``.

    Each class subclasses :class:`premia.rules.RuleType`; its ``evaluate`` must be pure.
    The built-in ``threshold``, ``tiered``, ``rank`` and ``every`` come through this hook.

    .. versionadded:: 1
    """


@hookspec
def premia_register_providers(register: Callable[[type[RewardProvider[Any]]], None]) -> None:
    """Register reward fulfillment provider types, e.g. ``register(LocalCatalog)``.

    Each class subclasses :class:`premia.providers.RewardProvider` and must honour the order
    idempotency key.

    .. versionadded:: 1
    """


@hookspec
def premia_register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``premia`` command line (``cli.add_command(...)``).

    .. versionadded:: 1
    """


@hookspec
def premia_achievement_unlocked(event: AchievementUnlocked) -> None:
    """Called once per new grant, after it is committed (notifications, recognition feeds).

    .. versionadded:: 1
    """


@hookspec
def premia_reward_fulfilled(event: RewardFulfilled) -> None:
    """Called when a provider reports an order fulfilled.

    .. versionadded:: 1
    """


@hookspec
def premia_reward_failed(event: RewardFailed) -> None:
    """Called when an order fails or is refused for good (its points are refunded).

    .. versionadded:: 1
    """


@hookspec
def premia_sync_finished(event: SyncFinished) -> None:
    """Called at the end of every sync, complete or not (audit sinks, dashboards).

    .. versionadded:: 1
    """

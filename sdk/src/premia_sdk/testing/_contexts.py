"""Run contexts for tests: what the engine would hand a source or a provider."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from premia import ProviderContext, SourceContext

SYNC_STARTED_AT = datetime(2030, 1, 1, tzinfo=UTC)
"""The fixed ``sync_started_at`` of :func:`make_source_context` (2030-01-01T00:00Z).

It is fixed so that requests built from it (an ``updated_before`` window end, say) are the
same on every run and can be matched by a cassette; it lies after any record a cassette is
likely to hold.
"""


def make_source_context(
    base_dir: Path,
    *,
    source_name: str = "contract",
    sync_started_at: datetime = SYNC_STARTED_AT,
    timezone: str = "UTC",
) -> SourceContext:
    """Return a :class:`premia.SourceContext` as the engine would build it for a sync.

    Args:
        base_dir: the program's folder (relative paths in settings resolve against it).
        source_name: the name the program gives the source.
        sync_started_at: the sync's start, timezone-aware.
        timezone: the program's IANA timezone.

    Returns:
        The context, with a logger named ``premia.source.<source_name>``.
    """
    return SourceContext(
        source_name=source_name,
        base_dir=base_dir,
        sync_started_at=sync_started_at,
        timezone=timezone,
        logger=logging.getLogger(f"premia.source.{source_name}"),
    )


def make_provider_context(
    base_dir: Path, *, provider_name: str = "contract", state_dir: Path | None = None
) -> ProviderContext:
    """Return a :class:`premia.ProviderContext` as the engine would build it.

    Args:
        base_dir: the program's folder.
        provider_name: the name the program gives the provider.
        state_dir: the provider's state folder (default: ``<base_dir>/.premia``).

    Returns:
        The context.
    """
    return ProviderContext(
        provider_name=provider_name,
        base_dir=base_dir,
        state_dir=state_dir if state_dir is not None else base_dir / ".premia",
    )

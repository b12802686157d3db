"""The append-only points ledger.

Every change of a balance is a new entry with a unique ``entry_key``; entries are never
updated or deleted. A balance is the sum of a participant's entries.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, func, select

from premia.store import schema as s


class EntryType(StrEnum):
    """Why a ledger entry was written."""

    GRANT = "grant"
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"
    REDEMPTION = "redemption"
    REFUND = "refund"


def append(
    conn: Connection,
    *,
    entry_key: str,
    participant_id: int,
    points: int,
    entry_type: EntryType,
    now: datetime,
    grant_key: str | None = None,
    order_key: str | None = None,
    note: str = "",
) -> None:
    """Append one entry. A duplicate ``entry_key`` raises (the caller's idempotency bug)."""
    conn.execute(
        s.ledger.insert().values(
            entry_key=entry_key,
            participant_id=participant_id,
            points=points,
            entry_type=entry_type.value,
            grant_key=grant_key,
            order_key=order_key,
            note=note,
            created_at=now,
        )
    )


def balance(conn: Connection, participant_id: int) -> int:
    """Return a participant's points balance."""
    total = conn.execute(
        select(func.coalesce(func.sum(s.ledger.c.points), 0)).where(
            s.ledger.c.participant_id == participant_id
        )
    ).scalar_one()
    return int(total)


def entries_for_grant(conn: Connection, grant_key: str) -> int:
    """Return how many ledger entries a grant has (used to number the next one)."""
    return int(
        conn.execute(
            select(func.count()).select_from(s.ledger).where(s.ledger.c.grant_key == grant_key)
        ).scalar_one()
    )

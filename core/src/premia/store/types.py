"""Column types that keep money exact and time zone-aware on every backend.

SQLite has no decimal type (NUMERIC values become binary floats), so:

- :class:`ScaledDecimal` stores a Decimal as an integer count of 1/10,000 units (amounts and
  quantities on facts: exact, and SQL ``SUM`` over them stays exact);
- :class:`DecimalText` stores a Decimal as its canonical text (metric values, ratios).

:class:`UTCDateTime` stores instants in UTC and always returns aware datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

SCALE = 4
"""Decimal places kept for fact amounts and quantities."""
FACTOR = 10**SCALE
LIMIT = 2**63 - 1
"""Largest stored integer (a BIGINT): amounts up to 922,337,203,685,477.5807."""


def to_scaled(value: Decimal) -> int:
    """Return ``value`` as an integer of 1/10,000 units.

    Raises:
        ValueError: ``value`` has more than 4 decimal places (it would not be stored exactly),
            or is too large for a BIGINT.
    """
    scaled = value * FACTOR
    integral = scaled.to_integral_value()
    if scaled != integral:
        raise ValueError(f"{value} has more than {SCALE} decimal places")
    result = int(integral)
    if not -LIMIT <= result <= LIMIT:
        raise ValueError(f"{value} is too large to store (the limit is {from_scaled(LIMIT)})")
    return result


def from_scaled(value: int) -> Decimal:
    """Return the Decimal of an integer of 1/10,000 units."""
    return (Decimal(value) / FACTOR).normalize() if value % FACTOR else Decimal(value // FACTOR)


class ScaledDecimal(TypeDecorator[Decimal]):
    """Decimal stored as a BIGINT of 1/10,000 units."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        """Scale on the way in."""
        return None if value is None else to_scaled(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Unscale on the way out."""
        return None if value is None else from_scaled(int(value))


class DecimalText(TypeDecorator[Decimal]):
    """Decimal stored as text, exactly as given."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        """Store the canonical text."""
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"expected Decimal, got {type(value).__name__}")
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Parse the text back."""
        return None if value is None else Decimal(value)


class UTCDateTime(TypeDecorator[datetime]):
    """An instant stored in UTC; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC (naive on SQLite, which keeps no offset)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} (times must carry a timezone)")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)

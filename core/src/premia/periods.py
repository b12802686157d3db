"""Cutting time into periods in the program's timezone.

A fact dated ``2017-03-31T23:30-05:00`` belongs to March (Q1) in New York and to April (Q2)
in UTC: the cut is always made on the local date in the program's timezone.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from premia.errors import ConfigError


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """Return the calendar date of ``moment`` in ``zone``.

    Raises:
        ValueError: ``moment`` has no timezone.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} (times must carry a timezone)")
    return moment.astimezone(zone).date()


def month_label(day: date) -> str:
    """Return the month period label, e.g. ``2017-03``."""
    return f"{day.year:04d}-{day.month:02d}"


def quarter_label(day: date) -> str:
    """Return the quarter period label, e.g. ``2017-Q1``."""
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def period_labels(moment: datetime | None, zone: ZoneInfo) -> tuple[str | None, str | None]:
    """Return ``(month, quarter)`` labels of ``moment`` in ``zone`` (``(None, None)`` if no date)."""
    if moment is None:
        return None, None
    day = local_date(moment, zone)
    return month_label(day), quarter_label(day)


_LABELS = {
    "month": (r"^\d{4}-(0[1-9]|1[0-2])$", "2017-03"),
    "quarter": (r"^\d{4}-Q[1-4]$", "2017-Q2"),
}


def check_period_label(kinds: str | list[str], label: str) -> str:
    """Validate a period label given by a user, e.g. on the command line.

    Args:
        kinds: the period kind(s) the label may be of (``month``, ``quarter``).
        label: the label to check.

    Raises:
        ConfigError: the label is not of any of the expected forms.
    """
    wanted = [kinds] if isinstance(kinds, str) else kinds
    for kind in wanted:
        if re.match(_LABELS[kind][0], label):
            return label
    examples = " or ".join(f"a {k} label like {_LABELS[k][1]}" for k in wanted)
    raise ConfigError(f"period {label!r} is not {examples}")

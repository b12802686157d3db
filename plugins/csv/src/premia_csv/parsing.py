"""Cell converters: text to exact numbers, timezone-aware datetimes and booleans.

Each ``*_converter`` function builds, once per file and column, a function that converts one
cell. Converters trim the cell, return ``None`` for an empty one and raise :class:`ValueError`
with a reason a user can act on when the cell cannot be converted; the caller turns that into
a :class:`premia.BadRecord`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import TypeVar

T = TypeVar("T")

Converter = Callable[[str], object]
"""Converts one raw cell; raises :class:`ValueError` with the reason when it cannot."""

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "x"})
"""Cells (case-insensitive) that mean true, e.g. in a ``deleted`` column."""

FALSE_WORDS = frozenset({"false", "0", "no", "n", ""})
"""Cells (case-insensitive) that mean false; an empty cell is false."""

DATE_CACHE_SIZE = 65_536
"""Distinct date cells remembered per column (dates repeat a lot); the cache then restarts."""

_ONE = Decimal(1)


def parse_decimal(cell: str, decimal: str, thousands: str, places: int) -> Decimal | None:
    """Return the exact number written in ``cell``, or ``None`` when it is empty.

    Args:
        cell: the text, e.g. ``1.234,56`` (surrounding spaces are ignored).
        decimal: the decimal separator, e.g. ``,``.
        thousands: the digit-group separator, e.g. ``.``; ``""`` when numbers are not grouped.
            Groups must be well formed (``1.234.567``, not ``1.23.4``).
        places: the most decimal places allowed; trailing zeros beyond it are dropped.

    Returns:
        The number as a :class:`~decimal.Decimal` with at most ``places`` decimal places.

    Raises:
        ValueError: the cell is not a finite number in this notation, or has more decimal
            places than ``places``.
    """
    text = cell.strip()
    if not text:
        return None
    if text.isdecimal():  # a plain integer: the most common case by far
        return Decimal(text)
    number = text
    if thousands and thousands in number:
        number = _ungroup(number, decimal, thousands)
    if decimal != ".":
        if "." in number:
            raise ValueError(_not_a_number(text, decimal, thousands))
        number = number.replace(decimal, ".")
    if "_" in number:
        raise ValueError(_not_a_number(text, decimal, thousands))
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise ValueError(_not_a_number(text, decimal, thousands)) from None
    if not value.is_finite():
        raise ValueError(_not_a_number(text, decimal, thousands))
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite numbers have an int exponent
    try:
        if exponent < -places:
            rounded = value.quantize(_ONE.scaleb(-places))
            if rounded != value:
                raise ValueError(
                    f"{text!r} has more than {places} decimal places (the store keeps {places})"
                )
            return rounded
        if exponent > 0:  # 1E+3 -> 1000
            return value.quantize(_ONE)
    except InvalidOperation:
        raise ValueError(f"{text!r} is too large a number") from None
    return value


def _ungroup(text: str, decimal: str, thousands: str) -> str:
    """Return ``text`` without its digit-group separators, checking the groups are 3 digits."""
    integer, sep, fraction = text.partition(decimal)
    if thousands in fraction:
        raise ValueError(_not_a_number(text, decimal, thousands))
    sign = integer[:1] if integer[:1] in ("-", "+") else ""
    groups = integer[len(sign) :].split(thousands)
    head, tail = groups[0], groups[1:]
    if not (1 <= len(head) <= 3 and head.isdigit()) or any(
        len(g) != 3 or not g.isdigit() for g in tail
    ):
        raise ValueError(_not_a_number(text, decimal, thousands))
    return sign + "".join(groups) + sep + fraction


def _not_a_number(text: str, decimal: str, thousands: str) -> str:
    grouping = f"thousands separator {thousands!r}" if thousands else "no thousands separator"
    return f"{text!r} is not a number (decimal separator {decimal!r}, {grouping})"


def decimal_converter(decimal: str, thousands: str, places: int) -> Callable[[str], Decimal | None]:
    """Return a converter of cells to exact numbers (see :func:`parse_decimal`).

    Args:
        decimal: the decimal separator.
        thousands: the digit-group separator, ``""`` for none.
        places: the most decimal places allowed.

    Returns:
        A function of one cell.
    """

    def convert(cell: str) -> Decimal | None:
        if cell.isdecimal():  # fast path: no spaces, no separators
            return Decimal(cell)
        return parse_decimal(cell, decimal, thousands, places)

    return convert


def parse_datetime(cell: str, formats: Sequence[str], zone: tzinfo) -> datetime | None:
    """Return the timezone-aware datetime written in ``cell``, or ``None`` when it is empty.

    ISO 8601 (``2024-01-31``, ``2024-01-31T09:30:00-06:00``, ``...Z``) is always accepted; then
    each of ``formats`` is tried in order. A value with an offset keeps it; a value without one
    (a date alone means midnight) is read in ``zone``.

    Args:
        cell: the text (surrounding spaces are ignored).
        formats: :func:`~datetime.datetime.strptime` formats, e.g. ``("%d/%m/%Y",)``.
        zone: the timezone of values without offset.

    Returns:
        An aware datetime.

    Raises:
        ValueError: no accepted format reads the cell.
    """
    text = cell.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        for fmt in formats:
            try:
                value = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            expected = "ISO 8601" + "".join(f", {f}" for f in formats)
            raise ValueError(f"{text!r} is not a date or time (expected {expected})") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value


def datetime_converter(
    formats: Sequence[str], zone: tzinfo, cache_size: int = DATE_CACHE_SIZE
) -> Callable[[str], datetime | None]:
    """Return a converter of cells to aware datetimes (see :func:`parse_datetime`).

    Parsed cells are cached: the same date appears in many rows. The cache holds at most
    ``cache_size`` cells, so memory stays bounded.

    Args:
        formats: strptime formats tried after ISO 8601.
        zone: the timezone of values without offset.
        cache_size: how many distinct cells to remember.

    Returns:
        A function of one cell.
    """
    formats = tuple(formats)
    cache: dict[str, datetime | None] = {}
    missing = object()

    def convert(cell: str) -> datetime | None:
        value = cache.get(cell, missing)
        if value is missing:
            value = parse_datetime(cell, formats, zone)
            if len(cache) >= cache_size:
                cache.clear()
            cache[cell] = value
        return value  # type: ignore[return-value]

    return convert


def parse_bool(cell: str) -> bool:
    """Return the truth written in ``cell`` (:data:`TRUE_WORDS`, :data:`FALSE_WORDS`).

    Args:
        cell: the text; case and surrounding spaces are ignored. Empty means false.

    Returns:
        True or False.

    Raises:
        ValueError: the cell is neither a true nor a false word.
    """
    word = cell.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(
        f"{cell.strip()!r} is not a yes/no value (true: {', '.join(sorted(TRUE_WORDS))}; "
        f"false: {', '.join(sorted(w for w in FALSE_WORDS if w))} or empty); "
        "map other words with `aliases`"
    )


def parse_text(cell: str) -> str | None:
    """Return the trimmed cell, or ``None`` when it is empty."""
    return cell.strip() or None


def with_aliases(convert: Callable[[str], T], aliases: Mapping[str, str]) -> Callable[[str], T]:
    """Return ``convert`` applied after replacing a trimmed cell found in ``aliases``.

    Args:
        convert: the field's converter.
        aliases: cell text -> the text to use instead, e.g. ``{"GTXPro": "GTX Pro"}``.

    Returns:
        A function of one cell.
    """
    table = dict(aliases)

    def convert_alias(cell: str) -> T:
        text = cell.strip()
        return convert(table.get(text, text))

    return convert_alias

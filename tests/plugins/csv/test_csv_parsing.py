"""Cell converters: numbers, dates and yes/no values."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from premia_csv.parsing import (
    datetime_converter,
    decimal_converter,
    parse_bool,
    parse_datetime,
    parse_decimal,
)

US = (".", ",")
BR = (",", ".")


@pytest.mark.parametrize(
    ("cell", "separators", "expected"),
    [
        ("1054", US, Decimal(1054)),
        (" 42 ", US, Decimal(42)),
        ("", US, None),
        ("   ", US, None),
        ("1,234.56", US, Decimal("1234.56")),
        ("-1,234,567.5", US, Decimal("-1234567.5")),
        ("+7", US, Decimal(7)),
        ("0.1", US, Decimal("0.1")),
        ("1.2345", US, Decimal("1.2345")),
        ("1.50000", US, Decimal("1.5")),
        ("1E+3", US, Decimal(1000)),
        ("1.234,56", BR, Decimal("1234.56")),
        ("1.000.000", BR, Decimal(1000000)),
        ("-0,5", BR, Decimal("-0.5")),
        ("12", BR, Decimal(12)),
        ("1234,5", BR, Decimal("1234.5")),
    ],
)
def test_numbers(cell: str, separators: tuple[str, str], expected: Decimal | None) -> None:
    decimal, thousands = separators
    assert parse_decimal(cell, decimal, thousands, 4) == expected
    assert decimal_converter(decimal, thousands, 4)(cell) == expected


def test_numbers_are_exact() -> None:
    value = parse_decimal("0.1", ".", ",", 4)
    assert type(value) is Decimal
    assert str(value) == "0.1"
    assert str(parse_decimal("1.2345", ".", ",", 4)) == "1.2345"


@pytest.mark.parametrize(
    ("cell", "separators", "reason"),
    [
        ("abc", US, "is not a number"),
        ("1,2", US, "is not a number"),  # a group must have 3 digits
        ("12,34,567", US, "is not a number"),
        ("1.2.3", US, "is not a number"),
        ("NaN", US, "is not a number"),
        ("Infinity", US, "is not a number"),
        ("1_000", US, "is not a number"),
        ("$5", US, "is not a number"),
        ("1234.56", BR, "is not a number"),  # "." groups thousands in pt-BR
        ("1.5", BR, "is not a number"),
        ("1,23456", BR, "more than 4 decimal places"),
        ("0.00001", US, "more than 4 decimal places"),
    ],
)
def test_not_numbers(cell: str, separators: tuple[str, str], reason: str) -> None:
    decimal, thousands = separators
    with pytest.raises(ValueError, match=reason):
        parse_decimal(cell, decimal, thousands, 4)


def test_no_grouping() -> None:
    assert parse_decimal("1234.5", ".", "", 4) == Decimal("1234.5")
    with pytest.raises(ValueError, match="no thousands separator"):
        parse_decimal("1,234.5", ".", "", 4)


ZONE = ZoneInfo("America/Mexico_City")


@pytest.mark.parametrize(
    ("cell", "formats", "expected"),
    [
        ("2024-01-31", (), datetime(2024, 1, 31, tzinfo=ZONE)),
        ("2024-01-31 09:30", (), datetime(2024, 1, 31, 9, 30, tzinfo=ZONE)),
        ("2024-01-31T09:30:15", (), datetime(2024, 1, 31, 9, 30, 15, tzinfo=ZONE)),
        ("3/1/2017", ("%m/%d/%Y",), datetime(2017, 3, 1, tzinfo=ZONE)),
        ("3/1/2017", ("%d/%m/%Y",), datetime(2017, 1, 3, tzinfo=ZONE)),
        (
            "31/01/2024 23:05",
            ("%d/%m/%Y", "%d/%m/%Y %H:%M"),
            datetime(2024, 1, 31, 23, 5, tzinfo=ZONE),
        ),
        ("", ("%d/%m/%Y",), None),
    ],
)
def test_dates(cell: str, formats: tuple[str, ...], expected: datetime | None) -> None:
    assert parse_datetime(cell, formats, ZONE) == expected
    assert datetime_converter(formats, ZONE)(cell) == expected


def test_offsets_are_kept() -> None:
    value = parse_datetime("2024-01-31T09:30:00+05:30", (), ZONE)
    assert value is not None
    assert value.tzinfo == timezone(timedelta(hours=5, minutes=30))
    utc = parse_datetime("2024-01-31T09:30:00Z", (), ZONE)
    assert utc is not None
    assert utc.utcoffset() == timedelta(0)


@pytest.mark.parametrize("cell", ["31/01/2024", "2024-02-30", "yesterday", "1/2/24"])
def test_not_dates(cell: str) -> None:
    with pytest.raises(ValueError, match="is not a date"):
        parse_datetime(cell, ("%m/%d/%Y",), ZONE)


def test_dates_stay_right_when_the_cache_restarts() -> None:
    convert = datetime_converter((), ZONE, cache_size=3)
    days = [f"2024-01-{d:02d}" for d in range(1, 11)]
    assert [convert(d) for d in days] == [datetime(2024, 1, d, tzinfo=ZONE) for d in range(1, 11)]
    assert [convert(d) for d in days] == [datetime(2024, 1, d, tzinfo=ZONE) for d in range(1, 11)]


@pytest.mark.parametrize("cell", ["true", "TRUE", "1", "yes", "Y", "x", " X "])
def test_true_words(cell: str) -> None:
    assert parse_bool(cell) is True


@pytest.mark.parametrize("cell", ["false", "0", "no", "N", "", "  "])
def test_false_words(cell: str) -> None:
    assert parse_bool(cell) is False


def test_other_words_are_refused() -> None:
    with pytest.raises(ValueError, match="not a yes/no value"):
        parse_bool("maybe")

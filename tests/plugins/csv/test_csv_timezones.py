"""Dates and times: a value without offset is read in the stream's timezone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

CONTENT = (
    "id,closed,updated\n"
    "T1,2024-03-10,2024-03-10T15:30:00+02:00\n"
    "T2,2024-07-01 08:15,2024-07-01T12:00:00Z\n"
    "T3,,2024-12-31T23:59:59-05:00\n"
)
STREAM = {
    "files": "t.csv",
    "id": "id",
    "columns": {"occurred_at": "closed", "source_updated_at": "updated"},
}
MEXICO = ZoneInfo("America/Mexico_City")


def test_a_date_alone_is_midnight_in_the_stream_timezone(make_source, read_all, write) -> None:
    write("t.csv", CONTENT)
    stream = {**STREAM, "timezone": "America/Mexico_City"}
    t1, t2, t3 = read_all(make_source({"s": stream}), "s").facts
    assert t1.occurred_at == datetime(2024, 3, 10, 0, 0, tzinfo=MEXICO)
    assert t1.occurred_at.tzinfo == MEXICO
    assert t1.occurred_at.utcoffset() == timedelta(hours=-6)  # Mexico has no DST since 2022
    assert t2.occurred_at == datetime(2024, 7, 1, 8, 15, tzinfo=MEXICO)
    assert t3.occurred_at is None


def test_a_value_with_an_offset_keeps_it(make_source, read_all, write) -> None:
    write("t.csv", CONTENT)
    t1, t2, t3 = read_all(make_source({"s": STREAM}, timezone="Asia/Tokyo"), "s").facts
    assert t1.source_updated_at.utcoffset() == timedelta(hours=2)
    assert t1.source_updated_at == datetime(2024, 3, 10, 13, 30, tzinfo=UTC)
    assert t2.source_updated_at.utcoffset() == timedelta(0)
    assert t3.source_updated_at.utcoffset() == timedelta(hours=-5)


def test_the_program_timezone_is_the_default(make_source, read_all, write) -> None:
    write("t.csv", CONTENT)
    t1 = read_all(make_source({"s": STREAM}, timezone="Asia/Tokyo"), "s").facts[0]
    assert t1.occurred_at == datetime(2024, 3, 10, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert t1.occurred_at.utcoffset() == timedelta(hours=9)


def test_every_datetime_is_aware(make_source, read_all, write) -> None:
    write("t.csv", CONTENT)
    for fact in read_all(make_source({"s": STREAM}), "s").facts:
        for value in (fact.occurred_at, fact.source_updated_at):
            assert value is None or value.utcoffset() is not None


def test_a_date_constant_is_read_in_the_stream_timezone(make_source, read_all, write) -> None:
    write("t.csv", "id\nK1\n")
    stream = {
        "files": "t.csv",
        "id": "id",
        "constants": {"occurred_at": "2024-05-01", "currency": "MXN", "quantity": 1},
        "timezone": "America/Mexico_City",
    }
    [fact] = read_all(make_source({"s": stream}), "s").facts
    assert fact.occurred_at == datetime(2024, 5, 1, tzinfo=MEXICO)
    assert (fact.currency, fact.quantity) == ("MXN", 1)

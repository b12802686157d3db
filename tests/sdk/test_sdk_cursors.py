"""CompoundCursor and IncrementalWindow: ordering, JSON, boundaries, bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from premia_sdk import CompoundCursor, IncrementalWindow

T = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)


def test_json_round_trip_keeps_microseconds_and_normalises_to_utc() -> None:
    paris = timezone(timedelta(hours=2))
    cursor = CompoundCursor(datetime(2024, 5, 1, 12, 0, 0, 250, tzinfo=paris), "0061x")
    saved = cursor.to_json()
    assert saved == {"v": 1, "ts": "2024-05-01T10:00:00.000250+00:00", "id": "0061x"}
    assert CompoundCursor.from_json(saved) == cursor


@pytest.mark.parametrize(
    "value",
    [
        None,
        "2024",
        {"ts": "2024-05-01T10:00:00+00:00"},
        {"ts": "x", "id": "1"},
        {"v": 9, "ts": "2024-05-01T10:00:00+00:00", "id": "1"},
    ],
)
def test_from_json_refuses_what_is_not_a_cursor(value: object) -> None:
    with pytest.raises(ValueError):
        CompoundCursor.from_json(value)


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CompoundCursor(datetime(2024, 5, 1), "1")


def test_ordering_by_timestamp_then_id_numeric_ids_as_numbers() -> None:
    cursors = [
        CompoundCursor(T + timedelta(seconds=1), "1"),
        CompoundCursor(T, "b"),
        CompoundCursor(T, "10"),
        CompoundCursor(T, "9"),
        CompoundCursor(T, "a"),
    ]
    assert [(c.timestamp - T).seconds for c in sorted(cursors)] == [0, 0, 0, 0, 1]
    assert [c.id for c in sorted(cursors)] == ["9", "10", "a", "b", "1"]
    assert CompoundCursor(T, "9") < CompoundCursor(T, "10")
    assert max(cursors) == CompoundCursor(T + timedelta(seconds=1), "1")


def test_is_after_at_a_shared_timestamp() -> None:
    cursor = CompoundCursor(T, "2")
    assert not cursor.is_after(T, "1")
    assert not cursor.is_after(T, "2")  # the record the cursor was made from
    assert cursor.is_after(T, "3")  # same timestamp, later id: not yet read
    assert cursor.is_after(T, "10")
    assert cursor.is_after(T + timedelta(microseconds=1), "0")
    assert not cursor.is_after(T - timedelta(microseconds=1), "99")


def test_window_lower_bound_and_lookback() -> None:
    upper = T + timedelta(days=1)
    assert IncrementalWindow(None, upper).lower_bound is None
    start = CompoundCursor(T, "5")
    assert IncrementalWindow(start, upper).lower_bound == T
    window = IncrementalWindow(start, upper, lookback=timedelta(minutes=5))
    assert window.lower_bound == T - timedelta(minutes=5)
    # looking back re-reads, but what the cursor covers is still dropped
    assert not window.accepts(T - timedelta(minutes=1), "9")
    assert not window.accepts(T, "5")
    assert window.accepts(T, "6")


def test_window_upper_bound() -> None:
    upper = T + timedelta(hours=1)
    window = IncrementalWindow(CompoundCursor(T, "1"), upper)
    assert window.accepts(upper, "7")  # inclusive
    assert not window.accepts(upper + timedelta(microseconds=1), "7")
    with pytest.raises(ValueError, match="lookback"):
        IncrementalWindow(None, upper, lookback=timedelta(seconds=-1))

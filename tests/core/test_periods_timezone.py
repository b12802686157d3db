"""Periods are cut on the local date in the program's timezone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from premia.periods import period_labels

MEXICO = ZoneInfo("America/Mexico_City")
NEW_YORK = ZoneInfo("America/New_York")

# 23:30 on 31 March in Mexico City (UTC-6 all year since 2022) is 05:30 UTC on 1 April.
LATE_MARCH_MX = "2024-03-31T23:30:00-06:00"


def test_the_same_instant_falls_in_different_periods_by_zone() -> None:
    moment = datetime.fromisoformat(LATE_MARCH_MX)
    assert moment.astimezone(UTC) == datetime(2024, 4, 1, 5, 30, tzinfo=UTC)
    assert period_labels(moment, MEXICO) == ("2024-03", "2024-Q1")
    assert period_labels(moment, ZoneInfo("UTC")) == ("2024-04", "2024-Q2")
    # The offset the fact was written with does not matter, only the instant:
    assert period_labels(moment.astimezone(UTC), MEXICO) == ("2024-03", "2024-Q1")


@pytest.mark.parametrize(
    ("utc", "labels"),
    [
        # 1 April 04:30 UTC: New York is on EDT (UTC-4) since 10 March -> 00:30 on 1 April.
        # (A fixed EST offset of -5 would wrongly give 23:30 on 31 March.)
        ("2024-04-01T04:30:00+00:00", ("2024-04", "2024-Q2")),
        # 1 April 03:59 UTC -> 23:59 EDT on 31 March.
        ("2024-04-01T03:59:00+00:00", ("2024-03", "2024-Q1")),
        # 1 January 04:30 UTC: New York is on EST (UTC-5) -> 23:30 on 31 December 2023.
        ("2024-01-01T04:30:00+00:00", ("2023-12", "2023-Q4")),
        # 1 January 05:00 UTC -> exactly midnight EST: the new year.
        ("2024-01-01T05:00:00+00:00", ("2024-01", "2024-Q1")),
        # 3 November 2024 01:30 happens twice in New York (fall back at 02:00 EDT -> 01:00
        # EST); both instants are 3 November.
        ("2024-11-03T05:30:00+00:00", ("2024-11", "2024-Q4")),
        ("2024-11-03T06:30:00+00:00", ("2024-11", "2024-Q4")),
        # 1 November 03:30 UTC is still EDT: 23:30 on 31 October.
        ("2024-11-01T03:30:00+00:00", ("2024-10", "2024-Q4")),
        # 1 October 03:59 UTC (EDT) is 23:59 on 30 September: Q3.
        ("2024-10-01T03:59:00+00:00", ("2024-09", "2024-Q3")),
    ],
)
def test_dst_in_new_york(utc: str, labels: tuple[str, str]) -> None:
    assert period_labels(datetime.fromisoformat(utc), NEW_YORK) == labels


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        period_labels(datetime(2024, 3, 31, 23, 30), MEXICO)


def test_no_date_means_no_period() -> None:
    assert period_labels(None, MEXICO) == (None, None)


# -- in the store ----------------------------------------------------------------------------


def program(kit, timezone: str):
    return kit.program_dict(
        timezone=timezone,
        rules=[
            {
                "name": "big",
                "type": "threshold",
                "metric": "won_revenue",
                "target": 500,
                "reward": {"points": 10},
            },
            {
                "name": "monthly",
                "type": "every",
                "metric": "won_deals",
                "period": "month",
                "reward": {"points": 1},
            },
        ],
    )


def stored_periods(kit, runtime) -> list[tuple[str, str, str]]:
    return [(f["external_id"], f["month"], f["quarter"]) for f in kit.rows(runtime, "facts")]


def grant_periods(kit, runtime) -> list[tuple[str, str, str]]:
    return sorted((g["rule"], g["period"], g["status"]) for g in kit.rows(runtime, "grants"))


@pytest.mark.parametrize(
    ("timezone", "month", "quarter"),
    [("America/Mexico_City", "2024-03", "2024-Q1"), ("UTC", "2024-04", "2024-Q2")],
)
def test_facts_are_cut_in_the_program_timezone(
    kit, feed, sqlite_url, timezone, month, quarter
) -> None:
    feed.put(kit.deal("d1", "ana@example.com", "800", when=LATE_MARCH_MX))
    runtime = kit.open(program(kit, timezone), sqlite_url)
    kit.sync(runtime)
    assert stored_periods(kit, runtime) == [("d1", month, quarter)]
    assert kit.metric(runtime, "won_revenue", "ana@example.com", quarter) == 800
    assert grant_periods(kit, runtime) == [("big", quarter, "active"), ("monthly", month, "active")]
    # Stored instants stay the real instant, in UTC.
    (fact,) = kit.rows(runtime, "facts")
    assert fact["occurred_at"] == datetime(2024, 4, 1, 5, 30, tzinfo=UTC)


def test_changing_the_timezone_recuts_stored_facts(kit, feed, sqlite_url) -> None:
    feed.put(
        kit.deal("d1", "ana@example.com", "800", when=LATE_MARCH_MX),
        kit.deal("d2", "ben@example.com", "900", when="2024-02-10T12:00:00+00:00"),
    )
    runtime = kit.open(program(kit, "UTC"), sqlite_url)
    kit.sync(runtime)
    assert grant_periods(kit, runtime) == [
        ("big", "2024-Q1", "active"),  # Ben
        ("big", "2024-Q2", "active"),  # Ana, in UTC
        ("monthly", "2024-02", "active"),
        ("monthly", "2024-04", "active"),
    ]

    # Same store, program now in Mexico City; the source has nothing new to say.
    moved = kit.open(program(kit, "America/Mexico_City"), sqlite_url)
    report = kit.sync(moved)
    assert report.facts_changed == 0
    assert stored_periods(kit, moved) == [
        ("d1", "2024-03", "2024-Q1"),
        ("d2", "2024-02", "2024-Q1"),
    ]
    assert kit.metric(moved, "won_revenue", "ana@example.com", "2024-Q1") == 800
    assert kit.metric(moved, "won_revenue", "ana@example.com", "2024-Q2") == 0
    assert grant_periods(kit, moved) == [
        ("big", "2024-Q1", "active"),  # Ben (unchanged)
        ("big", "2024-Q1", "active"),  # Ana, now in Q1
        ("big", "2024-Q2", "reversed"),  # Ana's Q2 grant: no longer earned
        ("monthly", "2024-02", "active"),
        ("monthly", "2024-03", "active"),
        ("monthly", "2024-04", "reversed"),
    ]
    # Ana: +10 +1 in UTC, then -10 -1 for Q2/April and +10 +1 for Q1/March = 11
    assert kit.balance(moved, "ana@example.com") == 11

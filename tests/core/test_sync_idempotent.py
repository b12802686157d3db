"""Running the same sync twice changes nothing the second time (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

import premia
from premia.plugins import Registry


class _NoSettings(BaseModel):
    pass


TABLES = (
    "facts",
    "cursors",
    "metric_values",
    "progress",
    "grants",
    "ledger",
    "orders",
    "order_events",
    "participants",
    "bad_records",
)


def program(kit, incremental: bool):
    return kit.program_dict(
        sources=[
            {
                "name": "crm",
                "type": "memory",
                "settings": {"feed": "default", "batch_size": 2, "incremental": incremental},
            }
        ],
        rules=[
            {
                "name": "revenue",
                "type": "threshold",
                "metric": "won_revenue",
                "target": 1000,
                "reward": {"rate": {"points": 1, "per": 100}},
            },
            {"name": "per_deal", "type": "every", "metric": "won_deals", "reward": {"points": 10}},
            {
                "name": "top",
                "type": "rank",
                "metric": "won_revenue",
                "top": 1,
                "reward": {"points": 50, "item": "MUG"},
            },
        ],
        rewards={"providers": [kit.catalog_provider()]},
    )


def store(kit, runtime) -> dict[str, list[dict]]:
    out = {t: kit.rows(runtime, t) for t in TABLES}
    # A re-read saves its (same) cursor again, stamped with the run that read it: compare
    # the cursor values only.
    out["cursors"] = kit.rows(runtime, "cursors", drop=("run_id", "updated_at"))
    return out


@pytest.mark.parametrize("incremental", [True, False], ids=["incremental", "full-reread"])
def test_second_sync_changes_nothing(kit, feed, db_url, incremental) -> None:
    feed.put(
        kit.deal("d1", "ana@example.com", "600"),
        kit.deal("d2", "Ana Silva", "550.25"),
        kit.deal("d3", "ben@example.com", "400", when="2024-05-02T10:00:00+00:00"),
        kit.deal("d4", "ben@example.com", "700", stage="Lost"),
        kit.deal("d5", "nobody", "100"),
    )
    runtime = kit.open(program(kit, incremental), db_url)
    first = kit.sync(runtime)
    assert first.complete
    assert first.facts_changed == 5
    # Ana, 2024-Q1: won revenue 600 + 550.25 = 1150.25 -> 11.5025 points -> 11 (rounding down)
    # + 2 won deals x 10 + rank 1 in Q1 (50 + MUG). Ben: Q2 one won deal (10) + rank 1 in Q2.
    assert kit.balance(runtime, "ana@example.com") == 11 + 20 + 50
    assert kit.balance(runtime, "ben@example.com") == 10 + 50
    before = store(kit, runtime)
    assert len(before["orders"]) == 2
    assert {o["status"] for o in before["orders"]} == {"fulfilled"}

    second = kit.sync(runtime)
    assert second.complete
    assert second.facts_changed == 0
    assert second.grants == second.reversals == second.adjustments == 0
    assert second.orders_submitted == 0
    assert second.periods_evaluated == 0
    assert store(kit, runtime) == before

    # A new process (a fresh runtime on the same store) changes nothing either.
    again = kit.open(program(kit, incremental), db_url)
    third = kit.sync(again)
    assert (third.facts_changed, third.grants, third.orders_submitted) == (0, 0, 0)
    assert store(kit, again) == before


def test_a_rewritten_but_identical_fact_is_not_a_change(kit, feed, db_url) -> None:
    feed.put(kit.deal("d1", "ana@example.com", "1200"))
    runtime = kit.open(program(kit, True), db_url)
    kit.sync(runtime)
    before = store(kit, runtime)
    # The source says the record changed (new sequence number) but every field is the same.
    feed.change("d1")
    report = kit.sync(runtime)
    assert report.facts_read == 1
    assert report.facts_changed == 0
    after = store(kit, runtime)
    assert after["cursors"][0]["cursor"] == 2  # the cursor moved on (was 1)...
    after["cursors"] = before["cursors"] = []
    assert after == before  # ...and nothing else changed


def test_facts_round_trip(kit, feed, db_url) -> None:
    from datetime import datetime
    from decimal import Decimal

    feed.put(
        kit.deal(
            "d1",
            "ana@example.com",
            "12.5",
            when="2024-02-15T09:30:00-05:00",
            quantity=Decimal("3"),
            product="GTX Pro",
            region="East",
            attributes={"segment": "enterprise", "engage_date": "2024-01-02"},
            source_updated_at=datetime.fromisoformat("2024-02-16T00:00:00+01:00"),
        ),
        kit.deal("d2", "ana@example.com", "7", attributes={"segment": "smb"}),
    )
    doc = kit.program_dict(
        metrics=[
            {
                "name": "enterprise_revenue",
                "agg": "sum",
                "field": "amount",
                "where": {"attributes.segment": "enterprise"},
            },
            {"name": "segments", "agg": "count_distinct", "field": "attributes.segment"},
            {"name": "units", "agg": "sum", "field": "quantity", "where": {"product": "GTX Pro"}},
        ]
    )
    runtime = kit.open(doc, db_url)
    kit.sync(runtime)
    fact = next(f for f in kit.rows(runtime, "facts") if f["external_id"] == "d1")
    assert fact["attributes"] == {"segment": "enterprise", "engage_date": "2024-01-02"}
    assert fact["amount"] == Decimal("12.5")
    assert fact["quantity"] == Decimal(3)
    assert (fact["product"], fact["region"], fact["stage"]) == ("GTX Pro", "East", "Won")
    assert fact["occurred_at"].isoformat() == "2024-02-15T14:30:00+00:00"  # 09:30 at -05:00
    assert fact["source_updated_at"].isoformat() == "2024-02-15T23:00:00+00:00"
    assert kit.metric(runtime, "enterprise_revenue", "ana@example.com", "2024-Q1") == Decimal(
        "12.5"
    )
    assert kit.metric(runtime, "segments", "ana@example.com", "2024-Q1") == 2
    assert kit.metric(runtime, "units", "ana@example.com", "2024-Q1") == 3


class _Repeating(premia.Source[_NoSettings]):
    """Yields d1 twice in one batch, d2 in two batches, and d3 with no owner."""

    type_name = "repeating"
    Settings = _NoSettings

    def check(self) -> premia.CheckResult:
        return premia.CheckResult(True, "ok")

    def streams(self) -> list[premia.StreamInfo]:
        return [premia.StreamInfo("deals")]

    def read(self, stream: str, cursor: object) -> Iterator[premia.Batch]:
        def deal(ext: str, owner: str | None, amount: str) -> premia.Fact:
            when = datetime(2024, 2, 1, tzinfo=UTC)
            return premia.Fact(
                ext, owner_ref=owner, occurred_at=when, amount=Decimal(amount), stage="Won"
            )

        yield premia.Batch(
            [deal("d1", "ana@example.com", "1"), deal("d1", "ana@example.com", "7")], 1
        )
        yield premia.Batch([deal("d2", "ana@example.com", "2")], 2)
        yield premia.Batch([deal("d2", "ana@example.com", "3"), deal("d3", None, "4")], 3)


class _RepeatingPlugin:
    @premia.hookimpl
    def premia_register_sources(self, register: Any) -> None:
        register(_Repeating)


def test_duplicate_ids_and_ownerless_facts_are_reported(kit, sqlite_url) -> None:
    # The last record read wins: d1 = 7, d2 = 3. Two records repeated an id (one within a
    # batch, one across batches) and d3 has no owner.
    registry = Registry(load_entry_points=False, extra_plugins=[_RepeatingPlugin()])
    doc = kit.program_dict(sources=[{"name": "crm", "type": "repeating"}])
    runtime = kit.open(doc, sqlite_url, registry=registry)
    report = kit.sync(runtime)
    assert (report.duplicate_ids, report.no_owner) == (2, 1)
    amounts = {f["external_id"]: f["amount"] for f in kit.rows(runtime, "facts")}
    assert amounts == {"d1": Decimal("7"), "d2": Decimal("3"), "d3": Decimal("4")}

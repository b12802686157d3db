"""A crash at any point loses no committed fact and produces no duplicate order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from premia import ProviderContext
from premia.engine import fulfillment
from premia.engine.fulfillment import Providers, drain_outbox, redeem
from premia.engine.ingest import FactWriter
from premia.store import schema as s
from premia_rewards_catalog import LocalCatalog, LocalCatalogSettings

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def program(kit):
    return kit.program_dict(
        sources=[
            {"name": "crm", "type": "memory", "settings": {"feed": "default", "batch_size": 2}}
        ],
        rules=[
            {"name": "per_deal", "type": "every", "metric": "won_deals", "reward": {"points": 10}},
            {
                "name": "three_wins",
                "type": "threshold",
                "metric": "won_deals",
                "target": 3,
                "reward": {"points": 100, "item": "MUG"},
            },
        ],
        rewards={"providers": [kit.catalog_provider()]},
    )


def eight_deals(kit, feed) -> None:
    # 8 facts in batches of 2 -> 4 batches with cursors 2, 4, 6, 8.
    # Ana wins d1, d3, d5, d7 (4 won deals), Ben wins d2, d4, d6 and loses d8 (3 won deals).
    for i in range(1, 9):
        owner = "ana@example.com" if i % 2 else "ben@example.com"
        stage = "Lost" if i == 8 else "Won"
        feed.put(kit.deal(f"d{i}", owner, str(100 * i), stage=stage))


def count(runtime, table) -> int:
    with runtime.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(s.metadata.tables[table])).scalar()


def fact_ids(kit, runtime) -> list[str]:
    return sorted(r["external_id"] for r in kit.rows(runtime, "facts"))


def clean_run(kit, feed, other_store) -> dict:
    """The same facts synced once, with no crash, in a fresh store and program folder."""
    runtime = kit.open(program(kit), other_store(), directory="clean")
    report = kit.sync(runtime)
    assert report.complete
    return kit.portable(runtime)


def test_crash_between_batches_resumes_from_the_last_stored_batch(
    kit, feed, db_url, other_store, injected_crash
) -> None:
    eight_deals(kit, feed)
    runtime = kit.open(program(kit), db_url)
    feed.crash_after_batches = 2
    report = kit.sync(runtime)

    assert report.complete is False
    assert any("injected crash before batch 3" in e for e in report.errors)
    assert report.facts_changed == 4  # batches 1 and 2
    assert fact_ids(kit, runtime) == ["d1", "d2", "d3", "d4"]
    assert kit.cursor(runtime) == 4  # batch 2's cursor
    # No reward is paid from partial data: rules were not evaluated.
    assert count(runtime, "grants") == 0
    assert count(runtime, "ledger") == 0
    assert count(runtime, "orders") == 0
    assert report.grants == 0
    assert kit.rows(runtime, "sync_runs")[0]["status"] == "incomplete"

    feed.crash_after_batches = None
    resumed = kit.sync(runtime)
    assert resumed.complete
    assert feed.reads == [None, 4]  # the second read started at batch 2's cursor
    assert resumed.facts_changed == 4  # batches 3 and 4, nothing read twice
    assert kit.cursor(runtime) == 8

    crashed = kit.portable(runtime)
    assert crashed == clean_run(kit, feed, other_store)
    # Ana: 4 won deals x 10 + 100 for 3 wins; Ben: 3 x 10 + 100
    assert kit.balance(runtime, "ana@example.com") == 140
    assert kit.balance(runtime, "ben@example.com") == 130
    assert [(o["participant"], o["sku"], o["status"]) for o in crashed["orders"]] == [
        ("ana@example.com", "MUG", "fulfilled"),
        ("ben@example.com", "MUG", "fulfilled"),
    ]


def test_crash_inside_the_store_write_rolls_the_batch_back(
    kit, feed, db_url, other_store, monkeypatch
) -> None:
    eight_deals(kit, feed)
    runtime = kit.open(program(kit), db_url)
    original = FactWriter._save_cursor
    calls = {"n": 0}

    def failing_save_cursor(self, conn, cursor, now):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk gone while saving the cursor of batch 3")
        return original(self, conn, cursor, now)

    monkeypatch.setattr(FactWriter, "_save_cursor", failing_save_cursor)
    report = kit.sync(runtime)
    assert report.complete is False
    assert any("disk gone" in e for e in report.errors)
    # Batch 3's facts (d5, d6) were upserted in the transaction that failed: rolled back.
    assert fact_ids(kit, runtime) == ["d1", "d2", "d3", "d4"]
    assert kit.cursor(runtime) == 4
    assert count(runtime, "grants") == 0
    # The dirty marks of batch 3 rolled back too; those of batches 1-2 remain due.
    with runtime.engine.connect() as conn:
        dirty = conn.execute(select(func.count()).select_from(s.dirty)).scalar()
    assert dirty == 2  # (quarter 2024-Q1, Ana) and (2024-Q1, Ben)

    monkeypatch.setattr(FactWriter, "_save_cursor", original)
    resumed = kit.sync(runtime)
    assert resumed.complete
    assert feed.reads == [None, 4]
    assert kit.portable(runtime) == clean_run(kit, feed, other_store)


def test_crash_during_rule_evaluation_pays_nothing_twice(kit, feed, db_url, monkeypatch) -> None:
    eight_deals(kit, feed)
    runtime = kit.open(program(kit), db_url)
    from premia.engine import evaluate

    original = evaluate._reconcile
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # after the first rule of the period, inside its transaction
            raise RuntimeError("power cut")
        return original(*args, **kwargs)

    monkeypatch.setattr(evaluate, "_reconcile", failing)
    with pytest.raises(RuntimeError, match="power cut"):
        kit.sync(runtime)
    # The period is one transaction: nothing of it was committed.
    assert count(runtime, "grants") == 0
    assert count(runtime, "ledger") == 0
    assert kit.rows(runtime, "sync_runs")[0]["status"] == "failed"

    monkeypatch.setattr(evaluate, "_reconcile", original)
    kit.sync(runtime)
    assert kit.balance(runtime, "ana@example.com") == 140
    assert kit.balance(runtime, "ben@example.com") == 130
    assert count(runtime, "orders") == 2


# -- orders --------------------------------------------------------------------------------


def provider_orders(runtime) -> list:
    """The orders the rewards_catalog provider of ``runtime``'s program holds."""
    program = runtime.program
    provider = LocalCatalog(
        LocalCatalogSettings.model_validate({"catalog": "catalog.yaml"}),
        ProviderContext(provider_name="catalog", base_dir=program.base_dir),
    )
    try:
        return provider.orders()
    finally:
        provider.close()


def funded(kit, feed, db_url):
    """A synced program where Ana has 3 won deals x 1000 points = 3000 points."""
    for i in range(3):
        feed.put(kit.deal(f"w{i}", "ana@example.com", "100"))
    runtime = kit.open(
        kit.program_dict(
            rules=[
                {
                    "name": "per_deal",
                    "type": "every",
                    "metric": "won_deals",
                    "reward": {"points": 1000},
                }
            ],
            rewards={"providers": [kit.catalog_provider()]},
        ),
        db_url,
    )
    assert kit.sync(runtime).complete
    assert kit.balance(runtime, "ana@example.com") == 3000
    return runtime


def test_crash_between_redeem_and_drain(kit, feed, db_url) -> None:
    runtime = funded(kit, feed, db_url)
    ana = runtime.program.participant("ana@example.com")
    with Providers(runtime.program, runtime.registry.provider_type) as providers:
        order, created = redeem(
            runtime.engine, runtime.program, providers, ana, "GC-25", "req-1", NOW
        )
    # ...the process dies here, before draining the outbox.
    assert created
    assert order["status"] == "pending"
    assert kit.balance(runtime, "ana@example.com") == 500  # 3000 - 2500, debited with the order
    assert provider_orders(runtime) == []  # the provider was never called

    report = kit.sync(runtime)
    assert report.orders_submitted == 1
    assert report.orders_fulfilled == 1
    placed = provider_orders(runtime)
    assert [(o.idempotency_key, o.sku) for o in placed] == [("redeem:req-1", "GC-25")]

    with Providers(runtime.program, runtime.registry.provider_type) as providers:
        for _ in range(2):
            again = drain_outbox(runtime.engine, runtime.program, providers, lambda: NOW)
            assert again.submitted == 0
    assert len(provider_orders(runtime)) == 1
    (row,) = kit.rows(runtime, "orders")
    assert (row["status"], row["provider_order_id"]) == ("fulfilled", placed[0].provider_order_id)
    assert kit.balance(runtime, "ana@example.com") == 500


def test_crash_after_the_provider_accepted_but_before_it_was_recorded(
    kit, feed, db_url, monkeypatch
) -> None:
    runtime = funded(kit, feed, db_url)
    ana = runtime.program.participant("ana@example.com")
    with Providers(runtime.program, runtime.registry.provider_type) as providers:
        redeem(runtime.engine, runtime.program, providers, ana, "GC-25", "req-1", NOW)

    def crash(*args, **kwargs):
        raise RuntimeError("crashed before recording the provider's answer")

    monkeypatch.setattr(fulfillment, "_record", crash)
    with (
        Providers(runtime.program, runtime.registry.provider_type) as providers,
        pytest.raises(RuntimeError),
    ):
        drain_outbox(runtime.engine, runtime.program, providers, lambda: NOW)
    assert len(provider_orders(runtime)) == 1  # the provider has it...
    assert kit.rows(runtime, "orders")[0]["status"] == "pending"  # ...the outbox does not know

    monkeypatch.undo()
    with Providers(runtime.program, runtime.registry.provider_type) as providers:
        first = drain_outbox(runtime.engine, runtime.program, providers, lambda: NOW)
        second = drain_outbox(runtime.engine, runtime.program, providers, lambda: NOW)
    assert (first.submitted, second.submitted) == (1, 0)
    placed = provider_orders(runtime)
    assert len(placed) == 1  # the same idempotency key never made a second order
    (row,) = kit.rows(runtime, "orders")
    assert (row["status"], row["provider_order_id"]) == ("fulfilled", placed[0].provider_order_id)
    assert kit.balance(runtime, "ana@example.com") == 500


def test_quota_exhausted_stops_at_the_last_stored_batch(kit, feed, db_url) -> None:
    from premia.errors import QuotaExhausted

    eight_deals(kit, feed)
    runtime = kit.open(program(kit), db_url)
    feed.crash_after_batches, feed.crash_with = 3, QuotaExhausted
    report = kit.sync(runtime)
    assert report.complete is False
    assert any("quota exhausted" in e for e in report.errors)
    assert kit.cursor(runtime) == 6  # batch 3's cursor
    assert count(runtime, "grants") == 0
    feed.crash_after_batches = None
    assert kit.sync(runtime).complete
    assert feed.reads == [None, 6]
    assert count(runtime, "facts") == 8


def test_one_failing_source_does_not_lose_the_other(kit, feeds, db_url) -> None:
    good, bad = feeds("good"), feeds("bad")
    good.put(kit.deal("g1", "ana@example.com", "100"))
    bad.put(kit.deal("b1", "ben@example.com", "100"), kit.deal("b2", "ben@example.com", "100"))
    bad.crash_after_batches = 1
    doc = program(kit)
    doc["sources"] = [
        {"name": "bad", "type": "memory", "settings": {"feed": "bad", "batch_size": 1}},
        {"name": "good", "type": "memory", "settings": {"feed": "good"}},
    ]
    runtime = kit.open(doc, db_url)
    report = kit.sync(runtime)
    assert report.complete is False
    assert [e.split(":")[0] for e in report.errors] == ["bad/deals"]
    assert sorted(f["external_id"] for f in kit.rows(runtime, "facts")) == ["b1", "g1"]
    assert count(runtime, "grants") == 0  # no reward from partial data
    bad.crash_after_batches = None
    assert kit.sync(runtime).complete
    assert kit.balance(runtime, "ana@example.com") == 10
    assert kit.balance(runtime, "ben@example.com") == 20

"""Redeeming points: refusals change nothing, request ids are idempotent, refunds are exact."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from premia.engine.fulfillment import Providers, drain_outbox, redeem
from premia.errors import RedemptionRefused

NOW = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture
def funded(kit, feed, db_url):
    """Ana has 3 won deals x 1000 = 3000 points; Ben 1 x 1000 = 1000 points."""
    feed.put(*(kit.deal(f"a{i}", "ana@example.com", "10") for i in range(3)))
    feed.put(kit.deal("b0", "ben@example.com", "10"))
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
    assert kit.balance(runtime, "ben@example.com") == 1000
    return runtime


def do_redeem(runtime, who: str, sku: str, request_id: str, quantity: int = 1):
    person = runtime.program.participant(who)
    with Providers(runtime.program, runtime.registry.provider_type) as providers:
        return redeem(
            runtime.engine, runtime.program, providers, person, sku, request_id, NOW, quantity
        )


def drain(runtime):
    with Providers(runtime.program, runtime.registry.provider_type) as providers:
        return drain_outbox(runtime.engine, runtime.program, providers, lambda: NOW)


def money_state(kit, runtime):
    return kit.rows(runtime, "ledger"), kit.rows(runtime, "orders")


def test_balance_too_low_is_refused_and_changes_nothing(kit, funded) -> None:
    before = money_state(kit, funded)
    # GC-25 costs 2500; Ben has 1000
    with pytest.raises(RedemptionRefused, match="balance too low"):
        do_redeem(funded, "ben@example.com", "GC-25", "r1")
    # 2 x 2500 = 5000 > Ana's 3000
    with pytest.raises(RedemptionRefused, match="5000"):
        do_redeem(funded, "ana@example.com", "GC-25", "r2", quantity=2)
    assert money_state(kit, funded) == before


def test_unknown_item_is_refused(kit, funded) -> None:
    before = money_state(kit, funded)
    with pytest.raises(RedemptionRefused, match="NOPE"):
        do_redeem(funded, "ana@example.com", "NOPE", "r1")
    assert money_state(kit, funded) == before


def test_same_request_id_twice_is_one_order_and_one_debit(kit, funded) -> None:
    first, created = do_redeem(funded, "ana@example.com", "GC-25", "req-1")
    assert created
    again, created_again = do_redeem(funded, "ana@example.com", "GC-25", "req-1")
    assert created_again is False
    assert again["id"] == first["id"]
    drain(funded)
    _third, created_third = do_redeem(funded, "ana@example.com", "GC-25", "req-1")
    assert created_third is False
    (order,) = kit.rows(funded, "orders")
    assert (order["key"], order["points"], order["status"]) == ("redeem:req-1", 2500, "fulfilled")
    debits = [e for e in kit.rows(funded, "ledger") if e["entry_type"] == "redemption"]
    assert [(d["entry_key"], d["points"]) for d in debits] == [("redeem:req-1", -2500)]
    assert kit.balance(funded, "ana@example.com") == 500  # 3000 - 2500


@pytest.mark.parametrize("drain_between", [False, True], ids=["pending", "fulfilled"])
def test_out_of_stock(kit, funded, drain_between) -> None:
    # LAST-ONE: inventory 1, 100 points
    do_redeem(funded, "ana@example.com", "LAST-ONE", "first")
    if drain_between:
        drain(funded)
    before = money_state(kit, funded)
    with pytest.raises(RedemptionRefused, match="out of stock"):
        do_redeem(funded, "ben@example.com", "LAST-ONE", "second")
    assert money_state(kit, funded) == before
    assert kit.balance(funded, "ben@example.com") == 1000
    drain(funded)
    assert [(o["key"], o["status"]) for o in kit.rows(funded, "orders")] == [
        ("redeem:first", "fulfilled")
    ]


def test_provider_refusal_at_submit_fails_the_order_and_refunds_exactly(kit, funded) -> None:
    do_redeem(funded, "ana@example.com", "MUG", "mug-1", quantity=3)  # 3 x 300 = 900
    assert kit.balance(funded, "ana@example.com") == 2100
    # Before the outbox is drained, the catalog stops offering mugs in Ana's region (East).
    catalog = funded.program.base_dir / "catalog.yaml"
    catalog.write_text(
        kit.CATALOG.replace("points: 300\n", "points: 300\n    regions: [West]\n"),
        encoding="utf-8",
    )
    result = drain(funded)
    assert (result.submitted, result.failed) == (0, 1)
    (order,) = kit.rows(funded, "orders")
    assert order["status"] == "failed"
    assert "not available" in order["last_error"]
    entries = [(e["entry_key"], e["entry_type"], e["points"]) for e in kit.rows(funded, "ledger")]
    assert ("redeem:mug-1", "redemption", -900) in entries
    assert ("refund:redeem:mug-1", "refund", 900) in entries
    assert kit.balance(funded, "ana@example.com") == 3000  # exactly refunded
    # Draining again neither resubmits nor refunds twice.
    again = drain(funded)
    assert (again.submitted, again.failed) == (0, 0)
    assert kit.balance(funded, "ana@example.com") == 3000
    statuses = [e["status"] for e in kit.rows(funded, "order_events")]
    assert sorted(statuses) == ["failed", "pending"]


def test_region_refused_at_redeem_time(kit, funded) -> None:
    catalog = funded.program.base_dir / "catalog.yaml"
    catalog.write_text(
        kit.CATALOG.replace("points: 300\n", "points: 300\n    regions: [West]\n"),
        encoding="utf-8",
    )
    before = money_state(kit, funded)
    with pytest.raises(RedemptionRefused, match="not available in region East"):
        do_redeem(funded, "ana@example.com", "MUG", "r1")
    assert money_state(kit, funded) == before
    # Ben is in West: fine
    do_redeem(funded, "ben@example.com", "MUG", "r2")
    assert kit.balance(funded, "ben@example.com") == 700


def test_quantity_must_be_positive(kit, funded) -> None:
    with pytest.raises(RedemptionRefused, match="at least 1"):
        do_redeem(funded, "ana@example.com", "MUG", "r1", quantity=0)
    assert kit.rows(funded, "orders") == []


def test_request_id_reused_for_another_request_is_refused(kit, funded) -> None:
    """Bug: a request id reused by another participant returns the first one's order."""
    first, _ = do_redeem(funded, "ana@example.com", "GC-25", "shared-id")
    before = money_state(kit, funded)
    # Ben (1000 points) sends a different request with the same id: it is not a retry of
    # Ana's request, so returning her order (as if it were his, created=False) both leaks
    # her order and silently drops his request. The provider refuses such a reuse
    # ("a key reused for a different SKU, quantity or participant is refused").
    from premia.errors import PremiaError

    with pytest.raises(PremiaError, match="shared-id"):
        do_redeem(funded, "ben@example.com", "MUG", "shared-id")
    assert money_state(kit, funded) == before
    assert kit.balance(funded, "ben@example.com") == 1000
    assert first["sku"] == "GC-25"

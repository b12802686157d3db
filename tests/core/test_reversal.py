"""A fact change that undoes an achievement: reversal, clawback ``keep``, re-credit, adjustment."""

from __future__ import annotations

KEY = "Test program/big_quarter/ana@example.com/2024-Q1/achieved"


def program(kit, clawback: str = "reverse", reward=None):
    return kit.program_dict(
        clawback=clawback,
        rules=[
            {
                "name": "big_quarter",
                "type": "threshold",
                "metric": "won_revenue",
                "target": 1000,
                "reward": reward or {"points": 100},
            }
        ],
    )


def ledger(kit, runtime) -> list[tuple[str, str, int]]:
    rows = kit.rows(runtime, "ledger")
    return [
        (r["entry_key"], r["entry_type"], r["points"]) for r in sorted(rows, key=lambda r: r["id"])
    ]


def grants(kit, runtime) -> list[tuple[str, str, int]]:
    return [(g["key"], g["status"], g["points"]) for g in kit.rows(runtime, "grants")]


def setup(kit, feed, db_url, **kwargs):
    # Ana won 600 + 500 = 1100 >= 1000 in 2024-Q1
    feed.put(kit.deal("d1", "ana@example.com", "600"), kit.deal("d2", "ana@example.com", "500"))
    runtime = kit.open(program(kit, **kwargs), db_url)
    report = kit.sync(runtime)
    assert report.grants == 1
    return runtime


def test_won_to_lost_reverses_the_points(kit, feed, db_url) -> None:
    runtime = setup(kit, feed, db_url)
    assert ledger(kit, runtime) == [(f"{KEY}#1", "grant", 100)]
    assert grants(kit, runtime) == [(KEY, "active", 100)]

    feed.change("d2", stage="Lost")  # won revenue 600 < 1000
    report = kit.sync(runtime)
    assert report.reversals == 1
    assert ledger(kit, runtime) == [
        (f"{KEY}#1", "grant", 100),
        (f"{KEY}#2", "reversal", -100),
    ]
    # The grant is kept, marked reversed: nothing is deleted, no row added.
    assert grants(kit, runtime) == [(KEY, "reversed", 100)]
    assert kit.balance(runtime, "ana@example.com") == 0
    keys = kit.keys(runtime)
    (progress,) = [
        p for p in kit.rows(runtime, "progress") if keys[p["participant_id"]] == "ana@example.com"
    ]
    assert progress["achieved"] is False
    assert progress["remaining"] == 400  # 1000 - 600

    # A sync with no change reverses nothing again.
    assert kit.sync(runtime).reversals == 0
    assert len(ledger(kit, runtime)) == 2

    feed.change("d2", stage="Won")  # back to 1100
    report = kit.sync(runtime)
    assert report.grants == 1
    assert ledger(kit, runtime) == [
        (f"{KEY}#1", "grant", 100),
        (f"{KEY}#2", "reversal", -100),
        (f"{KEY}#3", "grant", 100),
    ]
    assert grants(kit, runtime) == [(KEY, "active", 100)]
    assert kit.balance(runtime, "ana@example.com") == 100
    # ...exactly once: another sync credits nothing more.
    kit.sync(runtime)
    assert len(ledger(kit, runtime)) == 3
    assert kit.balance(runtime, "ana@example.com") == 100


def test_deleted_fact_reverses_too(kit, feed, db_url) -> None:
    runtime = setup(kit, feed, db_url)
    feed.change("d1", deleted=True)  # 500 left
    assert kit.sync(runtime).reversals == 1
    assert kit.balance(runtime, "ana@example.com") == 0


def test_fact_moving_to_another_period_reverses_the_old_one(kit, feed, db_url) -> None:
    runtime = setup(kit, feed, db_url)
    feed.change("d2", occurred_at=kit.deal("x", None, when="2024-04-02T00:00:00+00:00").occurred_at)
    kit.sync(runtime)
    # Q1 keeps only 600 -> reversed; Q2 has 500 -> not reached.
    assert grants(kit, runtime) == [(KEY, "reversed", 100)]
    assert kit.balance(runtime, "ana@example.com") == 0


def test_clawback_keep_leaves_the_ledger_alone(kit, feed, db_url) -> None:
    runtime = setup(kit, feed, db_url, clawback="keep")
    feed.change("d2", stage="Lost")
    report = kit.sync(runtime)
    assert report.reversals == 0
    assert ledger(kit, runtime) == [(f"{KEY}#1", "grant", 100)]
    assert grants(kit, runtime) == [(KEY, "kept", 100)]
    assert kit.balance(runtime, "ana@example.com") == 100

    feed.change("d2", stage="Won")
    kit.sync(runtime)
    # Earned again while still paid: active again, and not paid a second time.
    assert grants(kit, runtime) == [(KEY, "active", 100)]
    assert ledger(kit, runtime) == [(f"{KEY}#1", "grant", 100)]


def test_rate_reward_adjusts_by_the_exact_delta(kit, feed, db_url) -> None:
    runtime = setup(kit, feed, db_url, reward={"rate": {"points": 1, "per": 100}})
    # 1100 * 1/100 = 11 points
    assert ledger(kit, runtime) == [(f"{KEY}#1", "grant", 11)]

    feed.change("d2", amount=kit.deal("x", None, "955.5").amount)
    report = kit.sync(runtime)
    # 600 + 955.5 = 1555.5 -> 15.555 -> 15 (rounding down): +4
    assert report.adjustments == 1
    assert ledger(kit, runtime) == [
        (f"{KEY}#1", "grant", 11),
        (f"{KEY}#2", "adjustment", 4),
    ]
    assert grants(kit, runtime) == [(KEY, "active", 15)]

    feed.change("d2", amount=kit.deal("x", None, "450").amount)
    kit.sync(runtime)
    # 600 + 450 = 1050 -> 10.5 -> 10: -5 under clawback reverse
    assert ledger(kit, runtime)[-1] == (f"{KEY}#3", "adjustment", -5)
    assert grants(kit, runtime) == [(KEY, "active", 10)]
    assert kit.balance(runtime, "ana@example.com") == 10  # 11 + 4 - 5


def test_every_rule_reverses_only_the_steps_undone(kit, feed, db_url) -> None:
    feed.put(*(kit.deal(f"d{i}", "ben@example.com", "10") for i in range(1, 5)))
    runtime = kit.open(
        kit.program_dict(
            rules=[
                {
                    "name": "per_deal",
                    "type": "every",
                    "metric": "won_deals",
                    "reward": {"points": 10},
                }
            ]
        ),
        db_url,
    )
    kit.sync(runtime)
    assert kit.balance(runtime, "ben@example.com") == 40  # 4 steps x 10
    feed.change("d4", stage="Lost")
    feed.change("d3", stage="Lost")
    report = kit.sync(runtime)
    assert report.reversals == 2  # steps 3 and 4
    statuses = {g["step"]: g["status"] for g in kit.rows(runtime, "grants")}
    assert statuses == {
        "step-1": "active",
        "step-2": "active",
        "step-3": "reversed",
        "step-4": "reversed",
    }
    assert kit.balance(runtime, "ben@example.com") == 20


def test_owner_change_moves_the_achievement(kit, feed, db_url) -> None:
    runtime = setup(kit, feed, db_url)
    feed.change("d2", owner_ref="ben@example.com")  # Ana 600, Ben 500: neither reaches 1000
    feed.put(kit.deal("d3", "ben@example.com", "500"))  # Ben 1000: reached
    kit.sync(runtime)
    keys = kit.keys(runtime)
    assert sorted(
        (keys[g["participant_id"]], g["status"]) for g in kit.rows(runtime, "grants")
    ) == [
        ("ana@example.com", "reversed"),
        ("ben@example.com", "active"),
    ]
    assert kit.balance(runtime, "ana@example.com") == 0
    assert kit.balance(runtime, "ben@example.com") == 100


def test_raising_the_target_reevaluates_stored_periods(kit, feed, db_url) -> None:
    setup(kit, feed, db_url)
    doc = program(kit)
    doc["rules"][0]["target"] = 2000  # 1100 no longer reaches it
    changed = kit.open(doc, db_url)
    report = kit.sync(changed)
    assert report.facts_changed == 0
    assert report.reversals == 1
    assert grants(kit, changed) == [(KEY, "reversed", 100)]
    assert kit.balance(changed, "ana@example.com") == 0


def test_item_earned_again_after_its_order_was_cancelled_is_sent(kit, feed, db_url, monkeypatch):
    """Bug: a re-earned grant whose pending item order was cancelled never gets a new order."""
    from premia.errors import ProviderError
    from premia_rewards_catalog import LocalCatalog

    feed.put(kit.deal("d1", "ana@example.com", "600"), kit.deal("d2", "ana@example.com", "500"))
    doc = program(kit, reward={"points": 100, "item": "MUG"})
    doc["rewards"] = {"providers": [kit.catalog_provider()]}
    runtime = kit.open(doc, db_url)

    def unavailable(self, order):
        raise ProviderError("vendor busy, try later", retryable=True)

    monkeypatch.setattr(LocalCatalog, "submit_order", unavailable)
    kit.sync(runtime)  # granted; the MUG order stays pending (retryable provider error)
    assert [(o["sku"], o["status"]) for o in kit.rows(runtime, "orders")] == [("MUG", "pending")]

    feed.change("d2", stage="Lost")
    kit.sync(runtime)  # reversed: the pending order is cancelled, nothing was sent
    assert [o["status"] for o in kit.rows(runtime, "orders")] == ["cancelled"]

    monkeypatch.undo()
    feed.change("d2", stage="Won")
    kit.sync(runtime)  # earned again: 100 points again, and the MUG must be sent this time
    assert grants(kit, runtime) == [(KEY, "active", 100)]
    assert kit.balance(runtime, "ana@example.com") == 100
    sent = [
        (o["sku"], o["status"]) for o in kit.rows(runtime, "orders") if o["status"] != "cancelled"
    ]
    assert sent == [("MUG", "fulfilled")]


def test_a_reversal_after_spending_leaves_a_negative_balance_and_says_so(
    kit, feed, sqlite_url
) -> None:
    from premia.engine.fulfillment import redeem
    from premia.engine.sync import utcnow

    # 30 won deals x 10 points = 300 points; the MUG costs 300; one deal lost: -10.
    feed.put(*(kit.deal(f"d{i}", "ana@example.com", "1") for i in range(30)))
    doc = kit.program_dict(
        rules=[{"name": "per", "type": "every", "metric": "won_deals", "reward": {"points": 10}}],
        rewards={"providers": [kit.catalog_provider()]},
    )
    runtime = kit.open(doc, sqlite_url)
    kit.sync(runtime)
    with runtime.providers() as providers:
        person = runtime.program.participant("ana@example.com")
        redeem(runtime.engine, runtime.program, providers, person, "MUG", "r-1", utcnow())
    assert kit.balance(runtime, "ana@example.com") == 0
    feed.change("d0", stage="Lost")
    report = kit.sync(runtime)
    assert kit.balance(runtime, "ana@example.com") == -10
    assert report.notes == [
        "1 participant(s) owe points after reversals (negative balance): ana@example.com"
    ]

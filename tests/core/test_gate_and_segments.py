"""A rule's ``gate`` and ``segment``: who the rule evaluates and who it may pay."""

from __future__ import annotations

from decimal import Decimal

CARA = {"name": "Cara Diaz", "email": "cara@example.com", "region": "East", "role": "manager"}


def progress_by_key(kit, runtime, rule: str) -> dict[str, dict]:
    keys = kit.keys(runtime)
    return {
        keys[p["participant_id"]]: p for p in kit.rows(runtime, "progress") if p["rule"] == rule
    }


def test_gate_pays_nobody_below_it(kit, feed, sqlite_url) -> None:
    # Ana: 10 closed deals (9 won, 1 lost) -> at the gate. Ben: 9 closed (9 won) -> below it.
    for i in range(9):
        feed.put(kit.deal(f"a{i}", "ana@example.com", "100"))
        feed.put(kit.deal(f"b{i}", "ben@example.com", "100"))
    feed.put(kit.deal("a-lost", "ana@example.com", "100", stage="Lost"))
    runtime = kit.open(
        kit.program_dict(
            rules=[
                {
                    "name": "revenue",
                    "type": "threshold",
                    "metric": "won_revenue",
                    "gate": {"metric": "closed", "at": 10},
                    "target": 500,
                    "reward": {"points": 100},
                }
            ]
        ),
        sqlite_url,
    )
    kit.sync(runtime)
    # Both won 9 x 100 = 900 >= 500, but only Ana passed the gate (10 >= 10).
    assert [(g["step"], g["points"]) for g in kit.rows(runtime, "grants")] == [("achieved", 100)]
    assert kit.balance(runtime, "ana@example.com") == 100
    assert kit.balance(runtime, "ben@example.com") == 0
    rows = progress_by_key(kit, runtime, "revenue")
    assert rows["ana@example.com"]["gated"] is False
    assert rows["ana@example.com"]["achieved"] is True
    ben = rows["ben@example.com"]
    assert ben["gated"] is True
    assert ben["achieved"] is False
    assert ben["value"] == Decimal(900)  # his value is still shown
    assert "gate" in ben["note"]
    assert "closed" in ben["note"]
    assert "9" in ben["note"]
    assert "10" in ben["note"]

    # Ben closes his 10th deal (a lost one): he passes the gate and is paid.
    feed.put(kit.deal("b-lost", "ben@example.com", "100", stage="Lost"))
    kit.sync(runtime)
    assert kit.balance(runtime, "ben@example.com") == 100
    assert progress_by_key(kit, runtime, "revenue")["ben@example.com"]["gated"] is False


def test_falling_below_the_gate_reverses(kit, feed, sqlite_url) -> None:
    for i in range(10):
        feed.put(kit.deal(f"a{i}", "ana@example.com", "100"))
    runtime = kit.open(
        kit.program_dict(
            rules=[
                {
                    "name": "revenue",
                    "type": "threshold",
                    "metric": "won_revenue",
                    "gate": {"metric": "closed", "at": 10},
                    "target": 500,
                    "reward": {"points": 100},
                }
            ]
        ),
        sqlite_url,
    )
    kit.sync(runtime)
    assert kit.balance(runtime, "ana@example.com") == 100
    feed.change("a0", deleted=True)  # 9 closed, 900 won: still above target, below the gate
    kit.sync(runtime)
    assert kit.balance(runtime, "ana@example.com") == 0
    assert [g["status"] for g in kit.rows(runtime, "grants")] == ["reversed"]


def test_segment_evaluates_only_its_members(kit, feed, sqlite_url) -> None:
    feed.put(
        kit.deal("a", "ana@example.com", "100"),  # East
        kit.deal("b", "ben@example.com", "900"),  # West
        kit.deal("c", "cara@example.com", "500"),  # East, manager
    )
    runtime = kit.open(
        kit.program_dict(
            roster={"participants": [kit.ANA, kit.BEN, CARA]},
            segments=[
                {"name": "east", "where": {"region": "East"}},
                {"name": "east_reps", "where": {"region": "East", "role": None}},
            ],
            rules=[
                {
                    "name": "east_top",
                    "type": "rank",
                    "metric": "won_revenue",
                    "segment": "east",
                    "top": 1,
                    "reward": {"points": 50},
                },
                {
                    "name": "east_rep_deals",
                    "type": "every",
                    "metric": "won_deals",
                    "segment": "east_reps",
                    "reward": {"points": 7},
                },
            ],
        ),
        sqlite_url,
    )
    kit.sync(runtime)
    # East: Cara 500 beats Ana 100; Ben (900, the highest overall) is not in the segment.
    top = progress_by_key(kit, runtime, "east_top")
    assert sorted(top) == ["ana@example.com", "cara@example.com"]
    assert (top["cara@example.com"]["rank"], top["ana@example.com"]["rank"]) == (1, 2)
    # East reps (no role): only Ana.
    assert sorted(progress_by_key(kit, runtime, "east_rep_deals")) == ["ana@example.com"]
    assert kit.balance(runtime, "cara@example.com") == 50
    assert kit.balance(runtime, "ana@example.com") == 7
    assert kit.balance(runtime, "ben@example.com") == 0


def test_segment_list_filter(kit, feed, sqlite_url) -> None:
    dan = {"name": "Dan Ito", "email": "dan@example.com", "region": "North"}
    feed.put(*(kit.deal(k, f"{k}@example.com", "10") for k in ("ana", "ben", "dan")))
    runtime = kit.open(
        kit.program_dict(
            roster={"participants": [kit.ANA, kit.BEN, dan]},
            segments=[{"name": "coasts", "where": {"region": ["East", "West"]}}],
            rules=[
                {
                    "name": "deals",
                    "type": "every",
                    "metric": "won_deals",
                    "segment": "coasts",
                    "reward": {"points": 1},
                }
            ],
        ),
        sqlite_url,
    )
    kit.sync(runtime)
    assert sorted(progress_by_key(kit, runtime, "deals")) == ["ana@example.com", "ben@example.com"]


def test_segment_membership_follows_the_roster_on_the_next_sync(kit, feed, sqlite_url) -> None:
    """Bug: a roster attribute change is not applied until an unrelated fact changes."""

    def doc(ana_region: str):
        return kit.program_dict(
            roster={"participants": [{**kit.ANA, "region": ana_region}, kit.BEN]},
            segments=[{"name": "east", "where": {"region": "East"}}],
            rules=[
                {
                    "name": "east_deals",
                    "type": "every",
                    "metric": "won_deals",
                    "segment": "east",
                    "reward": {"points": 10},
                }
            ],
        )

    feed.put(kit.deal("a1", "ana@example.com", "100"), kit.deal("b1", "ben@example.com", "100"))
    runtime = kit.open(doc("East"), sqlite_url)
    kit.sync(runtime)
    assert kit.balance(runtime, "ana@example.com") == 10

    # Ana moves to West in the roster: she is no longer in the `east` segment. The sync
    # docstring: "if the roster, timezone or program logic changed since the last sync, ...
    # every period is marked dirty" -> her 2024-Q1 grant is no longer earned.
    moved = kit.open(doc("West"), sqlite_url)
    report = kit.sync(moved)
    outcome_now = (report.reversals, kit.balance(moved, "ana@example.com"))

    # The same store reaches that state anyway as soon as any fact of the period changes,
    # so the outcome of a sync must not depend on it:
    feed.change("b1", amount=kit.deal("x", None, "101").amount)
    kit.sync(moved)
    outcome_later = kit.balance(moved, "ana@example.com")
    assert outcome_later == 0
    assert outcome_now == (1, 0)

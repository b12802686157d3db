"""``premia demo``: the whole job on the embedded default, on real CRM data shipped here.

The demo copies its program, catalog and the Maven Analytics "CRM Sales Opportunities"
sample data into a folder, syncs into a SQLite file there, and prints per-region
leaderboards of the last quarter, one agent's progress with what is left to the next tier,
and the orders placed (one redemption made by the demo). Running it again in the same folder
reads nothing new and leaves the ledger as it was.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rich.console import Console
from sqlalchemy import func, select

from premia.console import print_leaderboard, print_orders, print_status, print_sync_report
from premia.engine.fulfillment import drain_outbox, redeem, route
from premia.engine.sync import SyncObserver, SyncReport, run_sync, utcnow
from premia.program import PeriodKind
from premia.queries import latest_period, leaderboard, orders_of, participant_status
from premia.runtime import Runtime, open_runtime
from premia.store import schema as s
from premia.store.db import default_url

FILES = ("program.yaml", "catalog.yaml")


def demo_source() -> Path:
    """Return the folder holding the shipped demo files."""
    return Path(str(resources.files("premia") / "demo"))


def prepare(target: Path) -> Path:
    """Copy the demo program, catalog and data into ``target``; return the program path.

    Files already there with the same content are left alone (so a second run sees no change).
    """
    src = demo_source()
    (target / "data").mkdir(parents=True, exist_ok=True)
    pairs = [(src / name, target / name) for name in FILES]
    pairs += [
        (f, target / "data" / f.name) for f in sorted((src / "data").iterdir()) if f.is_file()
    ]
    for origin, dest in pairs:
        if not dest.exists() or dest.read_bytes() != origin.read_bytes():
            shutil.copyfile(origin, dest)
    return target / "program.yaml"


@dataclass
class DemoResult:
    """What the demo did (tests read it)."""

    first: SyncReport
    quarter: str | None
    featured: str | None
    redemption_key: str | None
    redemption_created: bool


def run_demo(target: Path, out: Console, observer: SyncObserver | None = None) -> DemoResult:
    """Run the demo in ``target`` (created if needed) and print what happened."""
    target = target.resolve()
    program_path = prepare(target)
    out.print(f"Premia demo in {target}")
    out.print("Data: CRM Sales Opportunities sample dataset by Maven Analytics (see data/NOTICE)\n")
    with open_runtime(program_path, database=default_url(target)) as runtime:
        report = run_sync(runtime, observer)
        print_sync_report(out, report)
        with runtime.engine.connect() as conn:
            quarter = latest_period(conn, PeriodKind.QUARTER)
        if quarter is None:
            out.print("No closed deals in any quarter: nothing to show.")
            return DemoResult(report, None, None, None, False)
        _leaderboards(runtime, out, quarter)
        featured = _featured_agent(runtime, quarter)
        if featured is not None:
            with runtime.engine.connect() as conn:
                status = participant_status(
                    conn, runtime.program, runtime.program.participant(featured), quarter
                )
            out.print(f"\nProgress of {status.participant.name} in {quarter}:")
            print_status(out, status)
        key, created = _redeem_one(runtime, out)
        with runtime.engine.connect() as conn:
            orders = orders_of(conn)
        out.print("")
        print_orders(out, orders)
        return DemoResult(report, quarter, featured, key, created)


def _leaderboards(runtime: Runtime, out: Console, quarter: str) -> None:
    with runtime.engine.connect() as conn:
        boards = leaderboard(
            conn, runtime.program, "won_revenue", PeriodKind.QUARTER, quarter, by="region"
        )
    for region, entries in boards.items():
        out.print("")
        print_leaderboard(
            out, f"{region} - won revenue, {quarter}", "won revenue (USD)", entries, limit=5
        )


def _featured_agent(runtime: Runtime, quarter: str) -> str | None:
    """Pick the agent closest to their next GTX Pro tier in ``quarter`` (ties: by key)."""
    pr, p = s.progress, s.participants
    with runtime.engine.connect() as conn:
        rows = conn.execute(
            select(p.c.key, pr.c.remaining)
            .join(pr, pr.c.participant_id == p.c.id)
            .where(pr.c.rule == "gtx_pro_tiers", pr.c.period == quarter)
        ).all()
    waiting = [
        (remaining, key) for key, remaining in rows if remaining is not None and remaining > 0
    ]
    return min(waiting)[1] if waiting else None


def _redeem_one(runtime: Runtime, out: Console) -> tuple[str | None, bool]:
    """The agent with the highest balance redeems the cheapest gift card they can have."""
    program = runtime.program
    with runtime.engine.connect() as conn:
        balances = conn.execute(
            select(p_key := s.participants.c.key, func.sum(s.ledger.c.points).label("points"))
            .join(s.ledger, s.ledger.c.participant_id == s.participants.c.id)
            .group_by(p_key)
            .order_by(func.sum(s.ledger.c.points).desc(), p_key)
        ).first()
    if balances is None:
        return None, False
    person = program.participant(balances.key)
    with runtime.providers() as providers:
        provider = route(program, person)
        items = sorted(
            (
                i
                for i in providers.get(provider).catalog()
                if i.kind == "gift_card" and i.available_in(person.region)
            ),
            key=lambda i: (i.points, i.sku),
        )
        if not items:
            out.print("\nThe catalog has no gift card for the demo redemption.")
            return None, False
        item = items[0]
        order, created = redeem(
            runtime.engine,
            program,
            providers,
            person,
            item.sku,
            f"demo-{person.key}-{item.sku}",
            utcnow(),
        )
        drain_outbox(runtime.engine, program, providers, utcnow)
    verb = "redeemed" if created else "already redeemed (same request, no second order)"
    out.print(f"\n{person.name} {verb} {item.name} for {item.points:,} points.")
    return str(order["key"]), created

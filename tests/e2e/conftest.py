"""Shared helpers of the end-to-end tests on the shipped demo program.

Two halves, kept apart on purpose:

- the *expected* numbers, computed here from the demo's CSV files with nothing but the
  standard ``csv`` module and :class:`~decimal.Decimal` (never with an engine function or
  table): metrics per agent and quarter, the points each rule pays, top closers, badges;
- readers of what the engine stored (ledger, grants, orders, metric values, facts), to
  compare with.

pytest runs with ``--import-mode=importlib``, so tests get these through fixtures.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, func, select

REPO = Path(__file__).resolve().parents[2]
DEMO_DIR = REPO / "core" / "src" / "premia" / "demo"
PIPELINE = Path("data") / "sales_pipeline.csv"
TEAMS = Path("data") / "sales_teams.csv"

WON, LOST = "Won", "Lost"
GTX_PRO = {"GTX Pro", "GTXPro"}  # the pipeline spells it two ways
WIN_RATE_TARGET = Decimal("0.65")
WIN_RATE_MIN_CLOSED = 10
WIN_RATE_POINTS = 500
TIERS = ((10, 500), (5, 200))  # whole mode: the highest tier reached pays, alone
CHAMPION_AT = 10
TOP_CLOSER_POINTS = 1000
POINTS_PER_WON_DEAL = 10
TOP_CLOSER = "Top Closer"
CHAMPION = "GTX Pro Champion"
RULES = ("win_rate_bonus", "gtx_pro_tiers", "top_closer", "won_deal_points")
REGIONS = ("Central", "East", "West")


# --------------------------------------------------------------------------------------------
# Expected numbers, from the CSV files only.


def quarter_of(close_date: str) -> str | None:
    """Return the calendar quarter of a ``YYYY-MM-DD`` close date (``None`` when empty)."""
    if not close_date:
        return None
    year, month, _day = close_date.split("-")
    return f"{year}-Q{(int(month) - 1) // 3 + 1}"


def read_csv(path: Path) -> list[dict[str, str]]:
    """Read a CSV file into dicts with the standard library."""
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_pipeline(path: Path, rows: list[dict[str, str]]) -> None:
    """Write pipeline rows back in the shipped file's format (LF line ends, no quoting)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


@dataclass
class Cell:
    """The metrics of one agent in one quarter."""

    won_revenue: Decimal = Decimal(0)
    won_deals: int = 0
    closed_deals: int = 0
    gtx_pro_won: int = 0
    facts: int = 0

    @property
    def win_rate(self) -> Decimal | None:
        if self.closed_deals < WIN_RATE_MIN_CLOSED:
            return None
        return Decimal(self.won_deals) / Decimal(self.closed_deals)

    def metric(self, name: str) -> Decimal | None:
        if name == "win_rate":
            return self.win_rate
        return Decimal(getattr(self, name))


@dataclass
class Expected:
    """What the demo program must produce, computed independently of the engine."""

    region: dict[str, str]
    quarters: list[str]
    cells: dict[tuple[str, str], Cell]
    ranking: dict[tuple[str, str], list[str]]
    rule_points: dict[tuple[str, str, str], int]
    badges: set[tuple[str, str, str]]
    facts: int
    undated: int
    gtx_spellings: dict[str, int] = field(default_factory=dict)

    @property
    def agents(self) -> list[str]:
        return sorted(self.region)

    def cell(self, agent: str, quarter: str) -> Cell:
        return self.cells.get((agent, quarter), Cell())

    def top_closer(self, quarter: str, region: str) -> str | None:
        ranked = self.ranking.get((quarter, region), [])
        return ranked[0] if ranked else None

    def total(self, agent: str) -> int:
        return sum(p for (a, _q, _r), p in self.rule_points.items() if a == agent)

    def period_points(self, agent: str, quarter: str) -> int:
        return sum(p for (a, q, _r), p in self.rule_points.items() if a == agent and q == quarter)

    def tier_points(self, gtx: int) -> int:
        return next((points for at, points in TIERS if gtx >= at), 0)


def compute_expected(pipeline: list[dict[str, str]], teams: list[dict[str, str]]) -> Expected:
    """Compute the demo program's metrics and points from the raw CSV rows."""
    region = {t["sales_agent"]: t["regional_office"] for t in teams}
    cells: dict[tuple[str, str], Cell] = defaultdict(Cell)
    undated = 0
    spellings: dict[str, int] = defaultdict(int)
    for row in pipeline:
        quarter = quarter_of(row["close_date"])
        if quarter is None:
            undated += 1
            continue
        cell = cells[(row["sales_agent"], quarter)]
        cell.facts += 1
        stage = row["deal_stage"]
        if stage in (WON, LOST):
            cell.closed_deals += 1
        if stage == WON:
            cell.won_deals += 1
            cell.won_revenue += Decimal(row["close_value"])
            if row["product"] in GTX_PRO:
                cell.gtx_pro_won += 1
                spellings[row["product"]] += 1
    quarters = sorted({q for _a, q in cells})
    ranking: dict[tuple[str, str], list[str]] = {}
    rule_points: dict[tuple[str, str, str], int] = {}
    badges: set[tuple[str, str, str]] = set()
    for quarter in quarters:
        for reg in sorted(set(region.values())):
            ranked = sorted(
                (
                    (cells[(a, quarter)].won_revenue, a)
                    for a in region
                    if region[a] == reg
                    and (a, quarter) in cells
                    and cells[(a, quarter)].won_revenue > 0
                ),
                key=lambda va: (-va[0], va[1]),
            )
            ranking[(quarter, reg)] = [a for _v, a in ranked]
            if ranked:
                winner = ranked[0][1]
                rule_points[(winner, quarter, "top_closer")] = TOP_CLOSER_POINTS
                badges.add((winner, quarter, TOP_CLOSER))
    for (agent, quarter), cell in cells.items():
        rate = cell.win_rate
        if rate is not None and rate >= WIN_RATE_TARGET:
            rule_points[(agent, quarter, "win_rate_bonus")] = WIN_RATE_POINTS
        tier = next((points for at, points in TIERS if cell.gtx_pro_won >= at), 0)
        if tier:
            rule_points[(agent, quarter, "gtx_pro_tiers")] = tier
        if cell.gtx_pro_won >= CHAMPION_AT:
            badges.add((agent, quarter, CHAMPION))
        if cell.won_deals:
            rule_points[(agent, quarter, "won_deal_points")] = POINTS_PER_WON_DEAL * cell.won_deals
    return Expected(
        region=region,
        quarters=quarters,
        cells=dict(cells),
        ranking=ranking,
        rule_points=rule_points,
        badges=badges,
        facts=len(pipeline),
        undated=undated,
        gtx_spellings=dict(spellings),
    )


def expected_redemption(expected: Expected, catalog_path: Path) -> tuple[str, str, int]:
    """The demo's redemption: (agent, sku, points) by the rule in the brief.

    The agent with the highest balance (ties: key) takes the cheapest gift card (ties: sku)
    available in their region.
    """
    agent = min(expected.agents, key=lambda a: (-expected.total(a), a))
    with catalog_path.open(encoding="utf-8") as fh:
        items = yaml.safe_load(fh)["items"]
    cards = [
        i
        for i in items
        if i["kind"] == "gift_card"
        and (i.get("regions") is None or expected.region[agent] in i["regions"])
    ]
    card = min(cards, key=lambda i: (i["points"], i["sku"]))
    return agent, card["sku"], int(card["points"])


# --------------------------------------------------------------------------------------------
# Reading what the engine stored.


class Store:
    """Read-only views of a Premia store, keyed by participant *key* (never by row id)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        from premia.store import schema

        self.s = schema

    def _keys(self, conn: Any) -> dict[int, str]:
        p = self.s.participants
        return {row.id: row.key for row in conn.execute(select(p.c.id, p.c.key))}

    def ledger(self) -> list[dict[str, Any]]:
        """Every ledger row, oldest first, with the participant's key."""
        lg = self.s.ledger
        with self.engine.connect() as conn:
            keys = self._keys(conn)
            rows = conn.execute(select(lg).order_by(lg.c.id)).mappings().all()
        return [{**r, "participant": keys[r["participant_id"]]} for r in rows]

    def grants(self) -> list[dict[str, Any]]:
        """Every grant row, by id, with the participant's key."""
        g = self.s.grants
        with self.engine.connect() as conn:
            keys = self._keys(conn)
            rows = conn.execute(select(g).order_by(g.c.id)).mappings().all()
        return [{**r, "participant": keys[r["participant_id"]]} for r in rows]

    def orders(self) -> list[dict[str, Any]]:
        """Every order row, by id, with the participant's key."""
        o = self.s.orders
        with self.engine.connect() as conn:
            keys = self._keys(conn)
            rows = conn.execute(select(o).order_by(o.c.id)).mappings().all()
        return [{**r, "participant": keys[r["participant_id"]]} for r in rows]

    def balances(self, *, without: tuple[str, ...] = ()) -> dict[str, int]:
        """Ledger sum per participant key (every roster member, 0 when no entry)."""
        out: dict[str, int] = {}
        p, lg = self.s.participants, self.s.ledger
        with self.engine.connect() as conn:
            for key in conn.execute(select(p.c.key)).scalars():
                out[key] = 0
            query = (
                select(p.c.key, func.sum(lg.c.points))
                .join(lg, lg.c.participant_id == p.c.id)
                .group_by(p.c.key)
            )
            if without:
                query = query.where(lg.c.entry_type.not_in(without))
            for key, total in conn.execute(query):
                out[key] = int(total)
        return out

    def points_by_rule(self) -> dict[tuple[str, str, str], int]:
        """Ledger sum per (participant key, period, rule) over the grant entries' grants."""
        g, lg = self.s.grants, self.s.ledger
        out: dict[tuple[str, str, str], int] = {}
        with self.engine.connect() as conn:
            keys = self._keys(conn)
            for pid, period, rule, total in conn.execute(
                select(g.c.participant_id, g.c.period, g.c.rule, func.sum(lg.c.points))
                .join(lg, lg.c.grant_key == g.c.key)
                .group_by(g.c.participant_id, g.c.period, g.c.rule)
            ):
                if int(total):
                    out[(keys[pid], period, rule)] = int(total)
        return out

    def metric_values(self) -> dict[tuple[str, str, str], tuple[Decimal | None, int]]:
        """(metric, participant key, quarter) -> (value, fact_count)."""
        mv = self.s.metric_values
        with self.engine.connect() as conn:
            keys = self._keys(conn)
            rows = conn.execute(
                select(
                    mv.c.metric, mv.c.participant_id, mv.c.period, mv.c.value, mv.c.fact_count
                ).where(mv.c.period_kind == "quarter")
            ).all()
        return {(m, keys[pid], per): (v, int(n)) for m, pid, per, v, n in rows}

    def fact_counts(self) -> dict[str, int]:
        """Counts of facts: all, without a quarter, per spelling of the GTX Pro product."""
        f = self.s.facts
        with self.engine.connect() as conn:
            return {
                "all": conn.execute(select(func.count()).select_from(f)).scalar_one(),
                "undated": conn.execute(
                    select(func.count()).select_from(f).where(f.c.quarter.is_(None))
                ).scalar_one(),
                "GTX Pro": conn.execute(
                    select(func.count()).select_from(f).where(f.c.product == "GTX Pro")
                ).scalar_one(),
                "GTXPro": conn.execute(
                    select(func.count()).select_from(f).where(f.c.product == "GTXPro")
                ).scalar_one(),
            }

    def active_badges(self) -> set[tuple[str, str, str]]:
        """(participant key, period, badge) of active grants carrying a badge."""
        return {
            (g["participant"], g["period"], g["badge"])
            for g in self.grants()
            if g["status"] == "active" and g["badge"] is not None
        }

    def active_top_closers(self) -> list[tuple[str, str, int, str | None]]:
        """(period, participant key, points, badge) of active top_closer grants."""
        return sorted(
            (g["period"], g["participant"], g["points"], g["badge"])
            for g in self.grants()
            if g["rule"] == "top_closer" and g["status"] == "active"
        )


def ledger_signature(store: Store) -> list[tuple[str, str, str, int, str | None, str | None]]:
    """The backend-independent content of a ledger: no ids, no timestamps."""
    return sorted(
        (
            r["entry_key"],
            r["participant"],
            r["entry_type"],
            int(r["points"]),
            r["grant_key"],
            r["order_key"],
        )
        for r in store.ledger()
    )


def grant_signature(store: Store) -> list[tuple[str, str, str, str, str, int, str | None, str]]:
    """The backend-independent content of the grants: no ids, no timestamps."""
    return sorted(
        (
            g["key"],
            g["participant"],
            g["rule"],
            g["period"],
            g["step"],
            int(g["points"]),
            g["badge"],
            g["status"],
        )
        for g in store.grants()
    )


# --------------------------------------------------------------------------------------------
# Fixtures.


def copy_demo(target: Path) -> Path:
    """Copy the shipped demo (program, catalog, data) into ``target``; return the program."""
    shutil.copytree(DEMO_DIR, target, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    return target / "program.yaml"


def sync_program(program: Path, database: str) -> Any:
    """Open the program on ``database`` and run one sync; return its report."""
    from premia.engine.sync import run_sync
    from premia.runtime import open_runtime

    with open_runtime(program, database=database) as runtime:
        report = run_sync(runtime)
    assert report.complete, report.errors
    return report


@pytest.fixture(scope="session")
def demo_pipeline() -> list[dict[str, str]]:
    """The shipped demo's pipeline rows, as the csv module reads them."""
    return read_csv(DEMO_DIR / PIPELINE)


@pytest.fixture(scope="session")
def demo_teams() -> list[dict[str, str]]:
    """The shipped demo's roster rows."""
    return read_csv(DEMO_DIR / TEAMS)


@pytest.fixture(scope="session")
def expected(demo_pipeline: list[dict[str, str]], demo_teams: list[dict[str, str]]) -> Expected:
    """The demo's numbers, computed independently from the shipped CSV files."""
    return compute_expected(demo_pipeline, demo_teams)


@pytest.fixture(scope="session")
def compute(demo_teams: list[dict[str, str]]) -> Callable[[list[dict[str, str]]], Expected]:
    """Return a function computing the expected numbers of (edited) pipeline rows."""
    return lambda rows: compute_expected(rows, demo_teams)


@pytest.fixture(scope="session")
def demo_redemption(expected: Expected) -> tuple[str, str, int]:
    """(agent, sku, points) of the redemption the demo makes."""
    return expected_redemption(expected, DEMO_DIR / "catalog.yaml")


@pytest.fixture(scope="session")
def e2e() -> Any:
    """The helpers of this folder (readers, CSV edits, sync), as a namespace."""

    class Helpers:
        Store = Store
        copy_demo = staticmethod(copy_demo)
        sync_program = staticmethod(sync_program)
        read_csv = staticmethod(read_csv)
        write_pipeline = staticmethod(write_pipeline)
        ledger_signature = staticmethod(ledger_signature)
        grant_signature = staticmethod(grant_signature)
        quarter_of = staticmethod(quarter_of)
        PIPELINE = PIPELINE
        RULES = RULES
        REGIONS = REGIONS
        TOP_CLOSER = TOP_CLOSER
        CHAMPION = CHAMPION

    return Helpers


@pytest.fixture
def open_store() -> Iterator[Callable[[str], Store]]:
    """Return a function opening a :class:`Store` on a URL; engines are disposed after."""
    from premia.store.db import connect

    engines: list[Engine] = []

    def _open(url: str) -> Store:
        engine = connect(url)
        engines.append(engine)
        return Store(engine)

    yield _open
    for engine in engines:
        engine.dispose()


def clean_env(**extra: str) -> dict[str, str | None]:
    """An environment for a child process or CliRunner: no PREMIA_* but ``extra``."""
    env: dict[str, str | None] = {
        k: None for k in os.environ if k.startswith("PREMIA_") and k != "PREMIA_TEST_POSTGRES_URL"
    }
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def premia_env() -> Callable[..., dict[str, str | None]]:
    """Return :func:`clean_env`."""
    return clean_env

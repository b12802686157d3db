"""Canonical facts: what every KPI source produces, whatever system it reads.

A source yields :class:`Batch` objects. Each batch carries facts, the records it had to
quarantine, and the cursor to save once the batch is stored; the engine commits the facts and
the cursor in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

FACT_KINDS = ("deal", "line_item", "activity", "survey", "custom")
"""The kinds of fact Premia knows. Metrics select facts by kind."""

DIMENSIONS = ("stage", "product", "category", "account", "region", "channel")
"""Dimensions stored in their own columns (fast filters). Others go to ``Fact.attributes``."""

JSONValue = Any
"""A value that survives ``json.dumps``/``json.loads`` unchanged (cursors are stored as JSON)."""


@dataclass(slots=True)
class Fact:
    """One business fact read from a source (a deal, a line item, an activity, a survey...).

    Treat a fact as read-only once built. (It is not a frozen dataclass only because frozen
    construction costs several times more, and sources build millions of them.)

    Attributes:
        external_id: the record's id in its source stream; facts upsert on
            (source, stream, external_id).
        kind: one of :data:`FACT_KINDS`.
        owner_ref: who the fact belongs to in the source's terms (a CRM user id, a name in a
            file); identity mappings resolve it to a participant.
        occurred_at: when it happened, timezone-aware. ``None`` (e.g. an open deal with no close
            date) means it counts in no period.
        amount: a money amount, exact.
        currency: ISO 4217 code of ``amount``.
        quantity: a count or quantity, exact.
        stage, product, category, account, region, channel: the common dimensions.
        attributes: any other dimension, as strings.
        source_updated_at: when the source last changed the record, timezone-aware.
        deleted: the source says the record is gone; it stops counting in every metric.
    """

    external_id: str
    kind: str = "deal"
    owner_ref: str | None = None
    occurred_at: datetime | None = None
    amount: Decimal | None = None
    currency: str | None = None
    quantity: Decimal | None = None
    stage: str | None = None
    product: str | None = None
    category: str | None = None
    account: str | None = None
    region: str | None = None
    channel: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    source_updated_at: datetime | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record a source could not turn into a fact. It is quarantined; the sync goes on.

    Attributes:
        location: where it is, e.g. ``deals.csv`` or an API object URL.
        reason: what is wrong, in words a user can act on.
        line: the line number in a file (1-based, header is line 1), when there is one.
        column: the column or field at fault, when known.
        record_id: the record's external id, when it could be read.
        raw: the raw record text (truncated by the engine), for the report.
    """

    location: str
    reason: str
    line: int | None = None
    column: str | None = None
    record_id: str | None = None
    raw: str | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """A unit of incremental reading.

    Attributes:
        facts: facts to upsert.
        cursor: the stream cursor to save once these facts are stored (JSON-serialisable).
            Reading again from this cursor must continue right after this batch.
        bad_records: records quarantined in this batch.
        note: a short progress note ("sales.csv: rows 1-5000").
        rows: how many source records this batch covers (its facts plus its bad records), for
            progress display; ``None`` means ``len(facts) + len(bad_records)``.
    """

    facts: list[Fact]
    cursor: JSONValue
    bad_records: list[BadRecord] = field(default_factory=list)
    note: str = ""
    rows: int | None = None

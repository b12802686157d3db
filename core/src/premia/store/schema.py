"""The tables of the store (SQLAlchemy Core). Alembic migrations create and evolve them.

Conventions: money and quantities on facts are :class:`ScaledDecimal` (exact integers of
1/10,000); derived numbers are :class:`DecimalText`; points are whole integers; every time is
:class:`UTCDateTime`. Nothing is ever deleted from ``grants``, ``ledger``, ``orders`` or
``audit_log``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from premia.store.types import DecimalText, ScaledDecimal, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
"""Store-wide settings (the program name, the roster fingerprint)."""

participants = Table(
    "participants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(255), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("email", String(255)),
    Column("role", String(100)),
    Column("channel", String(100)),
    Column("region", String(100)),
    Column("manager", String(255)),
    Column("attributes", JSON, nullable=False, default=dict),
    Column("active", Boolean, nullable=False, default=True),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("status", String(20), nullable=False),  # running, complete, incomplete, failed
    Column("facts_read", BigInteger, nullable=False, default=0),
    Column("facts_changed", BigInteger, nullable=False, default=0),
    Column("bad_records", BigInteger, nullable=False, default=0),
    Column("grants", Integer, nullable=False, default=0),
    Column("reversals", Integer, nullable=False, default=0),
    Column("message", Text),
)

facts = Table(
    "facts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("stream", String(64), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("owner_ref", String(255)),
    Column("participant_id", Integer, ForeignKey("participants.id")),
    Column("occurred_at", UTCDateTime),
    Column("month", String(7)),
    Column("quarter", String(7)),
    Column("amount", ScaledDecimal),
    Column("currency", String(3)),
    Column("quantity", ScaledDecimal),
    Column("stage", String(100)),
    Column("product", String(255)),
    Column("category", String(255)),
    Column("account", String(255)),
    Column("region", String(100)),
    Column("channel", String(100)),
    Column("attributes", JSON, nullable=False, default=dict),
    Column("source_updated_at", UTCDateTime),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("content_hash", String(32), nullable=False),
    Column("run_id", Integer, nullable=False),
    UniqueConstraint("source", "stream", "external_id"),
    Index(None, "participant_id", "quarter"),
    Index(None, "participant_id", "month"),
)
"""Canonical facts, upserted on (source, stream, external_id)."""

cursors = Table(
    "cursors",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("stream", String(64), primary_key=True),
    Column("cursor", JSON),
    Column("run_id", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

bad_records = Table(
    "bad_records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, nullable=False, index=True),
    Column("source", String(64), nullable=False),
    Column("stream", String(64), nullable=False),
    Column("location", String(500), nullable=False),
    Column("line", Integer),
    Column("column", String(255)),
    Column("record_id", String(255)),
    Column("reason", Text, nullable=False),
    Column("raw", Text),
)
"""Quarantined records, per sync run."""

dirty = Table(
    "dirty",
    metadata,
    Column("period_kind", String(10), primary_key=True),
    Column("period", String(10), primary_key=True),
    Column("participant_id", Integer, primary_key=True),
)
"""(participant, period) pairs whose facts changed and whose metrics/rules are due."""

metric_values = Table(
    "metric_values",
    metadata,
    Column("metric", String(64), primary_key=True),
    Column("participant_id", Integer, primary_key=True),
    Column("period_kind", String(10), primary_key=True),
    Column("period", String(10), primary_key=True),
    Column("value", DecimalText),
    Column("fact_count", BigInteger, nullable=False, default=0),
    Column("computed_at", UTCDateTime, nullable=False),
)

progress = Table(
    "progress",
    metadata,
    Column("rule", String(64), primary_key=True),
    Column("participant_id", Integer, primary_key=True),
    Column("period", String(10), primary_key=True),
    Column("rule_version", String(12), nullable=False),
    Column("value", DecimalText),
    Column("target", DecimalText),
    Column("remaining", DecimalText),
    Column("achieved", Boolean, nullable=False),
    Column("rank", Integer),
    Column("gated", Boolean, nullable=False, default=False),
    Column("note", Text, nullable=False, default=""),
    Column("updated_at", UTCDateTime, nullable=False),
)

grants = Table(
    "grants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(400), nullable=False, unique=True),
    Column("rule", String(64), nullable=False),
    Column("rule_version", String(12), nullable=False),
    Column("participant_id", Integer, ForeignKey("participants.id"), nullable=False),
    Column("period", String(10), nullable=False),
    Column("step", String(64), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("item", String(100)),
    Column("badge", String(100)),
    Column("reason", Text, nullable=False, default=""),
    Column("status", String(10), nullable=False),  # active, reversed, kept
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "rule", "period"),
    Index(None, "participant_id"),
)
"""Every grant ever made, keyed program/rule/participant/period/step."""

ledger = Table(
    "ledger",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_key", String(450), nullable=False, unique=True),
    Column("participant_id", Integer, ForeignKey("participants.id"), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column(
        "entry_type", String(12), nullable=False
    ),  # grant, adjustment, reversal, redemption, refund
    Column("grant_key", String(400)),
    Column("order_key", String(400)),
    Column("note", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "participant_id"),
)
"""The append-only points ledger: a balance is the sum of a participant's entries."""

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(400), nullable=False, unique=True),
    Column("participant_id", Integer, ForeignKey("participants.id"), nullable=False),
    Column("sku", String(100), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("origin", String(12), nullable=False),  # redemption, grant
    Column("grant_key", String(400)),
    Column("provider", String(64), nullable=False),
    Column("provider_order_id", String(255)),
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "status"),
)
"""The outbox: orders to place at providers, with their idempotency keys."""

order_events = Table(
    "order_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False, index=True),
    Column("status", String(12), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("at", UTCDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", JSON, nullable=False, default=dict),
)

"""The state of a local catalog: its orders, in a SQLite file (stdlib ``sqlite3``).

The orders table is the only record of stock used: the units an SKU has left are the
catalog file's ``inventory`` minus the units of its orders that are ``submitted`` or
``fulfilled``. So a changed inventory number in the catalog takes effect at once, and
cancelling or failing an order gives its units back without a second counter to keep in
step.

Every change runs in one ``BEGIN IMMEDIATE`` transaction: the write lock is taken before
anything is read, so two processes sharing the file cannot both see the last unit, and an
idempotency key is looked up and inserted under the same lock. The file uses WAL mode
(readers do not block the writer) and a busy timeout (a writer waits for another instead of
failing at once).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from premia import ConfigError, OrderRequest, OrderResult, OrderStatus, ProviderError

SCHEMA_VERSION = 1
"""Version of the state file layout (kept in SQLite's ``user_version``)."""

BUSY_TIMEOUT_SECONDS = 10.0
"""How long a writer waits for another process's transaction before giving up."""

ORDER_ID_PREFIX = "LC-"
"""Prefix of the order ids this provider hands out (``LC-000001``)."""

HOLDING_STOCK = (OrderStatus.SUBMITTED, OrderStatus.FULFILLED)
"""Statuses whose units count against an item's inventory."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    seq               INTEGER PRIMARY KEY,
    provider_order_id TEXT NOT NULL UNIQUE,
    idempotency_key   TEXT NOT NULL UNIQUE,
    sku               TEXT NOT NULL,
    quantity          INTEGER NOT NULL CHECK (quantity > 0),
    participant_key   TEXT NOT NULL,
    participant_name  TEXT NOT NULL,
    region            TEXT,
    points            INTEGER NOT NULL,
    status            TEXT NOT NULL
                      CHECK (status IN ('submitted', 'fulfilled', 'failed', 'cancelled')),
    detail            TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_holding_stock
    ON orders (sku, quantity) WHERE status IN ('submitted', 'fulfilled');
CREATE TABLE IF NOT EXISTS order_events (
    id        INTEGER PRIMARY KEY,
    order_seq INTEGER NOT NULL REFERENCES orders (seq),
    status    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS order_events_by_order ON order_events (order_seq, id);
"""

_ORDER_COLUMNS = (
    "seq, provider_order_id, idempotency_key, sku, quantity, participant_key, "
    "participant_name, region, points, status, detail, created_at, updated_at"
)
_HOLDING = "status IN ('submitted', 'fulfilled')"


def utc_now() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """An order as the state file records it.

    Attributes:
        seq: the order's number (``LC-000042`` is number 42).
        provider_order_id: the id handed to the engine.
        idempotency_key: the engine's key; unique in the file.
        sku: the catalog item.
        quantity: units ordered.
        participant_key: who the order is for.
        participant_name: their name, for delivery.
        region: their region when the order was placed.
        points: points the participant paid.
        status: where the order is now.
        detail: a human-readable note on the latest status.
        created_at: when the order was placed (UTC).
        updated_at: when its status last changed (UTC).
    """

    seq: int
    provider_order_id: str
    idempotency_key: str
    sku: str
    quantity: int
    participant_key: str
    participant_name: str
    region: str | None
    points: int
    status: OrderStatus
    detail: str
    created_at: datetime
    updated_at: datetime

    def result(self) -> OrderResult:
        """Return the order as the provider contract reports it."""
        return OrderResult(self.provider_order_id, self.status, self.detail)


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One status change of an order (the file keeps every one).

    Attributes:
        status: the status the order moved to.
        detail: the note given with it.
        at: when (UTC).
    """

    status: OrderStatus
    detail: str
    at: datetime


class StateStore:
    """The SQLite state file of one local catalog.

    The file (and its folder) is created on first use. One instance may be shared by
    threads: its connection is used under a lock. Several instances and processes may share
    one file.

    Args:
        path: the state file.
        busy_timeout: seconds a writer waits for another writer before giving up.
    """

    def __init__(self, path: Path, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS):
        self.path = path
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None

    # -- connection ----------------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        file = str(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the folder of the catalog state file: {exc.strerror or exc}; "
                "set the provider's `state` setting to a writable path",
                file=file,
            ) from None
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,  # transactions are explicit (BEGIN IMMEDIATE)
                check_same_thread=False,  # guarded by self._lock
            )
        except sqlite3.Error as exc:
            raise ConfigError(
                f"cannot open the catalog state file: {exc}; set the provider's `state` "
                "setting to a writable path",
                file=file,
            ) from None
        try:
            self._set_up(conn)
        except sqlite3.OperationalError as exc:
            conn.close()
            if _is_busy(exc):
                raise self._failure(exc) from None
            raise ConfigError(f"cannot use the catalog state file: {exc}", file=file) from None
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise ConfigError(
                f"not a catalog state file ({exc}); point `state` at another file", file=file
            ) from None
        except BaseException:
            conn.close()
            raise
        return conn

    def _set_up(self, conn: sqlite3.Connection) -> None:
        """Set the pragmas and create the tables, waiting out other processes doing the same.

        Switching a new file to WAL takes an exclusive lock that SQLite does not wait for
        (no busy handler), so several processes opening a new state file at once retry here
        until ``busy_timeout``.
        """
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = FULL")  # an accepted order survives power loss
                conn.execute("PRAGMA foreign_keys = ON")
                self._migrate(conn)
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"the catalog state file has layout version {version}, newer than this "
                f"plugin's {SCHEMA_VERSION}: upgrade premia-rewards-catalog",
                file=str(self.path),
            )
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise

    def close(self) -> None:
        """Close the connection; the next use opens it again."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _failure(self, exc: sqlite3.Error) -> ProviderError:
        busy = _is_busy(exc)
        reason = "is locked by another writer; try again" if busy else f"failed: {exc}"
        return ProviderError(f"catalog state file {self.path} {reason}", retryable=busy)

    # -- transactions --------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[StateTransaction]:
        """Run the block in one ``BEGIN IMMEDIATE`` transaction; commit if it returns.

        The write lock is held from the start, so what the block reads stays true until it
        commits. An exception rolls everything back and propagates.

        Raises:
            premia.ProviderError: the file could not be written (``retryable`` when it was
                only busy).
        """
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._failure(exc) from None
            try:
                yield StateTransaction(conn)
            except BaseException as exc:
                _rollback(conn)
                if isinstance(exc, sqlite3.Error):
                    raise self._failure(exc) from None
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback(conn)
                raise self._failure(exc) from None

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._connection().execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise self._failure(exc) from None

    # -- reads ---------------------------------------------------------------------------
    def units_held(self) -> dict[str, int]:
        """Return, per SKU, the units of orders that count against its inventory."""
        rows = self._query(f"SELECT sku, SUM(quantity) FROM orders WHERE {_HOLDING} GROUP BY sku")
        return {sku: int(units) for sku, units in rows}

    def order(self, provider_order_id: str) -> StoredOrder | None:
        """Return the order with ``provider_order_id``, or None."""
        rows = self._query(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE provider_order_id = ?",
            (provider_order_id,),
        )
        return _order(rows[0]) if rows else None

    def orders(self) -> list[StoredOrder]:
        """Return every order, oldest first."""
        rows = self._query(f"SELECT {_ORDER_COLUMNS} FROM orders ORDER BY seq")
        return [_order(row) for row in rows]

    def events(self, provider_order_id: str) -> list[OrderEvent]:
        """Return the status changes of an order, oldest first (empty if unknown)."""
        rows = self._query(
            "SELECT e.status, e.detail, e.at FROM order_events e "
            "JOIN orders o ON o.seq = e.order_seq "
            "WHERE o.provider_order_id = ? ORDER BY e.id",
            (provider_order_id,),
        )
        return [OrderEvent(OrderStatus(s), d, datetime.fromisoformat(at)) for s, d, at in rows]


class StateTransaction:
    """The reads and writes available inside :meth:`StateStore.write`."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def order_by_key(self, idempotency_key: str) -> StoredOrder | None:
        """Return the order placed with ``idempotency_key``, or None."""
        row = self._conn.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE idempotency_key = ?",
            (idempotency_key,),
        ).fetchone()
        return _order(row) if row else None

    def order_by_id(self, provider_order_id: str) -> StoredOrder | None:
        """Return the order with ``provider_order_id``, or None."""
        row = self._conn.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE provider_order_id = ?",
            (provider_order_id,),
        ).fetchone()
        return _order(row) if row else None

    def units_held(self, sku: str) -> int:
        """Return the units of ``sku`` held by submitted and fulfilled orders."""
        row = self._conn.execute(
            f"SELECT COALESCE(SUM(quantity), 0) FROM orders WHERE sku = ? AND {_HOLDING}",
            (sku,),
        ).fetchone()
        return int(row[0])

    def insert_order(self, request: OrderRequest, status: OrderStatus, detail: str) -> StoredOrder:
        """Record a new order for ``request`` with the next order id.

        Returns:
            The stored order.
        """
        seq = int(self._conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM orders").fetchone()[0])
        now = utc_now()
        order = StoredOrder(
            seq=seq,
            provider_order_id=f"{ORDER_ID_PREFIX}{seq:06d}",
            idempotency_key=request.idempotency_key,
            sku=request.sku,
            quantity=request.quantity,
            participant_key=request.participant_key,
            participant_name=request.participant_name,
            region=request.region,
            points=request.points,
            status=status,
            detail=detail,
            created_at=now,
            updated_at=now,
        )
        self._conn.execute(
            f"INSERT INTO orders ({_ORDER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                order.seq,
                order.provider_order_id,
                order.idempotency_key,
                order.sku,
                order.quantity,
                order.participant_key,
                order.participant_name,
                order.region,
                order.points,
                order.status.value,
                order.detail,
                now.isoformat(),
                now.isoformat(),
            ),
        )
        self._event(seq, status, detail, now)
        return order

    def set_status(self, order: StoredOrder, status: OrderStatus, detail: str) -> StoredOrder:
        """Move ``order`` to ``status`` and record the change.

        Returns:
            The order as it now is.
        """
        now = utc_now()
        self._conn.execute(
            "UPDATE orders SET status = ?, detail = ?, updated_at = ? WHERE seq = ?",
            (status.value, detail, now.isoformat(), order.seq),
        )
        self._event(order.seq, status, detail, now)
        return replace(order, status=status, detail=detail, updated_at=now)

    def _event(self, seq: int, status: OrderStatus, detail: str, at: datetime) -> None:
        self._conn.execute(
            "INSERT INTO order_events (order_seq, status, detail, at) VALUES (?, ?, ?, ?)",
            (seq, status.value, detail, at.isoformat()),
        )


def _order(row: tuple[Any, ...]) -> StoredOrder:
    return StoredOrder(
        seq=row[0],
        provider_order_id=row[1],
        idempotency_key=row[2],
        sku=row[3],
        quantity=row[4],
        participant_key=row[5],
        participant_name=row[6],
        region=row[7],
        points=row[8],
        status=OrderStatus(row[9]),
        detail=row[10],
        created_at=datetime.fromisoformat(row[11]),
        updated_at=datetime.fromisoformat(row[12]),
    )


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction, if SQLite has not already done so."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _is_busy(exc: sqlite3.Error) -> bool:
    message = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in message or "busy" in message)

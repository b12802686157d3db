"""Redemptions and the order outbox.

A redemption debits the ledger and queues an order in ONE transaction; draining the outbox
then submits each pending order to the provider that serves the participant, passing the
order's idempotency key, and records every status change. A crash anywhere re-submits the
same key, which the provider answers with the order it already has: never a second order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from premia.engine import ledger
from premia.engine.ledger import EntryType
from premia.errors import ConfigError, PremiaError, ProviderError, RedemptionRefused
from premia.events import RewardFailed, RewardFulfilled
from premia.program import Participant, Program
from premia.providers import (
    CatalogItem,
    OrderRequest,
    OrderResult,
    OrderStatus,
    ProviderContext,
    RewardProvider,
)
from premia.store import schema as s

log = logging.getLogger(__name__)

NO_PROVIDER = "-"
"""Provider name recorded on an order no provider serves (it fails with a clear reason)."""


def route(program: Program, participant: Participant) -> str:
    """Return the name of the provider serving ``participant`` (first matching segment)."""
    for provider in program.config.rewards.providers:
        if program.in_segment(participant, provider.segment):
            return provider.name
    return NO_PROVIDER


def queue_order(
    conn: Connection,
    *,
    key: str,
    participant_id: int,
    sku: str,
    points: int,
    origin: str,
    provider: str,
    now: datetime,
    grant_key: str | None = None,
    quantity: int = 1,
) -> int:
    """Insert a pending order in the outbox; return its id."""
    result = conn.execute(
        s.orders.insert().values(
            key=key,
            participant_id=participant_id,
            sku=sku,
            quantity=quantity,
            points=points,
            origin=origin,
            grant_key=grant_key,
            provider=provider,
            status=OrderStatus.PENDING.value,
            attempts=0,
            created_at=now,
            updated_at=now,
        )
    )
    order_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    conn.execute(
        s.order_events.insert().values(
            order_id=order_id, status="pending", detail=f"queued ({origin})", at=now
        )
    )
    return order_id


class Providers:
    """Opens the program's reward providers on first use and closes them at the end.

    Args:
        program: the program (its ``rewards.providers``).
        provider_types: type name -> provider class (from the plugin registry).
        state_dir: the folder providers keep state in (``PREMIA_STATE_DIR``), if set.
    """

    def __init__(
        self,
        program: Program,
        provider_types: Callable[[str], type[RewardProvider[Any]]],
        state_dir: Path | None = None,
    ):
        self.program = program
        self._types = provider_types
        self._state_dir = state_dir
        self._open: dict[str, RewardProvider[Any]] = {}

    def get(self, name: str) -> RewardProvider[Any]:
        """Return the provider named ``name``.

        Raises:
            ConfigError: no provider of that name is configured.
        """
        if name not in self._open:
            config = next(
                (p for p in self.program.config.rewards.providers if p.name == name), None
            )
            if config is None:
                raise ConfigError(f"no reward provider named {name!r} in the program")
            cls = self._types(config.type)
            context = ProviderContext(
                provider_name=name, base_dir=self.program.base_dir, state_dir=self._state_dir
            )
            self._open[name] = cls(self.program.provider_settings[name], context)
        return self._open[name]

    def close(self) -> None:
        """Close every provider opened."""
        for provider in self._open.values():
            try:
                provider.close()
            except Exception:
                log.exception("closing provider failed")
        self._open.clear()

    def __enter__(self) -> Providers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class DrainResult:
    """What draining the outbox did."""

    submitted: int = 0
    fulfilled: int = 0
    failed: int = 0
    retry_later: int = 0
    fulfilled_events: list[RewardFulfilled] = field(default_factory=list)
    failed_events: list[RewardFailed] = field(default_factory=list)


def catalog_item(providers: Providers, provider: str, sku: str) -> CatalogItem:
    """Return ``sku`` from ``provider``'s catalog.

    Raises:
        RedemptionRefused: the provider has no such item.
    """
    for item in providers.get(provider).catalog():
        if item.sku == sku:
            return item
    raise RedemptionRefused(f"{sku!r} is not in the {provider} catalog")


def redeem(
    engine: Engine,
    program: Program,
    providers: Providers,
    participant: Participant,
    sku: str,
    request_id: str,
    now: datetime,
    quantity: int = 1,
) -> tuple[dict[str, Any], bool]:
    """Redeem points for a catalog item: debit the ledger and queue the order, atomically.

    The same ``request_id`` twice returns the first order and changes nothing.

    Returns:
        The order row (as a dict) and whether it was created by this call.

    Raises:
        RedemptionRefused: unknown item, not available in the participant's region, out of
            stock, or a balance too low. Nothing is changed.
    """
    if quantity < 1:
        raise RedemptionRefused("quantity must be at least 1")
    key = f"redeem:{request_id}"
    existing = _order_by_key(engine, key)
    if existing is not None:
        return _same_request(existing, participant, sku, quantity, request_id), False
    provider = route(program, participant)
    if provider == NO_PROVIDER:
        raise RedemptionRefused(f"no reward provider serves {participant.name}")
    item = catalog_item(providers, provider, sku)
    if item.kind == "badge" or item.points <= 0:
        raise RedemptionRefused(f"{item.name} is awarded by rules, not redeemed for points")
    if not item.available_in(participant.region):
        raise RedemptionRefused(
            f"{item.name} is not available in region {participant.region or '(none)'}"
        )
    price = item.points * quantity
    with engine.begin() as conn:
        pid = conn.execute(
            select(s.participants.c.id).where(s.participants.c.key == participant.key)
        ).scalar_one_or_none()
        if pid is None:
            raise RedemptionRefused(f"{participant.name} has no points yet (run a sync first)")
        _lock_participant(conn, pid)
        again = _order_by_key(conn, key)
        if again is not None:
            return _same_request(again, participant, sku, quantity, request_id), False
        if item.inventory is not None:
            reserved = _units_pending(conn, provider, sku)
            if item.inventory - reserved < quantity:
                raise RedemptionRefused(f"{item.name} is out of stock")
        have = ledger.balance(conn, pid)
        if have < price:
            raise RedemptionRefused(
                f"balance too low: {item.name} costs {price} points, {participant.name} has {have}"
            )
        ledger.append(
            conn,
            entry_key=key,
            participant_id=pid,
            points=-price,
            entry_type=EntryType.REDEMPTION,
            now=now,
            order_key=key,
            note=f"{quantity} x {item.name}",
        )
        queue_order(
            conn,
            key=key,
            participant_id=pid,
            sku=sku,
            points=price,
            origin="redemption",
            provider=provider,
            now=now,
            quantity=quantity,
        )
    order = _order_by_key(engine, key)
    assert order is not None
    return order, True


def _same_request(
    order: dict[str, Any], participant: Participant, sku: str, quantity: int, request_id: str
) -> dict[str, Any]:
    """Return ``order`` if it is this request again; refuse a request id reused for another."""
    if (
        order["sku"] != sku
        or order["quantity"] != quantity
        or order["participant_key"] != participant.key
    ):
        raise RedemptionRefused(
            f"request id {request_id!r} was already used for another redemption; "
            "use a new request id"
        )
    return order


def _lock_participant(conn: Connection, pid: int) -> None:
    # Serialises redemptions of one participant on PostgreSQL; SQLite's BEGIN IMMEDIATE
    # already holds the database write lock.
    if conn.dialect.name == "postgresql":
        conn.execute(
            select(s.participants.c.id).where(s.participants.c.id == pid).with_for_update()
        )


def _units_pending(conn: Connection, provider: str, sku: str) -> int:
    o = s.orders
    total = conn.execute(
        select(func.coalesce(func.sum(o.c.quantity), 0)).where(
            o.c.provider == provider, o.c.sku == sku, o.c.status == OrderStatus.PENDING.value
        )
    ).scalar_one()
    return int(total)


def _order_by_key(conn: Connection | Engine, key: str) -> dict[str, Any] | None:
    query = (
        select(s.orders, s.participants.c.key.label("participant_key"))
        .join(s.participants, s.participants.c.id == s.orders.c.participant_id)
        .where(s.orders.c.key == key)
    )
    if isinstance(conn, Engine):
        with conn.connect() as c:
            row = c.execute(query).mappings().first()
    else:
        row = conn.execute(query).mappings().first()
    return dict(row) if row is not None else None


def drain_outbox(
    engine: Engine, program: Program, providers: Providers, now: Callable[[], datetime]
) -> DrainResult:
    """Submit every pending order, then ask for news of submitted ones.

    A retryable provider error leaves the order pending for the next drain; a refusal or a
    permanent error fails it and refunds its points.
    """
    result = DrainResult()
    pending = _orders_with_status(engine, OrderStatus.PENDING)
    with engine.connect() as conn:
        people = {r.id: r for r in conn.execute(select(s.participants))}
    for order in pending:
        person = people[order["participant_id"]]
        if order["provider"] == NO_PROVIDER:
            _fail(
                engine, program, order, "no reward provider serves this participant", now(), result
            )
            continue
        request = OrderRequest(
            idempotency_key=order["key"],
            sku=order["sku"],
            quantity=order["quantity"],
            participant_key=person.key,
            participant_name=person.name,
            region=person.region,
            points=order["points"],
        )
        try:
            answer = providers.get(order["provider"]).submit_order(request)
        except RedemptionRefused as exc:
            _fail(engine, program, order, str(exc), now(), result)
            continue
        except ProviderError as exc:
            if exc.retryable:
                _note_attempt(engine, order, str(exc), now())
                result.retry_later += 1
            else:
                _fail(engine, program, order, str(exc), now(), result)
            continue
        except Exception as exc:
            # Any other error (a plugin bug, an unexpected answer) is not a refusal: the order
            # stays pending and is tried again with the same idempotency key next time.
            log.warning(
                "order %s: provider %s failed", order["key"], order["provider"], exc_info=True
            )
            _note_attempt(engine, order, _describe(exc), now())
            result.retry_later += 1
            continue
        result.submitted += 1
        _record(engine, program, order, answer, now(), result)
    for order in _orders_with_status(engine, OrderStatus.SUBMITTED):
        try:
            answer = providers.get(order["provider"]).order_status(order["provider_order_id"])
        except Exception as exc:
            _note_attempt(engine, order, _describe(exc), now())
            continue
        if answer.status.value != order["status"]:
            _record(engine, program, order, answer, now(), result)
    return result


def _orders_with_status(engine: Engine, status: OrderStatus) -> list[dict[str, Any]]:
    o = s.orders
    with engine.connect() as conn:
        query = select(o).where(o.c.status == status.value).order_by(o.c.id)
        return [dict(r) for r in conn.execute(query).mappings()]


def _describe(exc: Exception) -> str:
    return str(exc) if isinstance(exc, PremiaError) else f"unexpected error {type(exc).__name__}"


def _record(
    engine: Engine,
    program: Program,
    order: dict[str, Any],
    answer: OrderResult,
    at: datetime,
    result: DrainResult,
) -> None:
    if answer.status in (OrderStatus.FAILED, OrderStatus.CANCELLED):
        _fail(
            engine,
            program,
            order,
            answer.detail or answer.status.value,
            at,
            result,
            status=answer.status,
            provider_order_id=answer.provider_order_id,
        )
        return
    o = s.orders
    with engine.begin() as conn:
        conn.execute(
            update(o)
            .where(o.c.id == order["id"])
            .values(
                status=answer.status.value,
                provider_order_id=answer.provider_order_id,
                attempts=o.c.attempts + 1,
                last_error=None,
                updated_at=at,
            )
        )
        conn.execute(
            s.order_events.insert().values(
                order_id=order["id"], status=answer.status.value, detail=answer.detail, at=at
            )
        )
    if answer.status is OrderStatus.FULFILLED:
        result.fulfilled += 1
        with engine.connect() as conn:
            pkey = conn.execute(
                select(s.participants.c.key).where(s.participants.c.id == order["participant_id"])
            ).scalar_one()
        result.fulfilled_events.append(
            RewardFulfilled(
                program.name,
                order["key"],
                pkey,
                order["sku"],
                order["provider"],
                answer.provider_order_id,
            )
        )


def _fail(
    engine: Engine,
    program: Program,
    order: dict[str, Any],
    reason: str,
    at: datetime,
    result: DrainResult,
    *,
    status: OrderStatus = OrderStatus.FAILED,
    provider_order_id: str | None = None,
) -> None:
    o = s.orders
    with engine.begin() as conn:
        conn.execute(
            update(o)
            .where(o.c.id == order["id"])
            .values(
                status=status.value,
                last_error=reason,
                attempts=o.c.attempts + 1,
                updated_at=at,
                provider_order_id=provider_order_id or order.get("provider_order_id"),
            )
        )
        conn.execute(
            s.order_events.insert().values(
                order_id=order["id"], status=status.value, detail=reason, at=at
            )
        )
        if order["points"]:
            ledger.append(
                conn,
                entry_key=f"refund:{order['key']}",
                participant_id=order["participant_id"],
                points=order["points"],
                entry_type=EntryType.REFUND,
                now=at,
                order_key=order["key"],
                note=f"refund: {reason}",
            )
        pkey = conn.execute(
            select(s.participants.c.key).where(s.participants.c.id == order["participant_id"])
        ).scalar_one()
    result.failed += 1
    result.failed_events.append(
        RewardFailed(program.name, order["key"], pkey, order["sku"], order["provider"], reason)
    )


def _note_attempt(engine: Engine, order: dict[str, Any], error: str, at: datetime) -> None:
    o = s.orders
    with engine.begin() as conn:
        conn.execute(
            update(o)
            .where(o.c.id == order["id"])
            .values(attempts=o.c.attempts + 1, last_error=error, updated_at=at)
        )

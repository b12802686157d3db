"""Proactive rate limiting: wait *before* a request rather than be refused with a 429.

A :class:`RateBudget` allows ``requests`` requests in any window of ``per_seconds`` seconds
(a sliding window). :meth:`RateBudget.acquire` reserves the next free slot under a lock and
sleeps outside it until the slot comes, so threads are served first come, first served and a
sleeping thread never blocks the others' bookkeeping.

Vendors limit per account or per key, not per stream, and the SDK runs streams of one source
on threads sharing one :class:`~premia_sdk.HttpClient` (see :mod:`premia_sdk.http`). All
streams of one account must therefore draw from one budget: :meth:`RateBudget.shared`
returns the same instance for the same key anywhere in the process.

The budget also adapts to what the server says. :meth:`RateBudget.update_from_headers` reads
the remaining allowance and the reset time from the draft standard ``RateLimit-Remaining`` /
``RateLimit-Reset`` (and the structured ``RateLimit`` field), the common
``X-RateLimit-Remaining`` / ``X-RateLimit-Reset``, or a vendor parser (e.g. HubSpot's
``X-HubSpot-RateLimit-Remaining``, Salesforce's ``Sforce-Limit-Info: api-usage=18/5000``)
given as ``header_parser``. When the server says nothing is left, requests wait for its
reset. A wait longer than ``max_wait`` (a daily quota used up) raises
:class:`~premia_sdk.RetryAfterTooLong` instead of sleeping for hours.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from premia_sdk.errors import RetryAfterTooLong

__all__ = ["HeaderParser", "RateBudget", "RateLimitInfo", "standard_rate_limit_headers"]

log = logging.getLogger("premia_sdk.ratelimit")

_EPOCH_SECONDS = 1_000_000_000  # a reset this large is a Unix time, not a delay
_EPOCH_MILLIS = 100_000_000_000


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """What a response's headers say about the remaining allowance.

    Attributes:
        remaining: requests still allowed until the reset.
        reset_after: seconds from now until the allowance renews.
        reset_at: the Unix time (seconds) at which it renews, for headers that give one;
            used when ``reset_after`` is ``None``.
        limit: the size of the allowance, when given (informational).
    """

    remaining: int | None = None
    reset_after: float | None = None
    reset_at: float | None = None
    limit: int | None = None


HeaderParser = Callable[[Mapping[str, str]], RateLimitInfo | None]
"""A vendor header parser: response headers -> :class:`RateLimitInfo`, or ``None`` if absent.

The mapping it receives has lower-case keys.
"""


class RateBudget:
    """A thread-safe sliding-window limiter: at most ``requests`` per ``per_seconds``.

    Args:
        requests: requests allowed in any window.
        per_seconds: the window length in seconds.
        clock: monotonic clock in seconds (tests pass a fake).
        sleep: how to wait (tests pass a recorder).
        wall_clock: Unix time in seconds, to read reset headers that give a time of day.
        max_wait: the longest wait :meth:`acquire` accepts; a longer one raises
            :class:`~premia_sdk.RetryAfterTooLong`.
        header_parser: a vendor parser tried before the standard headers.
        name: shown in logs and messages (the shared key, typically).
    """

    _registry: ClassVar[dict[str, RateBudget]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        requests: int,
        per_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        wall_clock: Callable[[], float] = time.time,
        max_wait: float = 60.0,
        header_parser: HeaderParser | None = None,
        name: str = "",
    ):
        if requests < 1:
            raise ValueError("requests must be at least 1")
        if per_seconds <= 0:
            raise ValueError("per_seconds must be positive")
        self.requests = requests
        self.per_seconds = float(per_seconds)
        self.max_wait = max_wait
        self.header_parser = header_parser
        self.name = name
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._slots: deque[float] = deque(maxlen=requests)
        self._server_remaining: int | None = None
        self._server_reset_at: float | None = None

    def __repr__(self) -> str:
        return f"RateBudget({self.requests}, {self.per_seconds:g}, name={self.name!r})"

    @classmethod
    def shared(
        cls,
        key: str,
        requests: int,
        per_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        wall_clock: Callable[[], float] = time.time,
        max_wait: float = 60.0,
        header_parser: HeaderParser | None = None,
    ) -> RateBudget:
        """Return the process-wide budget for ``key``, creating it on first use.

        Every stream (and thread) of one account passes the same key, e.g.
        ``f"hubspot:{portal_id}"``, and so draws from one budget. The first caller's
        arguments create it; later callers get that instance (a warning is logged if they ask
        for other limits).

        Args:
            key: identifies the account or API key the vendor limits.
            requests: requests allowed per window, when creating.
            per_seconds: window length, when creating.
            clock: as for :class:`RateBudget`, when creating.
            sleep: as for :class:`RateBudget`, when creating.
            wall_clock: as for :class:`RateBudget`, when creating.
            max_wait: as for :class:`RateBudget`, when creating.
            header_parser: as for :class:`RateBudget`, when creating.

        Returns:
            The shared budget.
        """
        with cls._registry_lock:
            budget = cls._registry.get(key)
            if budget is None:
                budget = cls(
                    requests,
                    per_seconds,
                    clock,
                    sleep,
                    wall_clock=wall_clock,
                    max_wait=max_wait,
                    header_parser=header_parser,
                    name=key,
                )
                cls._registry[key] = budget
            elif (budget.requests, budget.per_seconds) != (requests, float(per_seconds)):
                log.warning(
                    "rate budget %r already exists as %d per %g s; ignoring %d per %g s",
                    key,
                    budget.requests,
                    budget.per_seconds,
                    requests,
                    per_seconds,
                )
            return budget

    @classmethod
    def clear_shared(cls) -> None:
        """Forget every shared budget (for tests, and for a long-running service reloading)."""
        with cls._registry_lock:
            cls._registry.clear()

    def acquire(self) -> float:
        """Wait until a request may be sent, and count it.

        Returns:
            The seconds waited (0 when the budget had room).

        Raises:
            RetryAfterTooLong: the wait would exceed ``max_wait`` (nothing is counted).
        """
        with self._lock:
            now = self._clock()
            slot = now
            if self._slots:
                slot = max(slot, self._slots[-1])  # first come, first served
                if len(self._slots) == self.requests:
                    slot = max(slot, self._slots[0] + self.per_seconds)
            remaining, reset_at = self._server_remaining, self._server_reset_at
            if reset_at is not None:
                if slot >= reset_at:  # the server's allowance has renewed by then
                    remaining = reset_at = None
                elif remaining is not None and remaining <= 0:
                    slot = reset_at
                    remaining = reset_at = None
                elif remaining is not None:
                    remaining -= 1
            wait = slot - now
            if wait > self.max_wait:  # nothing is counted
                raise RetryAfterTooLong(wait, self.max_wait, f"rate limit {self.name}".strip())
            self._server_remaining, self._server_reset_at = remaining, reset_at
            self._slots.append(slot)
        if wait > 0:
            log.debug("rate budget %s: waiting %.3f s", self.name, wait)
            self._sleep(wait)
        return max(wait, 0.0)

    def pause_for(self, seconds: float) -> None:
        """Hold every request of this budget back for ``seconds`` (e.g. after a 429).

        Threads sharing the budget wait too, instead of each hitting the limit in turn.

        Args:
            seconds: how long from now no request should be sent.
        """
        with self._lock:
            until = self._clock() + max(seconds, 0.0)
            if self._server_reset_at is None or until > self._server_reset_at:
                self._server_reset_at = until
            self._server_remaining = 0

    def update_from_headers(self, headers: Mapping[str, str]) -> RateLimitInfo | None:
        """Adapt to the allowance a response reports.

        The vendor ``header_parser`` is tried first, then :func:`standard_rate_limit_headers`.
        Both a remaining count and a reset time are needed to act: until the reset, at most
        ``remaining`` more requests go out (fewer if the budget's own window says so), and
        with nothing remaining requests wait for the reset.

        Args:
            headers: the response headers (any case).

        Returns:
            What was read, or ``None`` when the headers say nothing usable.
        """
        lowered = {k.lower(): v for k, v in headers.items()}
        info = self.header_parser(lowered) if self.header_parser is not None else None
        if info is None:
            info = standard_rate_limit_headers(lowered)
        if info is None or info.remaining is None:
            return info
        if info.reset_after is not None:
            reset_after = info.reset_after
        elif info.reset_at is not None:
            reset_after = info.reset_at - self._wall_clock()
        else:
            return info
        with self._lock:
            self._server_remaining = max(info.remaining, 0)
            self._server_reset_at = self._clock() + max(reset_after, 0.0)
        return info


def standard_rate_limit_headers(headers: Mapping[str, str]) -> RateLimitInfo | None:
    """Read the common rate-limit headers.

    Understood, first match wins:

    * ``RateLimit-Remaining`` / ``RateLimit-Reset`` / ``RateLimit-Limit`` (IETF httpapi
      draft; the reset is a number of seconds);
    * the structured ``RateLimit`` field, either ``limit=100, remaining=50, reset=30`` (older
      drafts) or ``"policy";r=50;t=30`` (newer drafts);
    * ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` / ``X-RateLimit-Limit``, where the reset
      is a number of seconds, or a Unix time in seconds or milliseconds when it is that large.

    Args:
        headers: response headers with lower-case keys.

    Returns:
        What the headers say, or ``None`` when none is present.
    """
    remaining = _int(headers.get("ratelimit-remaining"))
    if remaining is not None:
        return RateLimitInfo(
            remaining=remaining,
            reset_after=_float(headers.get("ratelimit-reset")),
            limit=_int(headers.get("ratelimit-limit")),
        )
    structured = headers.get("ratelimit")
    if structured:
        params = dict(
            (m.group(1).lower(), m.group(2))
            for m in re.finditer(r"([A-Za-z]+)\s*=\s*\"?([0-9.]+)", structured)
        )
        left = _int(params.get("remaining", params.get("r")))
        if left is not None:
            return RateLimitInfo(
                remaining=left,
                reset_after=_float(params.get("reset", params.get("t"))),
                limit=_int(params.get("limit")),
            )
    remaining = _int(headers.get("x-ratelimit-remaining"))
    if remaining is not None:
        reset = _float(headers.get("x-ratelimit-reset"))
        limit = _int(headers.get("x-ratelimit-limit"))
        if reset is not None and reset >= _EPOCH_MILLIS:
            return RateLimitInfo(remaining=remaining, reset_at=reset / 1000, limit=limit)
        if reset is not None and reset >= _EPOCH_SECONDS:
            return RateLimitInfo(remaining=remaining, reset_at=reset, limit=limit)
        return RateLimitInfo(remaining=remaining, reset_after=reset, limit=limit)
    return None


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip().split(",")[0].split(";")[0])
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip().split(",")[0].split(";")[0])
    except ValueError:
        return None

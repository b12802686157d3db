"""Retries: exponential backoff with jitter that honours ``Retry-After`` and never sleeps for hours.

A :class:`RetryPolicy` describes how hard to try; :meth:`RetryPolicy.retrying` turns it into a
`tenacity <https://tenacity.readthedocs.io>`_ ``Retrying`` object. Only
:class:`~premia_sdk.RetryableError` is retried (transport errors, timeouts, 429, 5xx, as
classified by :class:`~premia_sdk.HttpClient`); everything else goes straight up.

The wait before each new attempt is:

* the server's ``Retry-After`` when the failed response had one (RFC 9110 section 10.2.3: a
  number of seconds or an HTTP-date), exactly as asked;
* otherwise ``base_wait * 2 ** (attempt - 1)`` plus a random jitter, capped at ``max_wait``.

Retrying stops after ``max_attempts`` attempts, or before a wait that would take the whole
operation past ``max_total`` seconds. When a server asks for a wait longer than ``max_wait``
(a daily quota answering ``Retry-After: 86400``), :class:`~premia_sdk.RetryAfterTooLong` is
raised at once, without sleeping: it is a :class:`premia.QuotaExhausted`, so the engine keeps
the cursor reached and marks the run incomplete, and the next sync resumes.

The sleep function and the clock are injectable, so tests never really sleep.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import tenacity
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from premia_sdk.errors import RetryableError, RetryAfterTooLong

__all__ = ["RetryPolicy", "parse_retry_after"]

log = logging.getLogger("premia_sdk.retry")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try a request that failed in a way that may pass.

    Attributes:
        max_attempts: attempts in all, the first one included (1 disables retrying).
        base_wait: the first backoff wait in seconds; it doubles on each retry.
        max_wait: the longest single wait in seconds, backoff or ``Retry-After``. A server
            asking for more raises :class:`~premia_sdk.RetryAfterTooLong` at once.
        max_total: the longest time in seconds an operation may spend retrying; no retry
            starts whose wait would take it past this.
        jitter: up to this many seconds are added at random to each backoff wait (not to a
            ``Retry-After`` wait), so parallel streams do not retry in lockstep.
    """

    max_attempts: int = 5
    base_wait: float = 0.5
    max_wait: float = 60.0
    max_total: float = 300.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        for name in ("base_wait", "max_wait", "max_total", "jitter"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")

    def check_wait(self, wait: float, what: str = "") -> None:
        """Raise if a server-requested wait is longer than :attr:`max_wait`.

        Args:
            wait: the wait asked for, in seconds.
            what: the request or limit concerned (already redacted), for the message.

        Raises:
            RetryAfterTooLong: ``wait`` exceeds :attr:`max_wait`.
        """
        if wait > self.max_wait:
            raise RetryAfterTooLong(wait, self.max_wait, what)

    def backoff(self) -> wait_base:
        """Return the tenacity wait strategy used when the server gave no ``Retry-After``.

        The wait before attempt ``n + 1`` is ``min(base_wait * 2 ** (n - 1) + U(0, jitter),
        max_wait)``.
        """
        return _ExponentialJitter(self.base_wait, self.max_wait, self.jitter)

    def retrying(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        before_sleep: Callable[[tenacity.RetryCallState], None] | None = None,
    ) -> tenacity.Retrying:
        """Build the tenacity controller for one operation (call it once per operation).

        Use it as::

            for attempt in policy.retrying(sleep=sleep):
                with attempt:
                    return send()

        Args:
            sleep: how to wait (``time.sleep``; tests pass a recorder).
            clock: a monotonic clock in seconds, for :attr:`max_total`.
            before_sleep: called before each wait (for logging).

        Returns:
            A ``tenacity.Retrying`` retrying :class:`~premia_sdk.RetryableError` only and
            re-raising the last error when it gives up.
        """
        return tenacity.Retrying(
            sleep=sleep,
            stop=tenacity.stop_after_attempt(self.max_attempts)
            | _StopBeforeTotal(self.max_total, clock),
            wait=WaitRetryAfter(self),
            retry=tenacity.retry_if_exception_type(RetryableError),
            reraise=True,
            before_sleep=before_sleep,
        )


class WaitRetryAfter(wait_base):
    """Tenacity wait: the failed response's ``Retry-After`` if it had one, else backoff.

    Args:
        policy: the policy whose :attr:`~RetryPolicy.max_wait` caps ``Retry-After`` and
            whose :meth:`~RetryPolicy.backoff` is the fallback.

    Raises:
        RetryAfterTooLong: (when called) the server asked for more than ``max_wait``.
    """

    def __init__(self, policy: RetryPolicy):
        self.policy = policy
        self.fallback = policy.backoff()

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        """Return the seconds to wait before the next attempt."""
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, RetryableError) and exc.retry_after is not None:
            try:
                self.policy.check_wait(exc.retry_after)
            except RetryAfterTooLong as too_long:
                raise too_long from exc
            return max(exc.retry_after, 0.0)
        return float(self.fallback(retry_state))


class _ExponentialJitter(wait_base):
    """Exponential backoff with additive jitter (tenacity's own changed its signature in 9.x)."""

    def __init__(self, base: float, cap: float, jitter: float):
        self.base = base
        self.cap = cap
        self.jitter = jitter

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exponent = min(retry_state.attempt_number - 1, 64)
        wait = self.base * 2.0**exponent
        if self.jitter:
            wait += random.uniform(0, self.jitter)
        return max(0.0, min(wait, self.cap))


class _StopBeforeTotal(stop_base):
    """Stop when the next wait would take the operation past ``max_total`` seconds."""

    def __init__(self, max_total: float, clock: Callable[[], float]):
        self.max_total = max_total
        self.clock = clock
        self.started = clock()

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        elapsed = self.clock() - self.started
        # tenacity >= 8.3 computes the wait before asking the stop; older ones have no
        # upcoming_sleep and the cap then only counts the time already spent
        return elapsed + getattr(retry_state, "upcoming_sleep", 0.0) > self.max_total


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Read a ``Retry-After`` header value (RFC 9110 section 10.2.3) as seconds to wait.

    Both forms are understood: delta-seconds (``120``; a decimal such as ``1.5`` is accepted
    too) and an HTTP-date (``Wed, 21 Oct 2015 07:28:00 GMT``). A negative delay or a date in
    the past gives 0.

    Args:
        value: the header value, or ``None`` when absent.
        now: the current time, timezone-aware (default: now in UTC); used for HTTP-dates.

    Returns:
        Seconds to wait (>= 0), or ``None`` when the header is absent or unreadable.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with unknown origin zone
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC)
    return max((when - current).total_seconds(), 0.0)

"""The HTTP client every SDK-based plugin uses: budget, send, classify, retry.

Decision: the SDK is synchronous, on ``httpx.Client``
----------------------------------------------------
:class:`HttpClient` wraps one ``httpx.Client``, which is thread-safe and pools connections.
Concurrency across streams means threads sharing one client and one
:class:`~premia_sdk.RateBudget` per account or API key; the budget is thread-safe. Why not
asyncio:

* pluggy hooks and the :class:`premia.Source` / :class:`premia.RewardProvider` contracts are
  synchronous (``read`` is a plain iterator of batches);
* synchronous code is simpler for plugin authors to write, read and debug (plain stack traces,
  no event loop to own, no ``async`` spreading through the plugin);
* fetching pages is I/O-bound, and I/O-bound work parallelises fine on threads (the GIL is
  released while waiting on sockets);
* what bounds throughput against a vendor is its rate limit, enforced by the budget, not the
  number of coroutines an event loop can juggle.

What one request goes through
-----------------------------
:meth:`HttpClient.request` runs, for each attempt: the rate budget (wait for a slot) -> send
(with the auth scheme, timeouts on every request, ``User-Agent: <plugin>/<version>
premia-sdk/<version>``) -> read the rate-limit headers back into the budget -> classify the
status (:func:`~premia_sdk.classify`) -> return, retry, or raise. Transport errors (connect
and read timeouts, dropped connections) and 429/5xx are :class:`~premia_sdk.RetryableError`
and retried under the :class:`~premia_sdk.RetryPolicy`, honouring ``Retry-After``; other
4xx raise at once (:class:`~premia_sdk.AuthFailure`,
:class:`~premia_sdk.ConfigurationError`). Requests are logged at DEBUG, retries at INFO, with
URLs redacted and never a header; httpx's own INFO log line gets the same redaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx
import tenacity

from premia_sdk._version import __version__
from premia_sdk.errors import (
    AuthFailure,
    ConfigurationError,
    RetryableError,
    classify,
    describe_response,
    redact_text,
    redact_url,
    scrub,
)
from premia_sdk.jsonexact import response_json
from premia_sdk.ratelimit import RateBudget
from premia_sdk.retry import RetryPolicy, parse_retry_after

__all__ = ["DEFAULT_LIMITS", "DEFAULT_TIMEOUT", "Classifier", "HttpClient"]

log = logging.getLogger("premia_sdk.http")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
"""Every request has a timeout: 10 s to connect, 30 s to read, write or get a pooled connection."""

DEFAULT_LIMITS = httpx.Limits(
    max_connections=20, max_keepalive_connections=10, keepalive_expiry=30.0
)
"""Connection pool: at most 20 connections, 10 kept alive for 30 s."""

Classifier = Callable[[httpx.Response], type[Exception] | None]
"""Maps a response to the exception type to raise (``None``: success). See :func:`classify`."""

# Errors where the request surely never reached the server's application.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)


class HttpClient:
    """A synchronous, thread-safe HTTP client for one API, with retries and a rate budget.

    Args:
        base_url: prefix of relative URLs, e.g. ``https://api.hubapi.com``.
        plugin_name: the plugin's name for the ``User-Agent`` (e.g. ``premia-hubspot``).
        plugin_version: the plugin's version for the ``User-Agent``.
        auth: the authentication scheme (see :mod:`premia_sdk.auth`), or ``None``.
        retry: the retry policy (default :class:`~premia_sdk.RetryPolicy()`).
        budget: the rate budget to draw from before each request, or ``None``.
        timeout: per-request timeouts (default :data:`DEFAULT_TIMEOUT`).
        limits: connection pool limits (default :data:`DEFAULT_LIMITS`).
        headers: extra headers sent with every request.
        classifier: maps responses to errors (default :func:`~premia_sdk.classify`).
        follow_redirects: follow 3xx redirects (httpx drops ``Authorization`` on a
            redirect to another origin).
        transport: an httpx transport (tests may pass ``httpx.MockTransport``).
        sleep: how to wait between attempts (tests pass a recorder).
        clock: monotonic clock in seconds, for the retry policy's total time.
        utcnow: the current time (timezone-aware), to read ``Retry-After`` HTTP-dates.
    """

    def __init__(
        self,
        base_url: str = "",
        *,
        plugin_name: str = "premia-plugin",
        plugin_version: str = "0",
        auth: httpx.Auth | None = None,
        retry: RetryPolicy | None = None,
        budget: RateBudget | None = None,
        timeout: httpx.Timeout | float | None = None,
        limits: httpx.Limits | None = None,
        headers: Mapping[str, str] | None = None,
        classifier: Classifier = classify,
        follow_redirects: bool = False,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        utcnow: Callable[[], datetime] | None = None,
    ):
        self.retry = retry if retry is not None else RetryPolicy()
        self.budget = budget
        self.auth = auth
        """The authentication scheme; its secret values are scrubbed from every message."""
        self.classifier = classifier
        self.user_agent = f"{plugin_name}/{plugin_version} premia-sdk/{__version__}"
        self.sleep = sleep
        """How the client waits between attempts (callers running their own retry loop use it)."""
        self.clock = clock
        """The client's monotonic clock."""
        self.utcnow = utcnow if utcnow is not None else _utcnow
        """The client's wall clock (timezone-aware), for ``Retry-After`` dates."""
        self._http = httpx.Client(
            base_url=base_url,
            auth=auth,
            headers={
                "User-Agent": self.user_agent,
                "Accept": "application/json",
                **(headers or {}),
            },
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            limits=limits if limits is not None else DEFAULT_LIMITS,
            follow_redirects=follow_redirects,
            transport=transport,
        )
        _protect_httpx_log()

    @property
    def http(self) -> httpx.Client:
        """The underlying ``httpx.Client`` (for what this class does not cover)."""
        return self._http

    @property
    def base_url(self) -> httpx.URL:
        """The base URL relative URLs are resolved against."""
        return self._http.base_url

    def request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | float | None = None,
    ) -> httpx.Response:
        """Send a request, retrying what may pass, and return a successful response.

        Any method is retried, so use it for reads (``GET``, and ``POST`` searches) and
        idempotent writes. A write that must not happen twice needs a look-up before it is
        sent again: see :meth:`~premia_sdk.HttpRewardProvider.idempotent_post`, built on
        :meth:`send_once`.

        Args:
            method: the HTTP method.
            url: absolute, or relative to the base URL.
            params: query parameters.
            json: a JSON body.
            data: a form body.
            headers: extra headers for this request.
            timeout: timeouts for this request (default: the client's).

        Returns:
            The response (status below 400, or whatever the classifier accepts), body read.

        Raises:
            RetryableError: still failing when the retry policy gave up.
            RetryAfterTooLong: the server asked to wait longer than the policy's cap.
            AuthFailure: the credentials were refused.
            ConfigurationError: a 4xx that retrying cannot fix.
        """
        retrying = self.retry.retrying(
            sleep=self.sleep, clock=self.clock, before_sleep=self._log_retry
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self.send_once(
                        method,
                        url,
                        params=params,
                        json=json,
                        data=data,
                        headers=headers,
                        timeout=timeout,
                    )
        except RetryableError as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            if attempts <= 1:
                raise
            raise RetryableError(
                f"{exc} (gave up after {attempts} attempts)",
                status_code=exc.status_code,
                response=exc.response,
                retry_after=exc.retry_after,
                maybe_processed=exc.maybe_processed,
            ) from exc
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def send_once(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | float | None = None,
    ) -> httpx.Response:
        """Make one attempt: budget, send, classify; no retry.

        For callers that run their own retry loop (e.g.
        :meth:`~premia_sdk.HttpRewardProvider.idempotent_post`, which must look an order up
        before sending it again). Arguments as for :meth:`request`.

        Returns:
            The response, body read.

        Raises:
            RetryableError: a transport error, a timeout, a 429 or a 5xx.
            RetryAfterTooLong: a ``Retry-After`` longer than the retry policy's cap.
            AuthFailure: the credentials were refused.
            ConfigurationError: another 4xx.
        """
        request = self._http.build_request(
            method,
            url,
            params=params,
            json=json,
            data=data,
            headers=headers,
            timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )
        where = f"{request.method} {redact_url(request.url)}"
        if self.budget is not None:
            self.budget.acquire()
        started = self.clock()
        try:
            response = self._http.send(request)
        except httpx.UnsupportedProtocol as exc:
            raise ConfigurationError(f"{where}: {redact_text(str(exc))}") from None
        except httpx.TransportError as exc:
            log.debug("%s failed: %s", where, type(exc).__name__)
            detail = self.scrub(redact_text(str(exc))) or "no detail"
            raise RetryableError(
                f"{where} failed: {type(exc).__name__} ({detail})",
                maybe_processed=not isinstance(exc, _NOT_SENT),
            ) from exc
        log.debug(
            "%s -> %d %s (%.3f s)",
            where,
            response.status_code,
            response.reason_phrase,
            self.clock() - started,
        )
        if self.budget is not None:
            self.budget.update_from_headers(response.headers)
        error_type = self.classifier(response)
        if error_type is None:
            return response
        raise self._error(error_type, where, response)

    def get_json(
        self,
        url: str | httpx.URL,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """GET ``url`` and return its exact JSON body (see :func:`~premia_sdk.response_json`).

        Args:
            url: absolute, or relative to the base URL.
            params: query parameters.
            headers: extra headers.

        Returns:
            The parsed body (non-integer numbers as ``Decimal``).

        Raises:
            premia.SourceError: the body is not JSON; and everything :meth:`request` raises.
        """
        return response_json(self.request("GET", url, params=params, headers=headers))

    def request_json(self, method: str, url: str | httpx.URL, **kwargs: Any) -> Any:
        """Send a request (as :meth:`request`) and return its exact JSON body.

        Args:
            method: the HTTP method.
            url: absolute, or relative to the base URL.
            **kwargs: as for :meth:`request`.

        Returns:
            The parsed body.
        """
        return response_json(self.request(method, url, **kwargs))

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def scrub(self, text: str) -> str:
        """Replace the auth scheme's secret values in ``text`` (see :func:`~premia_sdk.errors.scrub`).

        Args:
            text: a message about to be raised or logged.

        Returns:
            The text without the credentials the client holds.
        """
        secret_values = getattr(self.auth, "secret_values", None)
        return scrub(text, secret_values()) if callable(secret_values) else text

    # -- internals -------------------------------------------------------------------------
    def _error(
        self, error_type: type[Exception], where: str, response: httpx.Response
    ) -> Exception:
        message = self.scrub(describe_response(response, where=where))
        status = response.status_code
        if issubclass(error_type, RetryableError):
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self.utcnow())
            if retry_after is not None:
                self.retry.check_wait(retry_after, where)  # raises RetryAfterTooLong
                if status == 429 and self.budget is not None:
                    self.budget.pause_for(retry_after)
            return error_type(
                message,
                response=response,
                retry_after=retry_after,
                maybe_processed=status >= 500,
            )
        if issubclass(error_type, AuthFailure | ConfigurationError):
            if issubclass(error_type, AuthFailure):
                message += " (the credentials were refused)"
            return error_type(message, response=response)
        return error_type(message)

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        log.info(
            "%s; retrying in %.1f s (attempt %d of %d)",
            exc,
            state.upcoming_sleep,
            state.attempt_number + 1,
            self.retry.max_attempts,
        )


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _RedactingFilter(logging.Filter):
    """Redacts URLs in httpx's ``HTTP Request: GET <url> ...`` INFO records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_url(a)
                if isinstance(a, httpx.URL) or (isinstance(a, str) and "://" in a)
                else a
                for a in record.args
            )
        return True


def _protect_httpx_log() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactingFilter) for f in logger.filters):
        logger.addFilter(_RedactingFilter())

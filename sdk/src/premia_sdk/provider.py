"""Base class of a reward vendor reached over HTTP, with orders that are never placed twice.

The core contract says submitting the same idempotency key twice never produces two orders.
Over HTTP the hard case is the ambiguous failure: the vendor created the order, then the
response was lost (a 502 from a proxy, a read timeout, a dropped connection). Sending the
request again may create a second order; giving up may lose one.

:meth:`HttpRewardProvider.idempotent_post` handles it:

1. it sends the order's key in an ``Idempotency-Key`` header (name configurable with
   :attr:`~HttpRewardProvider.idempotency_header`), for vendors that deduplicate on it;
2. after a failure that may have been processed (5xx, timeout after sending; not a 429 or a
   connection refused), it looks the order up by key with
   :meth:`~HttpRewardProvider.find_order` before trying again, and returns the order found;
3. unless :attr:`~HttpRewardProvider.lookup_before_post` is turned off, it also looks the key
   up before the first POST: a previous drain may have created the order and crashed before
   recording it, and only a look-up (or a vendor that deduplicates on the header) prevents a
   second order then.

Errors leave the provider's helpers as the core contract's errors, so the engine's outbox
knows what to do (:func:`provider_error`): retryable failures, quotas, refused credentials
and a 404 (a wrong URL or account: fixing the setting lets the order through) leave the
order pending (``ProviderError(retryable=True)``); a 400, 409, 410 or 422 (the vendor refuses
this very request) fails it (``retryable=False``), unless
:meth:`~HttpRewardProvider.refusal_reason` recognises a refusal (out of stock, not available),
which raises :class:`premia.RedemptionRefused`.

The client, retries and budget are those of :mod:`premia_sdk.http` (synchronous,
thread-safe).
"""

from __future__ import annotations

import logging
import typing
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel

import premia
from premia import OrderResult
from premia_sdk._plugin import HttpPluginMixin
from premia_sdk.errors import ConfigurationError, RetryableError
from premia_sdk.jsonexact import response_json

__all__ = ["HttpRewardProvider", "provider_error"]

log = logging.getLogger("premia_sdk.provider")

SettingsT = TypeVar("SettingsT", bound=BaseModel)

_REFUSED_STATUSES = frozenset({400, 409, 410, 422})


def provider_error(exc: Exception) -> premia.ProviderError | premia.RedemptionRefused:
    """Translate an SDK error into the reward contract's error.

    ``ProviderError`` and ``RedemptionRefused`` are returned unchanged. A
    :class:`~premia_sdk.ConfigurationError` with status 400, 409, 410 or 422 becomes a
    non-retryable ``ProviderError``; anything else (retryable errors, quotas, auth failures,
    404s and other setting problems) a retryable one, so the order waits in the outbox until
    the cause is fixed.

    Args:
        exc: the error.

    Returns:
        The error to raise.
    """
    if isinstance(exc, premia.ProviderError | premia.RedemptionRefused):
        return exc
    status = getattr(exc, "status_code", None)
    refused = isinstance(exc, ConfigurationError) and status in _REFUSED_STATUSES
    return premia.ProviderError(str(exc), retryable=not refused)


class HttpRewardProvider(HttpPluginMixin, premia.RewardProvider[SettingsT]):
    """Base class of a reward provider reached over HTTP.

    Implement the contract's :meth:`catalog`, :meth:`submit_order` and :meth:`order_status`
    with the helpers here; for orders implement :meth:`parse_order` and :meth:`find_order`
    and call :meth:`idempotent_post` from :meth:`submit_order`::

        def submit_order(self, order):
            body = {"sku": order.sku, "quantity": order.quantity, "reference": order.idempotency_key}
            return self.idempotent_post("/orders", body, order.idempotency_key)

    Override points for the connection are those of :class:`HttpSource`: :meth:`base_url`,
    :meth:`auth`, :meth:`rate_budget`, :meth:`retry_policy`, :meth:`build_client`.

    Args:
        settings: the validated settings.
        context: where the provider runs.
    """

    idempotency_header: ClassVar[str] = "Idempotency-Key"
    """The header that carries the order's idempotency key."""

    lookup_before_post: ClassVar[bool] = True
    """Look the key up before the first POST too. Turn off only for a vendor that
    deduplicates on :attr:`idempotency_header` (a re-sent key returns the existing order)."""

    # -- override points -------------------------------------------------------------------
    def parse_order(self, response: httpx.Response) -> OrderResult:
        """Read the order a successful POST created (or returned for a known key).

        Args:
            response: the vendor's 2xx response.

        Returns:
            The order.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement parse_order()")

    def find_order(self, idempotency_key: str) -> OrderResult | None:
        """Look up the order placed with ``idempotency_key``, if there is one.

        Use ``self.client()`` (its errors are the SDK's; a :class:`~premia_sdk.RetryableError`
        here is retried like the POST). A "not found" answer (an empty list, a 404) means
        ``None``.

        Args:
            idempotency_key: the key the order was submitted with.

        Returns:
            The order, or ``None`` when the vendor has none with this key.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement find_order(): without a look-up by key, "
            "an order whose response was lost could be placed twice"
        )

    def refusal_reason(self, response: httpx.Response) -> str | None:
        """Say whether a 4xx answer to an order means "this order will never be accepted".

        Return a reason (out of stock, not deliverable in the region, unknown SKU) to raise
        :class:`premia.RedemptionRefused` (the points are refunded), or ``None`` to let the
        status decide (see :func:`provider_error`). Default: ``None``.

        Args:
            response: the vendor's 4xx response.

        Returns:
            A reason for the participant, or ``None``.
        """
        return None

    # -- helpers ---------------------------------------------------------------------------
    @typing.final
    def idempotent_post(self, path: str, json: Any, idempotency_key: str) -> OrderResult:
        """POST an order so that it is created at most once, whatever fails in between.

        Args:
            path: the order endpoint, relative to the base URL.
            json: the order body.
            idempotency_key: the order's key (:attr:`premia.OrderRequest.idempotency_key`).

        Returns:
            The order created, or the one found with this key.

        Raises:
            premia.RedemptionRefused: :meth:`refusal_reason` recognised a refusal.
            premia.ProviderError: the order could not be placed; ``retryable`` says whether
                the outbox should try again (see :func:`provider_error`).
        """
        client = self.client()
        maybe_created = self.lookup_before_post
        retrying = client.retry.retrying(sleep=client.sleep, clock=client.clock)
        try:
            for attempt in retrying:
                with attempt:
                    if maybe_created:
                        found = self.find_order(idempotency_key)
                        if found is not None:
                            log.debug("order with key %s already exists", idempotency_key)
                            return found
                    try:
                        return self._post_once(path, json, idempotency_key)
                    except RetryableError as exc:
                        # look the key up before sending again if the order may exist
                        maybe_created = maybe_created or exc.maybe_processed
                        raise
        except RetryableError as exc:
            raise provider_error(exc) from exc
        except (premia.ProviderError, premia.RedemptionRefused):
            raise
        except premia.PremiaError as exc:
            raise provider_error(exc) from exc
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _post_once(self, path: str, json: Any, idempotency_key: str) -> OrderResult:
        client = self.client()
        try:
            response = client.send_once(
                "POST", path, json=json, headers={self.idempotency_header: idempotency_key}
            )
        except ConfigurationError as exc:
            reason = self.refusal_reason(exc.response) if exc.response is not None else None
            if reason:
                raise premia.RedemptionRefused(reason) from None
            raise
        return self.parse_order(response)

    @typing.final
    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request with retries (as :meth:`HttpClient.request`); errors as the contract's.

        Args:
            method: the HTTP method.
            path: absolute, or relative to the base URL.
            **kwargs: as for :meth:`HttpClient.request`.

        Returns:
            The response.

        Raises:
            premia.ProviderError: see :func:`provider_error`.
        """
        try:
            return self.client().request(method, path, **kwargs)
        except premia.PremiaError as exc:
            raise provider_error(exc) from exc

    @typing.final
    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request (as :meth:`request`) and return its exact JSON body.

        Args:
            method: the HTTP method.
            path: absolute, or relative to the base URL.
            **kwargs: as for :meth:`HttpClient.request`.

        Returns:
            The parsed body (non-integer numbers as ``Decimal``).

        Raises:
            premia.ProviderError: see :func:`provider_error`.
        """
        response = self.request(method, path, **kwargs)
        try:
            return response_json(response)
        except premia.PremiaError as exc:
            raise provider_error(exc) from exc

    def close(self) -> None:
        """Close the HTTP client."""
        self.close_client()

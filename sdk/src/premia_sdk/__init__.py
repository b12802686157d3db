"""Premia plugin SDK: the building blocks of KPI-source and reward-vendor plugins over HTTP.

Everything a plugin author may use is importable from here; the modules behind it are
listed for reference. The SDK is synchronous, on a thread-safe, connection-pooled
``httpx.Client``: streams run concurrently on threads sharing one client and one rate budget
per account (see :mod:`premia_sdk.http` for why).

* errors (:mod:`premia_sdk.errors`): :class:`RetryableError`, :class:`QuotaExhausted`,
  :class:`RetryAfterTooLong`, :class:`AuthFailure`, :class:`ConfigurationError`,
  :class:`BadRecordError`, :class:`PaginationLoopError`, :func:`classify`,
  :func:`redact_url`;
* exact JSON (:mod:`premia_sdk.jsonexact`): :func:`loads`, :func:`response_json`,
  :func:`get_path`;
* HTTP (:mod:`premia_sdk.http`, :mod:`premia_sdk.retry`, :mod:`premia_sdk.ratelimit`,
  :mod:`premia_sdk.auth`): :class:`HttpClient`, :class:`RetryPolicy`,
  :func:`parse_retry_after`, :class:`RateBudget`, :class:`RateLimitInfo`, :class:`Auth`,
  :class:`BearerToken`, :class:`ApiKey`, :class:`OAuth2ClientCredentials`,
  :class:`OAuth2RefreshToken`, :class:`JwtBearer`;
* pagination (:mod:`premia_sdk.pagination`): :class:`Paginator`, :class:`PageRequest`,
  :class:`NextUrlPaginator`, :class:`CursorPaginator`, :class:`OffsetPaginator`,
  :class:`SinglePagePaginator`, :func:`paginate`;
* incremental reads (:mod:`premia_sdk.cursors`): :class:`CompoundCursor`,
  :class:`IncrementalWindow`;
* base classes (:mod:`premia_sdk.source`, :mod:`premia_sdk.provider`): :class:`HttpStream`,
  :class:`HttpSource`, :class:`HttpRewardProvider`, :func:`provider_error`.
"""

from __future__ import annotations

from premia_sdk._version import __version__
from premia_sdk.auth import (
    ApiKey,
    Auth,
    BearerToken,
    JwtBearer,
    OAuth2ClientCredentials,
    OAuth2RefreshToken,
)
from premia_sdk.cursors import CompoundCursor, IncrementalWindow
from premia_sdk.errors import (
    AuthFailure,
    BadRecordError,
    ConfigurationError,
    PaginationLoopError,
    QuotaExhausted,
    RetryableError,
    RetryAfterTooLong,
    classify,
    redact_url,
)
from premia_sdk.http import HttpClient
from premia_sdk.jsonexact import get_path, loads, response_json
from premia_sdk.pagination import (
    CursorPaginator,
    NextUrlPaginator,
    OffsetPaginator,
    PageRequest,
    Paginator,
    SinglePagePaginator,
    paginate,
)
from premia_sdk.provider import HttpRewardProvider, provider_error
from premia_sdk.ratelimit import RateBudget, RateLimitInfo
from premia_sdk.retry import RetryPolicy, parse_retry_after
from premia_sdk.source import HttpSource, HttpStream

__all__ = [
    "ApiKey",
    "Auth",
    "AuthFailure",
    "BadRecordError",
    "BearerToken",
    "CompoundCursor",
    "ConfigurationError",
    "CursorPaginator",
    "HttpClient",
    "HttpRewardProvider",
    "HttpSource",
    "HttpStream",
    "IncrementalWindow",
    "JwtBearer",
    "NextUrlPaginator",
    "OAuth2ClientCredentials",
    "OAuth2RefreshToken",
    "OffsetPaginator",
    "PageRequest",
    "PaginationLoopError",
    "Paginator",
    "QuotaExhausted",
    "RateBudget",
    "RateLimitInfo",
    "RetryAfterTooLong",
    "RetryPolicy",
    "RetryableError",
    "SinglePagePaginator",
    "__version__",
    "classify",
    "get_path",
    "loads",
    "paginate",
    "parse_retry_after",
    "provider_error",
    "redact_url",
    "response_json",
]

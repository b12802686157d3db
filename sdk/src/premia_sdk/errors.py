"""The error taxonomy every HTTP plugin maps its failures to.

Each error subclasses the matching :mod:`premia` error, so the engine treats it the way the
core contract says without knowing the SDK:

* :class:`RetryableError` (a ``premia.SourceError``): transport error, timeout, 429, 5xx.
  :class:`~premia_sdk.HttpClient` retries it under its :class:`~premia_sdk.RetryPolicy`
  and raises the last one when the policy gives up.
* :class:`QuotaExhausted` (is ``premia.QuotaExhausted``): stop now; the engine keeps the
  cursor of the last stored batch and marks the run incomplete.
* :class:`RetryAfterTooLong` (a ``QuotaExhausted``): the server asked to wait longer than
  the policy's cap; stop at once, never sleep for hours.
* :class:`AuthFailure` (a ``premia.SourceError``): 401/403 that a token refresh did not
  cure, or a token endpoint refusing the credentials.
* :class:`ConfigurationError` (a ``premia.ConfigError``): a setting is wrong (400/404 and
  the other 4xx that sending again cannot fix).
* :class:`PaginationLoopError` (a ``premia.SourceError``): the API handed back a page token
  it had already given; reading would never end.
* :class:`BadRecordError` (a ``premia.PremiaError``): one record cannot become a fact; the
  base class quarantines it and goes on.

:func:`classify` maps a response's status code to one of these. Messages never contain a
secret: URLs are shown through :func:`redact_url`, headers are never shown, response
excerpts go through :func:`redact_text`, and :class:`~premia_sdk.HttpClient` removes the
values its auth scheme holds from every message (:func:`scrub`), since servers do echo
credentials back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import premia
from premia import QuotaExhausted

if TYPE_CHECKING:
    import httpx

__all__ = [
    "AuthFailure",
    "BadRecordError",
    "ConfigurationError",
    "PaginationLoopError",
    "QuotaExhausted",
    "RetryAfterTooLong",
    "RetryableError",
    "classify",
    "describe_response",
    "is_secret_name",
    "redact_text",
    "redact_url",
    "scrub",
]

REDACTED = "REDACTED"
"""What a secret is replaced with in messages and logs."""

_SECRET_PARTS = (
    "token",
    "key",
    "secret",
    "password",
    "passwd",
    "signature",
    "sig",
    "auth",
    "credential",
    "assertion",
    "session",
)
_SECRET_NAME = r"[A-Za-z0-9_.\-]*(?:" + "|".join(_SECRET_PARTS) + r")[A-Za-z0-9_.\-]*"
# key=value (query strings, form bodies) and "key": "value" (JSON) where the key names a secret.
_QUERY_SECRET = re.compile(rf"(?i)(?P<k>\b{_SECRET_NAME})=(?P<v>[^&\s\"'#]+)")
_JSON_SECRET = re.compile(rf"(?i)(?P<k>\"{_SECRET_NAME}\"\s*:\s*)\"(?P<v>(?:[^\"\\]|\\.)*)\"")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}")
_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://)[^/@\s]+@", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """Return True if a query, form or JSON field called ``name`` may hold a secret.

    The test is deliberately broad (any name containing ``token``, ``key``, ``secret``,
    ``password``, ``signature``, ``auth``, ``session``...): hiding a harmless value in an error
    message costs nothing, showing a secret costs a credential.

    Args:
        name: the field name.

    Returns:
        Whether values of that field are redacted.
    """
    lowered = name.lower()
    return any(part in lowered for part in _SECRET_PARTS)


def redact_url(url: object) -> str:
    """Return ``url`` as text fit for a message or a log line.

    Query parameters whose name may hold a secret (``access_token``, ``api_key``, ``token``,
    ``key``, ``secret``, ``password``, ``signature`` and the like) have their value replaced by
    ``REDACTED``, and a ``user:password@`` part is dropped.

    Args:
        url: a URL as text or an ``httpx.URL``.

    Returns:
        The redacted URL.
    """
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return redact_text(text)
    netloc = parts.netloc.rsplit("@", 1)[-1] if "@" in parts.netloc else parts.netloc
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, REDACTED if is_secret_name(k) else v) for k, v in pairs], safe="/:,")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_text(text: str) -> str:
    """Remove secret-looking values from free text (a response excerpt, an exception message).

    Replaces the values of ``name=value`` pairs and JSON ``"name": "value"`` members whose
    name may hold a secret, ``Bearer``/``Basic`` credentials and ``user:password@`` URL parts.

    Args:
        text: the text to clean.

    Returns:
        The text with secrets replaced by ``REDACTED``.
    """
    text = _USERINFO.sub(lambda m: m.group("scheme"), text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _JSON_SECRET.sub(lambda m: f'{m.group("k")}"{REDACTED}"', text)
    return _QUERY_SECRET.sub(lambda m: f"{m.group('k')}={REDACTED}", text)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of known secret values in ``text`` by ``REDACTED``.

    Servers echo credentials back more often than one would think ("invalid token abc...");
    the client scrubs the values its auth scheme holds from every message it builds.

    Args:
        text: the text to clean.
        secrets: the secret values (values shorter than 4 characters are ignored).

    Returns:
        The cleaned text.
    """
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


class _HttpDetails:
    """Mixin: the status code and response an HTTP error came from (never shown in messages)."""

    status_code: int | None
    response: httpx.Response | None

    def _set_http(self, status_code: int | None, response: httpx.Response | None) -> None:
        self.status_code = status_code if status_code is not None else _status(response)
        self.response = response


class RetryableError(_HttpDetails, premia.SourceError):
    """A failure that trying again later may cure: transport error, timeout, 429, 5xx.

    :class:`~premia_sdk.HttpClient` retries these under its :class:`~premia_sdk.RetryPolicy`
    and raises the last one when the policy gives up.

    Args:
        message: what failed (no secret).
        status_code: the HTTP status, when a response was received.
        response: the response, when one was received.
        retry_after: seconds the server asked to wait (``Retry-After``), when it did.
        maybe_processed: the server may have acted on the request before failing (a 5xx, a
            read timeout, a dropped connection after sending). False when the request surely
            never reached the application (connect error, 429). Reward providers look the
            order up before sending it again when this is True.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        response: httpx.Response | None = None,
        retry_after: float | None = None,
        maybe_processed: bool = True,
    ):
        super().__init__(message)
        self._set_http(status_code, response)
        self.retry_after = retry_after
        self.maybe_processed = maybe_processed


class AuthFailure(_HttpDetails, premia.SourceError):
    """The credentials were refused (401/403 after a token refresh, or by the token endpoint).

    Args:
        message: what was refused (no secret).
        status_code: the HTTP status, when a response was received.
        response: the response, when one was received.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        response: httpx.Response | None = None,
    ):
        super().__init__(message)
        self._set_http(status_code, response)


class ConfigurationError(_HttpDetails, premia.ConfigError):
    """A setting is wrong: a 400/404 (or another 4xx) that sending again cannot fix.

    Args:
        message: what is wrong and what was expected (no secret).
        status_code: the HTTP status, when a response was received.
        response: the response, when one was received.
        file: the file the problem is in, when there is one.
        location: the path inside the file, when known (e.g. ``sources[0].settings.region``).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        response: httpx.Response | None = None,
        file: str | None = None,
        location: str | None = None,
    ):
        super().__init__(message, file=file, location=location)
        self._set_http(status_code, response)


class RetryAfterTooLong(QuotaExhausted):
    """The server asked to wait longer than the retry policy allows: stop now, resume later.

    Args:
        wait: the wait the server asked for, in seconds.
        cap: the longest single wait allowed, in seconds.
        what: the request or limit concerned (redacted), for the message.
    """

    def __init__(self, wait: float, cap: float, what: str = ""):
        self.wait = wait
        self.cap = cap
        subject = f"{what}: " if what else ""
        super().__init__(
            f"{subject}the server asks to wait {_seconds(wait)} before trying again, more than "
            f"the {_seconds(cap)} allowed; stopping now, the next sync resumes from here"
        )


class PaginationLoopError(premia.SourceError):
    """The API returned a page token it had already returned: reading would loop forever.

    It is a :class:`premia.SourceError` (the stream cannot be read as the plugin reads it),
    not a configuration error: the user cannot fix it with a setting. It usually means the
    paginator reads the token from the wrong place, or the API ignores the token parameter.

    Args:
        token: the repeated token (shown redacted when it is a URL).
        pages: how many pages had been read.
    """

    def __init__(self, token: object, pages: int):
        self.token = token
        self.pages = pages
        shown = redact_url(token) if isinstance(token, str) and "://" in token else repr(token)
        super().__init__(
            f"pagination loop: page token {shown} was already returned (after {pages} pages); "
            "the API ignores the token or the paginator reads it from the wrong place"
        )


class BadRecordError(premia.PremiaError):
    """Raised by a record parser for a record that cannot become a fact.

    The base classes catch it, quarantine :attr:`record` as a :class:`premia.BadRecord` and go
    on with the next record.

    Args:
        record: the quarantine entry: where the record is, why it is refused, its id.
    """

    def __init__(self, record: premia.BadRecord):
        self.record = record
        super().__init__(f"{record.location}: {record.reason}")


def classify(response: httpx.Response) -> type[Exception] | None:
    """Map a response's status code to the error it means, or ``None`` for a success.

    ==============================  =======================================
    status                          error
    ==============================  =======================================
    1xx, 2xx, 3xx                   ``None``
    408, 425, 429                   :class:`RetryableError`
    500-599 except 501, 505         :class:`RetryableError`
    401, 403                        :class:`AuthFailure`
    other 4xx, 501, 505             :class:`ConfigurationError`
    ==============================  =======================================

    A plugin whose vendor uses statuses differently (e.g. a 403 that means a daily quota)
    passes its own classifier to :class:`~premia_sdk.HttpClient`, falling back to this one.

    Args:
        response: the response.

    Returns:
        The exception type to raise, or ``None``.
    """
    status = response.status_code
    if status < 400:
        return None
    if status in (408, 425, 429):
        return RetryableError
    if status in (401, 403):
        return AuthFailure
    if status >= 500 and status not in (501, 505):
        return RetryableError
    return ConfigurationError


def describe_response(
    response: httpx.Response, *, where: str | None = None, excerpt: int = 200
) -> str:
    """Describe a failed response for an error message, without secrets.

    Args:
        response: the response.
        where: the request as ``METHOD url``, already redacted; by default it is read from
            the response's request (which carries any credential an auth scheme added to
            the query string; redacted by name).
        excerpt: how many characters of the body to include (0 for none). The excerpt goes
            through :func:`redact_text`.

    Returns:
        E.g. ``GET https://api.example.com/v1/deals?api_key=REDACTED returned 404 Not Found:
        {"message": "no such pipeline"}``.
    """
    if where is None:
        try:
            request = response.request
            where = f"{request.method} {redact_url(request.url)}"
        except RuntimeError:
            where = "the request"
    text = f"{where} returned {response.status_code} {response.reason_phrase}".rstrip()
    if excerpt > 0:
        try:
            body = response.text
        except Exception:
            body = ""
        body = " ".join(body.split())
        if body:
            body = redact_text(body)
            text += f": {body[:excerpt]}" + ("..." if len(body) > excerpt else "")
    return text


def _status(response: httpx.Response | None) -> int | None:
    return response.status_code if response is not None else None


def _seconds(value: float) -> str:
    if value >= 3600:
        return f"{value:.0f} s ({value / 3600:.1f} h)"
    if value >= 120:
        return f"{value:.0f} s ({value / 60:.1f} min)"
    return f"{value:g} s"

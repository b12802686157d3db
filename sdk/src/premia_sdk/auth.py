"""Authentication: credentials applied to every request, tokens fetched and refreshed as needed.

Every scheme is an :class:`httpx.Auth`, so :class:`~premia_sdk.HttpClient` (or a bare
``httpx.Client``) applies it to each request it sends:

* :class:`BearerToken`: a static ``Authorization: Bearer ...`` header (private-app tokens).
* :class:`ApiKey`: a key in a header or in a query parameter.
* :class:`OAuth2ClientCredentials`: RFC 6749 section 4.4, token cached until it expires.
* :class:`OAuth2RefreshToken`: RFC 6749 section 6; a rotated refresh token returned by the
  token endpoint is handed to ``on_rotate`` at once, to be stored for the next run.
* :class:`JwtBearer`: RFC 7523 section 2.1, a signed JWT assertion exchanged for a token
  (e.g. Salesforce's server-to-server flow).

The token-based schemes share one flow (:class:`OAuth2Token`): a token is fetched on first
use and again shortly (``skew`` seconds) before ``expires_in`` runs out. A 401 means the token
expired early or was revoked: the token is refreshed once and the same request sent once
more; a second 401 is returned as is, and the client raises
:class:`~premia_sdk.AuthFailure`. Refreshing is serialised by a lock, so threads sharing the
client never refresh twice for the same expired token (a thread that waited for the lock uses
the token the other one fetched). The token request goes through the same ``httpx.Client``
(same connection pool, timeouts and test mocks) as part of the request's auth flow.

The SDK is synchronous (see :mod:`premia_sdk.http`): these schemes do not support
``httpx.AsyncClient``. Secrets are ``pydantic.SecretStr`` values and never appear in a
message, a log record or a ``repr``.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
import typing
import uuid
from abc import abstractmethod
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import Any, Literal
from urllib.parse import quote

import httpx
import jwt
from pydantic import SecretStr

from premia_sdk.errors import (
    AuthFailure,
    ConfigurationError,
    RetryableError,
    classify,
    redact_text,
    redact_url,
    scrub,
)
from premia_sdk.retry import parse_retry_after

__all__ = [
    "ApiKey",
    "Auth",
    "BearerToken",
    "JwtBearer",
    "OAuth2ClientCredentials",
    "OAuth2RefreshToken",
    "OAuth2Token",
]

log = logging.getLogger("premia_sdk.auth")

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
"""The RFC 7523 grant type."""

ClientAuthMethod = Literal["post", "basic"]
"""How a client authenticates to the token endpoint: form fields or HTTP Basic."""


def _secret(value: SecretStr | str) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr(value)


class Auth(httpx.Auth):
    """Base of the SDK's authentication schemes: adds credentials to each request.

    Subclasses implement :meth:`apply`; token-based schemes derive from :class:`OAuth2Token`
    instead.
    """

    def apply(self, request: httpx.Request) -> None:
        """Add the credentials to ``request`` (headers or query parameters), in place.

        Args:
            request: the request about to be sent.
        """
        raise NotImplementedError

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Apply the credentials and send the request (httpx calls this)."""
        self.apply(request)
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Not supported: the SDK is synchronous (use :class:`~premia_sdk.HttpClient`).

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError("premia_sdk auth is synchronous; use httpx.Client")
        yield request  # pragma: no cover - makes this an async generator

    def __repr__(self) -> str:
        return f"{type(self).__name__}(...)"


class BearerToken(Auth):
    """A static bearer token: ``Authorization: Bearer <token>``.

    Args:
        token: the token.
    """

    def __init__(self, token: SecretStr | str):
        self.token = _secret(token)

    def secret_values(self) -> list[str]:
        """Return the token."""
        return [self.token.get_secret_value()]

    def apply(self, request: httpx.Request) -> None:
        """Set the ``Authorization`` header."""
        request.headers["Authorization"] = f"Bearer {self.token.get_secret_value()}"


class ApiKey(Auth):
    """An API key sent in a header or in a query parameter (exactly one of the two).

    Prefer a header: query strings end up in proxies' and servers' access logs. Error
    messages and SDK logs redact it either way.

    Args:
        value: the key.
        header: the header to send it in, e.g. ``X-API-Key``.
        query_param: the query parameter to send it in, e.g. ``api_key``.
        prefix: text put before the key in the header, e.g. ``"Token "``.

    Raises:
        ValueError: neither or both of ``header`` and ``query_param`` were given.
    """

    def __init__(
        self,
        value: SecretStr | str,
        *,
        header: str | None = None,
        query_param: str | None = None,
        prefix: str = "",
    ):
        if (header is None) == (query_param is None):
            raise ValueError("ApiKey needs exactly one of header= or query_param=")
        self.value = _secret(value)
        self.header = header
        self.query_param = query_param
        self.prefix = prefix

    def secret_values(self) -> list[str]:
        """Return the key."""
        return [self.value.get_secret_value()]

    def apply(self, request: httpx.Request) -> None:
        """Set the header or add the query parameter."""
        key = self.value.get_secret_value()
        if self.header is not None:
            request.headers[self.header] = f"{self.prefix}{key}"
        else:
            assert self.query_param is not None
            request.url = request.url.copy_merge_params({self.query_param: key})


class OAuth2Token(Auth):
    """Base of token-endpoint schemes: fetch, cache, refresh on expiry or on a 401.

    A subclass says what to post to the token endpoint (:meth:`token_form`) and may look at
    the token response (:meth:`on_token_response`). The flow itself is final.

    Args:
        token_url: the token endpoint (absolute URL).
        client_auth: ``"post"`` sends ``client_id``/``client_secret`` as form fields
            (what most CRM vendors document), ``"basic"`` as HTTP Basic (RFC 6749 section
            2.3.1). Schemes without a client secret ignore it.
        skew: refresh this many seconds before the token's ``expires_in`` runs out.
        clock: monotonic clock in seconds (tests pass a fake).
    """

    def __init__(
        self,
        token_url: str,
        *,
        client_auth: ClientAuthMethod = "post",
        skew: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.token_url = token_url
        self.client_auth = client_auth
        self.skew = skew
        self._clock = clock
        self._lock = threading.Lock()
        self._token: SecretStr | None = None
        self._expires_at: float | None = None
        self._generation = 0
        self.fetches = 0
        """How many tokens were fetched (for tests and diagnostics)."""

    # -- override points -------------------------------------------------------------------
    @abstractmethod
    def token_form(self) -> dict[str, str]:
        """Return the form fields of a token request (``grant_type`` and its parameters)."""

    def client_credentials(self) -> tuple[str, SecretStr] | None:
        """Return ``(client_id, client_secret)`` to authenticate with, or ``None``."""
        return None

    def secret_values(self) -> list[str]:
        """Return the current access token and the credentials used to get one."""
        values = [t.get_secret_value() for t in (self._token,) if t is not None]
        credentials = self.client_credentials()
        if credentials is not None:
            values.append(credentials[1].get_secret_value())
        return values + [s.get_secret_value() for s in self.grant_secrets()]

    def grant_secrets(self) -> list[SecretStr]:
        """Return the grant's own secrets (a refresh token, a private key), for scrubbing."""
        return []

    def on_token_response(self, payload: Mapping[str, Any]) -> None:
        """Look at a successful token response (e.g. a rotated refresh token).

        Called under the refresh lock, before the new access token is used.

        Args:
            payload: the parsed JSON of the token response.
        """

    # -- the flow --------------------------------------------------------------------------
    @typing.final
    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Send ``request`` with a valid token; on a 401 refresh once and send it once more."""
        request.read()  # buffer the body so the request can be sent a second time
        token, generation = yield from self._valid_token(request, stale=None)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        log.debug("%s: 401, refreshing the access token once", redact_url(request.url))
        token, _ = yield from self._valid_token(request, stale=generation)
        request.headers["Authorization"] = f"Bearer {token}"
        yield request

    @typing.final
    def invalidate(self) -> None:
        """Forget the cached token: the next request fetches a new one."""
        with self._lock:
            self._token = None
            self._expires_at = None

    def _fresh(self) -> bool:
        if self._token is None:
            return False
        return self._expires_at is None or self._clock() < self._expires_at - self.skew

    def _valid_token(
        self, request: httpx.Request, stale: int | None
    ) -> Generator[httpx.Request, httpx.Response, tuple[str, int]]:
        with self._lock:
            usable = self._fresh() if stale is None else self._generation != stale
            if not usable or self._token is None:
                token_request = self._token_request(request)
                response = yield token_request
                response.read()
                self._accept(response)
            assert self._token is not None
            return self._token.get_secret_value(), self._generation

    def _token_request(self, request: httpx.Request) -> httpx.Request:
        form = self.token_form()
        headers = {"Accept": "application/json"}
        if "User-Agent" in request.headers:
            headers["User-Agent"] = request.headers["User-Agent"]
        credentials = self.client_credentials()
        if credentials is not None:
            client_id, client_secret = credentials
            if self.client_auth == "basic":
                pair = f"{quote(client_id, safe='')}:{quote(client_secret.get_secret_value(), safe='')}"
                headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
            else:
                form["client_id"] = client_id
                form["client_secret"] = client_secret.get_secret_value()
        return httpx.Request("POST", self.token_url, data=form, headers=headers)

    def _accept(self, response: httpx.Response) -> None:
        where = f"token endpoint {redact_url(self.token_url)}"
        status = response.status_code
        if status >= 400:
            error_type = classify(response)
            if error_type is RetryableError:
                raise RetryableError(
                    f"{where} returned {status} {response.reason_phrase}",
                    response=response,
                    retry_after=parse_retry_after(response.headers.get("Retry-After")),
                )
            detail = scrub(_oauth_error(response), self.secret_values())
            raise AuthFailure(
                f"{where} refused the credentials: {status} {response.reason_phrase}{detail}",
                response=response,
            )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("access_token"), str):
            raise AuthFailure(
                f"{where} answered {status} without an access_token", response=response
            )
        self.on_token_response(payload)
        self._token = SecretStr(payload["access_token"])
        expires_in = _number(payload.get("expires_in"))
        self._expires_at = self._clock() + expires_in if expires_in is not None else None
        self._generation += 1
        self.fetches += 1
        log.debug(
            "fetched an access token from %s (expires in %s)",
            redact_url(self.token_url),
            f"{expires_in:g} s" if expires_in is not None else "an unknown time",
        )


class OAuth2ClientCredentials(OAuth2Token):
    """OAuth 2.0 client credentials grant (RFC 6749 section 4.4).

    Args:
        token_url: the token endpoint.
        client_id: the client id.
        client_secret: the client secret.
        scope: space-separated scopes to ask for, if any.
        client_auth: ``"post"`` (form fields) or ``"basic"`` (HTTP Basic).
        extra: other form fields the vendor wants (e.g. ``audience``).
        skew: refresh this many seconds before expiry.
        clock: monotonic clock in seconds.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: SecretStr | str,
        scope: str | None = None,
        *,
        client_auth: ClientAuthMethod = "post",
        extra: Mapping[str, str] | None = None,
        skew: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        super().__init__(token_url, client_auth=client_auth, skew=skew, clock=clock)
        self.client_id = client_id
        self.client_secret = _secret(client_secret)
        self.scope = scope
        self.extra = dict(extra or {})

    def token_form(self) -> dict[str, str]:
        """Return ``grant_type=client_credials`` with the scope and extra fields."""
        form = {"grant_type": "client_credentials", **self.extra}
        if self.scope:
            form["scope"] = self.scope
        return form

    def client_credentials(self) -> tuple[str, SecretStr]:
        """Return the client id and secret."""
        return self.client_id, self.client_secret


class OAuth2RefreshToken(OAuth2Token):
    """OAuth 2.0 refresh token grant (RFC 6749 section 6), with refresh token rotation.

    Vendors that rotate refresh tokens return a new ``refresh_token`` with each access token
    and invalidate the old one. The new one is handed to ``on_rotate`` immediately (under the
    refresh lock, before the access token is used) so the plugin can store it (e.g. in the
    provider's state folder or a secret store); it is also used for the next refresh. If
    ``on_rotate`` raises, the request fails with that error.

    Args:
        token_url: the token endpoint.
        client_id: the client id.
        client_secret: the client secret.
        refresh_token: the current refresh token.
        on_rotate: receives a new refresh token when the endpoint returns one.
        scope: space-separated scopes to ask for, if any.
        client_auth: ``"post"`` (form fields) or ``"basic"`` (HTTP Basic).
        skew: refresh this many seconds before expiry.
        clock: monotonic clock in seconds.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: SecretStr | str,
        refresh_token: SecretStr | str,
        on_rotate: Callable[[str], None] | None = None,
        *,
        scope: str | None = None,
        client_auth: ClientAuthMethod = "post",
        skew: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        super().__init__(token_url, client_auth=client_auth, skew=skew, clock=clock)
        self.client_id = client_id
        self.client_secret = _secret(client_secret)
        self.refresh_token = _secret(refresh_token)
        self.on_rotate = on_rotate
        self.scope = scope

    def token_form(self) -> dict[str, str]:
        """Return ``grant_type=refresh_token`` with the current refresh token."""
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.refresh_token.get_secret_value(),
        }
        if self.scope:
            form["scope"] = self.scope
        return form

    def client_credentials(self) -> tuple[str, SecretStr]:
        """Return the client id and secret."""
        return self.client_id, self.client_secret

    def grant_secrets(self) -> list[SecretStr]:
        """Return the refresh token."""
        return [self.refresh_token]

    def on_token_response(self, payload: Mapping[str, Any]) -> None:
        """Keep a rotated refresh token and hand it to ``on_rotate``."""
        new = payload.get("refresh_token")
        if isinstance(new, str) and new and new != self.refresh_token.get_secret_value():
            self.refresh_token = SecretStr(new)
            log.info("the token endpoint rotated the refresh token; storing the new one")
            if self.on_rotate is not None:
                self.on_rotate(new)


class JwtBearer(OAuth2Token):
    """JWT bearer grant (RFC 7523 section 2.1): a signed assertion exchanged for a token.

    Each token request signs a fresh JWT with ``iss``, ``sub``, ``aud``, ``iat``, ``exp``
    (``iat + lifetime``) and a random ``jti``, and posts
    ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<jwt>``.

    Args:
        token_url: the token endpoint.
        issuer: ``iss``, usually the client id (Salesforce: the connected app's consumer key).
        subject: ``sub``, the user the token acts for.
        audience: ``aud``, the authorization server (e.g. ``https://login.salesforce.com``).
        private_key: the PEM private key that signs the assertion.
        algorithm: the JWS algorithm, ``RS256`` by default.
        lifetime: seconds the assertion is valid (keep it short; Salesforce allows 3 min).
        scope: space-separated scopes, if the server takes them.
        key_id: a ``kid`` header, if the server needs one to pick the key.
        skew: refresh this many seconds before the access token's expiry.
        clock: monotonic clock in seconds (token expiry).
        wall_clock: Unix time in seconds (the assertion's ``iat``/``exp``).
    """

    def __init__(
        self,
        token_url: str,
        issuer: str,
        subject: str,
        audience: str,
        private_key: SecretStr | str,
        algorithm: str = "RS256",
        lifetime: float = 180.0,
        *,
        scope: str | None = None,
        key_id: str | None = None,
        skew: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ):
        super().__init__(token_url, skew=skew, clock=clock)
        self.issuer = issuer
        self.subject = subject
        self.audience = audience
        self.private_key = _secret(private_key)
        self.algorithm = algorithm
        self.lifetime = lifetime
        self.scope = scope
        self.key_id = key_id
        self._wall_clock = wall_clock

    def assertion(self) -> str:
        """Sign and return a new JWT assertion.

        Returns:
            The compact JWS.

        Raises:
            ConfigurationError: the private key cannot sign with :attr:`algorithm` (the
                message never shows the key).
        """
        now = int(self._wall_clock())
        claims = {
            "iss": self.issuer,
            "sub": self.subject,
            "aud": self.audience,
            "iat": now,
            "exp": now + int(self.lifetime),
            "jti": uuid.uuid4().hex,
        }
        headers = {"kid": self.key_id} if self.key_id else None
        try:
            return jwt.encode(
                claims,
                self.private_key.get_secret_value(),
                algorithm=self.algorithm,
                headers=headers,
            )
        except Exception as exc:
            raise ConfigurationError(
                f"the private key cannot sign a JWT with {self.algorithm} "
                f"({type(exc).__name__}); expected a PEM private key matching the algorithm"
            ) from None

    def grant_secrets(self) -> list[SecretStr]:
        """Return the private key."""
        return [self.private_key]

    def token_form(self) -> dict[str, str]:
        """Return the RFC 7523 grant with a freshly signed assertion."""
        form = {"grant_type": JWT_BEARER_GRANT, "assertion": self.assertion()}
        if self.scope:
            form["scope"] = self.scope
        return form


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _oauth_error(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return ""
    if not isinstance(payload, dict):
        return ""
    parts = [str(payload[k]) for k in ("error", "error_description") if payload.get(k)]
    return f" ({redact_text(': '.join(parts))[:200]})" if parts else ""

"""Auth schemes: static credentials, OAuth2 grants, JWT bearer, refresh on 401, rotation."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
import respx
from pydantic import SecretStr

from premia_sdk import (
    ApiKey,
    AuthFailure,
    BearerToken,
    ConfigurationError,
    HttpClient,
    JwtBearer,
    OAuth2ClientCredentials,
    OAuth2RefreshToken,
    RetryPolicy,
)

BASE_URL = "https://api.example.test"
TOKEN_URL = "https://login.example.test/oauth2/token"


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


class TokenServer:
    """A token endpoint handing out at-1, at-2, ... (and rotating refresh tokens if asked)."""

    def __init__(self, expires_in: int | None = 3600, rotate: bool = False):
        self.issued = 0
        self.expires_in = expires_in
        self.rotate = rotate
        self.forms: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.issued += 1
        self.forms.append(form(request))
        body: dict[str, Any] = {"access_token": f"at-{self.issued}", "token_type": "Bearer"}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        if self.rotate:
            body["refresh_token"] = f"rt-{self.issued + 1}"
        return httpx.Response(200, json=body)


def bearer(request: httpx.Request) -> str:
    return str(request.headers.get("Authorization", ""))


@respx.mock
def test_bearer_token(make_client: Callable[..., HttpClient]) -> None:
    route = respx.get(f"{BASE_URL}/me").mock(return_value=httpx.Response(200))
    make_client(auth=BearerToken(SecretStr("tok-123"))).request("GET", "/me")
    assert bearer(route.calls.last.request) == "Bearer tok-123"


@respx.mock
def test_api_key_in_header_and_in_query(make_client: Callable[..., HttpClient]) -> None:
    route = respx.get(f"{BASE_URL}/me").mock(return_value=httpx.Response(200))
    make_client(auth=ApiKey("k-1", header="X-API-Key")).request("GET", "/me")
    assert route.calls.last.request.headers["X-API-Key"] == "k-1"
    make_client(auth=ApiKey("k-2", query_param="api_key")).request("GET", "/me", params={"a": 1})
    assert route.calls.last.request.url.params["api_key"] == "k-2"
    assert route.calls.last.request.url.params["a"] == "1"
    with pytest.raises(ValueError, match="exactly one"):
        ApiKey("k")


@respx.mock
def test_static_token_refused_is_an_auth_failure(make_client: Callable[..., HttpClient]) -> None:
    respx.get(f"{BASE_URL}/me").mock(return_value=httpx.Response(401))
    with pytest.raises(AuthFailure, match="401 Unauthorized"):
        make_client(auth=BearerToken("tok")).request("GET", "/me")


@respx.mock
def test_client_credentials_token_is_cached_until_expiry(
    make_client: Callable[..., HttpClient], fake_time: Any
) -> None:
    server = TokenServer(expires_in=3600)
    respx.post(TOKEN_URL).mock(side_effect=server)
    api = respx.get(f"{BASE_URL}/deals").mock(return_value=httpx.Response(200))
    auth = OAuth2ClientCredentials(
        TOKEN_URL, "client-1", SecretStr("s3cret"), scope="crm.read", clock=fake_time.monotonic
    )
    client = make_client(auth=auth)
    for _ in range(3):
        client.request("GET", "/deals")
    assert server.issued == 1
    assert [bearer(c.request) for c in api.calls] == ["Bearer at-1"] * 3
    assert server.forms[0] == {
        "grant_type": "client_credentials",
        "scope": "crm.read",
        "client_id": "client-1",
        "client_secret": "s3cret",
    }
    fake_time.advance(3600 - 31)  # still 31 s left: more than the 30 s skew
    client.request("GET", "/deals")
    assert server.issued == 1
    fake_time.advance(2)  # 29 s left: refresh ahead of expiry
    client.request("GET", "/deals")
    assert server.issued == 2
    assert bearer(api.calls.last.request) == "Bearer at-2"


@respx.mock
def test_client_credentials_with_basic_auth(make_client: Callable[..., HttpClient]) -> None:
    token = respx.post(TOKEN_URL).mock(side_effect=TokenServer())
    respx.get(f"{BASE_URL}/deals").mock(return_value=httpx.Response(200))
    auth = OAuth2ClientCredentials(TOKEN_URL, "id:1", "p@ss", client_auth="basic")
    make_client(auth=auth).request("GET", "/deals")
    sent = token.calls.last.request
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(b"id%3A1:p%40ss").decode()
    assert "client_secret" not in form(sent)


@respx.mock
def test_401_refreshes_once_and_retries_the_request_once(
    make_client: Callable[..., HttpClient], fake_time: Any
) -> None:
    server = TokenServer(expires_in=None)  # e.g. Salesforce: no expires_in
    respx.post(TOKEN_URL).mock(side_effect=server)
    api = respx.get(f"{BASE_URL}/deals").mock(
        side_effect=[httpx.Response(200), httpx.Response(401), httpx.Response(200, json=[1])]
    )
    client = make_client(auth=OAuth2ClientCredentials(TOKEN_URL, "c", "s"))
    client.request("GET", "/deals")
    assert client.get_json("/deals") == [1]
    assert server.issued == 2
    assert [bearer(c.request) for c in api.calls] == ["Bearer at-1", "Bearer at-1", "Bearer at-2"]
    assert fake_time.sleeps == []  # a refresh is not a retry


@respx.mock
def test_401_twice_is_an_auth_failure(make_client: Callable[..., HttpClient]) -> None:
    server = TokenServer()
    respx.post(TOKEN_URL).mock(side_effect=server)
    api = respx.get(f"{BASE_URL}/deals").mock(return_value=httpx.Response(401))
    with pytest.raises(AuthFailure, match="401"):
        make_client(auth=OAuth2ClientCredentials(TOKEN_URL, "c", "s")).request("GET", "/deals")
    assert api.call_count == 2
    assert server.issued == 2


@respx.mock
def test_refresh_token_rotation_hands_the_new_token_to_on_rotate(
    make_client: Callable[..., HttpClient],
) -> None:
    server = TokenServer(rotate=True)
    respx.post(TOKEN_URL).mock(side_effect=server)
    respx.get(f"{BASE_URL}/deals").mock(
        side_effect=[httpx.Response(200), httpx.Response(401), httpx.Response(200)]
    )
    stored: list[str] = []
    auth = OAuth2RefreshToken(TOKEN_URL, "c", "s", SecretStr("rt-1"), on_rotate=stored.append)
    client = make_client(auth=auth)
    client.request("GET", "/deals")
    assert stored == ["rt-2"]
    client.request("GET", "/deals")  # 401: refreshes with the rotated token
    assert stored == ["rt-2", "rt-3"]
    assert [f["refresh_token"] for f in server.forms] == ["rt-1", "rt-2"]
    assert server.forms[0]["grant_type"] == "refresh_token"


@respx.mock
def test_token_endpoint_refusal_is_an_auth_failure_without_secrets(
    make_client: Callable[..., HttpClient],
) -> None:
    respx.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            400, json={"error": "invalid_grant", "error_description": "expired refresh token"}
        )
    )
    auth = OAuth2RefreshToken(TOKEN_URL, "c", "client-secret-xyz", "refresh-abc", lambda _: None)
    with pytest.raises(AuthFailure) as info:
        make_client(auth=auth).request("GET", "/deals")
    message = str(info.value)
    assert "invalid_grant: expired refresh token" in message
    assert "client-secret-xyz" not in message
    assert "refresh-abc" not in message


@respx.mock
def test_token_endpoint_5xx_is_retried(
    make_client: Callable[..., HttpClient], fake_time: Any
) -> None:
    server = TokenServer()
    respx.post(TOKEN_URL).mock(
        side_effect=[httpx.Response(503), server(httpx.Request("POST", TOKEN_URL))]
    )
    respx.get(f"{BASE_URL}/deals").mock(return_value=httpx.Response(200))
    make_client(auth=OAuth2ClientCredentials(TOKEN_URL, "c", "s")).request("GET", "/deals")
    assert fake_time.sleeps == [0.5]


@respx.mock
def test_concurrent_requests_fetch_one_token(make_client: Callable[..., HttpClient]) -> None:
    server = TokenServer()
    respx.post(TOKEN_URL).mock(side_effect=server)
    respx.get(f"{BASE_URL}/deals").mock(return_value=httpx.Response(200))
    client = make_client(auth=OAuth2ClientCredentials(TOKEN_URL, "c", "s"))
    barrier = threading.Barrier(8)

    def call() -> None:
        barrier.wait()
        client.request("GET", "/deals")

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.issued == 1


@respx.mock
def test_jwt_bearer_assertion(
    make_client: Callable[..., HttpClient], fake_time: Any, rsa_keys: tuple[str, str]
) -> None:
    private, public = rsa_keys
    token = respx.post(TOKEN_URL).mock(side_effect=TokenServer())
    respx.get(f"{BASE_URL}/deals").mock(return_value=httpx.Response(200))
    auth = JwtBearer(
        TOKEN_URL,
        issuer="consumer-key",
        subject="integration@example.com",
        audience="https://login.example.test",
        private_key=SecretStr(private),
        wall_clock=fake_time.wall,
    )
    make_client(auth=auth).request("GET", "/deals")
    sent = form(token.calls.last.request)
    assert sent["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(
        sent["assertion"],
        public,
        algorithms=["RS256"],
        audience="https://login.example.test",
        options={"verify_exp": False},
    )
    now = int(fake_time.wall())
    assert claims["iss"] == "consumer-key"
    assert claims["sub"] == "integration@example.com"
    assert claims["aud"] == "https://login.example.test"
    assert claims["iat"] == now
    assert claims["exp"] == now + 180
    assert len(claims["jti"]) == 32


def test_jwt_bearer_with_a_bad_key_is_a_configuration_error() -> None:
    auth = JwtBearer(TOKEN_URL, "i", "s", "a", private_key="-----BEGIN NOT A KEY-----")
    with pytest.raises(ConfigurationError, match="PEM private key") as info:
        auth.assertion()
    assert "NOT A KEY" not in str(info.value)


def test_auth_reprs_show_no_secret() -> None:
    for auth in (
        BearerToken("tok-zzz"),
        ApiKey("tok-zzz", header="X"),
        OAuth2ClientCredentials(TOKEN_URL, "c", "tok-zzz"),
    ):
        assert "tok-zzz" not in repr(auth)
        assert "tok-zzz" not in str(vars(auth))


@respx.mock
def test_token_fetch_respects_the_retry_policy_cap(
    make_client: Callable[..., HttpClient], fake_time: Any
) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(500))
    with pytest.raises(Exception, match="token endpoint"):
        make_client(
            auth=OAuth2ClientCredentials(TOKEN_URL, "c", "s"),
            retry=RetryPolicy(max_attempts=2, jitter=0),
        ).request("GET", "/deals")
    assert fake_time.sleeps == [0.5]

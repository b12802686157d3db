"""No secret in any error message or log record, whatever fails."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from premia_sdk import (
    ApiKey,
    BearerToken,
    HttpClient,
    JwtBearer,
    OAuth2ClientCredentials,
    OAuth2RefreshToken,
    RetryPolicy,
)

BASE_URL = "https://api.example.test"
TOKEN_URL = "https://login.example.test/token"
SECRETS = [
    "bearer-SECRET-1",
    "apikey-SECRET-2",
    "client-SECRET-3",
    "refresh-SECRET-4",
    "access-SECRET-5",
    "query-SECRET-6",
]


def failures(make_client: Callable[..., HttpClient]) -> list[str]:
    """Provoke every kind of failure; return the error messages."""
    messages: list[str] = []
    one_retry = RetryPolicy(max_attempts=2, jitter=0)

    def attempt(client: HttpClient, url: str = "/deals") -> None:
        try:
            client.request("GET", url)
        except Exception as exc:
            messages.append(str(exc))
            messages.append(repr(exc))
            cause = exc.__cause__
            if cause is not None:
                messages.append(str(cause))

    respx.get(f"{BASE_URL}/deals").mock(
        return_value=httpx.Response(401, json={"message": "invalid token bearer-SECRET-1"})
    )
    respx.get(f"{BASE_URL}/boom").mock(
        return_value=httpx.Response(
            500, text='{"error": "oops", "access_token": "access-SECRET-5"}'
        )
    )
    respx.get(f"{BASE_URL}/down").mock(side_effect=httpx.ConnectError("refused"))
    attempt(make_client(auth=BearerToken(SecretStr("bearer-SECRET-1"))))
    attempt(
        make_client(auth=ApiKey("apikey-SECRET-2", query_param="api_key"), retry=one_retry), "/boom"
    )
    attempt(make_client(auth=ApiKey("apikey-SECRET-2", header="X-Key"), retry=one_retry), "/down")
    attempt(make_client(retry=one_retry), "/boom?token=query-SECRET-6&limit=5")

    respx.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            401,
            json={"error": "invalid_client", "error_description": "client_secret=client-SECRET-3"},
        )
    )
    attempt(make_client(auth=OAuth2ClientCredentials(TOKEN_URL, "c", "client-SECRET-3")))
    attempt(
        make_client(auth=OAuth2RefreshToken(TOKEN_URL, "c", "client-SECRET-3", "refresh-SECRET-4"))
    )
    attempt(make_client(auth=JwtBearer(TOKEN_URL, "i", "s", "a", "refresh-SECRET-4")))
    return messages


@respx.mock
def test_no_secret_in_errors_or_logs(
    make_client: Callable[..., HttpClient], caplog: pytest.LogCaptureFixture, fake_time: Any
) -> None:
    with caplog.at_level(logging.DEBUG):
        messages = failures(make_client)
    assert len(messages) >= 7 * 2
    logged = [r.getMessage() for r in caplog.records]
    assert any("HTTP Request:" in line for line in logged)  # httpx's own line is captured...
    assert any("api_key=REDACTED" in line for line in logged)  # ...and redacted
    for text in messages + logged:
        for secret in SECRETS:
            assert secret not in text, f"{secret} leaked in: {text}"

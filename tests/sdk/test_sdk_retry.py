"""HttpClient retries: what is retried, how long it waits, when it gives up. No real sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from premia_sdk import (
    ConfigurationError,
    HttpClient,
    RetryableError,
    RetryAfterTooLong,
    RetryPolicy,
    parse_retry_after,
)

BASE_URL = "https://api.example.test"
NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Wed, 01 Jan 2025 12:00:30 GMT", 30.0),
        ("Wed, 01 Jan 2025 11:59:00 GMT", 0.0),
        ("Wed, 01 Jan 2025 13:00:00 -0000", 3600.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@respx.mock
def test_429_503_and_transport_error_are_retried_with_backoff(
    make_client: Callable[..., HttpClient], fake_time: Any
) -> None:
    route = respx.get(f"{BASE_URL}/deals").mock(
        side_effect=[
            httpx.Response(429),
            httpx.Response(503),
            httpx.ConnectError("connection refused"),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    client = make_client()
    assert client.get_json("/deals") == {"ok": True}
    assert route.call_count == 4
    # base 0.5 s doubling, no jitter: 0.5, 1, 2
    assert fake_time.sleeps == [0.5, 1.0, 2.0]


@respx.mock
def test_retry_after_seconds_is_honoured(
    make_client: Callable[..., HttpClient], fake_time: Any
) -> None:
    respx.get(f"{BASE_URL}/deals").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200)]
    )
    make_client().request("GET", "/deals")
    assert fake_time.sleeps == [7.0]


@respx.mock
def test_retry_after_http_date_is_honoured(
    make_client: Callable[..., HttpClient], fake_time: Any
) -> None:
    # the fake wall clock reads 2025-01-01 12:00:00 UTC
    respx.get(f"{BASE_URL}/deals").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "Wed, 01 Jan 2025 12:00:42 GMT"}),
            httpx.Response(200),
        ]
    )
    make_client().request("GET", "/deals")
    assert fake_time.sleeps == [42.0]


@respx.mock
def test_retry_after_above_the_cap_fails_at_once_without_sleeping(
    make_client: Callable[..., HttpClient], fake_time: Any
) -> None:
    route = respx.get(f"{BASE_URL}/deals").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "86400"})
    )
    with pytest.raises(RetryAfterTooLong) as info:
        make_client().request("GET", "/deals")
    assert route.call_count == 1
    assert fake_time.sleeps == []
    assert info.value.wait == 86400.0
    assert "86400 s" in str(info.value)
    assert "GET https://api.example.test/deals" in str(info.value)


@respx.mock
def test_total_retry_time_is_capped(make_client: Callable[..., HttpClient], fake_time: Any) -> None:
    route = respx.get(f"{BASE_URL}/deals").mock(return_value=httpx.Response(502))
    policy = RetryPolicy(max_attempts=10, base_wait=2, max_wait=60, max_total=10, jitter=0)
    with pytest.raises(RetryableError, match="gave up after 3 attempts"):
        make_client(retry=policy).request("GET", "/deals")
    # waits 2 (elapsed 2), 4 (elapsed 6); the next wait of 8 would reach 14 > 10: stop
    assert fake_time.sleeps == [2.0, 4.0]
    assert route.call_count == 3


@respx.mock
def test_max_attempts(make_client: Callable[..., HttpClient], fake_time: Any) -> None:
    route = respx.get(f"{BASE_URL}/deals").mock(return_value=httpx.Response(500))
    with pytest.raises(RetryableError, match="500 Internal Server Error") as info:
        make_client().request("GET", "/deals")
    assert route.call_count == 5
    assert fake_time.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert info.value.status_code == 500
    assert "gave up after 5 attempts" in str(info.value)


@respx.mock
@pytest.mark.parametrize("status", [400, 404])
def test_client_errors_are_not_retried(
    make_client: Callable[..., HttpClient], fake_time: Any, status: int
) -> None:
    route = respx.get(f"{BASE_URL}/deals").mock(
        return_value=httpx.Response(status, json={"message": "no such pipeline"})
    )
    with pytest.raises(ConfigurationError, match="no such pipeline") as info:
        make_client().request("GET", "/deals")
    assert route.call_count == 1
    assert fake_time.sleeps == []
    assert info.value.status_code == status


@respx.mock
def test_timeouts_are_retried_and_reported(
    make_client: Callable[..., HttpClient], fake_time: Any
) -> None:
    respx.get(f"{BASE_URL}/deals").mock(side_effect=httpx.ReadTimeout("read timed out"))
    with pytest.raises(RetryableError, match="ReadTimeout") as info:
        make_client(retry=RetryPolicy(max_attempts=2, jitter=0)).request("GET", "/deals")
    assert info.value.maybe_processed is True
    assert fake_time.sleeps == [0.5]


@respx.mock
def test_user_agent_and_timeouts_are_set(make_client: Callable[..., HttpClient]) -> None:
    route = respx.get(f"{BASE_URL}/deals").mock(return_value=httpx.Response(200))
    client = make_client()
    client.request("GET", "/deals")
    agent = route.calls.last.request.headers["User-Agent"]
    assert agent.startswith("premia-test/1.2.3 premia-sdk/")
    timeout = client.http.timeout
    assert (timeout.connect, timeout.read) == (10.0, 30.0)


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=-1)

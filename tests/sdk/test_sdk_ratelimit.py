"""RateBudget: a sliding window shared across threads, adapting to rate-limit headers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest
import respx

from premia_sdk import HttpClient, RateBudget, RateLimitInfo, RetryAfterTooLong
from premia_sdk.ratelimit import standard_rate_limit_headers

BASE_URL = "https://api.example.test"


def budget(fake_time: Any, requests: int = 10, per: float = 1.0, **kw: Any) -> RateBudget:
    return RateBudget(
        requests, per, fake_time.monotonic, fake_time.sleep, wall_clock=fake_time.wall, **kw
    )


def test_the_eleventh_request_in_a_ten_per_second_window_waits(fake_time: Any) -> None:
    limiter = budget(fake_time)
    waits = [limiter.acquire() for _ in range(10)]
    assert waits == [0.0] * 10
    assert fake_time.sleeps == []
    assert limiter.acquire() == 1.0  # the window opened at t=0 frees its first slot at t=1
    assert fake_time.sleeps == [1.0]


def test_the_window_slides(fake_time: Any) -> None:
    limiter = budget(fake_time, requests=3, per=10.0)
    limiter.acquire()  # t=0
    fake_time.advance(4)
    limiter.acquire()  # t=4
    limiter.acquire()  # t=4
    fake_time.advance(2)  # t=6: the slot used at t=0 frees at t=10
    assert limiter.acquire() == 4.0
    assert limiter.acquire() == 4.0  # t=10: the next free slot is t=4+10=14
    assert fake_time.sleeps == [4.0, 4.0]


def test_shared_returns_one_instance_per_key() -> None:
    first = RateBudget.shared("hubspot:123", 100, 10)
    assert RateBudget.shared("hubspot:123", 100, 10) is first
    assert RateBudget.shared("hubspot:456", 100, 10) is not first
    assert first.name == "hubspot:123"


def test_shared_budget_bounds_all_threads(fake_time: Any) -> None:
    fake_time.advance_on_sleep = False  # every thread sees t=1000: a deterministic count
    barrier = threading.Barrier(20)
    found: list[RateBudget] = []
    waits: list[float] = []
    lock = threading.Lock()

    def stream() -> None:
        limiter = RateBudget.shared(
            "acct", 10, 1.0, clock=fake_time.monotonic, sleep=fake_time.sleep
        )
        barrier.wait()
        waited = limiter.acquire()
        with lock:
            found.append(limiter)
            waits.append(waited)

    threads = [threading.Thread(target=stream) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(b) for b in found}) == 1
    assert sorted(waits) == [0.0] * 10 + [1.0] * 10
    assert sorted(fake_time.sleeps) == [1.0] * 10


def test_remaining_zero_waits_for_the_reset(fake_time: Any) -> None:
    limiter = budget(fake_time, requests=100, per=1.0)
    info = limiter.update_from_headers({"RateLimit-Remaining": "0", "RateLimit-Reset": "5"})
    assert info == RateLimitInfo(remaining=0, reset_after=5.0)
    assert limiter.acquire() == 5.0
    assert limiter.acquire() == 0.0  # after the reset the server's allowance is back


def test_remaining_allowance_is_spent_before_waiting(fake_time: Any) -> None:
    limiter = budget(fake_time, requests=100, per=1.0)
    limiter.update_from_headers({"x-ratelimit-remaining": "2", "x-ratelimit-reset": "30"})
    assert [limiter.acquire(), limiter.acquire()] == [0.0, 0.0]
    # the allowance is spent: the third request waits for the server's reset
    assert limiter.acquire() == 30.0


def test_x_ratelimit_reset_as_unix_time(fake_time: Any) -> None:
    limiter = budget(fake_time, requests=100, per=1.0)
    reset_at = int(fake_time.wall()) + 12
    limiter.update_from_headers({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset_at)})
    assert limiter.acquire() == 12.0


def test_structured_ratelimit_field() -> None:
    assert standard_rate_limit_headers({"ratelimit": "limit=100, remaining=0, reset=7"}) == (
        RateLimitInfo(remaining=0, reset_after=7.0, limit=100)
    )
    assert standard_rate_limit_headers({"ratelimit": '"default";r=3;t=9'}) == RateLimitInfo(
        remaining=3, reset_after=9.0
    )
    assert standard_rate_limit_headers({"content-type": "application/json"}) is None


def test_a_vendor_parser_is_tried_first(fake_time: Any) -> None:
    def salesforce(headers: Mapping[str, str]) -> RateLimitInfo | None:
        # Sforce-Limit-Info: api-usage=4999/5000 (a rolling 24-hour allowance)
        value = headers.get("sforce-limit-info", "")
        if not value.startswith("api-usage="):
            return None
        used, limit = (int(x) for x in value.removeprefix("api-usage=").split("/"))
        return RateLimitInfo(remaining=limit - used, reset_after=86400.0, limit=limit)

    limiter = budget(fake_time, requests=100, per=1.0, header_parser=salesforce)
    limiter.update_from_headers({"Sforce-Limit-Info": "api-usage=4999/5000"})
    assert limiter.acquire() == 0.0  # one request left
    with pytest.raises(RetryAfterTooLong, match="86400 s"):
        limiter.acquire()  # none left: waiting a day is not an option
    assert fake_time.sleeps == []


def test_hubspot_style_parser(fake_time: Any) -> None:
    def hubspot(headers: Mapping[str, str]) -> RateLimitInfo | None:
        left = headers.get("x-hubspot-ratelimit-remaining")
        interval = headers.get("x-hubspot-ratelimit-interval-milliseconds")
        if left is None or interval is None:
            return None
        return RateLimitInfo(remaining=int(left), reset_after=int(interval) / 1000)

    limiter = budget(fake_time, requests=100, per=10.0, header_parser=hubspot)
    limiter.update_from_headers(
        {"X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}
    )
    assert limiter.acquire() == 10.0


@respx.mock
def test_client_draws_from_the_budget_and_reads_headers_back(
    make_client: Callable[..., HttpClient], fake_time: Any
) -> None:
    respx.get(f"{BASE_URL}/deals").mock(
        side_effect=[
            httpx.Response(200, headers={"RateLimit-Remaining": "0", "RateLimit-Reset": "3"}),
            httpx.Response(200),
        ]
    )
    limiter = budget(fake_time, requests=10, per=1.0)
    client = make_client(budget=limiter)
    client.request("GET", "/deals")
    client.request("GET", "/deals")
    assert fake_time.sleeps == [3.0]


@respx.mock
def test_a_429_holds_back_every_thread_of_the_budget(
    make_client: Callable[..., HttpClient], fake_time: Any
) -> None:
    respx.get(f"{BASE_URL}/deals").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "4"}), httpx.Response(200)]
    )
    limiter = budget(fake_time, requests=10, per=1.0)
    client = make_client(budget=limiter)
    client.request("GET", "/deals")
    assert fake_time.sleeps == [4.0]  # the retry waited; the budget's pause had passed by then
    fake_time.advance_on_sleep = False
    limiter.pause_for(2)
    assert limiter.acquire() == 2.0


def test_budget_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="requests"):
        RateBudget(0, 1)
    with pytest.raises(ValueError, match="per_seconds"):
        RateBudget(1, 0)

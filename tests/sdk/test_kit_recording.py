"""Recorded HTTP: cassette files served to httpx clients, strict about what they match."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from premia_sdk.testing import CassetteError, Recording, UnmatchedRequest

BASE = "https://api.acme.example"

CASSETTE: dict[str, Any] = {
    "version": 1,
    "base_url": BASE,
    "interactions": [
        {
            "name": "deals, first page",
            "request": {
                "method": "GET",
                "url": "/v1/deals?limit=2",
                "query": {"status": "won"},
                "headers": {"Authorization": "Bearer test-token"},
            },
            "response": {
                "status": 200,
                "headers": {"X-RateLimit-Remaining": "99"},
                "json": {"data": [{"id": "d-1"}, {"id": "d-2"}], "next": "c2"},
            },
        },
        {
            "name": "place an order",
            "request": {"method": "POST", "url": "/v1/orders", "json": {"sku": "GC-25"}},
            "response": {"status": 500, "text": "upstream timeout"},
            "times": 1,
        },
        {
            "request": {"method": "POST", "url": "/v1/orders", "json": {"sku": "GC-25"}},
            "response": {"status": 201, "json": {"id": "ord-1"}},
        },
    ],
}


@pytest.fixture
def write_cassette(tmp_path: Path) -> Callable[..., Path]:
    def write(data: Any, name: str = "cassette.json") -> Path:
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
        return path

    return write


@pytest.fixture
def recording(tmp_path: Path, write_cassette: Callable[..., Path]) -> Iterator[Recording]:
    write_cassette(CASSETTE)
    with Recording(base_dir=tmp_path).load("cassette.json") as started:
        yield started


def _deals(client: httpx.Client, **params: str) -> httpx.Response:
    headers = {"Authorization": "Bearer test-token"}
    return client.get(f"{BASE}/v1/deals", params=params, headers=headers)


def test_a_recorded_request_gets_its_response(recording: Recording) -> None:
    with httpx.Client() as client:
        response = _deals(client, status="won", limit="2")

    assert response.status_code == 200
    assert response.headers["X-RateLimit-Remaining"] == "99"
    assert response.json() == {"data": [{"id": "d-1"}, {"id": "d-2"}], "next": "c2"}
    assert [c.interaction for c in recording.calls] == ["cassette.json#0 deals, first page"]
    assert recording.requests("GET", "/v1/deals")[0].url.params["limit"] == "2"
    assert recording.problems() == []


def test_an_interaction_answers_any_number_of_times_by_default(recording: Recording) -> None:
    with httpx.Client() as client:
        for _ in range(3):
            assert _deals(client, limit="2", status="won").status_code == 200


@pytest.mark.parametrize(
    "params",
    [{"limit": "2"}, {"limit": "3", "status": "won"}, {"limit": "2", "status": "won", "x": "1"}],
    ids=["missing-param", "other-value", "extra-param"],
)
def test_the_query_must_match_exactly(recording: Recording, params: dict[str, str]) -> None:
    with httpx.Client() as client, pytest.raises(UnmatchedRequest) as unmatched:
        _deals(client, **params)

    message = str(unmatched.value)
    assert message.startswith("no recorded interaction matches GET https://api.acme.example")
    assert "recorded for the same method and path" in message
    assert "deals, first page" in message
    assert len(recording.unmatched) == 1


def test_required_headers_must_match(recording: Recording) -> None:
    with httpx.Client() as client, pytest.raises(UnmatchedRequest):
        client.get(
            f"{BASE}/v1/deals",
            params={"limit": "2", "status": "won"},
            headers={"Authorization": "Bearer wrong"},
        )


def test_the_host_of_the_base_url_must_match(recording: Recording) -> None:
    with httpx.Client() as client, pytest.raises(UnmatchedRequest):
        client.get("https://elsewhere.example/v1/deals?limit=2&status=won")


def test_an_unmatched_request_fails_verify_even_if_the_error_was_caught(
    recording: Recording,
) -> None:
    with httpx.Client() as client, contextlib.suppress(Exception):
        client.get(f"{BASE}/v1/accounts")  # the code under test swallows the error...

    with pytest.raises(pytest.fail.Exception) as failed:  # ...the test still fails
        recording.verify()
    assert "unmatched request: GET https://api.acme.example/v1/accounts" in str(failed.value)


def test_a_json_body_must_match_and_times_make_a_retry_story(recording: Recording) -> None:
    with httpx.Client(base_url=BASE) as client:
        first = client.post("/v1/orders", json={"sku": "GC-25"})
        retry = client.post("/v1/orders", json={"sku": "GC-25"})
        with pytest.raises(UnmatchedRequest):
            client.post("/v1/orders", json={"sku": "DINNER"})

    assert (first.status_code, first.text) == (500, "upstream timeout")
    assert (retry.status_code, retry.json()) == (201, {"id": "ord-1"})


def test_used_up_interactions_are_named_when_nothing_else_matches(
    tmp_path: Path, write_cassette: Callable[..., Path]
) -> None:
    write_cassette([{"request": {"url": "/ping"}, "response": {"text": "pong"}, "times": 1}])
    with Recording(base_dir=tmp_path).load("cassette.json"), httpx.Client() as client:
        assert client.get("http://any.example/ping").text == "pong"
        with pytest.raises(UnmatchedRequest, match="used up"):
            client.get("http://any.example/ping")


def test_later_cassettes_take_precedence(
    tmp_path: Path, write_cassette: Callable[..., Path]
) -> None:
    write_cassette([{"request": {"url": "/v1/deals"}, "response": {"json": []}}], "old.json")
    write_cassette(
        [{"request": {"url": "/v1/deals"}, "response": {"json": [{"id": "d-9"}]}}], "new.yaml"
    )
    recording = Recording(base_dir=tmp_path).load("old.json")
    with recording, httpx.Client() as client:
        assert client.get("http://x.example/v1/deals").json() == []
        recording.load("new.yaml")
        assert client.get("http://x.example/v1/deals").json() == [{"id": "d-9"}]
        recording.load("old.json", replace=True)
        assert client.get("http://x.example/v1/deals").json() == []


def test_yaml_cassettes_are_read(tmp_path: Path, write_cassette: Callable[..., Path]) -> None:
    write_cassette(
        """
        base_url: https://api.acme.example
        interactions:
          - request: {method: get, url: /v1/me, query: {verbose: true, page: 1}}
            response:
              status: 200
              json: {id: 7}
        """.replace("\n        ", "\n"),
        "cassette.yml",
    )
    with Recording(base_dir=tmp_path).load("cassette.yml"), httpx.Client() as client:
        response = client.get(f"{BASE}/v1/me?page=1&verbose=true")
    assert response.json() == {"id": 7}


def test_interactions_can_be_added_in_code_with_a_stateful_handler() -> None:
    orders: dict[str, str] = {}

    def vendor(request: httpx.Request) -> httpx.Response:
        key = request.headers["Idempotency-Key"]
        order_id = orders.setdefault(key, f"ord-{len(orders) + 1}")
        return httpx.Response(201, json={"id": order_id})

    recording = Recording().add("POST", "/v1/orders", handler=vendor, name="vendor")
    recording.add("GET", "https://api.acme.example/health", json={"ok": True}, times=1)
    with recording, httpx.Client() as client:
        ids = [
            client.post("http://v.example/v1/orders", headers={"Idempotency-Key": key}).json()
            for key in ("a", "a", "b")
        ]
        assert client.get(f"{BASE}/health").json() == {"ok": True}
    assert ids == [{"id": "ord-1"}, {"id": "ord-1"}, {"id": "ord-2"}]
    assert recording.unused() == []


def test_assert_all_used_reports_interactions_never_used(recording: Recording) -> None:
    recording.assert_all_used = True
    problems = recording.problems()
    assert len(problems) == 3
    assert problems[0].startswith("recorded interaction never used: GET /v1/deals?limit=2")


async def _async_get(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(url)


def test_async_clients_are_served_too(tmp_path: Path, write_cassette: Callable[..., Path]) -> None:
    import asyncio

    write_cassette([{"request": {"url": "/ping"}, "response": {"text": "pong"}}])
    with Recording(base_dir=tmp_path).load("cassette.json"):
        response = asyncio.run(_async_get("http://any.example/ping"))
    assert response.text == "pong"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "cannot read the cassette"),
        ("{not json", "not valid JSON"),
        ({"interactions": [{"request": {"url": "v1/deals"}}]}, "interactions.0.request.url"),
        ({"interactions": [{"request": {"url": "/x"}, "response": {"status": 999}}]}, "status"),
        ({"version": 2, "interactions": []}, "version"),
        (
            {"interactions": [{"request": {"url": "/x"}, "response": {"json": 1, "text": "a"}}]},
            "not both",
        ),
    ],
    ids=["missing", "bad-json", "relative-url", "bad-status", "bad-version", "two-bodies"],
)
def test_a_bad_cassette_is_named_with_what_is_wrong(
    tmp_path: Path, write_cassette: Callable[..., Path], content: Any, says: str
) -> None:
    if content is not None:
        write_cassette(content)
    with pytest.raises(CassetteError) as error:
        Recording(base_dir=tmp_path).load("cassette.json")
    assert str(tmp_path / "cassette.json") in str(error.value)
    assert says in str(error.value)

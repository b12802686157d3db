"""Paginators stop on the API's own end signal and refuse to loop."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

import premia
from premia_sdk import (
    CursorPaginator,
    HttpClient,
    NextUrlPaginator,
    OffsetPaginator,
    PaginationLoopError,
    paginate,
    response_json,
)

BASE_URL = "https://api.example.test"


def ids(responses: list[httpx.Response], path: str = "results") -> list[int]:
    return [r["id"] for resp in responses for r in response_json(resp)[path]]


@respx.mock
def test_next_url_from_the_body(make_client: Callable[..., HttpClient]) -> None:
    respx.get(f"{BASE_URL}/deals", params={"page": "2"}).mock(
        return_value=httpx.Response(200, json={"results": [{"id": 3}], "next": None})
    )
    first = respx.get(f"{BASE_URL}/deals").mock(
        return_value=httpx.Response(
            200, json={"results": [{"id": 1}, {"id": 2}], "next": f"{BASE_URL}/deals?page=2"}
        )
    )
    pages = list(
        paginate(make_client(), "GET", "/deals", NextUrlPaginator("next"), {"since": "2024"})
    )
    assert ids(pages) == [1, 2, 3]
    assert first.calls[0].request.url.params["since"] == "2024"
    # the next URL is used as given: the first request's params are not added again
    assert "since" not in pages[1].request.url.params


@respx.mock
def test_next_url_from_a_relative_link_header(make_client: Callable[..., HttpClient]) -> None:
    respx.get(f"{BASE_URL}/v2/deals", params={"cursor": "b"}).mock(
        return_value=httpx.Response(200, json={"results": [{"id": 2}]})
    )
    respx.get(f"{BASE_URL}/v2/deals").mock(
        return_value=httpx.Response(
            200,
            json={"results": [{"id": 1}]},
            headers={"Link": '</v2/deals?cursor=b>; rel="next", </v2/deals>; rel="first"'},
        )
    )
    pages = list(paginate(make_client(), "GET", "/v2/deals", NextUrlPaginator()))
    assert ids(pages) == [1, 2]


@respx.mock
def test_next_url_on_another_host_is_refused(make_client: Callable[..., HttpClient]) -> None:
    respx.get(f"{BASE_URL}/deals").mock(
        return_value=httpx.Response(200, json={"results": [], "next": "https://evil.test/steal"})
    )
    with pytest.raises(premia.SourceError, match="another server"):
        list(paginate(make_client(), "GET", "/deals", NextUrlPaginator("next")))


@respx.mock
def test_cursor_paginator_hubspot_style(make_client: Callable[..., HttpClient]) -> None:
    def api(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        if after is None:
            return httpx.Response(
                200, json={"results": [{"id": 1}], "paging": {"next": {"after": "A1"}}}
            )
        if after == "A1":
            return httpx.Response(
                200, json={"results": [{"id": 2}], "paging": {"next": {"after": "A2"}}}
            )
        return httpx.Response(200, json={"results": [{"id": 3}]})  # no paging: the end

    route = respx.get(f"{BASE_URL}/crm/v3/objects/deals").mock(side_effect=api)
    pages = list(
        paginate(make_client(), "GET", "/crm/v3/objects/deals", CursorPaginator(), {"limit": 100})
    )
    assert ids(pages) == [1, 2, 3]
    assert [c.request.url.params.get("after") for c in route.calls] == [None, "A1", "A2"]
    assert all(c.request.url.params["limit"] == "100" for c in route.calls)


@respx.mock
def test_cursor_paginator_in_a_post_body(make_client: Callable[..., HttpClient]) -> None:
    def search(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if "after" not in body:
            return httpx.Response(
                200, json={"results": [{"id": 1}], "paging": {"next": {"after": "5"}}}
            )
        return httpx.Response(200, json={"results": [{"id": 2}], "paging": {}})

    route = respx.post(f"{BASE_URL}/search").mock(side_effect=search)
    paginator = CursorPaginator("paging.next.after", "after", location="json")
    pages = list(paginate(make_client(), "POST", "/search", paginator, json={"limit": 10}))
    assert ids(pages) == [1, 2]
    assert json.loads(route.calls.last.request.content) == {"limit": 10, "after": "5"}


def offset_api(
    total: int, page_cap: int, flag: str | None
) -> Callable[[httpx.Request], httpx.Response]:
    """An API of ``total`` records that never returns more than ``page_cap`` per page."""

    def api(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        count = max(0, min(limit, page_cap, total - offset))
        body: dict[str, Any] = {"items": [{"id": i} for i in range(offset, offset + count)]}
        if flag == "has_more":
            body["has_more"] = offset + count < total
        elif flag == "total":
            body["total"] = total
        return httpx.Response(200, json=body)

    return api


@respx.mock
@pytest.mark.parametrize("flag", ["has_more", "total", None])
def test_offset_short_page_is_not_the_end(
    make_client: Callable[..., HttpClient], flag: str | None
) -> None:
    # limit 10 but the API caps pages at 4: every page is "short", none is the end
    route = respx.get(f"{BASE_URL}/items").mock(side_effect=offset_api(10, 4, flag))
    paginator = OffsetPaginator(
        10,
        records_path="items",
        has_more_path="has_more" if flag == "has_more" else None,
        total_path="total" if flag == "total" else None,
    )
    pages = list(paginate(make_client(), "GET", "/items", paginator))
    assert ids(pages, "items") == list(range(10))
    offsets = [c.request.url.params["offset"] for c in route.calls]
    if flag is None:  # only an empty page says "the end"
        assert offsets == ["0", "4", "8", "10"]
    else:  # the API's own signal saves the empty request
        assert offsets == ["0", "4", "8"]


@respx.mock
def test_offset_stop_on_short_page_is_opt_in(make_client: Callable[..., HttpClient]) -> None:
    route = respx.get(f"{BASE_URL}/items").mock(side_effect=offset_api(13, 100, None))
    paginator = OffsetPaginator(5, records_path="items", stop_on_short_page=True)
    pages = list(paginate(make_client(), "GET", "/items", paginator))
    assert ids(pages, "items") == list(range(13))
    assert [c.request.url.params["offset"] for c in route.calls] == ["0", "5", "10"]


@respx.mock
def test_repeated_cursor_is_a_loop(make_client: Callable[..., HttpClient]) -> None:
    respx.get(f"{BASE_URL}/deals").mock(
        return_value=httpx.Response(
            200, json={"results": [{"id": 1}], "paging": {"next": {"after": "same"}}}
        )
    )
    with pytest.raises(PaginationLoopError, match="'same' was already returned") as info:
        list(paginate(make_client(), "GET", "/deals", CursorPaginator()))
    assert info.value.pages == 2


@respx.mock
def test_next_url_cycle_is_a_loop(make_client: Callable[..., HttpClient]) -> None:
    def api(request: httpx.Request) -> httpx.Response:
        page = request.url.params.get("p", "a")
        following = {"a": "b", "b": "c", "c": "b"}[page]
        return httpx.Response(
            200, json={"results": [], "next": f"/deals?p={following}&token=SECRET"}
        )

    route = respx.get(f"{BASE_URL}/deals").mock(side_effect=api)
    with pytest.raises(PaginationLoopError) as info:
        list(paginate(make_client(), "GET", "/deals", NextUrlPaginator("next")))
    assert route.call_count == 3
    assert "SECRET" not in str(info.value)

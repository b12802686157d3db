"""Pagination: how to get from one page of an API to the next, and when to stop.

A :class:`Paginator` is generic over its token type (a URL, a cursor string, an offset) and
has two override points: :meth:`~Paginator.next_token` reads the next page's token from a
response (``None``: that was the last page) and :meth:`~Paginator.apply` turns a token into
the next :class:`PageRequest`. The invariant part is final: :meth:`~Paginator.advance`
records every token and raises :class:`~premia_sdk.PaginationLoopError` when the API hands
back one it already gave (a paginator reading the token from the wrong place, or an API
ignoring it, would otherwise read the same pages forever).

A paginator keeps state (the tokens seen): make a new one for each read. :func:`paginate`
drives one through a :class:`~premia_sdk.HttpClient`.

Stopping is the API's call, never a guess. :class:`OffsetPaginator` in particular does not
stop on a page shorter than the limit (many APIs return short pages mid-way, e.g. after
filtering out records the caller may not see); it stops on a ``has_more`` flag, a ``total``
or an empty page, and only stops on a short page when the author opts in for an API with no
other signal.
"""

from __future__ import annotations

import typing
from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import httpx

import premia
from premia_sdk.errors import PaginationLoopError, redact_url
from premia_sdk.jsonexact import get_path, response_json

if TYPE_CHECKING:
    from premia_sdk.http import HttpClient

__all__ = [
    "CursorPaginator",
    "NextUrlPaginator",
    "OffsetPaginator",
    "PageRequest",
    "Paginator",
    "SinglePagePaginator",
    "paginate",
]

TokenT = TypeVar("TokenT", bound=Hashable)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """The request for one page.

    Attributes:
        url: absolute, or relative to the client's base URL.
        params: query parameters.
        json: the JSON body, for APIs that page through a POST (e.g. search endpoints).
    """

    url: str
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None

    def with_params(self, **changes: Any) -> PageRequest:
        """Return a copy with query parameters added or replaced."""
        return replace(self, params={**self.params, **changes})

    def with_json(self, **changes: Any) -> PageRequest:
        """Return a copy with members of the JSON body object added or replaced."""
        body = dict(self.json) if isinstance(self.json, Mapping) else {}
        return replace(self, json={**body, **changes})


class Paginator(ABC, Generic[TokenT]):
    """Base of paginators: reads the next page's token, applies it, detects loops.

    Override :meth:`next_token` and :meth:`apply` (and :meth:`first_page` if the first
    request needs paging parameters). Do not override :meth:`advance`.
    """

    def __init__(self) -> None:
        self._seen: set[TokenT] = set()
        self.pages = 0
        """How many pages have been read."""

    def first_page(self, request: PageRequest) -> PageRequest:
        """Return the request of the first page (by default ``request`` unchanged).

        Args:
            request: the stream's base request.

        Returns:
            The first page's request.
        """
        return request

    @abstractmethod
    def next_token(self, response: httpx.Response) -> TokenT | None:
        """Return the token of the page after ``response``, or ``None`` if it was the last.

        Args:
            response: the page just read.
        """

    @abstractmethod
    def apply(self, request: PageRequest, token: TokenT) -> PageRequest:
        """Return the request of the page ``token`` designates.

        Args:
            request: the previous page's request.
            token: the token :meth:`next_token` returned.
        """

    @typing.final
    def advance(self, response: httpx.Response) -> TokenT | None:
        """Count the page just read and return the next token, checking for a loop.

        Args:
            response: the page just read.

        Returns:
            The next page's token, or ``None`` when there is no next page.

        Raises:
            PaginationLoopError: the token was already returned by an earlier page.
        """
        self.pages += 1
        token = self.next_token(response)
        if token is None:
            return None
        if token in self._seen:
            raise PaginationLoopError(token, self.pages)
        self._seen.add(token)
        return token


class SinglePagePaginator(Paginator[str]):
    """For endpoints that return everything in one response: there is never a next page."""

    def next_token(self, response: httpx.Response) -> str | None:
        """Return ``None``: there is no next page."""
        return None

    def apply(self, request: PageRequest, token: str) -> PageRequest:
        """Never called (there is no next page)."""
        return request


class NextUrlPaginator(Paginator[str]):
    """The API gives the next page's URL: in the JSON body, or in a ``Link: <...>; rel="next"``.

    A relative next URL is resolved against the page's URL. A next URL on another origin
    (scheme, host, port) than the page is refused: following it would send the credentials
    to a server the plugin was not configured for.

    Args:
        json_path: dotted path of the next URL in the body (e.g. ``paging.next.link``,
            ``nextRecordsUrl``); ``None`` to use the ``Link`` header only.
        use_link_header: also look at the ``Link`` header when the body has no next URL.
        keep_params: send the first request's query parameters again with each next URL
            (for APIs whose next URL omits them); by default the next URL is used as is.
    """

    def __init__(
        self,
        json_path: str | None = None,
        *,
        use_link_header: bool = True,
        keep_params: bool = False,
    ):
        super().__init__()
        self.json_path = json_path
        self.use_link_header = use_link_header
        self.keep_params = keep_params

    def next_token(self, response: httpx.Response) -> str | None:
        """Return the absolute next URL, or ``None``.

        Raises:
            premia.SourceError: the next URL points to another origin.
        """
        found: Any = None
        if self.json_path is not None:
            found = get_path(response_json(response), self.json_path)
        if not found and self.use_link_header:
            found = response.links.get("next", {}).get("url")
        if not found:
            return None
        if not isinstance(found, str):
            raise premia.SourceError(
                f"{redact_url(response.url)}: the next page link at {self.json_path!r} is "
                f"{type(found).__name__}, not a URL"
            )
        here = response.url
        target = here.join(found)
        if (target.scheme, target.host, target.port) != (here.scheme, here.host, here.port):
            raise premia.SourceError(
                f"{redact_url(here)}: the next page link points to another server "
                f"({target.scheme}://{target.host}); refusing to send credentials there"
            )
        return str(target)

    def apply(self, request: PageRequest, token: str) -> PageRequest:
        """Request the next URL (with the first request's params if ``keep_params``)."""
        return replace(request, url=token, params=request.params if self.keep_params else {})


class CursorPaginator(Paginator[str]):
    """The API gives an opaque cursor for the next page (e.g. HubSpot's ``paging.next.after``).

    Args:
        json_path: dotted path of the cursor in the body. A missing, ``null`` or empty
            cursor ends the pagination.
        param: the name the next request passes the cursor under (e.g. ``after``).
        location: ``"params"`` to send it as a query parameter, ``"json"`` as a member of
            the JSON body (search endpoints that page through a POST).
    """

    def __init__(
        self,
        json_path: str = "paging.next.after",
        param: str = "after",
        *,
        location: Literal["params", "json"] = "params",
    ):
        super().__init__()
        self.json_path = json_path
        self.param = param
        self.location = location

    def next_token(self, response: httpx.Response) -> str | None:
        """Return the cursor at :attr:`json_path` as text, or ``None`` when absent or empty."""
        found = get_path(response_json(response), self.json_path)
        if found is None or found == "" or isinstance(found, dict | list | bool):
            return None
        return str(found)

    def apply(self, request: PageRequest, token: str) -> PageRequest:
        """Put the cursor in the query parameters or the JSON body."""
        if self.location == "json":
            return request.with_json(**{self.param: token})
        return request.with_params(**{self.param: token})


class OffsetPaginator(Paginator[int]):
    """Offset/limit paging that stops only on the API's own end signal.

    The end is reached when, in order of preference:

    * ``has_more_path`` is given and that field is false;
    * ``total_path`` is given and the next offset reaches that total;
    * the page has no records;
    * ``stop_on_short_page=True`` (opt-in, for APIs with no other signal) and the page has
      fewer than ``limit`` records.

    A page shorter than ``limit`` is otherwise *not* the end: APIs return short pages mid-way
    (records filtered out after paging, per-page caps lower than the limit asked).

    Args:
        limit: records per page.
        records_path: dotted path of the record list in the body (``None``: the body is the
            list).
        offset_param: the query parameter of the offset.
        limit_param: the query parameter of the limit.
        has_more_path: dotted path of a boolean "more pages" flag, if the API has one.
        total_path: dotted path of the total record count, if the API gives one.
        stop_on_short_page: treat a short page as the last one (opt-in).
        start: the first offset (0 or 1, as the API counts).
    """

    def __init__(
        self,
        limit: int,
        *,
        records_path: str | None = None,
        offset_param: str = "offset",
        limit_param: str = "limit",
        has_more_path: str | None = None,
        total_path: str | None = None,
        stop_on_short_page: bool = False,
        start: int = 0,
    ):
        super().__init__()
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.records_path = records_path
        self.offset_param = offset_param
        self.limit_param = limit_param
        self.has_more_path = has_more_path
        self.total_path = total_path
        self.stop_on_short_page = stop_on_short_page
        self.start = start
        self.offset = start
        """The offset of the page being read."""

    def first_page(self, request: PageRequest) -> PageRequest:
        """Add the limit and the first offset to the first request."""
        self.offset = self.start
        return request.with_params(**{self.offset_param: self.start, self.limit_param: self.limit})

    def next_token(self, response: httpx.Response) -> int | None:
        """Return the next offset, or ``None`` on the API's end signal.

        Raises:
            premia.SourceError: the record list is not where ``records_path`` says.
        """
        body = response_json(response)
        records = get_path(body, self.records_path)
        if not isinstance(records, list):
            raise premia.SourceError(
                f"{redact_url(response.url)}: expected a list of records at "
                f"{self.records_path or 'the top level'}, found {type(records).__name__}"
            )
        next_offset = self.offset + len(records)
        if self.has_more_path is not None:
            more = get_path(body, self.has_more_path)
            if more is not None:
                return next_offset if more and records else None
        if self.total_path is not None:
            total = get_path(body, self.total_path)
            if isinstance(total, int) and not isinstance(total, bool):
                return next_offset if next_offset < total + self.start and records else None
        if not records:
            return None
        if self.stop_on_short_page and len(records) < self.limit:
            return None
        return next_offset

    def apply(self, request: PageRequest, token: int) -> PageRequest:
        """Ask for the page at offset ``token``."""
        self.offset = token
        return request.with_params(**{self.offset_param: token, self.limit_param: self.limit})


def paginate(
    client: HttpClient,
    method: str,
    url: str,
    paginator: Paginator[Any],
    params: Mapping[str, Any] | None = None,
    json: Any = None,
) -> Iterator[httpx.Response]:
    """Yield every page of a paginated endpoint, in order.

    The next page is requested only when the caller asks for it, so a caller that stores
    each page before moving on never has more than one page in memory.

    Args:
        client: the client to send requests with (retries, budget, auth).
        method: the HTTP method (``GET``, or ``POST`` for search endpoints).
        url: the first page's URL, absolute or relative to the base URL.
        paginator: a new paginator (it keeps the tokens seen).
        params: the first request's query parameters.
        json: the first request's JSON body.

    Yields:
        Each page's response.

    Raises:
        PaginationLoopError: a page token repeated.
    """
    request = paginator.first_page(PageRequest(url, dict(params or {}), json))
    while True:
        response = client.request(
            method, request.url, params=request.params or None, json=request.json
        )
        yield response
        token = paginator.advance(response)
        if token is None:
            return
        request = paginator.apply(request, token)

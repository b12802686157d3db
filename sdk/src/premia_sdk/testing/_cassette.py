"""Recorded HTTP: cassette files of request/response pairs, served through respx.

:class:`Cassette` documents the file format; :class:`Recording` serves cassettes to every
httpx client of a test (the ``recorded_http`` fixture is a started one).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import httpx
import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

if TYPE_CHECKING:
    import respx

QueryValue = str | int | float | bool
"""A query parameter value as a cassette may write it (sent as text)."""

Handler = Callable[[httpx.Request], httpx.Response]
"""A function answering a request (for stateful fakes added with :meth:`Recording.add`)."""


class CassetteError(Exception):
    """A cassette file cannot be read or is not in the cassette format."""


class UnmatchedRequest(AssertionError):
    """A request no recorded interaction matches. The test fails."""


class RecordedRequest(BaseModel):
    """What a request must have to match an interaction (see :class:`Cassette`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    method: str = Field(default="GET", description="HTTP method, case-insensitive.")
    url: str = Field(description="A full URL, or a path starting with '/'.")
    query: dict[str, QueryValue | list[QueryValue]] = Field(
        default_factory=dict, description="More query parameters (with those in `url`)."
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Headers the request must carry with these values."
    )
    body_json: Any = Field(
        default=None, alias="json", description="The request body, parsed as JSON."
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not (value.startswith("/") or value.startswith(("http://", "https://"))):
            raise ValueError("give a full http(s) URL or a path starting with '/'")
        return value

    @property
    def matches_body(self) -> bool:
        """Return True when the cassette gave a ``json`` body to match."""
        return "body_json" in self.model_fields_set


class RecordedResponse(BaseModel):
    """The response an interaction answers with."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    status: int = Field(default=200, ge=100, le=599, description="HTTP status code.")
    headers: dict[str, str] = Field(default_factory=dict, description="Response headers.")
    body_json: Any = Field(default=None, alias="json", description="A JSON body.")
    text: str | None = Field(default=None, description="A text body.")

    @model_validator(mode="after")
    def _one_body(self) -> RecordedResponse:
        if "body_json" in self.model_fields_set and self.text is not None:
            raise ValueError("give either `json` or `text`, not both")
        return self

    def build(self, request: httpx.Request) -> httpx.Response:
        """Return this response as an :class:`httpx.Response` to ``request``."""
        if "body_json" in self.model_fields_set:
            return httpx.Response(
                self.status, headers=self.headers, json=self.body_json, request=request
            )
        content = (self.text or "").encode("utf-8")
        return httpx.Response(self.status, headers=self.headers, content=content, request=request)


class RecordedInteraction(BaseModel):
    """One request/response pair of a cassette."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="", description="Shown in failure messages.")
    request: RecordedRequest
    response: RecordedResponse = Field(default_factory=RecordedResponse)
    times: int | None = Field(
        default=None, ge=1, description="How many requests it answers (default: any number)."
    )


class Cassette(BaseModel):
    """A cassette file: an optional base URL and the recorded interactions.

    A cassette is a JSON (``.json``) or YAML (``.yaml``/``.yml``) file; write it by hand
    from the vendor's documentation examples, or from a captured session with the secrets
    taken out::

        {
          "version": 1,
          "base_url": "https://api.acme.example",
          "interactions": [
            {
              "name": "deals, first page",
              "request": {
                "method": "GET",
                "url": "/v1/deals?limit=2",
                "headers": {"Authorization": "Bearer test-token"}
              },
              "response": {
                "status": 200,
                "headers": {"X-RateLimit-Remaining": "99"},
                "json": {"data": [{"id": "d-1"}], "next_cursor": "c2"}
              }
            },
            {
              "request": {"method": "POST", "url": "/v1/orders", "json": {"sku": "GC-25"}},
              "response": {"status": 500, "text": "upstream timeout"},
              "times": 1
            }
          ]
        }

    The top level is an object with ``interactions`` (required), ``base_url`` and
    ``version`` (1), or just the list of interactions.

    Request fields (what a request must have to match):
        ``method``: HTTP method (default ``GET``), case-insensitive.
        ``url``: a full URL, or a path starting with ``/`` (joined to ``base_url`` when the
        cassette has one; otherwise any host matches). The path must be equal.
        ``query``: more query parameters, ``{"name": "value"}`` or
        ``{"name": ["v1", "v2"]}``; with those in ``url`` they must equal the request's
        query exactly, in any order. Write values holding ``+``, ``&`` or spaces here, not
        in ``url`` (in a URL, ``+`` means a space): ``{"since": "2024-01-02T10:00:00+00:00"}``.
        ``headers``: headers the request must carry with exactly these values (others are
        ignored; names are case-insensitive).
        ``json``: when given, the request body parsed as JSON must equal it.

    Response fields:
        ``status`` (default 200), ``headers``, and a body: ``json`` (sent as
        ``application/json``) or ``text``; neither gives an empty body.

    Interaction fields:
        ``request``, ``response`` (default: an empty 200), ``name`` (shown in failure
        messages) and ``times``: how many requests it answers (default: any number).

    A request is answered by the first matching interaction with uses left, so a
    ``"times": 1`` failure listed before a success makes a retry scenario. Interactions
    loaded (or added) later take precedence over those loaded earlier, so a test can layer a
    second cassette ("the vendor now has newer records") over the first. A request nothing
    matches fails the test.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = Field(default=1, description="The cassette format version.")
    base_url: str | None = Field(
        default=None, description="Joined to interaction URLs that are paths."
    )
    interactions: list[RecordedInteraction] = Field(description="The request/response pairs.")

    @classmethod
    def read(cls, path: Path) -> Cassette:
        """Read and validate a cassette file (``.json``, ``.yaml`` or ``.yml``).

        Raises:
            CassetteError: the file is missing, not JSON/YAML, or not a cassette.
        """
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CassetteError(
                f"{path}: cannot read the cassette: {exc.strerror or exc}"
            ) from None
        try:
            if path.suffix.lower() in (".yaml", ".yml"):
                import yaml

                data = yaml.safe_load(text)
            else:
                data = json.loads(text)
        except ValueError as exc:  # json.JSONDecodeError and yaml.YAMLError alike
            raise CassetteError(f"{path}: not valid {path.suffix[1:].upper()}: {exc}") from None
        except Exception as exc:
            raise CassetteError(f"{path}: not valid YAML: {exc}") from None
        if isinstance(data, list):
            data = {"interactions": data}
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
                for err in exc.errors()
            )
            raise CassetteError(f"{path}: not a cassette: {problems}") from None


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """A request the recording answered, and with what.

    Attributes:
        request: the request sent.
        response: the response given.
        interaction: the name (or origin) of the interaction that answered it.
    """

    request: httpx.Request
    response: httpx.Response
    interaction: str


@dataclass(eq=False)
class _Entry:
    """A loaded interaction, compiled for matching, with its use count."""

    method: str
    path: str
    origin_host: tuple[str, str, int | None] | None
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any
    match_body: bool
    respond: Callable[[httpx.Request], httpx.Response]
    times: int | None
    uses: int = 0
    label: str = field(default="")

    def matches(self, request: httpx.Request) -> bool:
        url = request.url
        if request.method.upper() != self.method or url.path != self.path:
            return False
        if self.origin_host is not None and (url.scheme, url.host, url.port) != self.origin_host:
            return False
        if sorted(url.params.multi_items()) != self.query:
            return False
        for name, value in self.headers.items():
            if request.headers.get(name) != value:
                return False
        if self.match_body:
            try:
                body = json.loads(request.content or b"null")
            except ValueError:
                return False
            if body != self.body:
                return False
        return True

    @property
    def used_up(self) -> bool:
        return self.times is not None and self.uses >= self.times

    def describe(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query)
        shown = f"{self.method} {self.path}{'?' + query if query else ''}"
        extra = []
        if self.headers:
            extra.append(f"headers {sorted(self.headers)}")
        if self.match_body:
            extra.append("a JSON body")
        if self.times is not None:
            extra.append(f"used {self.uses}/{self.times}")
        return f"{shown}{' with ' + ', '.join(extra) if extra else ''} [{self.label}]"


def _text(value: QueryValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _compile(
    request: RecordedRequest,
    respond: Callable[[httpx.Request], httpx.Response],
    *,
    base_url: str | None,
    times: int | None,
    label: str,
) -> _Entry:
    raw = request.url
    if raw.startswith("/") and base_url:
        raw = base_url.rstrip("/") + raw
    url = httpx.URL(raw)
    origin_host = (url.scheme, url.host, url.port) if url.host else None
    query = list(url.params.multi_items())
    for name, value in request.query.items():
        values = value if isinstance(value, list) else [value]
        query.extend((name, _text(v)) for v in values)
    return _Entry(
        method=request.method.upper(),
        path=url.path,
        origin_host=origin_host,
        query=sorted(query),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=request.body_json,
        match_body=request.matches_body,
        respond=respond,
        times=times,
        label=label,
    )


_MISSING: Any = object()


class Recording:
    """Serves recorded interactions to every httpx client while it is started.

    The ``recorded_http`` fixture gives a started one; use it directly as a context manager
    elsewhere. Requests that match no interaction raise :class:`UnmatchedRequest` and are
    kept, so :meth:`verify` fails the test even if the code under test caught the error.

    Args:
        base_dir: the folder relative cassette paths resolve against (the test's folder).
        assert_all_used: :meth:`verify` also fails when an interaction was never used.
    """

    def __init__(self, *, base_dir: Path | None = None, assert_all_used: bool = False):
        self.base_dir = base_dir or Path.cwd()
        self.assert_all_used = assert_all_used
        self.calls: list[RecordedCall] = []
        """Every request answered, in order."""
        self.unmatched: list[httpx.Request] = []
        """Every request no interaction matched, in order."""
        self._entries: list[_Entry] = []
        self._router: respx.MockRouter | None = None
        self._lock = threading.Lock()  # streams may read on threads

    # -- what to serve -----------------------------------------------------------------
    def load(self, path: str | Path, *, replace: bool = False) -> Recording:
        """Load a cassette file; its interactions take precedence over those loaded before.

        Args:
            path: the cassette, relative to :attr:`base_dir` unless absolute.
            replace: drop every interaction loaded or added before.

        Returns:
            This recording (for chaining).

        Raises:
            CassetteError: the file cannot be read or is not a cassette.
        """
        file = Path(path)
        if not file.is_absolute():
            file = self.base_dir / file
        cassette = Cassette.read(file)
        entries = [
            _compile(
                item.request,
                item.response.build,
                base_url=cassette.base_url,
                times=item.times,
                label=f"{file.name}#{index}" + (f" {item.name}" if item.name else ""),
            )
            for index, item in enumerate(cassette.interactions)
        ]
        self._push(entries, replace)
        return self

    def add(
        self,
        method: str,
        url: str,
        *,
        status: int = 200,
        json: Any = _MISSING,
        text: str | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, QueryValue | list[QueryValue]] | None = None,
        match_headers: Mapping[str, str] | None = None,
        match_json: Any = _MISSING,
        times: int | None = None,
        handler: Handler | None = None,
        name: str = "",
    ) -> Recording:
        """Add one interaction in code; it takes precedence over everything before it.

        Args:
            method: the HTTP method to match.
            url: a full URL or a path (any host) to match.
            status: the response status.
            json: the response's JSON body.
            text: the response's text body.
            headers: the response's headers.
            query: query parameters to match, with those in ``url``.
            match_headers: headers the request must carry.
            match_json: the request's JSON body to match.
            times: how many requests it answers (default: any number).
            handler: answers the request instead of ``status``/``json``/``text``/``headers``
                (e.g. a fake vendor that keeps state).
            name: shown in failure messages.

        Returns:
            This recording (for chaining).
        """
        request_data: dict[str, Any] = {
            "method": method,
            "url": url,
            "query": dict(query or {}),
            "headers": dict(match_headers or {}),
        }
        if match_json is not _MISSING:
            request_data["json"] = match_json
        response_data: dict[str, Any] = {"status": status, "headers": dict(headers or {})}
        if json is not _MISSING:
            response_data["json"] = json
        if text is not None:
            response_data["text"] = text
        try:
            request = RecordedRequest.model_validate(request_data)
            response = RecordedResponse.model_validate(response_data)
        except ValidationError as exc:
            raise CassetteError(f"bad interaction {method} {url}: {exc}") from None
        label = f"added {name}" if name else f"added {method.upper()} {url}"
        entry = _compile(
            request, handler or response.build, base_url=None, times=times, label=label
        )
        self._push([entry], replace=False)
        return self

    def clear(self) -> None:
        """Forget every interaction (calls and unmatched requests are kept)."""
        self._entries.clear()

    def _push(self, entries: Sequence[_Entry], replace: bool) -> None:
        self._entries = [*entries] if replace else [*entries, *self._entries]

    # -- serving -----------------------------------------------------------------------
    def start(self) -> None:
        """Start answering every httpx request (sync and async) from the interactions."""
        import respx

        if self._router is not None:
            return
        router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        router.route(name="premia-recording").mock(side_effect=self._answer)
        router.start()
        self._router = router

    def stop(self) -> None:
        """Stop answering; httpx talks to the network again."""
        if self._router is not None:
            self._router.stop()
            self._router = None

    def __enter__(self) -> Recording:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _answer(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            exhausted: list[_Entry] = []
            for entry in self._entries:
                if not entry.matches(request):
                    continue
                if entry.used_up:
                    exhausted.append(entry)
                    continue
                entry.uses += 1
                response = entry.respond(request)
                self.calls.append(RecordedCall(request, response, entry.label))
                return response
            self.unmatched.append(request)
            raise UnmatchedRequest(self._explain(request, exhausted))

    def _explain(self, request: httpx.Request, exhausted: list[_Entry]) -> str:
        lines = [f"no recorded interaction matches {request.method} {request.url}"]
        if exhausted:
            lines.append(
                "these match but are used up: " + "; ".join(e.describe() for e in exhausted)
            )
        near = [
            e
            for e in self._entries
            if e.path == request.url.path and e not in exhausted and e.method == request.method
        ]
        if near:
            lines.append("recorded for the same method and path:")
            lines.extend(f"  {e.describe()}" for e in near)
        elif not self._entries:
            lines.append("no interaction is loaded: load a cassette or mark the test")
        return "\n".join(lines)

    # -- after the test ----------------------------------------------------------------
    def requests(self, method: str | None = None, path: str | None = None) -> list[httpx.Request]:
        """Return the answered requests, optionally only those of ``method`` and ``path``."""
        return [
            c.request
            for c in self.calls
            if (method is None or c.request.method == method.upper())
            and (path is None or c.request.url.path == path)
        ]

    def unused(self) -> list[str]:
        """Describe every interaction no request used."""
        return [e.describe() for e in self._entries if e.uses == 0]

    def problems(self) -> list[str]:
        """Return what makes the recording fail a test: unmatched requests, unused pairs."""
        found = [f"unmatched request: {r.method} {r.url}" for r in self.unmatched]
        if self.assert_all_used:
            found.extend(f"recorded interaction never used: {u}" for u in self.unused())
        return found

    def verify(self) -> None:
        """Fail the test if a request matched nothing, or an interaction was never used.

        Unused interactions count only with :attr:`assert_all_used`.

        Raises:
            pytest.fail.Exception: with every problem listed.
        """
        found = self.problems()
        if found:
            pytest.fail("recorded HTTP:\n" + "\n".join(f"  {p}" for p in found), pytrace=False)

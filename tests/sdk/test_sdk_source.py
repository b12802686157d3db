"""HttpSource end to end against a small mocked CRM API."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import respx
from pydantic import BaseModel, SecretStr

import premia
from premia_sdk import (
    BadRecordError,
    BearerToken,
    ConfigurationError,
    CursorPaginator,
    HttpClient,
    HttpSource,
    HttpStream,
    IncrementalWindow,
    Paginator,
    RetryAfterTooLong,
    RetryPolicy,
)

BASE_URL = "https://crm.example.test"
T0 = datetime(2024, 5, 1, 9, 0, 0, tzinfo=UTC)
SYNC_STARTED = T0 + timedelta(hours=1)
TOKEN = "crm-token-XYZ"


def rec(i: int, minute: int, amount: Any = 1234.56, **extra: Any) -> dict[str, Any]:
    when = (T0 + timedelta(minutes=minute)).isoformat()
    return {"id": i, "updatedAt": when, "owner": f"u{i % 2}", "amount": amount, **extra}


class FakeCrm:
    """GET /v1/deals?since=&until=&after=&limit=: records sorted by (updatedAt, id), since inclusive."""

    def __init__(self, records: list[dict[str, Any]], page_size: int = 3):
        self.records = sorted(records, key=lambda r: (r["updatedAt"], r["id"]))
        self.page_size = page_size
        self.requests: list[httpx.Request] = []
        self.fail_on_page: dict[int, httpx.Response] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"message": "bad token"})
        page = len(self.requests)
        if page in self.fail_on_page:
            return self.fail_on_page[page]
        params = request.url.params
        rows = self.records
        if "since" in params:
            rows = [r for r in rows if r.get("updatedAt", "") >= params["since"]]
        if "until" in params:
            rows = [r for r in rows if r.get("updatedAt", "") <= params["until"]]
        start = int(params.get("after", "0"))
        chunk = rows[start : start + self.page_size]
        body: dict[str, Any] = {"results": chunk}
        if start + self.page_size < len(rows):
            body["paging"] = {"next": {"after": str(start + self.page_size)}}
        return httpx.Response(200, json=body)


class CrmSettings(BaseModel):
    base_url: str = BASE_URL
    token: SecretStr = SecretStr(TOKEN)


class Deals(HttpStream):
    name = "deals"
    path = "/v1/deals"
    fact_kind = "deal"
    description = "deals by last modification"
    records_path = "results"
    send_until: ClassVar[bool] = True

    def paginator(self) -> Paginator[Any]:
        return CursorPaginator("paging.next.after", "after")

    def params(self, window: IncrementalWindow) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if window.lower_bound is not None:
            params["since"] = window.lower_bound.isoformat()
        if self.send_until:
            params["until"] = window.upper_bound.isoformat()
        return params

    def record_cursor(self, record: Mapping[str, Any]) -> tuple[datetime, str]:
        return datetime.fromisoformat(record["updatedAt"]), str(record["id"])

    def to_fact(self, record: Mapping[str, Any]) -> premia.Fact:
        amount = record["amount"]
        if not isinstance(amount, Decimal):
            raise BadRecordError(
                premia.BadRecord(
                    location=f"{BASE_URL}/v1/deals/{record['id']}",
                    reason=f"amount {amount!r} is not a number",
                    column="amount",
                    record_id=str(record["id"]),
                )
            )
        return premia.Fact(
            external_id=str(record["id"]),
            kind="deal",
            owner_ref=record["owner"],
            occurred_at=datetime.fromisoformat(record["updatedAt"]),
            amount=amount,
            currency="EUR",
            source_updated_at=datetime.fromisoformat(record["updatedAt"]),
        )


class CrmSource(HttpSource[CrmSettings]):
    type_name = "testcrm"
    Settings = CrmSettings
    stream_classes = [Deals]
    fake_time: ClassVar[Any] = None

    def auth(self) -> httpx.Auth:
        return BearerToken(self.settings.token)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=3, jitter=0)

    def build_client(self) -> HttpClient:
        return HttpClient(
            self.base_url(),
            plugin_name="premia-testcrm",
            plugin_version="0.1",
            auth=self.auth(),
            retry=self.retry_policy(),
            sleep=self.fake_time.sleep,
            clock=self.fake_time.monotonic,
            utcnow=self.fake_time.utcnow,
        )


@pytest.fixture
def make_source(fake_time: Any, tmp_path: Path) -> Iterator[Callable[..., CrmSource]]:
    made: list[CrmSource] = []

    def make(**settings: Any) -> CrmSource:
        CrmSource.fake_time = fake_time
        context = premia.SourceContext(
            source_name="crm",
            base_dir=tmp_path,
            sync_started_at=SYNC_STARTED,
            logger=logging.getLogger("test.crm"),
        )
        source = CrmSource(CrmSettings(**settings), context)
        made.append(source)
        return source

    yield make
    for source in made:
        source.close()


def read_all(source: CrmSource, cursor: Any = None) -> list[premia.Batch]:
    return list(source.read("deals", cursor))


def fact_ids(batches: list[premia.Batch]) -> list[str]:
    return [f.external_id for b in batches for f in b.facts]


RECORDS = [
    rec(1, 1),
    rec(2, 2),
    rec(3, 3),
    rec(4, 3),  # same minute as 3: a page boundary falls between them
    rec(5, 4, amount="n/a"),  # bad record
    rec(6, 5),
    rec(7, 6),
    rec(8, 7),
]


@respx.mock
def test_end_to_end_three_pages_one_bad_record(make_source: Callable[..., CrmSource]) -> None:
    crm = FakeCrm(RECORDS)
    respx.get(f"{BASE_URL}/v1/deals").mock(side_effect=crm)
    batches = read_all(make_source())
    assert len(crm.requests) == 3
    assert [len(b.facts) + len(b.bad_records) for b in batches] == [3, 3, 2]
    assert fact_ids(batches) == ["1", "2", "3", "4", "6", "7", "8"]
    (bad,) = [r for b in batches for r in b.bad_records]
    assert bad.record_id == "5"
    assert "'n/a' is not a number" in bad.reason
    assert batches[0].cursor == {"v": 1, "ts": (T0 + timedelta(minutes=3)).isoformat(), "id": "3"}
    assert batches[-1].cursor == {"v": 1, "ts": (T0 + timedelta(minutes=7)).isoformat(), "id": "8"}
    assert batches[0].facts[0].amount == Decimal("1234.56")
    assert batches[0].note == "deals: page 1"
    assert crm.requests[0].url.params["until"] == SYNC_STARTED.isoformat()
    assert "since" not in crm.requests[0].url.params


@respx.mock
def test_resume_from_a_mid_cursor_returns_only_newer_records(
    make_source: Callable[..., CrmSource],
) -> None:
    crm = FakeCrm(RECORDS)
    respx.get(f"{BASE_URL}/v1/deals").mock(side_effect=crm)
    first = read_all(make_source())
    resumed = read_all(make_source(), first[0].cursor)  # as after a crash following batch 1
    # record 4 shares record 3's timestamp: read once, on resume; record 3 not again
    assert fact_ids(resumed) == ["4", "6", "7", "8"]
    assert crm.requests[-2].url.params["since"] == (T0 + timedelta(minutes=3)).isoformat()
    nothing_new = [b for b in read_all(make_source(), first[-1].cursor) if b.facts]
    assert nothing_new == []


@respx.mock
def test_same_timestamp_split_by_batch_size_is_read_exactly_once(
    make_source: Callable[..., CrmSource], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Deals, "batch_size", 3)
    records = [rec(1, 1), rec(2, 2), rec(3, 2), rec(4, 2), rec(5, 3)]
    crm = FakeCrm(records, page_size=10)  # one page; batches cut by batch_size
    respx.get(f"{BASE_URL}/v1/deals").mock(side_effect=crm)
    batches = read_all(make_source())
    assert [fact_ids([b]) for b in batches] == [["1", "2", "3"], ["4", "5"]]
    assert batches[0].cursor["id"] == "3"
    # crash after the first batch: resume reads 4 and 5, and neither 2 nor 3 again
    resumed = read_all(make_source(), batches[0].cursor)
    assert fact_ids(resumed) == ["4", "5"]


@respx.mock
def test_upper_bound_is_respected_even_if_the_api_ignores_it(
    make_source: Callable[..., CrmSource], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Deals, "send_until", False)
    records = [rec(1, 1), rec(2, 59), rec(3, 60), rec(4, 61)]  # 60 min = the sync's start
    respx.get(f"{BASE_URL}/v1/deals").mock(side_effect=FakeCrm(records))
    batches = read_all(make_source())
    assert fact_ids(batches) == ["1", "2", "3"]
    assert batches[-1].cursor["ts"] == SYNC_STARTED.isoformat()


@respx.mock
def test_lookback_rereads_without_duplicates(
    make_source: Callable[..., CrmSource], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Deals, "lookback", timedelta(minutes=2))
    crm = FakeCrm(RECORDS, page_size=20)
    respx.get(f"{BASE_URL}/v1/deals").mock(side_effect=crm)
    cursor = {"v": 1, "ts": (T0 + timedelta(minutes=5)).isoformat(), "id": "6"}
    batches = read_all(make_source(), cursor)
    assert crm.requests[0].url.params["since"] == (T0 + timedelta(minutes=3)).isoformat()
    returned = [
        r["id"] for r in crm.records if r["updatedAt"] >= crm.requests[0].url.params["since"]
    ]
    assert returned == [3, 4, 5, 6, 7, 8]  # the API re-sent records the cursor covers...
    assert fact_ids(batches) == ["7", "8"]  # ...and only the new ones came out


@respx.mock
def test_quota_mid_read_keeps_the_batches_already_yielded(
    make_source: Callable[..., CrmSource], fake_time: Any
) -> None:
    crm = FakeCrm(RECORDS)
    crm.fail_on_page[2] = httpx.Response(429, headers={"Retry-After": "3600"})
    respx.get(f"{BASE_URL}/v1/deals").mock(side_effect=crm)
    got: list[premia.Batch] = []
    with pytest.raises(RetryAfterTooLong) as info:
        got.extend(make_source().read("deals", None))
    assert isinstance(info.value, premia.QuotaExhausted)
    assert fact_ids(got) == ["1", "2", "3"]
    assert got[-1].cursor["id"] == "3"
    assert fake_time.sleeps == []


@respx.mock
def test_unexpected_payloads_are_quarantined(make_source: Callable[..., CrmSource]) -> None:
    records = [
        rec(1, 1),
        {"id": 2, "owner": "u0", "amount": "1"},  # no updatedAt
        {"id": 3, "updatedAt": (T0 + timedelta(minutes=2)).isoformat()},  # no amount, no owner
        {"id": 4, "updatedAt": "2024-05-01T09:03:00", "amount": "1", "owner": "x"},  # naive time
        rec(5, 4),
    ]
    crm = FakeCrm([])
    crm.records = records  # served as is, in this order
    respx.get(f"{BASE_URL}/v1/deals").mock(side_effect=crm)
    batches = read_all(make_source())
    assert fact_ids(batches) == ["1", "5"]
    reasons = {r.record_id: r.reason for b in batches for r in b.bad_records}
    assert reasons["2"] == "no usable modification time or id: missing field 'updatedAt'"
    assert reasons["3"] == "missing field 'amount'"
    assert "timezone-aware" in reasons["4"]


@respx.mock
def test_check(make_source: Callable[..., CrmSource], fake_time: Any) -> None:
    respx.get(f"{BASE_URL}/v1/deals").mock(side_effect=FakeCrm(RECORDS))
    ok = make_source().check()
    assert ok.ok
    assert "deals can be read" in ok.message

    refused = make_source(token=SecretStr("wrong-SECRET-token")).check()
    assert not refused.ok
    assert refused.message.startswith("authentication failed")
    assert "wrong-SECRET-token" not in refused.message


@respx.mock
def test_check_reports_setting_and_network_problems(
    make_source: Callable[..., CrmSource], fake_time: Any
) -> None:
    respx.get(f"{BASE_URL}/v1/deals").mock(
        return_value=httpx.Response(404, json={"error": "no such portal"})
    )
    result = make_source().check()
    assert not result.ok
    assert result.message.startswith("configuration problem")
    assert "no such portal" in result.message

    respx.get("https://down.example.test/v1/deals").mock(side_effect=httpx.ConnectError("refused"))
    result = make_source(base_url="https://down.example.test").check()
    assert not result.ok
    assert result.message.startswith("cannot reach the API")
    assert fake_time.sleeps == [0.5, 1.0]


def test_streams_and_unknown_stream(make_source: Callable[..., CrmSource]) -> None:
    source = make_source()
    assert source.streams() == [premia.StreamInfo("deals", "deals by last modification", "deal")]
    with pytest.raises(ConfigurationError, match="no stream 'leads'"):
        list(source.read("leads", None))


@respx.mock
def test_an_unreadable_cursor_reads_from_the_start(
    make_source: Callable[..., CrmSource], caplog: pytest.LogCaptureFixture
) -> None:
    respx.get(f"{BASE_URL}/v1/deals").mock(side_effect=FakeCrm(RECORDS))
    with caplog.at_level(logging.WARNING, logger="test.crm"):
        batches = read_all(make_source(), {"files": {}})
    assert fact_ids(batches)[0] == "1"
    assert "ignoring an unreadable cursor" in caplog.text


def test_read_and_check_are_final() -> None:
    assert getattr(HttpSource.read, "__final__", False)
    assert getattr(HttpSource.check, "__final__", False)
    assert getattr(HttpSource.client, "__final__", False)

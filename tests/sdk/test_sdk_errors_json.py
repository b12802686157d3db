"""The error taxonomy, status classification, redaction, and exact JSON."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

import premia
from premia_sdk import (
    AuthFailure,
    BadRecordError,
    ConfigurationError,
    PaginationLoopError,
    QuotaExhausted,
    RetryableError,
    RetryAfterTooLong,
    classify,
    get_path,
    loads,
    redact_url,
    response_json,
)
from premia_sdk.errors import describe_response, redact_text


def test_each_error_is_the_matching_premia_error() -> None:
    assert issubclass(RetryableError, premia.SourceError)
    assert QuotaExhausted is premia.QuotaExhausted
    assert issubclass(RetryAfterTooLong, premia.QuotaExhausted)
    assert issubclass(AuthFailure, premia.SourceError)
    assert issubclass(ConfigurationError, premia.ConfigError)
    assert issubclass(BadRecordError, premia.PremiaError)
    assert issubclass(PaginationLoopError, premia.SourceError)


def test_bad_record_error_carries_the_record() -> None:
    record = premia.BadRecord(location="deals", reason="amount is not a number", record_id="7")
    exc = BadRecordError(record)
    assert exc.record is record
    assert str(exc) == "deals: amount is not a number"


def test_retry_after_too_long_names_the_wait() -> None:
    exc = RetryAfterTooLong(86400, 60, "GET https://x/deals")
    assert "86400 s (24.0 h)" in str(exc)
    assert "60 s" in str(exc)
    assert exc.wait == 86400
    assert exc.cap == 60


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, None),
        (204, None),
        (304, None),
        (400, ConfigurationError),
        (401, AuthFailure),
        (403, AuthFailure),
        (404, ConfigurationError),
        (408, RetryableError),
        (409, ConfigurationError),
        (422, ConfigurationError),
        (429, RetryableError),
        (500, RetryableError),
        (501, ConfigurationError),
        (502, RetryableError),
        (503, RetryableError),
        (504, RetryableError),
    ],
)
def test_classify(status: int, expected: type[Exception] | None) -> None:
    assert classify(httpx.Response(status)) is expected


def test_redact_url_hides_secret_query_values() -> None:
    url = (
        "https://u:pw@api.test/v1/deals?limit=10&access_token=AT1&api_key=K2&token=T3&key=K4"
        "&secret=S5&password=P6&signature=SIG7&client_secret=CS8&after=abc"
    )
    shown = redact_url(url)
    for secret in ("AT1", "K2", "T3", "K4", "S5", "P6", "SIG7", "CS8", "pw"):
        assert secret not in shown
    assert "limit=10" in shown
    assert "after=abc" in shown
    assert shown.startswith("https://api.test/v1/deals?")


def test_redact_text_hides_json_members_and_credentials() -> None:
    text = '{"access_token": "abc123456", "note": "ok", "refresh_token": "r-987654"} Bearer eyJhbGciOiJIUzI1NiJ9.x.y'
    shown = redact_text(text)
    assert "abc123456" not in shown
    assert "r-987654" not in shown
    assert "eyJhbGci" not in shown
    assert '"note": "ok"' in shown


def test_describe_response_redacts_the_url_and_the_body() -> None:
    request = httpx.Request("GET", "https://api.test/x?api_key=SUPERSECRET&q=1")
    response = httpx.Response(
        400, json={"message": "bad field", "token": "SUPERSECRET"}, request=request
    )
    text = describe_response(response)
    assert "SUPERSECRET" not in text
    assert text.startswith("GET https://api.test/x?api_key=REDACTED&q=1 returned 400 Bad Request")
    assert "bad field" in text


def test_loads_is_exact() -> None:
    value = loads('{"amount": 1.1, "big": 12345678901234567890, "n": 3, "e": 1e2}')
    assert value["amount"] == Decimal("1.1")
    assert isinstance(value["amount"], Decimal)
    assert value["big"] == 12345678901234567890
    assert value["n"] == 3
    assert isinstance(value["n"], int)
    assert value["e"] == Decimal("1E+2")
    assert sum([loads("0.1"), loads("0.2")]) == Decimal("0.3")


def test_loads_refuses_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        loads('{"x": NaN}')


def test_response_json_is_exact_and_cached() -> None:
    request = httpx.Request("GET", "https://api.test/x")
    response = httpx.Response(200, content=b'{"a": 0.30000000000000004}', request=request)
    first = response_json(response)
    assert first == {"a": Decimal("0.30000000000000004")}
    assert response_json(response) is first


def test_response_json_error_names_the_request_not_the_body() -> None:
    request = httpx.Request("GET", "https://api.test/x?token=SECRET")
    response = httpx.Response(200, content=b"<html>SECRET page</html>", request=request)
    with pytest.raises(premia.SourceError) as info:
        response_json(response)
    message = str(info.value)
    assert "SECRET" not in message
    assert "GET https://api.test/x?token=REDACTED" in message
    assert "line 1 column 1" in message


def test_get_path() -> None:
    data = {"paging": {"next": {"after": "42"}}, "results": [{"id": 1}, {"id": 2}]}
    assert get_path(data, "paging.next.after") == "42"
    assert get_path(data, "results.1.id") == 2
    assert get_path(data, "results.5.id") is None
    assert get_path(data, "paging.prev.after", "none") == "none"
    assert get_path(data, "") is data

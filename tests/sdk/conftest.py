"""Fixtures shared by the SDK tests: a fake clock that never sleeps, clients, RSA keys."""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from premia_sdk import HttpClient, RateBudget, RetryPolicy

BASE_URL = "https://api.example.test"
WALL_START = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


class FakeTime:
    """A monotonic clock, a wall clock and a sleep that advances both instead of sleeping."""

    def __init__(self, advance_on_sleep: bool = True):
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.advance_on_sleep = advance_on_sleep
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if self.advance_on_sleep:
                self.now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def utcnow(self) -> datetime:
        return WALL_START + timedelta(seconds=self.now - 1000.0)

    def wall(self) -> float:
        return self.utcnow().timestamp()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture(autouse=True)
def _fresh_shared_budgets() -> Iterator[None]:
    RateBudget.clear_shared()
    yield
    RateBudget.clear_shared()


@pytest.fixture
def make_client(fake_time: FakeTime) -> Iterator[Callable[..., HttpClient]]:
    """Build HttpClients on BASE_URL with the fake clock and a jitter-free retry policy."""
    clients: list[HttpClient] = []

    def make(**kwargs: Any) -> HttpClient:
        kwargs.setdefault("retry", RetryPolicy(jitter=0))
        client = HttpClient(
            kwargs.pop("base_url", BASE_URL),
            plugin_name=kwargs.pop("plugin_name", "premia-test"),
            plugin_version=kwargs.pop("plugin_version", "1.2.3"),
            sleep=fake_time.sleep,
            clock=fake_time.monotonic,
            utcnow=fake_time.utcnow,
            **kwargs,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="session")
def rsa_keys() -> tuple[str, str]:
    """A private and a public RSA key, PEM-encoded."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


Outcomes = dict[str, tuple[str, str]]
"""Test name -> (outcome, report text) of a run of the contract kit."""


@pytest.fixture
def contract_runner(pytester: pytest.Pytester) -> Callable[[str, str], Callable[[str], Outcomes]]:
    """Return ``runner(module_name, source)``: it writes a fake plugin module, and gives a
    function running a test module against it and returning its outcomes per test."""

    def runner(module_name: str, source: str) -> Callable[[str], Outcomes]:
        pytester.makepyfile(**{module_name: source})
        pytester.syspathinsert()

        def run(body: str) -> Outcomes:
            pytester.makepyfile(test_case=textwrap.dedent(body))
            reprec = pytester.inline_run("-p", "no:cacheprovider")
            outcomes: Outcomes = {}
            for report in reprec.getreports("pytest_runtest_logreport"):
                name = report.nodeid.split("::")[-1].split("[")[0]
                if not report.passed or name not in outcomes:
                    outcomes[name] = (report.outcome, report.longreprtext)
            return outcomes

        return run

    return runner

"""SourceContract passes a sound source and catches each kind of flawed one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytest_plugins = ["pytester"]

FAKE_SOURCE = '''
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import BaseModel, SecretStr

import premia
from premia_sdk.testing import SourceContract

GOOD_TOKEN = "good-token-123"


class FakeSettings(BaseModel):
    token: SecretStr
    page_size: int = 2


class Vendor:
    """The system the source reads: records per stream, in sequence order."""

    def __init__(self):
        self.reads = 0
        self.changed = False
        self.records = {
            "deals": [
                {"seq": i, "id": f"d-{i}", "amount": f"{i}00.50", "day": i} for i in range(1, 6)
            ],
            "calls": [{"seq": i, "id": f"c-{i}", "amount": None, "day": i} for i in range(1, 4)],
        }


class FakeSource(premia.Source[FakeSettings]):
    type_name = "fake"
    Settings = FakeSettings
    flaws = frozenset()

    def __init__(self, settings, context, vendor):
        super().__init__(settings, context)
        self.vendor = vendor
        self.listed = 0

    def check(self):
        token = self.settings.token.get_secret_value()
        if token == GOOD_TOKEN:
            return premia.CheckResult(True, "token accepted")
        if "check_raises" in self.flaws:
            raise RuntimeError("401 Unauthorized")
        if "check_leaks" in self.flaws:
            return premia.CheckResult(False, f"the API refused the token {token}")
        if "check_traceback" in self.flaws:
            return premia.CheckResult(
                False, "Traceback (most recent call last):\\n  File x, line 1\\nError"
            )
        if "check_always_ok" in self.flaws:
            return premia.CheckResult(True, "looks fine")
        return premia.CheckResult(False, "the API refused the token (HTTP 401)")

    def streams(self):
        self.listed += 1
        names = ["deals", "calls"]
        if "unstable_streams" in self.flaws and self.listed % 2 == 0:
            names.reverse()
        if "duplicate_streams" in self.flaws:
            names.append("deals")
        kinds = {"deals": "deal", "calls": "activity"}
        return [premia.StreamInfo(n, fact_kind=kinds[n]) for n in names]

    def read(self, stream, cursor):
        self.vendor.reads += 1
        after = cursor["after"] if cursor else 0
        if "ignores_cursor" in self.flaws:
            after = 0
        if "replays_after_change" in self.flaws and self.vendor.changed:
            after = 0
        rows = [r for r in self.vendor.records[stream] if r["seq"] > after]
        size = self.settings.page_size
        for start in range(0, len(rows), size):
            page = rows[start : start + size]
            last = page[-1]["seq"]
            if "lossy_cursor" in self.flaws:
                last += 1
            batch_cursor = {"after": last}
            if "tuple_cursor" in self.flaws:
                batch_cursor = {"after": (last,)}
            yield premia.Batch([self.fact(stream, r) for r in page], batch_cursor)

    def fact(self, stream, record):
        zone = None if "naive_datetime" in self.flaws else UTC
        amount = Decimal(record["amount"]) if record["amount"] else None
        if amount is not None and "float_amount" in self.flaws:
            amount = float(amount)
        if amount is not None and "drifting" in self.flaws:
            amount += self.vendor.reads
        return premia.Fact(
            external_id="same" if "duplicate_ids" in self.flaws else record["id"],
            kind="deal" if stream == "deals" else "activity",
            owner_ref="ana",
            occurred_at=datetime(2024, 1, record["day"], 12, tzinfo=zone),
            amount=amount,
            currency="USD" if amount is not None else None,
        )


class FakeContract(SourceContract):
    check_registration = False
    flaws = frozenset()

    @pytest.fixture
    def vendor(self):
        return Vendor()

    @pytest.fixture
    def source_class(self):
        return type("Flawed", (FakeSource,), {"flaws": frozenset(self.flaws)})

    @pytest.fixture
    def source_factory(self, vendor, source_class, source_context):
        settings = FakeSettings(token=GOOD_TOKEN)
        return lambda: source_class(settings, source_context, vendor)

    @pytest.fixture
    def bad_credentials_source(self, vendor, source_class, source_context):
        return source_class(FakeSettings(token="wrong-token-456"), source_context, vendor)

    @pytest.fixture
    def add_newer_records(self, vendor):
        def add():
            vendor.records["deals"].append({"seq": 6, "id": "d-6", "amount": "5", "day": 6})
            vendor.changed = True
            return {"deals": ["d-6"]}

        return add
'''

ALL_TESTS = {
    "test_declares_type_name_and_settings",
    "test_registered_by_an_installed_plugin",
    "test_check_ok_with_good_settings",
    "test_check_fails_cleanly_with_bad_settings",
    "test_streams_are_listed_unique_and_stable",
    "test_full_read_yields_valid_batches",
    "test_resume_from_final_cursor_yields_nothing",
    "test_resume_after_newer_records_yields_only_them",
    "test_reading_twice_from_one_cursor_gives_the_same_facts",
    "test_interrupted_read_resumes_without_loss_or_duplicates",
}

Outcomes = dict[str, tuple[str, str]]


@pytest.fixture
def run_contract(contract_runner: Any) -> Callable[[str], Outcomes]:
    """Run a test module against the fake source; return {test name: (outcome, report)}."""
    run: Callable[[str], Outcomes] = contract_runner("fake_source", FAKE_SOURCE)
    return run


def test_a_sound_source_passes_every_check(run_contract: Callable[[str], Outcomes]) -> None:
    outcomes = run_contract(
        """
        from fake_source import FakeContract

        class TestSound(FakeContract):
            pass
        """
    )
    assert set(outcomes) == ALL_TESTS
    failed = {name: text for name, (outcome, text) in outcomes.items() if outcome == "failed"}
    assert not failed
    assert outcomes["test_registered_by_an_installed_plugin"][0] == "skipped"


@pytest.mark.parametrize(
    ("flaw", "caught_by", "says"),
    [
        ("check_raises", "test_check_fails_cleanly_with_bad_settings", "check() raised"),
        ("check_leaks", "test_check_fails_cleanly_with_bad_settings", "reveals a secret"),
        ("check_traceback", "test_check_fails_cleanly_with_bad_settings", "traceback"),
        ("check_always_ok", "test_check_fails_cleanly_with_bad_settings", "said ok"),
        ("unstable_streams", "test_streams_are_listed_unique_and_stable", "changes"),
        ("duplicate_streams", "test_streams_are_listed_unique_and_stable", "repeat"),
        ("naive_datetime", "test_full_read_yields_valid_batches", "is naive"),
        ("float_amount", "test_full_read_yields_valid_batches", "not a Decimal"),
        ("tuple_cursor", "test_full_read_yields_valid_batches", "JSON round trip"),
        ("duplicate_ids", "test_full_read_yields_valid_batches", "unique per stream"),
        ("ignores_cursor", "test_resume_from_final_cursor_yields_nothing", "read 5 fact(s)"),
        ("replays_after_change", "test_resume_after_newer_records_yields_only_them", "d-1"),
        ("drifting", "test_reading_twice_from_one_cursor_gives_the_same_facts", "differ"),
        ("lossy_cursor", "test_interrupted_read_resumes_without_loss_or_duplicates", "lost"),
    ],
)
def test_each_flaw_is_caught(
    run_contract: Callable[[str], Outcomes], flaw: str, caught_by: str, says: str
) -> None:
    outcomes = run_contract(
        f"""
        from fake_source import FakeContract

        class TestFlawed(FakeContract):
            flaws = {{{flaw!r}}}
        """
    )
    outcome, report = outcomes[caught_by]
    assert outcome == "failed", f"{flaw} was not caught by {caught_by}"
    assert says in report


def test_interruption_needs_several_batches(run_contract: Callable[[str], Outcomes]) -> None:
    outcomes = run_contract(
        """
        import pytest
        from fake_source import FakeContract, FakeSettings, GOOD_TOKEN

        class TestOneBigPage(FakeContract):
            @pytest.fixture
            def source_factory(self, vendor, source_class, source_context):
                settings = FakeSettings(token=GOOD_TOKEN, page_size=100)
                return lambda: source_class(settings, source_context, vendor)
        """
    )
    outcome, report = outcomes["test_interrupted_read_resumes_without_loss_or_duplicates"]
    assert outcome == "failed"
    assert "at least 2" in report


def test_min_batches_can_be_lowered(run_contract: Callable[[str], Outcomes]) -> None:
    outcomes = run_contract(
        """
        import pytest
        from fake_source import FakeContract, FakeSettings, GOOD_TOKEN

        class TestOneBigPage(FakeContract):
            min_batches = 1

            @pytest.fixture
            def source_factory(self, vendor, source_class, source_context):
                settings = FakeSettings(token=GOOD_TOKEN, page_size=100)
                return lambda: source_class(settings, source_context, vendor)
        """
    )
    assert outcomes["test_interrupted_read_resumes_without_loss_or_duplicates"][0] == "passed"


def test_a_missing_fixture_is_named(run_contract: Callable[[str], Outcomes]) -> None:
    outcomes = run_contract(
        """
        from premia_sdk.testing import SourceContract

        class TestNothingProvided(SourceContract):
            pass
        """
    )
    outcome, report = outcomes["test_full_read_yields_valid_batches"]
    assert outcome == "failed"
    assert "fixture 'source_factory' not found" in report


def test_kit_tests_carry_the_contract_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(fake_source=FAKE_SOURCE)
    pytester.syspathinsert()
    pytester.makepyfile(
        test_case="""
        from fake_source import FakeContract

        class TestSound(FakeContract):
            pass

        def test_not_a_contract_test():
            pass
        """
    )
    result = pytester.runpytest("-m", "premia_contract", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=len(ALL_TESTS) - 1, skipped=1, deselected=1)

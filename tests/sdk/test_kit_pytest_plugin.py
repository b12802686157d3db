"""The kit's pytest plugin: loaded by entry point, its fixtures and markers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from premia import ProviderContext, SourceContext
from premia.plugins import Registry
from premia_sdk.testing import SYNC_STARTED_AT

pytest_plugins = ["pytester"]


def test_the_plugin_is_loaded_through_its_entry_point(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("premia_sdk")
    assert plugin is not None
    assert plugin.__name__ == "premia_sdk.testing.pytest_plugin"


def test_source_context_is_on_tmp_path_with_a_fixed_start(
    source_context: SourceContext, tmp_path: Path
) -> None:
    assert source_context.base_dir == tmp_path
    assert source_context.sync_started_at == SYNC_STARTED_AT
    assert source_context.sync_started_at.utcoffset() is not None
    assert source_context.timezone == "UTC"


def test_provider_context_keeps_state_under_tmp_path(
    provider_context: ProviderContext, tmp_path: Path
) -> None:
    assert provider_context.base_dir == tmp_path
    assert provider_context.state_folder == tmp_path / ".premia"


def test_premia_registry_holds_the_installed_plugins(premia_registry: Registry) -> None:
    assert "csv" in premia_registry.sources
    assert "rewards_catalog" in premia_registry.providers
    assert {"threshold", "tiered", "rank", "every"} <= set(premia_registry.rules)
    names = {info.name for info in premia_registry.plugin_infos()}
    assert "sdk" in names


def test_markers_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.premia_contract:*", "@pytest.mark.premia_cassette*"])


def _cassette(path: Path, body: str) -> None:
    interactions = [{"request": {"url": "/v1/ping"}, "response": {"text": body}}]
    path.write_text(json.dumps({"interactions": interactions}), encoding="utf-8")


def test_cassette_markers_load_relative_to_the_module_nearest_first(
    pytester: pytest.Pytester,
) -> None:
    (pytester.path / "cassettes").mkdir()
    _cassette(pytester.path / "cassettes" / "module.json", "module")
    _cassette(pytester.path / "cassettes" / "test.json", "test")
    pytester.makepyfile(
        """
        import httpx
        import pytest

        pytestmark = pytest.mark.premia_cassette("cassettes/module.json")

        def test_module_level(recorded_http):
            assert httpx.get("http://x.example/v1/ping").text == "module"

        @pytest.mark.premia_cassette("cassettes/test.json")
        def test_nearest_wins(recorded_http):
            assert httpx.get("http://x.example/v1/ping").text == "test"

        def test_more_can_be_loaded(recorded_http):
            recorded_http.load("cassettes/test.json")
            assert httpx.get("http://x.example/v1/ping").text == "test"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_an_unmatched_request_fails_the_test_even_if_caught(pytester: pytest.Pytester) -> None:
    _cassette(pytester.path / "ping.json", "pong")
    pytester.makepyfile(
        """
        import httpx
        import pytest

        @pytest.mark.premia_cassette("ping.json")
        def test_swallows(recorded_http):
            try:
                httpx.get("http://x.example/v1/other")
            except AssertionError:
                pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*unmatched request: GET http://x.example/v1/other*"])


def test_assert_all_used_fails_on_an_unused_interaction(pytester: pytest.Pytester) -> None:
    _cassette(pytester.path / "ping.json", "pong")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.premia_cassette("ping.json", assert_all_used=True)
        def test_never_calls(recorded_http):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*recorded interaction never used: GET /v1/ping*"])


def test_shared_rate_budgets_do_not_leak_between_tests(pytester: pytest.Pytester) -> None:
    # Each test's budget allows one request a minute and refuses to sleep. Were the first
    # test's shared budget kept, the second test's first request would have to wait.
    pytester.makepyfile(
        """
        from premia_sdk import RateBudget

        def no_sleep(seconds):
            raise AssertionError(f"asked to sleep {seconds}s")

        def test_first():
            RateBudget.shared("acme:1", 1, 60, sleep=no_sleep).acquire()

        def test_second():
            RateBudget.shared("acme:1", 1, 60, sleep=no_sleep).acquire()
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2)

"""pytest plugin of the contract kit: fixtures and markers for plugin authors.

pytest loads it by itself (entry point ``pytest11: premia_sdk``) wherever ``premia-sdk`` is
installed; with plugin autoloading off, add ``pytest_plugins = ["premia_sdk.testing.pytest_plugin"]``
to a ``conftest.py``.

Fixtures:
    ``recorded_http``: a started :class:`~premia_sdk.testing.Recording` with the cassettes
    named by ``premia_cassette`` markers loaded; the test fails on any request no
    interaction matches.
    ``premia_registry``: a :class:`premia.plugins.Registry` of the installed plugins.
    ``source_context``: a :class:`premia.SourceContext` on ``tmp_path`` with a fixed
    ``sync_started_at`` (:data:`~premia_sdk.testing.SYNC_STARTED_AT`).
    ``provider_context``: a :class:`premia.ProviderContext` on ``tmp_path``.
    ``_premia_fresh_rate_budgets`` (autouse): every test starts and ends with no shared
    :class:`~premia_sdk.RateBudget`, so one test's requests never make another wait.

Markers:
    ``premia_contract``: carried by every test of the contract suites.
    ``premia_cassette(*paths, assert_all_used=False)``: cassettes ``recorded_http`` loads,
    relative to the test module's folder; on a module, a class or a test (the nearest
    marker's cassettes take precedence). ``assert_all_used=True`` also fails the test when
    an interaction was never used.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from premia import ProviderContext, SourceContext
    from premia.plugins import Registry
    from premia_sdk.testing import Recording


def pytest_configure(config: pytest.Config) -> None:
    """Register the kit's markers."""
    config.addinivalue_line(
        "markers", "premia_contract: a test of the Premia plugin contract kit (premia_sdk)"
    )
    config.addinivalue_line(
        "markers",
        "premia_cassette(*paths, assert_all_used=False): cassettes the recorded_http "
        "fixture loads, relative to the test module's folder",
    )


@pytest.fixture
def recorded_http(request: pytest.FixtureRequest) -> Iterator[Recording]:
    """Serve recorded HTTP interactions to every httpx client during the test.

    Loads the cassettes named by ``premia_cassette`` markers (module, then class, then test,
    each taking precedence over the one before). More can be loaded with
    ``recorded_http.load(path)`` or added with ``recorded_http.add(...)``. After the test it
    fails if a request matched nothing (and, with ``assert_all_used``, if an interaction was
    never used).
    """
    from premia_sdk.testing import Recording

    markers = list(request.node.iter_markers("premia_cassette"))
    recording = Recording(
        base_dir=Path(request.path).parent,
        assert_all_used=any(m.kwargs.get("assert_all_used", False) for m in markers),
    )
    for marker in reversed(markers):  # farthest first, so the nearest takes precedence
        for path in marker.args:
            recording.load(path)
    with recording:
        yield recording
    recording.verify()


@pytest.fixture
def premia_registry() -> Registry:
    """The plugins installed in this environment, as ``premia`` would load them."""
    from premia.plugins import Registry

    return Registry()


@pytest.fixture
def source_context(tmp_path: Path) -> SourceContext:
    """A source's run context on ``tmp_path``, with a fixed ``sync_started_at``."""
    from premia_sdk.testing import make_source_context

    return make_source_context(tmp_path)


@pytest.fixture
def provider_context(tmp_path: Path) -> ProviderContext:
    """A provider's context on ``tmp_path`` (state in ``tmp_path/.premia``)."""
    from premia_sdk.testing import make_provider_context

    return make_provider_context(tmp_path)


@pytest.fixture(autouse=True)
def _premia_fresh_rate_budgets() -> Iterator[None]:
    """Forget shared rate budgets around every test (they live as long as the process)."""
    from premia_sdk.ratelimit import RateBudget

    RateBudget.clear_shared()
    yield
    RateBudget.clear_shared()

"""Contract test kit for Premia plugins: suites a plugin's tests inherit, and recorded HTTP.

A plugin's test module subclasses a suite and provides a few fixtures; the suite's tests
then check the plugin keeps the contract the engine relies on::

    from premia_sdk.testing import SourceContract

    class TestAcmeSource(SourceContract):
        ...  # source_factory, bad_credentials_source, add_newer_records

The suites are :class:`SourceContract`, :class:`ProviderContract` and :class:`RuleContract`;
each class docstring lists exactly which fixtures it needs. HTTP plugins test offline with
cassettes (:class:`Recording`, the ``recorded_http`` fixture). The fixtures come from this
package's pytest plugin, which pytest loads by itself once ``premia-sdk[testing]`` is
installed (``premia_sdk.testing.pytest_plugin``): ``recorded_http``, ``premia_registry``,
``source_context`` and ``provider_context``, and the markers ``premia_contract`` (every
kit test carries it: ``pytest -m premia_contract``) and ``premia_cassette``.
"""

from __future__ import annotations

import pytest

# The suites use plain ``assert``: have pytest rewrite them for readable failures. This must
# happen before the modules are imported.
pytest.register_assert_rewrite(
    "premia_sdk.testing._checks",
    "premia_sdk.testing._provider",
    "premia_sdk.testing._rule",
    "premia_sdk.testing._source",
)

from premia_sdk.testing._cassette import (  # noqa: E402
    Cassette,
    CassetteError,
    RecordedCall,
    RecordedInteraction,
    RecordedRequest,
    RecordedResponse,
    Recording,
    UnmatchedRequest,
)
from premia_sdk.testing._checks import (  # noqa: E402
    IOForbidden,
    StreamRead,
    check_batches,
    check_fact,
    forbid_io,
    read_stream,
    roundtrip,
    secret_values,
)
from premia_sdk.testing._contexts import (  # noqa: E402
    SYNC_STARTED_AT,
    make_provider_context,
    make_source_context,
)
from premia_sdk.testing._provider import ProviderContract  # noqa: E402
from premia_sdk.testing._rule import RuleContract, sample_rule_inputs  # noqa: E402
from premia_sdk.testing._source import SourceContract  # noqa: E402

__all__ = [
    "SYNC_STARTED_AT",
    "Cassette",
    "CassetteError",
    "IOForbidden",
    "ProviderContract",
    "RecordedCall",
    "RecordedInteraction",
    "RecordedRequest",
    "RecordedResponse",
    "Recording",
    "RuleContract",
    "SourceContract",
    "StreamRead",
    "UnmatchedRequest",
    "check_batches",
    "check_fact",
    "forbid_io",
    "make_provider_context",
    "make_source_context",
    "read_stream",
    "roundtrip",
    "sample_rule_inputs",
    "secret_values",
]

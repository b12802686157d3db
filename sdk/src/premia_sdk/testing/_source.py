"""The contract suite of KPI sources."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from premia import Fact, JSONValue, Source, StreamInfo
from premia.plugins import Registry
from premia_sdk.testing._checks import (
    SourceFactory,
    StreamRead,
    check_batches,
    read_stream,
    roundtrip,
    secret_values,
)

NewerRecords = Mapping[str, Collection[str]]
"""What ``add_newer_records()`` returns: stream name -> external ids added or changed."""


class SourceContract:
    """The contract every KPI source keeps, as tests a plugin's test class inherits.

    Subclass it in a test module under a name pytest collects and provide the fixtures
    below; every ``test_*`` method of the kit then runs against your source::

        from premia_sdk.testing import SourceContract

        class TestAcmeSource(SourceContract):
            @pytest.fixture
            def source_factory(self, source_context, recorded_http):
                recorded_http.load("cassettes/acme.json")
                settings = AcmeSettings(token="test-token")
                return lambda: AcmeSource(settings, source_context)

            @pytest.fixture
            def bad_credentials_source(self, source_context, recorded_http):
                recorded_http.load("cassettes/acme.json")
                return AcmeSource(AcmeSettings(token="wrong-token"), source_context)

            @pytest.fixture
            def add_newer_records(self, recorded_http):
                def add():
                    recorded_http.load("cassettes/acme-newer.json")
                    return {"deals": {"d-4"}}
                return add

    Fixtures you provide (in the class, the module or a ``conftest.py``):

    ``source_factory`` -> ``Callable[[], premia.Source]``
        Returns a **new** source instance on each call, with good settings, over the same
        data (the same files, the same cassette). The kit builds one per simulated sync and
        closes it afterwards. The data must give at least one fact, and a full read of at
        least one stream must take :attr:`min_batches` batches (use a small page or batch
        size), so that an interrupted read can be tested.
    ``bad_credentials_source`` -> ``premia.Source``
        A source with wrong credentials or a wrong configuration (a rejected token, a file
        that does not exist). Its ``check()`` must return ``ok=False``.
    ``add_newer_records`` -> ``Callable[[], Mapping[str, Collection[str]]]``
        Makes the data hold newer records than the first full read saw (append rows in a
        new file, layer a second cassette over the first...), and returns, per stream name,
        the external ids of the records it added or changed. Resuming each stream from its
        final cursor must then yield exactly those ids; a stream missing from the mapping
        must yield no fact.

    Fixtures you may override (in the class):

    ``secrets`` -> ``Collection[str]``
        Text that must never appear in a ``check()`` message (default: none). The values of
        every ``SecretStr``/``SecretBytes`` in both sources' settings are checked anyway.

    The kit uses these fixtures of the ``premia_sdk`` pytest plugin, which your factories
    may use too: ``source_context`` (a :class:`premia.SourceContext` on ``tmp_path`` with a
    fixed ``sync_started_at``), ``recorded_http`` (see :class:`Recording`) and
    ``premia_registry``.

    Class attributes you may set:

    ``min_batches``
        Batches a full read of the longest stream must take (default 2).
    ``max_interruptions``
        Batch boundaries at which an interrupted read is tried, per stream (default 10).
    ``check_registration``
        Check that an installed plugin registers the source type (default True; set it to
        False to test a source class that is not installed).

    What the kit checks: the type declares ``type_name`` and a pydantic ``Settings``; it is
    registered under its ``type_name``; ``check()`` is ok on good settings and, on bad ones,
    returns ``ok=False`` with a message that holds no secret and no traceback (and does not
    raise); ``streams()`` lists unique, stable names; a full read of every stream yields
    :class:`premia.Batch` objects whose facts are :class:`premia.Fact` of the stream's kind
    with timezone-aware datetimes, Decimal amounts and quantities, non-empty external ids
    unique in the stream, and cursors that survive a JSON round trip; resuming from the
    final cursor yields no fact; after ``add_newer_records`` it yields only the newer
    records; reading twice from one cursor gives the same facts and cursor; a read stopped
    after any batch and resumed from that batch's cursor by a new source instance loses and
    duplicates nothing (the union equals a clean full read, by external id and content).
    Every cursor the kit resumes from went through ``json.dumps``/``json.loads`` first, as
    the engine stores it.
    """

    pytestmark = [pytest.mark.premia_contract]

    min_batches: ClassVar[int] = 2
    max_interruptions: ClassVar[int] = 10
    check_registration: ClassVar[bool] = True

    @pytest.fixture
    def secrets(self) -> Collection[str]:
        """Text that must never appear in a check message (override to add some)."""
        return ()

    # -- helpers -------------------------------------------------------------------------
    @staticmethod
    def _streams(source_factory: SourceFactory) -> list[StreamInfo]:
        source = source_factory()
        try:
            return list(source.streams())
        finally:
            source.close()

    @classmethod
    def _full_reads(cls, source_factory: SourceFactory) -> dict[str, tuple[StreamInfo, StreamRead]]:
        reads = {}
        for info in cls._streams(source_factory):
            read = read_stream(source_factory, info.name, None)
            check_batches(read, info)
            reads[info.name] = (info, read)
        return reads

    # -- the type ------------------------------------------------------------------------
    def test_declares_type_name_and_settings(self, source_factory: SourceFactory) -> None:
        """The class names its ``type_name`` and a pydantic ``Settings`` the instance uses."""
        source = source_factory()
        try:
            cls = type(source)
            assert isinstance(source, Source), f"{cls.__name__} does not subclass premia.Source"
            type_name = getattr(cls, "type_name", None)
            assert isinstance(type_name, str), f"{cls.__name__}.type_name is not set"
            assert type_name.strip() == type_name, f"type_name {type_name!r} has spaces"
            assert type_name, f"{cls.__name__}.type_name is empty"
            settings_cls = getattr(cls, "Settings", None)
            assert isinstance(settings_cls, type), f"{cls.__name__}.Settings is not set"
            assert issubclass(settings_cls, BaseModel), (
                f"{cls.__name__}.Settings is not a pydantic model"
            )
            assert isinstance(source.settings, settings_cls), (
                f"the source's settings are a {type(source.settings).__name__}, "
                f"not {settings_cls.__name__}"
            )
            settings_cls.model_json_schema()  # `premia schema` needs it
        finally:
            source.close()

    def test_registered_by_an_installed_plugin(
        self, source_factory: SourceFactory, premia_registry: Registry
    ) -> None:
        """An installed plugin registers the class under its ``type_name``."""
        if not self.check_registration:
            pytest.skip("check_registration is False")
        source = source_factory()
        source.close()
        cls = type(source)
        registered = premia_registry.sources.get(cls.type_name)
        problems = "; ".join(f"{p.name}: {p.error}" for p in premia_registry.problems)
        assert registered is cls, (
            f"no installed plugin registers {cls.__name__} as source type {cls.type_name!r} "
            f"(registered: {registered!r}); is the package installed with an entry point in "
            f"the `premia` group?{' Broken plugins: ' + problems if problems else ''}"
        )

    # -- check ---------------------------------------------------------------------------
    def test_check_ok_with_good_settings(self, source_factory: SourceFactory) -> None:
        """``check()`` says ok with the good settings."""
        source = source_factory()
        try:
            result = source.check()
        finally:
            source.close()
        assert result.ok, f"check() failed with the good settings: {result.message}"
        assert isinstance(result.message, str)

    def test_check_fails_cleanly_with_bad_settings(
        self,
        bad_credentials_source: Source[Any],
        source_factory: SourceFactory,
        secrets: Collection[str],
    ) -> None:
        """``check()`` returns ok=False with a clear message: no raise, secret or traceback."""
        try:
            try:
                result = bad_credentials_source.check()
            except Exception as exc:
                pytest.fail(
                    f"check() raised {type(exc).__name__}: {exc}; it must return "
                    "CheckResult(ok=False, message=...) for a bad setup"
                )
        finally:
            bad_credentials_source.close()
        assert result.ok is False, f"check() said ok with bad settings: {result.message!r}"
        message = result.message
        assert isinstance(message, str), "check() gave a message that is not text"
        assert message.strip(), "check() gave no message"
        assert "Traceback (most recent call last)" not in message, (
            f"check() message holds a traceback: {message!r}"
        )
        good = source_factory()
        good.close()
        hidden = {
            *secrets,
            *secret_values(bad_credentials_source.settings),
            *secret_values(good.settings),
        }
        leaked = sorted(s for s in hidden if s and s in message)
        assert not leaked, f"check() message reveals a secret: {message!r}"

    # -- streams -------------------------------------------------------------------------
    def test_streams_are_listed_unique_and_stable(self, source_factory: SourceFactory) -> None:
        """``streams()`` lists at least one stream, names unique, the same on every call."""
        source = source_factory()
        try:
            first = list(source.streams())
            second = list(source.streams())
        finally:
            source.close()
        assert first, "streams() lists no stream"
        for info in first:
            assert isinstance(info, StreamInfo), f"streams() lists a {type(info).__name__}"
            assert isinstance(info.name, str), f"a stream name is {info.name!r}, not text"
            assert info.name.strip(), "a stream has no name"
        names = [i.name for i in first]
        duplicates = sorted(n for n, c in Counter(names).items() if c > 1)
        assert not duplicates, f"stream names repeat: {duplicates}"
        assert [i.name for i in second] == names, "streams() changes from one call to the next"
        assert [i.name for i in self._streams(source_factory)] == names, (
            "another instance with the same settings lists other streams"
        )

    # -- reading -------------------------------------------------------------------------
    def test_full_read_yields_valid_batches(self, source_factory: SourceFactory) -> None:
        """A first read of every stream yields well-formed batches, facts and cursors."""
        reads = self._full_reads(source_factory)
        total = sum(len(read.facts) for _info, read in reads.values())
        assert total > 0, "a full read of every stream gave no fact; give the source some data"

    def test_resume_from_final_cursor_yields_nothing(self, source_factory: SourceFactory) -> None:
        """Reading again from the final cursor of a full read yields no fact."""
        for name, (info, read) in self._full_reads(source_factory).items():
            cursor = roundtrip(read.final_cursor, f"stream {name!r}, final cursor")
            again = read_stream(source_factory, name, cursor)
            check_batches(again, info)
            ids = [f.external_id for f in again.facts]
            assert not ids, (
                f"stream {name!r}: resuming from the final cursor {cursor!r} read {len(ids)} "
                f"fact(s) again (e.g. {ids[:5]}); nothing changed, so nothing should come"
            )

    def test_resume_after_newer_records_yields_only_them(
        self, source_factory: SourceFactory, add_newer_records: Callable[[], NewerRecords]
    ) -> None:
        """After ``add_newer_records()``, a resumed read yields exactly the newer records."""
        reads = self._full_reads(source_factory)
        changed = add_newer_records()
        assert isinstance(changed, Mapping), (
            "add_newer_records() must return {stream name: external ids added or changed}"
        )
        unknown = sorted(set(changed) - set(reads))
        assert not unknown, f"add_newer_records() names unknown streams: {unknown}"
        assert any(changed.values()), "add_newer_records() says it added nothing"
        for name, (info, read) in reads.items():
            cursor = roundtrip(read.final_cursor, f"stream {name!r}, final cursor")
            again = read_stream(source_factory, name, cursor)
            check_batches(again, info)
            got = [f.external_id for f in again.facts]
            expected = {str(i) for i in changed.get(name, ())}
            assert set(got) == expected, (
                f"stream {name!r}: resuming after add_newer_records() read {sorted(set(got))}, "
                f"expected only the newer records {sorted(expected)}"
            )

    def test_reading_twice_from_one_cursor_gives_the_same_facts(
        self, source_factory: SourceFactory
    ) -> None:
        """Two reads from the same cursor give the same facts and the same final cursor."""
        for name, (_info, read) in self._full_reads(source_factory).items():
            starts: list[JSONValue] = [None]
            if len(read.batches) > 1:
                starts.append(roundtrip(read.batches[0].cursor, f"stream {name!r}, batch 1"))
            for start in starts:
                one = read_stream(source_factory, name, start)
                two = read_stream(source_factory, name, start)
                _assert_same_facts(
                    two.facts_by_id(), one.facts_by_id(), f"stream {name!r} read from {start!r}"
                )
                assert one.final_cursor == two.final_cursor, (
                    f"stream {name!r}: two reads from {start!r} end on different cursors "
                    f"({one.final_cursor!r} and {two.final_cursor!r})"
                )

    def test_interrupted_read_resumes_without_loss_or_duplicates(
        self, source_factory: SourceFactory
    ) -> None:
        """A read stopped after batch k and resumed from its cursor equals a clean read."""
        reads = self._full_reads(source_factory)
        longest = max((len(read.batches) for _i, read in reads.values()), default=0)
        assert longest >= self.min_batches, (
            f"the longest stream took {longest} batch(es) to read; configure the source so "
            f"one takes at least {self.min_batches} (a small page or batch size), or set "
            "min_batches on the test class"
        )
        for name, (_info, clean) in reads.items():
            count = len(clean.batches)
            for k in _spread(range(1, count), self.max_interruptions):
                where = f"stream {name!r} stopped after batch {k} of {count}"
                part = read_stream(source_factory, name, None, stop_after=k)
                cursor = roundtrip(part.final_cursor, where)
                rest = read_stream(source_factory, name, cursor)
                ids = [f.external_id for f in (*part.facts, *rest.facts)]
                doubled = sorted(i for i, c in Counter(ids).items() if c > 1)
                assert not doubled, f"{where} and resumed: read twice: {doubled[:10]}"
                combined = {f.external_id: f for f in (*part.facts, *rest.facts)}
                _assert_same_facts(combined, clean.facts_by_id(), f"{where} and resumed")
                bad_then = Counter(_bad_key(b) for b in (*part.bad_records, *rest.bad_records))
                assert bad_then == Counter(_bad_key(b) for b in clean.bad_records), (
                    f"{where} and resumed: the quarantined records differ from a clean read"
                )


def _spread(values: range, limit: int) -> list[int]:
    """Return at most ``limit`` of ``values``, spread evenly, first and last included."""
    items = list(values)
    if len(items) <= limit:
        return items
    if limit < 2:
        return items[:limit]
    step = (len(items) - 1) / (limit - 1)
    return sorted({items[round(i * step)] for i in range(limit)})


def _bad_key(bad: Any) -> tuple[object, ...]:
    return (bad.location, bad.line, bad.column, bad.record_id, bad.reason)


def _assert_same_facts(got: dict[str, Fact], expected: dict[str, Fact], where: str) -> None:
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    assert not missing, f"{where}: lost {len(missing)} fact(s), e.g. {missing[:10]}"
    assert not extra, f"{where}: {len(extra)} unexpected fact(s), e.g. {extra[:10]}"
    differ = [i for i in expected if got[i] != expected[i]]
    if differ:
        first = differ[0]
        pytest.fail(
            f"{where}: {len(differ)} fact(s) differ, e.g. {first!r}:\n"
            f"  got      {got[first]!r}\n  expected {expected[first]!r}"
        )

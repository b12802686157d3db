"""The streams of a sync are read at the same time (PREMIA_PARALLEL_STREAMS), each in order."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

import premia
from premia import Batch, CheckResult, Fact, Source, StreamInfo
from premia.plugins import Registry
from premia.settings import PremiaSettings

STREAMS = ("north", "south", "east")


class TwoPhaseSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rendezvous(Source[TwoPhaseSettings]):
    """Three streams that each wait, mid-read, until all three are being read at once.

    Read one after another, the first stream would wait forever at the barrier (it times out
    and the stream fails); read in parallel, all three meet and finish.
    """

    type_name = "rendezvous"
    Settings = TwoPhaseSettings
    barrier: threading.Barrier

    def check(self) -> CheckResult:
        return CheckResult(True, "ok")

    def streams(self) -> list[StreamInfo]:
        return [StreamInfo(name) for name in STREAMS]

    def read(self, stream: str, cursor: Any) -> Iterator[Batch]:
        start = int(cursor or 0)
        for n in range(start + 1, 4):
            if n == 2:
                type(self).barrier.wait(timeout=10)
            fact = Fact(
                external_id=f"{stream}-{n}",
                owner_ref="ana@example.com",
                occurred_at=datetime(2024, 2, n, tzinfo=UTC),
                amount=Decimal(n),
                stage="Won",
            )
            yield Batch([fact], cursor=n)


class RendezvousPlugin:
    @premia.hookimpl
    def premia_register_sources(self, register: Any) -> None:
        register(Rendezvous)


def open_program(kit: Any, db: str, parallel: int) -> Any:
    from premia.runtime import open_runtime

    doc = kit.program_dict(
        sources=[{"name": "crm", "type": "rendezvous"}],
        rules=[
            {"name": "per_deal", "type": "every", "metric": "won_deals", "reward": {"points": 1}}
        ],
    )
    path = kit.write(doc)
    registry = Registry(load_entry_points=False, extra_plugins=[RendezvousPlugin()])
    runtime = open_runtime(
        path, registry=registry, database=db, settings=PremiaSettings(parallel_streams=parallel)
    )
    kit._open.append(runtime)
    return runtime


def test_streams_are_read_at_the_same_time(kit: Any, sqlite_url: str) -> None:
    Rendezvous.barrier = threading.Barrier(len(STREAMS))
    runtime = open_program(kit, sqlite_url, parallel=4)
    report = kit.sync(runtime)
    assert report.errors == []
    assert report.complete
    # 3 streams x 3 deals, each stream's cursor at its last batch
    assert report.facts_changed == 9
    for stream in STREAMS:
        assert kit.cursor(runtime, "crm", stream) == 3
    assert kit.balance(runtime, "ana@example.com") == 9


def test_one_at_a_time_when_asked(kit: Any, sqlite_url: str) -> None:
    # With one stream at a time the rendezvous can never happen: the first stream's wait
    # times out (the barrier breaks for all), the run is incomplete, and no reward is paid.
    Rendezvous.barrier = threading.Barrier(len(STREAMS))
    Rendezvous.barrier.abort()  # fail at once instead of waiting 10 s
    runtime = open_program(kit, sqlite_url, parallel=1)
    report = kit.sync(runtime)
    assert not report.complete
    assert len(report.errors) == 3
    assert report.grants == 0
    for stream in STREAMS:
        assert kit.cursor(runtime, "crm", stream) == 1  # the batch before the failure

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path
from typing import Any

from premia import OrderRequest, ProviderContext, RedemptionRefused
from premia_rewards_catalog import LocalCatalog, LocalCatalogSettings

from .conftest import MakeProvider, inventory, order

WORKERS = 6


def _race(submit: list[Any], requests: list[OrderRequest]) -> list[str]:
    """Run ``submit[i](requests[i])`` in threads started together; return outcomes."""
    barrier = threading.Barrier(len(requests))
    outcomes: list[str] = [""] * len(requests)

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = submit[i](requests[i]).provider_order_id
        except RedemptionRefused:
            outcomes[i] = "refused"
        except Exception as exc:  # reported through the assertion, not lost in the thread
            outcomes[i] = f"error: {exc!r}"

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_threads_with_their_own_instances_never_oversell(make_provider: MakeProvider) -> None:
    providers = [make_provider() for _ in range(WORKERS)]
    requests = [order(f"k-{i}", "LAST-ONE", points=100) for i in range(WORKERS)]

    outcomes = _race([p.submit_order for p in providers], requests)

    assert sorted(outcomes) == ["LC-000001"] + ["refused"] * (WORKERS - 1)
    assert inventory(providers[0])["LAST-ONE"] == 0
    assert len(providers[0].orders()) == 1


def test_threads_sharing_one_instance_never_oversell(provider: LocalCatalog) -> None:
    requests = [order(f"k-{i}", "LAST-ONE", points=100) for i in range(WORKERS)]
    outcomes = _race([provider.submit_order] * WORKERS, requests)
    assert sorted(outcomes) == ["LC-000001"] + ["refused"] * (WORKERS - 1)


def test_the_same_key_at_once_is_one_order(make_provider: MakeProvider) -> None:
    providers = [make_provider() for _ in range(WORKERS)]
    outcomes = _race([p.submit_order for p in providers], [order("same")] * WORKERS)
    assert outcomes == ["LC-000001"] * WORKERS
    assert inventory(providers[0])["DINNER"] == 2


def _process_worker(base_dir: str, key: str, barrier: Any, results: Any) -> None:
    provider = LocalCatalog(
        LocalCatalogSettings.model_validate({"catalog": "catalog.yaml"}),
        ProviderContext(provider_name="catalog", base_dir=Path(base_dir)),
    )
    provider.catalog()  # open the state file before the race
    barrier.wait()
    try:
        results.put(provider.submit_order(order(key, "LAST-ONE", points=100)).provider_order_id)
    except RedemptionRefused:
        results.put("refused")
    except Exception as exc:  # reported through the assertion, not a hang
        results.put(f"error: {exc!r}")
    finally:
        provider.close()


def test_processes_never_oversell(make_provider: MakeProvider, tmp_path: Path) -> None:
    methods = multiprocessing.get_all_start_methods()
    ctx: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    workers = 4
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    processes = [
        ctx.Process(target=_process_worker, args=(str(tmp_path), f"p-{i}", barrier, results))
        for i in range(workers)
    ]
    for p in processes:
        p.start()
    outcomes = sorted(results.get(timeout=30) for _ in processes)
    for p in processes:
        p.join(timeout=30)
        assert p.exitcode == 0

    assert outcomes == ["LC-000001"] + ["refused"] * (workers - 1)
    provider = make_provider()
    assert len(provider.orders()) == 1
    assert inventory(provider)["LAST-ONE"] == 0

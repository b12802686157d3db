"""One test per hookspec (``test_hook_<name>``): each hook does what its docstring promises.

``tests/sdk/test_docs.py`` fails when a hookspec has no test here or no section in the guide.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import click
import pytest
from click.testing import CliRunner
from pydantic import BaseModel, ConfigDict

import premia
from premia import (
    CatalogItem,
    GrantSpec,
    OrderRequest,
    OrderResult,
    OrderStatus,
    Progress,
    RewardProvider,
    RuleInput,
    RuleOutcome,
    RuleType,
)
from premia.engine.fulfillment import redeem
from premia.engine.sync import utcnow
from premia.plugins import Registry


class Recorder:
    """Records every event hook call."""

    def __init__(self) -> None:
        self.events: dict[str, list[Any]] = {}

    def _add(self, name: str, event: Any) -> None:
        self.events.setdefault(name, []).append(event)

    @premia.hookimpl
    def premia_achievement_unlocked(self, event: Any) -> None:
        self._add("achievement", event)

    @premia.hookimpl
    def premia_reward_fulfilled(self, event: Any) -> None:
        self._add("fulfilled", event)

    @premia.hookimpl
    def premia_reward_failed(self, event: Any) -> None:
        self._add("failed", event)

    @premia.hookimpl
    def premia_sync_finished(self, event: Any) -> None:
        self._add("sync", event)


class DoubleParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    points_per_unit: int


class DoubleRule(RuleType[DoubleParams]):
    """A third-party rule type: pays points_per_unit x value to everyone with value > 0."""

    type_name = "per_unit"
    Params = DoubleParams

    def evaluate(self, inputs: RuleInput) -> RuleOutcome:
        progress, grants = [], []
        for p in inputs.participants:
            value = inputs.values.get(p.key) or Decimal(0)
            progress.append(Progress(p.key, value, None, None, value > 0))
            if value > 0:
                grants.append(GrantSpec(p.key, "paid", value * self.params.points_per_unit))
        return RuleOutcome(progress, grants)


class RulePlugin:
    @premia.hookimpl
    def premia_register_rules(self, register: Any) -> None:
        register(DoubleRule)


class ShopSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refuse: bool = False


class Shop(RewardProvider[ShopSettings]):
    """A third-party provider that keeps its orders in memory (idempotent by key)."""

    type_name = "shop"
    Settings = ShopSettings
    orders: dict[str, OrderResult] = {}

    def catalog(self) -> list[CatalogItem]:
        return [CatalogItem("CAP", "Cap", "merchandise", 15)]

    def submit_order(self, order: OrderRequest) -> OrderResult:
        if self.settings.refuse:
            raise premia.RedemptionRefused("the shop is closed")
        if order.idempotency_key not in self.orders:
            self.orders[order.idempotency_key] = OrderResult(
                f"S-{len(self.orders) + 1}", OrderStatus.FULFILLED, "shipped"
            )
        return self.orders[order.idempotency_key]

    def order_status(self, provider_order_id: str) -> OrderResult:
        return next(o for o in self.orders.values() if o.provider_order_id == provider_order_id)


class ShopPlugin:
    @premia.hookimpl
    def premia_register_providers(self, register: Any) -> None:
        register(Shop)


def every_deal_rule() -> dict[str, Any]:
    return {"name": "per_deal", "type": "every", "metric": "won_deals", "reward": {"points": 10}}


@pytest.fixture
def hooks(memory_plugin: type, feed: Any) -> Recorder:
    Shop.orders = {}
    return Recorder()


def registry_with(memory_plugin: type, *plugins: object) -> Registry:
    registry = Registry(load_entry_points=False, extra_plugins=[memory_plugin(), *plugins])
    assert registry.problems == []
    return registry


def test_hook_premia_register_sources(kit, feed, sqlite_url, memory_plugin) -> None:
    registry = registry_with(memory_plugin)
    source = registry.source_type("memory")
    assert source.type_name == "memory"
    info = {i.name: i for i in registry.plugin_infos()}
    assert [i.sources for i in info.values() if "premia_register_sources" in i.hooks] == [
        ["memory"]
    ]
    # The registered type is what a program's `type: memory` source reads through.
    feed.put(kit.deal("d1", "ana@example.com"), kit.deal("d2", "ben@example.com"))
    runtime = kit.open(kit.program_dict(rules=[every_deal_rule()]), sqlite_url, registry=registry)
    assert kit.sync(runtime).facts_changed == 2


def test_hook_premia_register_rules(kit, feed, sqlite_url, memory_plugin) -> None:
    registry = registry_with(memory_plugin, RulePlugin())
    assert registry.rule_type("per_unit") is DoubleRule
    feed.put(*(kit.deal(f"d{i}", "ana@example.com") for i in range(3)))
    rule = {"name": "triple", "type": "per_unit", "metric": "won_deals", "points_per_unit": 3}
    runtime = kit.open(kit.program_dict(rules=[rule]), sqlite_url, registry=registry)
    kit.sync(runtime)
    # 3 won deals x 3 points per unit = 9 points, one grant
    assert kit.balance(runtime, "ana@example.com") == 9
    bad = {**rule, "points_per_unit": "lots"}
    with pytest.raises(premia.ConfigError, match=r"rules\[0\]\.points_per_unit"):
        kit.open(kit.program_dict(rules=[bad]), sqlite_url, directory="bad", registry=registry)


def test_hook_premia_register_providers(kit, feed, sqlite_url, memory_plugin, hooks) -> None:
    registry = registry_with(memory_plugin, ShopPlugin(), hooks)
    assert registry.provider_type("shop") is Shop
    feed.put(kit.deal("d1", "ana@example.com"), kit.deal("d2", "ana@example.com"))
    doc = kit.program_dict(
        rules=[every_deal_rule()],
        rewards={"providers": [{"name": "merch", "type": "shop"}]},
    )
    runtime = kit.open(doc, sqlite_url, registry=registry)
    kit.sync(runtime)  # 2 won deals x 10 points = 20 points
    person = runtime.program.participant("ana@example.com")
    with runtime.providers() as providers:
        order, created = redeem(
            runtime.engine, runtime.program, providers, person, "CAP", "r-1", utcnow()
        )
    assert created
    assert order["provider"] == "merch"
    kit.sync(runtime)  # drains the outbox through the shop
    (row,) = kit.rows(runtime, "orders")
    assert (row["status"], row["provider_order_id"]) == ("fulfilled", "S-1")
    assert kit.balance(runtime, "ana@example.com") == 20 - 15


def test_hook_premia_register_commands() -> None:
    class CommandPlugin:
        @premia.hookimpl
        def premia_register_commands(self, cli: click.Group) -> None:
            @cli.command()
            @click.argument("name")
            def hello(name: str) -> None:
                """Say hello."""
                click.echo(f"hello {name}")

    registry = Registry(load_entry_points=False, extra_plugins=[CommandPlugin()])
    group = click.Group("premia")
    registry.pm.hook.premia_register_commands(cli=group)
    result = CliRunner().invoke(group, ["hello", "Ana"])
    assert result.exit_code == 0
    assert result.output == "hello Ana\n"


def test_hook_premia_achievement_unlocked(kit, feed, sqlite_url, memory_plugin, hooks) -> None:
    registry = registry_with(memory_plugin, hooks)
    feed.put(kit.deal("d1", "ana@example.com"), kit.deal("d2", "ana@example.com"))
    runtime = kit.open(kit.program_dict(rules=[every_deal_rule()]), sqlite_url, registry=registry)
    kit.sync(runtime)
    events = hooks.events["achievement"]
    assert [e.grant_key for e in events] == [
        "Test program/per_deal/ana@example.com/2024-Q1/step-1",
        "Test program/per_deal/ana@example.com/2024-Q1/step-2",
    ]
    assert {(e.points, e.rule, e.period) for e in events} == {(10, "per_deal", "2024-Q1")}
    kit.sync(runtime)  # nothing new, no second event
    assert len(hooks.events["achievement"]) == 2


def test_hook_premia_reward_fulfilled(kit, feed, sqlite_url, memory_plugin, hooks) -> None:
    registry = registry_with(memory_plugin, ShopPlugin(), hooks)
    feed.put(kit.deal("d1", "ana@example.com"), kit.deal("d2", "ana@example.com"))
    doc = kit.program_dict(
        rules=[every_deal_rule()], rewards={"providers": [{"name": "merch", "type": "shop"}]}
    )
    runtime = kit.open(doc, sqlite_url, registry=registry)
    kit.sync(runtime)
    with runtime.providers() as providers:
        redeem(
            runtime.engine,
            runtime.program,
            providers,
            runtime.program.participant("Ana Silva"),
            "CAP",
            "r-7",
            utcnow(),
        )
    kit.sync(runtime)
    (event,) = hooks.events["fulfilled"]
    assert (event.order_key, event.sku, event.provider, event.provider_order_id) == (
        "redeem:r-7",
        "CAP",
        "merch",
        "S-1",
    )
    assert event.participant_key == "ana@example.com"


def test_hook_premia_reward_failed(kit, feed, sqlite_url, memory_plugin, hooks) -> None:
    registry = registry_with(memory_plugin, ShopPlugin(), hooks)
    feed.put(kit.deal("d1", "ana@example.com"), kit.deal("d2", "ana@example.com"))
    doc = kit.program_dict(
        rules=[every_deal_rule()],
        rewards={"providers": [{"name": "merch", "type": "shop", "settings": {"refuse": True}}]},
    )
    runtime = kit.open(doc, sqlite_url, registry=registry)
    kit.sync(runtime)
    with runtime.providers() as providers:
        redeem(
            runtime.engine,
            runtime.program,
            providers,
            runtime.program.participant("Ana Silva"),
            "CAP",
            "r-8",
            utcnow(),
        )
    assert kit.balance(runtime, "ana@example.com") == 20 - 15
    kit.sync(runtime)
    (event,) = hooks.events["failed"]
    assert (event.order_key, event.reason) == ("redeem:r-8", "the shop is closed")
    assert kit.balance(runtime, "ana@example.com") == 20  # refunded exactly once


def test_hook_premia_sync_finished(kit, feed, sqlite_url, memory_plugin, hooks) -> None:
    registry = registry_with(memory_plugin, hooks)
    feed.put(kit.deal("d1", "ana@example.com"))
    runtime = kit.open(kit.program_dict(rules=[every_deal_rule()]), sqlite_url, registry=registry)
    kit.sync(runtime)
    feed.put(kit.deal("d2", "ana@example.com"), kit.deal("d3", "ana@example.com"))
    feed.crash_after_batches = 0
    kit.sync(runtime)
    first, second = hooks.events["sync"]
    assert (first.complete, first.facts_changed, first.grants) == (True, 1, 1)
    assert second.complete is False
    assert second.grants == 0
    assert len(second.errors) == 1
    assert second.run_id == first.run_id + 1

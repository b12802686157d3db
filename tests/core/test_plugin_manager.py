"""The plugin registry: isolation of broken plugins, type registration, event hooks."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

import premia
from premia.errors import PluginError
from premia.events import AchievementUnlocked, SyncFinished
from premia.hookspecs import HOOKSPEC_VERSION
from premia.plugins import Registry


class UnknownHookPlugin:
    @premia.hookimpl
    def premia_register_sorces(self, register):  # a typo of premia_register_sources
        raise AssertionError("never called")


class RaisingPlugin:
    @premia.hookimpl
    def premia_register_rules(self, register):
        raise RuntimeError("boom in registration")


def test_unknown_hook_is_reported_and_skipped() -> None:
    plugin = UnknownHookPlugin()
    registry = Registry(load_entry_points=False, extra_plugins=[plugin])
    assert [p.name for p in registry.problems] == ["UnknownHookPlugin"]
    assert "premia_register_sorces" in registry.problems[0].error
    assert "unknown hook" in registry.problems[0].error
    assert not registry.pm.is_registered(plugin)
    assert "threshold" in registry.rules  # the rest still works


def test_strict_mode_makes_a_broken_plugin_fatal(monkeypatch) -> None:
    monkeypatch.setenv("PREMIA_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="UnknownHookPlugin"):
        Registry(load_entry_points=False, extra_plugins=[UnknownHookPlugin()])


def test_registration_hook_raising_is_skipped_with_its_name(caplog) -> None:
    plugin = RaisingPlugin()
    with caplog.at_level(logging.WARNING, logger="premia.plugins"):
        registry = Registry(load_entry_points=False, extra_plugins=[plugin])
    (problem,) = registry.problems
    assert problem.name == "RaisingPlugin"
    assert "boom in registration" in problem.error
    assert "RaisingPlugin" in caplog.text
    assert not registry.pm.is_registered(plugin)
    assert sorted(registry.rules) == ["every", "rank", "threshold", "tiered"]


def test_newer_hookspec_version_is_refused(memory_source) -> None:
    def register_sources(register):
        register(memory_source)

    plugin = SimpleNamespace(
        __name__="from_the_future",
        PREMIA_HOOKSPEC_VERSION=99,
        premia_register_sources=premia.hookimpl(register_sources),
    )
    registry = Registry(load_entry_points=False, extra_plugins=[plugin])
    (problem,) = registry.problems
    assert problem.name == "from_the_future"
    assert f"targets hookspec version 99 but this premia implements {HOOKSPEC_VERSION}" in (
        problem.error
    )
    assert "upgrade premia" in problem.error
    assert "memory" not in registry.sources


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        (0, "supports 1 to 1: upgrade the plugin"),
        ("1", "declares PREMIA_HOOKSPEC_VERSION = '1'; expected a whole number"),
    ],
)
def test_too_old_or_malformed_hookspec_version_is_refused(
    memory_source, monkeypatch: pytest.MonkeyPatch, declared: object, expected: str
) -> None:
    import premia.hookspecs

    monkeypatch.setattr(premia.hookspecs, "HOOKSPEC_VERSION", 1)
    monkeypatch.setattr(premia.hookspecs, "HOOKSPEC_MIN_VERSION", 1)

    def register_sources(register):
        register(memory_source)

    plugin = SimpleNamespace(
        __name__="from_the_past",
        PREMIA_HOOKSPEC_VERSION=declared,
        premia_register_sources=premia.hookimpl(register_sources),
    )
    registry = Registry(load_entry_points=False, extra_plugins=[plugin])
    (problem,) = registry.problems
    assert problem.name == "from_the_past"
    assert expected in problem.error
    assert "memory" not in registry.sources


def test_same_source_type_twice_refuses_the_second(memory_plugin, memory_source) -> None:
    class Imposter(memory_source):
        pass

    class ImposterPlugin:
        @premia.hookimpl
        def premia_register_sources(self, register):
            register(Imposter)

    registry = Registry(load_entry_points=False, extra_plugins=[memory_plugin(), ImposterPlugin()])
    (problem,) = registry.problems
    assert problem.name == "ImposterPlugin"
    assert "source type 'memory' is already registered by MemoryPlugin" in problem.error
    assert registry.sources["memory"] is memory_source


def test_a_plugin_cannot_take_over_a_builtin_rule_type() -> None:
    from premia.builtin_rules.threshold import ThresholdRule

    class Hijack(ThresholdRule):
        pass

    class HijackPlugin:
        @premia.hookimpl
        def premia_register_rules(self, register):
            register(Hijack)

    registry = Registry(load_entry_points=False, extra_plugins=[HijackPlugin()])
    (problem,) = registry.problems
    assert "rule type 'threshold' is already registered by premia.builtin_rules" in problem.error
    assert registry.rules["threshold"] is ThresholdRule


def test_hook_with_a_wrong_signature_is_reported() -> None:
    class WrongArgs:
        @premia.hookimpl
        def premia_register_sources(self, registrar):  # the spec's argument is `register`
            raise AssertionError("never called")

    registry = Registry(load_entry_points=False, extra_plugins=[WrongArgs()])
    (problem,) = registry.problems
    assert problem.name == "WrongArgs"
    assert "registrar" in problem.error


def test_registering_a_non_rule_is_refused() -> None:
    class NotARulePlugin:
        @premia.hookimpl
        def premia_register_rules(self, register):
            register(dict)

    registry = Registry(load_entry_points=False, extra_plugins=[NotARulePlugin()])
    (problem,) = registry.problems
    assert "not a subclass of RuleType" in problem.error


def test_builtin_rules_come_through_the_hook() -> None:
    registry = Registry(load_entry_points=False)
    infos = {i.name: i for i in registry.plugin_infos()}
    builtin = infos["premia.builtin_rules"]
    assert builtin.builtin is True
    assert builtin.rules == ["every", "rank", "threshold", "tiered"]
    assert builtin.hooks == ["premia_register_rules"]
    assert registry.problems == []


def test_plugin_infos_list_extra_plugins(registry) -> None:
    infos = {i.name: i for i in registry.plugin_infos()}
    assert infos["MemoryPlugin"].sources == ["memory"]
    assert infos["premia_rewards_catalog.plugin"].providers == ["rewards_catalog"]
    assert infos["MemoryPlugin"].builtin is False


# -- event hooks -----------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.achievements: list[AchievementUnlocked] = []
        self.syncs: list[SyncFinished] = []

    @premia.hookimpl
    def premia_achievement_unlocked(self, event):
        self.achievements.append(event)

    @premia.hookimpl
    def premia_sync_finished(self, event):
        self.syncs.append(event)


class Failing:
    @premia.hookimpl
    def premia_achievement_unlocked(self, event):
        raise RuntimeError("notification service down")

    @premia.hookimpl
    def premia_sync_finished(self, event):
        raise RuntimeError("audit sink down")


def program(kit):
    return kit.program_dict(
        rules=[
            {"name": "per_deal", "type": "every", "metric": "won_deals", "reward": {"points": 10}},
            {
                "name": "big",
                "type": "threshold",
                "metric": "won_revenue",
                "target": 100,
                "reward": {"badge": "Big"},
            },
        ]
    )


def test_event_hooks_receive_one_event_per_new_grant(kit, feed, sqlite_url, memory_plugin) -> None:
    import premia_rewards_catalog.plugin as catalog_plugin

    recorder = Recorder()
    registry = Registry(
        load_entry_points=False, extra_plugins=[memory_plugin(), catalog_plugin, recorder]
    )
    feed.put(kit.deal("d1", "ana@example.com", "100"), kit.deal("d2", "ana@example.com", "50"))
    runtime = kit.open(program(kit), sqlite_url, registry=registry)
    kit.sync(runtime)
    # per_deal step-1, step-2 (10 points each) and big (badge, 0 points): 3 grants
    grant_keys = sorted(g["key"] for g in kit.rows(runtime, "grants"))
    assert len(grant_keys) == 3
    assert sorted(e.grant_key for e in recorder.achievements) == grant_keys
    by_step = {e.grant_key.rsplit("/", 1)[1]: e for e in recorder.achievements}
    assert by_step["step-1"].points == 10
    assert by_step["achieved"].badge == "Big"
    assert by_step["achieved"].points == 0
    assert {e.participant_key for e in recorder.achievements} == {"ana@example.com"}
    assert len(recorder.syncs) == 1
    assert recorder.syncs[0].complete is True
    assert recorder.syncs[0].grants == 3

    kit.sync(runtime)  # nothing new: no achievement, one more sync event
    assert len(recorder.achievements) == 3
    assert len(recorder.syncs) == 2
    assert recorder.syncs[1].grants == 0

    feed.put(kit.deal("d3", "ana@example.com", "1"))
    kit.sync(runtime)
    assert len(recorder.achievements) == 4  # step-3 only
    assert recorder.achievements[-1].grant_key.endswith("/step-3")
    assert len(recorder.syncs) == 3


def test_a_failing_event_hook_does_not_break_the_sync(
    kit, feed, sqlite_url, memory_plugin, caplog
) -> None:
    recorder = Recorder()
    registry = Registry(
        load_entry_points=False, extra_plugins=[memory_plugin(), Failing(), recorder]
    )
    feed.put(kit.deal("d1", "ana@example.com", "100"))
    runtime = kit.open(program(kit), sqlite_url, registry=registry)
    with caplog.at_level(logging.ERROR, logger="premia.plugins"):
        report = kit.sync(runtime)
    assert report.complete
    assert report.grants == 2
    assert kit.balance(runtime, "ana@example.com") == 10
    # The other plugin still got every event.
    assert len(recorder.achievements) == 2
    assert len(recorder.syncs) == 1
    assert "notification service down" in caplog.text or "Failing" in caplog.text
    assert kit.rows(runtime, "sync_runs")[0]["status"] == "complete"

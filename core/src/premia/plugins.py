"""Loading plugins and collecting the types they register.

Built-in rule types are a plugin like any other (``premia.builtin_rules``). Third-party
plugins come from the ``premia`` entry-point group; each is loaded in isolation, so a broken
plugin is reported and skipped (``PREMIA_STRICT_PLUGINS=1`` makes it fatal).
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import Distribution, EntryPoint, entry_points
from types import ModuleType
from typing import Any, TypeVar

import pluggy

from premia import hookspecs
from premia.errors import PluginError
from premia.providers import RewardProvider
from premia.rules import RuleType
from premia.sources import Source

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "premia"
BUILTIN_PLUGINS = ("premia.builtin_rules",)

T = TypeVar("T")


@dataclass
class PluginInfo:
    """What ``premia plugins`` shows about one plugin."""

    name: str
    version: str | None
    hooks: list[str]
    sources: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    builtin: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "name": self.name,
            "version": self.version,
            "builtin": self.builtin,
            "hooks": self.hooks,
            "sources": self.sources,
            "rules": self.rules,
            "providers": self.providers,
        }


@dataclass(frozen=True)
class PluginProblem:
    """A plugin that could not be loaded, and why."""

    name: str
    error: str


def strict_plugins() -> bool:
    """Return True when ``PREMIA_STRICT_PLUGINS`` asks for broken plugins to be fatal."""
    return os.environ.get("PREMIA_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes"}


class Registry:
    """The plugin manager plus the source, rule and provider types plugins registered.

    Args:
        load_entry_points: load third-party plugins (tests turn this off for isolation).
        extra_plugins: plugin objects (modules or instances) to register after the others.
    """

    def __init__(self, *, load_entry_points: bool = True, extra_plugins: Iterable[object] = ()):
        self.pm = pluggy.PluginManager("premia")
        self.pm.add_hookspecs(hookspecs)
        self.problems: list[PluginProblem] = []
        self._dists: dict[str, Distribution | None] = {}
        self.sources: dict[str, type[Source[Any]]] = {}
        self.rules: dict[str, type[RuleType[Any]]] = {}
        self.providers: dict[str, type[RewardProvider[Any]]] = {}
        self._owners: dict[tuple[str, str], str] = {}
        for module_name in BUILTIN_PLUGINS:
            self._add(importlib.import_module(module_name), module_name, None)
        if load_entry_points:
            for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
                self._load_entry_point(ep)
        for obj in extra_plugins:
            name = getattr(obj, "__name__", type(obj).__name__)
            self._add(obj, name, None)

    # -- loading -----------------------------------------------------------------------
    def _load_entry_point(self, ep: EntryPoint) -> None:
        try:
            plugin = ep.load()
        except Exception as exc:
            self._broken(ep.name, f"cannot be imported: {type(exc).__name__}: {exc}")
            return
        self._add(plugin, ep.name, ep.dist)

    def _add(self, plugin: object, name: str, dist: Distribution | None) -> None:
        problem = _version_problem(getattr(plugin, "PREMIA_HOOKSPEC_VERSION", None))
        if problem is not None:
            self._broken(name, problem)
            return
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:
            self._broken(name, str(exc))
            return
        unknown = [c.name for c in self.pm.get_hookcallers(plugin) or [] if c.spec is None]
        if unknown:
            self.pm.unregister(plugin)
            self._broken(name, f"implements unknown hooks: {', '.join(sorted(unknown))}")
            return
        try:
            self._collect(plugin, name)
        except Exception as exc:
            self.pm.unregister(plugin)
            self._broken(name, f"registration failed: {type(exc).__name__}: {exc}")
            return
        self._dists[name] = dist

    def _broken(self, name: str, error: str) -> None:
        message = f"plugin {name!r} {error}"
        if strict_plugins():
            raise PluginError(message)
        log.warning("skipping %s", message)
        self.problems.append(PluginProblem(name, error))

    def _collect(self, plugin: object, name: str) -> None:
        staged: list[tuple[str, str, type[Any]]] = []

        def collector(family: str, base: type[Any]) -> Any:
            def register(cls: type[Any]) -> None:
                if not (isinstance(cls, type) and issubclass(cls, base)):
                    raise PluginError(f"{cls!r} is not a subclass of {base.__name__}")
                type_name = getattr(cls, "type_name", None)
                if not isinstance(type_name, str) or not type_name:
                    raise PluginError(f"{cls.__name__} has no type_name")
                staged.append((family, type_name, cls))

            return register

        hook = self.pm.subset_hook_caller
        others = [p for p in self.pm.get_plugins() if p is not plugin]
        hook("premia_register_sources", others)(register=collector("sources", Source))
        hook("premia_register_rules", others)(register=collector("rules", RuleType))
        hook("premia_register_providers", others)(register=collector("providers", RewardProvider))
        for family, type_name, _cls in staged:
            owner = self._owners.get((family, type_name))
            if owner is not None:
                raise PluginError(
                    f"{family[:-1]} type {type_name!r} is already registered by {owner}"
                )
        for family, type_name, cls in staged:
            getattr(self, family)[type_name] = cls
            self._owners[(family, type_name)] = name

    # -- look-ups ----------------------------------------------------------------------
    def source_type(self, type_name: str) -> type[Source[Any]]:
        """Return the source class registered as ``type_name``."""
        return _lookup(self.sources, type_name, "source", self._hint("sources"))

    def rule_type(self, type_name: str) -> type[RuleType[Any]]:
        """Return the rule class registered as ``type_name``."""
        return _lookup(self.rules, type_name, "rule", self._hint("rules"))

    def provider_type(self, type_name: str) -> type[RewardProvider[Any]]:
        """Return the provider class registered as ``type_name``."""
        return _lookup(self.providers, type_name, "provider", self._hint("providers"))

    def _hint(self, family: str) -> str:
        known = sorted(getattr(self, family))
        return f"known {family}: {', '.join(known) or 'none (install a plugin)'}"

    def plugin_infos(self) -> list[PluginInfo]:
        """Describe every loaded plugin: name, version, hooks and the types it provides."""
        infos = []
        for name, plugin in sorted(self.pm.list_name_plugin(), key=lambda np: np[0]):
            if plugin is None:
                continue
            dist = self._dists.get(name)
            hooks = sorted({c.name for c in self.pm.get_hookcallers(plugin) or []})
            info = PluginInfo(
                name=name,
                version=dist.version if dist is not None else _core_version(),
                hooks=hooks,
                builtin=name in BUILTIN_PLUGINS,
            )
            for (family, type_name), owner in sorted(self._owners.items()):
                if owner == name:
                    getattr(info, family).append(type_name)
            infos.append(info)
        return infos


def _version_problem(wanted: object) -> str | None:
    """Say why a plugin targeting hookspec version ``wanted`` cannot load (None: it can)."""
    have, oldest = hookspecs.HOOKSPEC_VERSION, hookspecs.HOOKSPEC_MIN_VERSION
    if wanted is None:
        return None  # undeclared: assumed to target the current version
    if not isinstance(wanted, int) or isinstance(wanted, bool):
        return f"declares PREMIA_HOOKSPEC_VERSION = {wanted!r}; expected a whole number"
    if wanted > have:
        return (
            f"targets hookspec version {wanted} but this premia implements {have}: upgrade premia"
        )
    if wanted < oldest:
        return (
            f"targets hookspec version {wanted} but this premia supports {oldest} to {have}: "
            "upgrade the plugin"
        )
    return None


def _lookup(table: dict[str, type[T]], type_name: str, what: str, hint: str) -> type[T]:
    try:
        return table[type_name]
    except KeyError:
        raise PluginError(f"unknown {what} type {type_name!r}; {hint}") from None


def _core_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("premia")
    except Exception:
        return None


def load_module(name: str) -> ModuleType:
    """Import a module by name (used by tests to register example plugins)."""
    return importlib.import_module(name)


def fire(registry: Registry, hook_name: str, event: object) -> None:
    """Call every implementation of an event hook; one failing never stops the others."""
    caller = getattr(registry.pm.hook, hook_name)
    for impl in reversed(caller.get_hookimpls()):
        try:
            impl.function(event=event)
        except Exception:
            log.exception("event hook %s of plugin %s failed", hook_name, impl.plugin_name)

"""``premia check``: validate a program and try each of its connections without syncing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from premia.engine.sync import utcnow
from premia.facts import DIMENSIONS
from premia.runtime import Runtime
from premia.sources import SourceContext
from premia.store import schema as s
from premia.store.db import current_revision, describe_store_error, head_revision


@dataclass(frozen=True)
class Check:
    """One line of ``premia check``."""

    subject: str
    ok: bool
    message: str
    warning: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "subject": self.subject,
            "ok": self.ok,
            "warning": self.warning,
            "message": self.message,
        }


FILTER_COLUMNS = frozenset({*DIMENSIONS, "currency"})
"""Fact columns whose filter values ``premia check`` compares with the stored facts."""


def check_program(runtime: Runtime) -> list[Check]:
    """Check the program, its store, sources and providers; never raises for a bad setup."""
    program = runtime.program
    out = [
        Check(
            "program",
            True,
            f"{program.name}: {len(program.participants)} participants, {len(program.config.metrics)} metrics, "
            f"{len(program.rules)} rules",
        )
    ]
    database = runtime.engine.url.database
    if runtime.engine.dialect.name == "sqlite" and database and not Path(database).exists():
        out.append(
            Check("store", True, f"SQLite file {database} will be created by the first sync")
        )
    else:
        store = _check_store(runtime)
        out.append(store)
        if store.ok:
            out.extend(_check_filter_values(runtime))
    out.extend(_check_sources(runtime))
    out.extend(_check_providers(runtime))
    return out


def _check_store(runtime: Runtime) -> Check:
    try:
        have, want = current_revision(runtime.engine), head_revision()
        state = (
            "current" if have == want else f"at {have or 'empty'}, will upgrade to {want} on sync"
        )
        return Check("store", True, f"{runtime.engine.dialect.name} reachable, schema {state}")
    except Exception as exc:
        return Check("store", False, describe_store_error(exc))


def _check_filter_values(runtime: Runtime) -> list[Check]:
    """Warn about metric filters on values no stored fact has (``stage: Wonn``)."""
    f = s.facts
    out: list[Check] = []
    seen: dict[str, set[str]] = {}
    with runtime.engine.connect() as conn:
        if conn.execute(select(f.c.id).limit(1)).first() is None:
            return out
        for metric in runtime.program.config.metrics:
            for key, wanted in metric.where.items():
                if key not in FILTER_COLUMNS or wanted is None:
                    continue
                if key not in seen:
                    query = select(f.c[key]).where(f.c[key].is_not(None)).distinct().limit(10_000)
                    seen[key] = {str(v) for v in conn.execute(query).scalars()}
                values = wanted if isinstance(wanted, list) else [wanted]
                missing = [v for v in values if v not in seen[key]]
                if missing:
                    known = ", ".join(sorted(seen[key])[:10])
                    out.append(
                        Check(
                            f"metric {metric.name}",
                            True,
                            f"no stored fact has {key} {' or '.join(map(repr, missing))} "
                            f"(a typo?); values seen: {known}",
                            warning=True,
                        )
                    )
    return out


def _check_sources(runtime: Runtime) -> list[Check]:
    program = runtime.program
    out: list[Check] = []
    for src in program.config.sources:
        cls = runtime.registry.source_type(src.type)
        context = SourceContext(
            src.name,
            program.base_dir,
            utcnow(),
            program.config.timezone,
            logging.getLogger(f"premia.source.{src.name}"),
        )
        try:
            source = cls(program.source_settings[src.name], context)
            result = source.check()
            streams = ", ".join(s.name for s in source.streams())
            out.append(
                Check(
                    f"source {src.name} ({src.type})",
                    result.ok,
                    f"{result.message}; streams: {streams}",
                )
            )
            source.close()
        except Exception as exc:
            out.append(
                Check(f"source {src.name} ({src.type})", False, f"{type(exc).__name__}: {exc}")
            )
    return out


def _check_providers(runtime: Runtime) -> list[Check]:
    program = runtime.program
    out: list[Check] = []
    items = {
        reward.item
        for rule in program.rules
        for reward in _rewards(rule.impl.params)
        if reward.item
    }
    with runtime.providers() as providers:
        for prov in program.config.rewards.providers:
            try:
                skus = {i.sku for i in providers.get(prov.name).catalog()}
            except Exception as exc:
                out.append(
                    Check(
                        f"provider {prov.name} ({prov.type})", False, f"{type(exc).__name__}: {exc}"
                    )
                )
                continue
            missing = sorted(items - skus)
            message = f"{len(skus)} catalog items"
            if missing:
                message += f"; rules reward items not in this catalog: {', '.join(missing)}"
            out.append(Check(f"provider {prov.name} ({prov.type})", not missing, message))
    if items and not program.config.rewards.providers:
        out.append(
            Check("rewards", False, "rules reward catalog items but no provider is configured")
        )
    return out


def _rewards(params: Any) -> list[Any]:
    from premia.rewards import Reward

    found: list[Reward] = []

    def walk(value: Any) -> None:
        if isinstance(value, Reward):
            found.append(value)
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    walk(params)
    return found

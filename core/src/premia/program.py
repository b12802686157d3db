"""The program file: one YAML file describing an incentive program.

:func:`load_program` reads and validates it (including every plugin's settings and every
rule's parameters) and returns a :class:`Program`. Any problem is reported as a
:class:`ProgramError` naming the file, the path inside it and the line.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from premia.errors import ConfigError, PluginError
from premia.facts import DIMENSIONS, FACT_KINDS
from premia.plugins import Registry
from premia.rewards import Rounding
from premia.rules import RuleType
from premia.settings import PremiaSettings
from premia.yamlfile import YamlDocument, format_location

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64)]
"""A name used as a key: letters, digits, ``_`` and ``-``, starting with a letter."""

FilterValue = str | list[str] | None


class PeriodKind(StrEnum):
    """How time is cut into periods (in the program's timezone)."""

    MONTH = "month"
    QUARTER = "quarter"


class Clawback(StrEnum):
    """What happens to a grant when a fact change undoes the achievement."""

    REVERSE = "reverse"
    """Debit the points back (a reversal entry in the ledger); nothing is deleted."""
    KEEP = "keep"
    """The participant keeps what was paid; the grant is marked ``kept``."""


class Agg(StrEnum):
    """Aggregations a metric can compute (in SQL)."""

    SUM = "sum"
    COUNT = "count"
    COUNT_DISTINCT = "count_distinct"
    AVG = "avg"


MEASURES = ("amount", "quantity")
"""Numeric fact fields a ``sum``/``avg`` metric can aggregate."""

FILTER_FIELDS = (*DIMENSIONS, "currency", "source", "stream", "owner_ref")
"""Fact fields a metric's ``where`` can filter on (plus ``attributes.<name>``)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(_Strict):
    """A KPI source: ``type`` picks the plugin, ``settings`` are the plugin's."""

    name: Name
    type: str
    settings: dict[str, Any] = Field(default_factory=dict)


class ParticipantConfig(_Strict):
    """A participant of the program."""

    name: str = Field(min_length=1)
    email: str | None = None
    key: str | None = Field(
        default=None, description="Stable key; default: the email, else the name."
    )
    role: str | None = None
    channel: str | None = None
    region: str | None = None
    manager: str | None = None
    aliases: list[str] = Field(default_factory=list, description="Other names owners go by.")
    ids: dict[str, list[str]] = Field(
        default_factory=dict, description="Owner ids per source name, e.g. {crm: [005A0000001]}."
    )
    attributes: dict[str, str] = Field(default_factory=dict)

    @field_validator("ids", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    @property
    def stable_key(self) -> str:
        """The participant's key: explicit key, else email (lower case), else name."""
        if self.key:
            return self.key
        if self.email:
            return self.email.strip().lower()
        return self.name.strip()


ROSTER_FIELDS = ("name", "email", "key", "role", "channel", "region", "manager")


class RosterFile(_Strict):
    """Participants read from a CSV file (UTF-8, header row)."""

    path: str
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Participant field -> CSV column; unmapped fields use their own name.",
    )
    defaults: dict[str, str] = Field(default_factory=dict)
    delimiter: str = ","

    @field_validator("columns", "defaults")
    @classmethod
    def _known(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = set(value) - set(ROSTER_FIELDS)
        if unknown:
            raise ValueError(
                f"unknown participant field(s) {sorted(unknown)}; expected {list(ROSTER_FIELDS)}"
            )
        return value


class RosterConfig(_Strict):
    """The participants: from a file, inline, or both (inline entries win on the same key)."""

    file: RosterFile | None = None
    participants: list[ParticipantConfig] = Field(default_factory=list)


class RatioConfig(_Strict):
    """A ratio of two metrics, undefined while the denominator is below a minimum."""

    numerator: Name
    denominator: Name
    min_denominator: Decimal = Field(default=Decimal(1), ge=0)


class MetricConfig(_Strict):
    """A metric per participant and period, computed in the database.

    Either an aggregation over facts (``agg`` of ``field`` over facts of ``kind`` that match
    ``where``) or a ``ratio`` of two other metrics.
    """

    name: Name
    description: str = ""
    kind: str = "deal"
    agg: Agg | None = None
    field: str | None = None
    where: dict[str, FilterValue] = Field(default_factory=dict)
    ratio: RatioConfig | None = None

    @model_validator(mode="after")
    def _shape(self) -> MetricConfig:
        if self.ratio is not None:
            if self.agg is not None or self.field is not None or self.where:
                raise ValueError("a ratio metric takes only `ratio` (no agg, field or where)")
            return self
        if self.agg is None:
            raise ValueError("give `agg` (sum, count, count_distinct, avg) or `ratio`")
        if self.kind not in FACT_KINDS:
            raise ValueError(f"unknown fact kind {self.kind!r}; expected one of {list(FACT_KINDS)}")
        if self.agg in (Agg.SUM, Agg.AVG) and self.field not in MEASURES:
            raise ValueError(f"`{self.agg}` needs `field` to be one of {list(MEASURES)}")
        if self.agg is Agg.COUNT and self.field is not None:
            raise ValueError("`count` counts facts; it takes no `field`")
        if self.agg is Agg.COUNT_DISTINCT and not _filterable(self.field or ""):
            raise ValueError(
                f"`count_distinct` needs `field`: one of {[*FILTER_FIELDS, 'external_id']} "
                "or attributes.<name>"
            )
        for key in self.where:
            if not _filterable(key):
                raise ValueError(
                    f"cannot filter on {key!r}; expected one of {list(FILTER_FIELDS)} "
                    "or attributes.<name>"
                )
        return self


def _filterable(name: str) -> bool:
    return (
        name in FILTER_FIELDS
        or name == "external_id"
        or bool(re.fullmatch(r"attributes\.[A-Za-z0-9_\-]+", name))
    )


class SegmentConfig(_Strict):
    """A group of participants selected by roster attributes (all must match)."""

    name: Name
    where: dict[str, FilterValue] = Field(default_factory=dict)


class GateConfig(_Strict):
    """Another metric must reach ``at`` before a rule pays anything."""

    metric: Name
    at: Decimal


RULE_COMMON_KEYS = ("name", "type", "metric", "segment", "period", "gate", "description")


class RuleConfig(BaseModel):
    """A rule entry: the common keys here, the rule type's own parameters in ``params``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: Name
    type: str
    metric: Name
    description: str = ""
    segment: Name | None = None
    period: PeriodKind | None = None
    gate: GateConfig | None = None

    @property
    def params(self) -> dict[str, Any]:
        """The rule type's parameters: every key that is not a common key."""
        return dict(self.model_extra or {})


class ProviderConfig(_Strict):
    """A reward provider, optionally limited to the participants of a segment (routing)."""

    name: Name
    type: str
    settings: dict[str, Any] = Field(default_factory=dict)
    segment: Name | None = None


class RewardsConfig(_Strict):
    """Points and fulfillment settings."""

    rounding: Rounding = Rounding.DOWN
    point_value: Decimal | None = Field(
        default=None, ge=0, description="Worth of one point in the program currency (display)."
    )
    providers: list[ProviderConfig] = Field(default_factory=list)


class ProgramConfig(_Strict):
    """The whole program file."""

    name: str = Field(min_length=1)
    timezone: str = "UTC"
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"
    period: PeriodKind = PeriodKind.QUARTER
    clawback: Clawback = Clawback.REVERSE
    sources: list[SourceConfig] = Field(default_factory=list)
    roster: RosterConfig = Field(default_factory=RosterConfig)
    metrics: list[MetricConfig] = Field(default_factory=list)
    segments: list[SegmentConfig] = Field(default_factory=list)
    rules: list[RuleConfig] = Field(default_factory=list)
    rewards: RewardsConfig = Field(default_factory=RewardsConfig)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown IANA timezone {value!r} (e.g. America/Mexico_City)"
            ) from None
        return value


@dataclass(frozen=True)
class Participant:
    """A resolved participant of the program."""

    key: str
    name: str
    email: str | None
    role: str | None
    channel: str | None
    region: str | None
    manager: str | None
    aliases: tuple[str, ...] = ()
    ids: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)

    def attribute(self, name: str) -> str | None:
        """Return a roster attribute by name (``region``, ``role``... or a custom one)."""
        if name in ROSTER_FIELDS:
            value = getattr(self, name)
            return value if value is None else str(value)
        return self.attributes.get(name)

    def all_attributes(self) -> dict[str, str | None]:
        """Return every attribute (standard and custom) as a dict."""
        out: dict[str, str | None] = {f: self.attribute(f) for f in ROSTER_FIELDS}
        out.update(self.attributes)
        return out


@dataclass(frozen=True)
class ProgramRule:
    """A rule ready to evaluate: its config, its rule-type instance and version."""

    config: RuleConfig
    impl: RuleType[Any]
    period: PeriodKind
    version: str


@dataclass
class Program:
    """A validated program, bound to the plugin types it uses."""

    path: Path
    config: ProgramConfig
    participants: list[Participant]
    rules: list[ProgramRule]
    source_settings: dict[str, BaseModel]
    provider_settings: dict[str, BaseModel]

    @property
    def name(self) -> str:
        """The program's name."""
        return self.config.name

    @property
    def base_dir(self) -> Path:
        """The folder of the program file; relative paths resolve against it."""
        return self.path.parent

    @property
    def zone(self) -> ZoneInfo:
        """The program's timezone."""
        return ZoneInfo(self.config.timezone)

    def metric(self, name: str) -> MetricConfig:
        """Return the metric named ``name``."""
        for metric in self.config.metrics:
            if metric.name == name:
                return metric
        raise KeyError(name)

    def rule(self, name: str) -> ProgramRule:
        """Return the rule named ``name``.

        Raises:
            ConfigError: there is no such rule.
        """
        for rule in self.rules:
            if rule.config.name == name:
                return rule
        known = ", ".join(r.config.name for r in self.rules)
        raise ConfigError(f"no rule named {name!r}; rules: {known}")

    def segment(self, name: str | None) -> SegmentConfig | None:
        """Return the segment named ``name`` (``None`` for no segment)."""
        if name is None:
            return None
        return next(s for s in self.config.segments if s.name == name)

    def in_segment(self, participant: Participant, segment: str | None) -> bool:
        """Return True if ``participant`` belongs to ``segment`` (always, for no segment)."""
        seg = self.segment(segment)
        if seg is None:
            return True
        return all(_matches(participant.attribute(k), v) for k, v in seg.where.items())

    def period_kinds(self) -> list[PeriodKind]:
        """Return the period kinds the rules use (metrics are computed for these)."""
        kinds = {r.period for r in self.rules} or {self.config.period}
        return sorted(kinds, key=lambda k: k.value)

    def participant(self, key_or_name: str) -> Participant:
        """Find a participant by key, email or name (case-insensitive).

        Raises:
            ConfigError: nobody matches, or a name is shared by several participants.
        """
        wanted = key_or_name.strip().lower()
        by_key = [
            p for p in self.participants if wanted in {p.key.lower(), (p.email or "").lower()}
        ]
        found = by_key or [p for p in self.participants if p.name.lower() == wanted]
        if len(found) > 1:
            keys = ", ".join(p.key for p in found)
            raise ConfigError(f"{key_or_name!r} names {len(found)} participants; use a key: {keys}")
        if not found:
            raise ConfigError(f"no participant {key_or_name!r} in the roster of {self.name}")
        return found[0]

    def fingerprint(self) -> str:
        """Return a hash of what changes how facts map to participants and who is in a segment."""
        doc = {
            "timezone": self.config.timezone,
            "roster": [
                (
                    p.key,
                    p.name,
                    p.email,
                    p.role,
                    p.channel,
                    p.region,
                    p.manager,
                    p.aliases,
                    sorted((k, v) for k, v in p.ids.items()),
                    sorted(p.attributes.items()),
                )
                for p in self.participants
            ],
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _matches(value: str | None, wanted: FilterValue) -> bool:
    if wanted is None:
        return value is None
    if isinstance(wanted, list):
        return value in wanted
    return value == wanted


class ProgramError(ConfigError):
    """A program file is invalid. ``problems`` lists every problem found, one per line."""

    def __init__(self, path: Path, problems: list[tuple[str, int | None, str]]):
        self.problems = problems
        lines = [
            f"{path}: {loc}" + (f" (line {line})" if line else "") + f": {msg}"
            for loc, line, msg in problems
        ]
        head = f"{path}: {len(problems)} problem(s) in the program file"
        super().__init__("\n".join([head, *lines]))


def _pydantic_problems(
    exc: ValidationError,
    doc: YamlDocument,
    prefix: Sequence[str | int] = (),
    env: tuple[str, str] | None = None,
    from_env: Mapping[str, Any] | None = None,
) -> list[tuple[str, int | None, str]]:
    """Turn a pydantic error into (location, line, message) problems.

    ``env`` is ``(family, name)`` for plugin settings: a missing setting then says which
    environment variable can give it (that is where secrets come from). ``from_env`` holds
    the settings that came from the environment or secret files: a problem with one of them
    is reported under its variable's name, never with its value.
    """
    problems: list[tuple[str, int | None, str]] = []
    for err in exc.errors(include_url=False):
        inner = [p for p in err["loc"] if not _is_union_tag(p)]
        loc = [*prefix, *inner]
        msg = err["msg"]
        variable = "PREMIA_" + "__".join([*(env or ()), *(str(p) for p in inner)]).upper()
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling)"
        elif err["type"] == "missing":
            msg = "required key is missing"
            if env is not None and inner:
                msg += f" (set it here or, for a secret, in the environment as {variable})"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if env is not None and _has_path(from_env or {}, inner):
            problems.append((f"{variable} (from the environment)", None, msg))
            continue
        if "input" in err and err["type"] not in {"missing", "extra_forbidden"}:
            shown = err["input"]
            if not isinstance(shown, dict | list) and not _looks_secret(loc):
                msg += f" (got {_show(shown)})"
        problems.append((format_location(loc), doc.line_of(loc), msg))
    return problems


def _has_path(data: Mapping[str, Any], path: Sequence[str | int]) -> bool:
    node: Any = data
    for part in path:
        if not isinstance(node, Mapping) or str(part) not in node:
            return False
        node = node[str(part)]
    return bool(path)


def _show(value: Any) -> str:
    """Show a user's value as they wrote it (``10.5``, not ``Decimal('10.5')``)."""
    if isinstance(value, Decimal | int):
        return str(value)
    return repr(value)


_TYPE_TAGS = frozenset(
    {"str", "int", "float", "bool", "decimal", "none", "literal", "json-or-python"}
)


def _is_union_tag(part: Any) -> bool:
    """Pydantic puts the tried union member (``str``, ``list[str]``...) in error locations."""
    if not isinstance(part, str):
        return False
    return part in _TYPE_TAGS or "[" in part or part.startswith("function-")


def _looks_secret(loc: Sequence[str | int]) -> bool:
    text = " ".join(str(p) for p in loc).lower()
    return any(w in text for w in ("secret", "token", "password", "key", "credential"))


def load_program(
    path: str | Path, registry: Registry, settings: PremiaSettings | None = None
) -> Program:
    """Read, validate and bind a program file.

    Args:
        path: the YAML program file.
        registry: the loaded plugins (source, rule and provider types).
        settings: runtime settings; their ``sources``/``providers`` entries are merged over the
            file's plugin settings (that is where secrets come from).

    Returns:
        The validated program.

    Raises:
        ProgramError: the file is invalid; every problem is listed with its location.
        ConfigError: the file cannot be read or parsed.
    """
    path = Path(path).resolve()
    settings = settings or PremiaSettings()
    doc = YamlDocument(path)
    if not isinstance(doc.data, dict):
        raise ProgramError(path, [("(top level)", 1, "expected a mapping of program settings")])
    try:
        config = ProgramConfig.model_validate(doc.data)
    except ValidationError as exc:
        raise ProgramError(path, _pydantic_problems(exc, doc)) from None
    problems: list[tuple[str, int | None, str]] = []

    def problem(loc: Sequence[str | int], msg: str) -> None:
        problems.append((format_location(loc), doc.line_of(loc), msg))

    _check_names(config, problem)
    participants = _load_roster(config, path.parent, problem)
    attributes = known_attributes(participants)
    for i, seg in enumerate(config.segments):
        for key in seg.where:
            if key not in attributes:
                problem(("segments", i, "where", key), _unknown_attribute(key, attributes))
    source_settings: dict[str, BaseModel] = {}
    for i, src in enumerate(config.sources):
        try:
            cls = registry.source_type(src.type)
        except PluginError as exc:
            problem(("sources", i, "type"), str(exc))
            continue
        merged = _merge(src.settings, settings.sources.get(src.name.lower(), {}))
        try:
            source_settings[src.name] = cls.Settings.model_validate(merged)
        except ValidationError as exc:
            problems.extend(
                _pydantic_problems(
                    exc,
                    doc,
                    ("sources", i, "settings"),
                    env=("SOURCES", src.name),
                    from_env=settings.sources.get(src.name.lower(), {}),
                )
            )
    provider_settings: dict[str, BaseModel] = {}
    for i, prov in enumerate(config.rewards.providers):
        try:
            pcls = registry.provider_type(prov.type)
        except PluginError as exc:
            problem(("rewards", "providers", i, "type"), str(exc))
            continue
        merged = _merge(prov.settings, settings.providers.get(prov.name.lower(), {}))
        try:
            provider_settings[prov.name] = pcls.Settings.model_validate(merged)
        except ValidationError as exc:
            problems.extend(
                _pydantic_problems(
                    exc,
                    doc,
                    ("rewards", "providers", i, "settings"),
                    env=("PROVIDERS", prov.name),
                    from_env=settings.providers.get(prov.name.lower(), {}),
                )
            )
    rules: list[ProgramRule] = []
    for i, rule in enumerate(config.rules):
        try:
            rcls = registry.rule_type(rule.type)
        except PluginError as exc:
            problem(("rules", i, "type"), str(exc))
            continue
        try:
            params = rcls.Params.model_validate(rule.params)
        except ValidationError as exc:
            problems.extend(_pydantic_problems(exc, doc, ("rules", i)))
            continue
        for name in getattr(rcls, "attribute_params", ()):
            value = getattr(params, name, None)
            if value is not None and value not in attributes:
                problem(("rules", i, name), _unknown_attribute(value, attributes))
        version = hashlib.sha256(
            json.dumps(rule.model_dump(mode="json"), sort_keys=True).encode()
        ).hexdigest()[:12]
        rules.append(ProgramRule(rule, rcls(params), rule.period or config.period, version))
    if problems:
        raise ProgramError(path, problems)
    return Program(path, config, participants, rules, source_settings, provider_settings)


def known_attributes(participants: Sequence[Participant]) -> set[str]:
    """Return the roster attributes segments and rankings may name."""
    names = set(ROSTER_FIELDS)
    for p in participants:
        names.update(p.attributes)
    return names


def _unknown_attribute(name: str, known: set[str]) -> str:
    return f"no roster attribute {name!r}; attributes: {', '.join(sorted(known))}"


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _check_names(config: ProgramConfig, problem: Any) -> None:
    def unique(items: Sequence[Any], where: str) -> set[str]:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.name in seen:
                problem((where, i, "name"), f"duplicate name {item.name!r}")
            seen.add(item.name)
        return seen

    metrics = unique(config.metrics, "metrics")
    segments = unique(config.segments, "segments")
    unique(config.rules, "rules")
    unique(config.sources, "sources")
    unique(config.rewards.providers, "rewards.providers")
    for i, m in enumerate(config.metrics):
        if m.ratio is not None:
            for part in ("numerator", "denominator"):
                ref = getattr(m.ratio, part)
                if ref not in metrics:
                    problem(("metrics", i, "ratio", part), f"no metric named {ref!r}")
                elif config.metrics[[x.name for x in config.metrics].index(ref)].ratio is not None:
                    problem(("metrics", i, "ratio", part), f"{ref!r} is itself a ratio")
    for i, r in enumerate(config.rules):
        if r.metric not in metrics:
            problem(
                ("rules", i, "metric"), f"no metric named {r.metric!r}; metrics: {sorted(metrics)}"
            )
        if r.segment is not None and r.segment not in segments:
            problem(("rules", i, "segment"), f"no segment named {r.segment!r}")
        if r.gate is not None and r.gate.metric not in metrics:
            problem(("rules", i, "gate", "metric"), f"no metric named {r.gate.metric!r}")
    for i, p in enumerate(config.rewards.providers):
        if p.segment is not None and p.segment not in segments:
            problem(("rewards", "providers", i, "segment"), f"no segment named {p.segment!r}")


def _load_roster(config: ProgramConfig, base: Path, problem: Any) -> list[Participant]:
    entries: dict[str, ParticipantConfig] = {}
    roster = config.roster
    if roster.file is not None:
        path = (base / roster.file.path).resolve()
        try:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                reader = csv.DictReader(fh, delimiter=roster.file.delimiter)
                header = reader.fieldnames or []
                columns = {f: roster.file.columns.get(f, f) for f in ROSTER_FIELDS}
                missing = [c for f, c in roster.file.columns.items() if c not in header]
                if missing:
                    problem(
                        ("roster", "file", "columns"), f"{path.name} has no column(s) {missing}"
                    )
                    return []
                for line, row in enumerate(reader, start=2):
                    values = {f: (row.get(c) or "").strip() for f, c in columns.items()}
                    data: dict[str, Any] = dict(roster.file.defaults)
                    data.update({k: v for k, v in values.items() if v})
                    if not data.get("name"):
                        problem(("roster", "file"), f"{path.name} line {line}: empty name")
                        continue
                    p = ParticipantConfig.model_validate(data)
                    entries[p.stable_key] = p
        except FileNotFoundError:
            problem(("roster", "file", "path"), f"roster file {path} not found")
        except (UnicodeDecodeError, csv.Error) as exc:
            problem(("roster", "file", "path"), f"cannot read roster file {path}: {exc}")
    for p in roster.participants:
        entries[p.stable_key] = p
    out = [
        Participant(
            key=p.stable_key,
            name=p.name,
            email=p.email,
            role=p.role,
            channel=p.channel,
            region=p.region,
            manager=p.manager,
            aliases=tuple(p.aliases),
            ids={k: tuple(v) for k, v in p.ids.items()},
            attributes=dict(p.attributes),
        )
        for p in entries.values()
    ]
    return sorted(out, key=lambda p: p.key)

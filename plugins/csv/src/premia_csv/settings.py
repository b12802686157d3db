"""Settings of the ``csv`` source: what a program file says about its streams and files.

A program file declares one ``csv`` source with one or more *streams*; each stream reads one
or more files (paths or globs) and says how their columns become :class:`premia.Fact` fields.
How numbers and dates are written follows the stream's *locale profile*
(:data:`LOCALES`), which individual settings may override.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from premia import FACT_KINDS
from premia_csv.parsing import parse_bool, parse_datetime, parse_decimal

DEFAULT_BATCH_SIZE = 5000
"""Rows per :class:`premia.Batch` when ``batch_size`` is not set."""

MAX_DECIMAL_PLACES = 4
"""Decimal places the store keeps for amounts and quantities; more is a bad record."""

FactField = Literal[
    "owner_ref",
    "occurred_at",
    "amount",
    "currency",
    "quantity",
    "stage",
    "product",
    "category",
    "account",
    "region",
    "channel",
    "source_updated_at",
    "deleted",
]
"""The Fact fields a column (or a constant) may fill, as a type."""

MAPPABLE_FIELDS: tuple[str, ...] = get_args(FactField)
"""Fact fields a column (or a constant) may fill. ``external_id`` comes from ``id``."""


DATETIME_FIELDS = frozenset({"occurred_at", "source_updated_at"})
"""Fact fields holding a timezone-aware datetime."""

DECIMAL_FIELDS = frozenset({"amount", "quantity"})
"""Fact fields holding an exact :class:`~decimal.Decimal`."""

RESERVED_NAMES = frozenset({*MAPPABLE_FIELDS, "external_id", "kind", "attributes"})
"""Names an attribute may not take (they would be ambiguous in ``aliases``)."""

LocaleName = Literal["en-US", "es-MX", "pt-BR", "es-CO"]
"""The locale profiles a stream may name."""

_MONTH_FIRST = ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S")
_DAY_FIRST = ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S")
_ISO = ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True, slots=True)
class LocaleProfile:
    """How files from one locale write their fields, numbers and dates.

    Attributes:
        name: the locale's name, e.g. ``pt-BR``.
        delimiter: the cell separator.
        decimal: the decimal separator of numbers.
        thousands: the digit-group separator of numbers (``""``: none).
        date_formats: :func:`~datetime.datetime.strptime` formats tried in order after ISO 8601
            (which is always accepted).
    """

    name: str
    delimiter: str
    decimal: str
    thousands: str
    date_formats: tuple[str, ...]


LOCALES: dict[str, LocaleProfile] = {
    "en-US": LocaleProfile("en-US", ",", ".", ",", _ISO + _MONTH_FIRST),
    "es-MX": LocaleProfile("es-MX", ",", ".", ",", _ISO + _DAY_FIRST),
    "pt-BR": LocaleProfile("pt-BR", ";", ",", ".", _ISO + _DAY_FIRST),
    "es-CO": LocaleProfile("es-CO", ";", ",", ".", _ISO + _DAY_FIRST),
}
"""The locale profiles, by name."""

ConstantValue = str | bool | int | float | datetime | date
"""A constant as YAML gives it (``currency: USD``, ``quantity: 1``, ``occurred_at: 2024-01-31``)."""


class StreamSettings(BaseModel):
    """One stream of a ``csv`` source: its files and how their columns become facts.

    Every column named in ``id``, ``columns`` and ``attributes`` must be in each file's
    header (matched exactly, surrounding spaces ignored).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    files: str | list[str] = Field(
        description=(
            "A path or glob (``**`` allowed), or a list of them, relative to the program "
            "file's folder. Every pattern must match at least one file."
        )
    )
    kind: str = Field(default="deal", description="The kind of the facts (premia.FACT_KINDS).")
    id: str | list[str] = Field(
        description=(
            "The column giving each fact's external id, or a list of columns whose values "
            "are joined with ':'. An empty id makes the row a bad record."
        )
    )
    columns: dict[FactField, str] = Field(
        default_factory=dict, description="Fact field -> CSV column."
    )
    attributes: dict[str, str] = Field(
        default_factory=dict,
        description="Extra dimensions: attribute name -> CSV column (values kept as text).",
    )
    constants: dict[FactField, ConstantValue] = Field(
        default_factory=dict,
        description="Fixed Fact field values, e.g. {currency: USD}. ISO dates, plain numbers.",
    )
    aliases: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description=(
            "Value aliases per Fact field or attribute name, applied to the trimmed cell "
            "before it is converted, e.g. {product: {GTXPro: GTX Pro}}."
        ),
    )
    locale: LocaleName = Field(
        default="en-US",
        description="Profile for delimiter, decimal and thousands separators, date order.",
    )
    delimiter: str | None = Field(default=None, description="Overrides the locale's delimiter.")
    decimal: str | None = Field(default=None, description="Overrides the decimal separator.")
    thousands: str | None = Field(
        default=None, description="Overrides the thousands separator ('' for none)."
    )
    date_formats: list[str] | None = Field(
        default=None,
        description="strptime formats tried after ISO 8601; overrides the locale's.",
    )
    encoding: str = Field(
        default="utf-8",
        description="Text encoding (utf-8 also accepts a BOM; cp1252, latin-1, ...).",
    )
    timezone: str | None = Field(
        default=None,
        description="IANA zone for dates and times without offset (default: the program's).",
    )

    @field_validator("files")
    @classmethod
    def _files_not_empty(cls, value: str | list[str]) -> str | list[str]:
        patterns = [value] if isinstance(value, str) else value
        if not patterns or any(not p.strip() for p in patterns):
            raise ValueError("give a path or glob, or a non-empty list of them")
        return value

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in FACT_KINDS:
            raise ValueError(f"unknown fact kind; expected one of {', '.join(FACT_KINDS)}")
        return value

    @field_validator("id")
    @classmethod
    def _id_columns(cls, value: str | list[str]) -> str | list[str]:
        names = [value] if isinstance(value, str) else value
        if not names or any(not n.strip() for n in names):
            raise ValueError("give the id column, or a non-empty list of columns")
        return value

    @field_validator("columns", "attributes")
    @classmethod
    def _column_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, column in value.items():
            if not column.strip():
                raise ValueError(f"{name}: the column name is empty")
        return value

    @field_validator("attributes")
    @classmethod
    def _attribute_names(cls, value: dict[str, str]) -> dict[str, str]:
        clash = sorted(set(value) & RESERVED_NAMES)
        if clash:
            raise ValueError(
                f"{', '.join(clash)} is a Fact field: map it under `columns`, not `attributes`"
            )
        return value

    @field_validator("delimiter", "decimal")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError("must be exactly one character")
        return value

    @field_validator("thousands")
    @classmethod
    def _thousands(cls, value: str | None) -> str | None:
        if value is not None and len(value) > 1:
            raise ValueError("must be one character, or '' for no digit grouping")
        return value

    @field_validator("date_formats")
    @classmethod
    def _date_formats(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or any("%" not in f for f in value)):
            raise ValueError("give a non-empty list of strptime formats, e.g. ['%d.%m.%Y']")
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        try:
            info = codecs.lookup(value)
        except LookupError:
            raise ValueError("unknown encoding; e.g. utf-8, cp1252, latin-1") from None
        if not getattr(info, "_is_text_encoding", True):
            raise ValueError("not a text encoding; e.g. utf-8, cp1252, latin-1")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("unknown IANA timezone, e.g. America/Mexico_City") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> StreamSettings:
        both = sorted(set(self.columns) & set(self.constants))
        if both:
            raise ValueError(f"{', '.join(both)}: set either a column or a constant, not both")
        known = set(self.columns) | set(self.constants) | set(self.attributes)
        unknown = sorted(set(self.aliases) - known)
        if unknown:
            raise ValueError(
                f"aliases for {', '.join(unknown)}, which is not mapped in `columns`, "
                "`constants` or `attributes`"
            )
        for name, value in self.constants.items():
            _check_constant(name, value)
        decimal, thousands = self.decimal_separator, self.thousands_separator
        if decimal == thousands:
            raise ValueError(f"decimal and thousands separators are both {decimal!r}")
        return self

    # -- the effective dialect: the locale's profile with the overrides applied -----------
    @property
    def profile(self) -> LocaleProfile:
        """Return the locale profile this stream starts from."""
        return LOCALES[self.locale]

    @property
    def patterns(self) -> list[str]:
        """Return ``files`` as a list of patterns."""
        return [self.files] if isinstance(self.files, str) else list(self.files)

    @property
    def id_columns(self) -> list[str]:
        """Return ``id`` as a list of column names."""
        return [self.id] if isinstance(self.id, str) else list(self.id)

    @property
    def cell_delimiter(self) -> str:
        """Return the effective cell delimiter."""
        return self.delimiter if self.delimiter is not None else self.profile.delimiter

    @property
    def decimal_separator(self) -> str:
        """Return the effective decimal separator."""
        return self.decimal if self.decimal is not None else self.profile.decimal

    @property
    def thousands_separator(self) -> str:
        """Return the effective thousands separator (``""``: none)."""
        return self.thousands if self.thousands is not None else self.profile.thousands

    @property
    def effective_date_formats(self) -> tuple[str, ...]:
        """Return the strptime formats tried after ISO 8601."""
        if self.date_formats is not None:
            return tuple(self.date_formats)
        return self.profile.date_formats

    @property
    def required_columns(self) -> list[str]:
        """Return every column this stream reads, each once, in a stable order."""
        names = [*self.id_columns, *self.columns.values(), *self.attributes.values()]
        return list(dict.fromkeys(n.strip() for n in names))


class CsvSettings(BaseModel):
    """Settings of a ``csv`` source: the batch size and the streams it offers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_size: int = Field(
        default=DEFAULT_BATCH_SIZE, ge=1, description="Rows per batch (facts plus bad rows)."
    )
    streams: dict[str, StreamSettings] = Field(
        description="The streams, by name (the name is part of every fact's key)."
    )

    @field_validator("streams")
    @classmethod
    def _some_streams(cls, value: dict[str, StreamSettings]) -> dict[str, StreamSettings]:
        if not value:
            raise ValueError("declare at least one stream")
        if any(not name.strip() for name in value):
            raise ValueError("a stream name is empty")
        return value


def constant_value(name: str, value: ConstantValue, zone: tzinfo) -> object:
    """Return the Fact field value of constant ``name`` as given in a program file.

    Constants are written the YAML way, whatever the stream's locale: text, plain numbers
    (``12.5``), ISO 8601 dates, booleans.

    Args:
        name: a Fact field (one of :data:`MAPPABLE_FIELDS`).
        value: the value from the program file.
        zone: the timezone of a date or time without offset.

    Returns:
        The converted value (text, Decimal, aware datetime or bool).

    Raises:
        ValueError: the value does not fit the field.
    """
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, date):  # YAML reads an unquoted 2024-01-31 as a date
        text = value.isoformat()
    else:
        text = str(value).strip()
    if name in DECIMAL_FIELDS:
        if isinstance(value, bool):
            raise ValueError("expected a number")
        return parse_decimal(text, ".", "", MAX_DECIMAL_PLACES)
    if name in DATETIME_FIELDS:
        return parse_datetime(text, (), zone)
    if name == "deleted":
        return parse_bool(text)
    return text or None


def _check_constant(name: str, value: ConstantValue) -> None:
    """Raise ValueError naming the constant when it cannot be a value of its field."""
    try:
        constant_value(name, value, UTC)
    except ValueError as exc:
        raise ValueError(f"constants.{name}: {exc}") from None

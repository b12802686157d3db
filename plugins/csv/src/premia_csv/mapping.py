"""Rows to facts: a stream's column mapping, bound once per file to that file's header.

:class:`StreamPlan` turns a stream's settings into converters once; :meth:`StreamPlan.bind`
looks the mapped columns up in one file's header and returns a :class:`RowMapper`, whose
:attr:`~RowMapper.map_row` is applied to every row of that file.

``map_row`` is the hot path of a sync (a million rows is a million calls), so it is compiled
per file into straight-line code, the way :mod:`dataclasses` builds ``__init__``: no loops
over the mapping, no pydantic, no regular expressions per cell. The generated source holds
only cell positions and generated names; every value from the settings (column names,
constants, aliases, converters) is passed in the function's namespace, never spliced into
the code.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Sequence
from datetime import tzinfo
from typing import Any

from premia import BadRecord, Fact, SourceError
from premia_csv.parsing import (
    datetime_converter,
    decimal_converter,
    parse_bool,
    parse_text,
    with_aliases,
)
from premia_csv.settings import (
    DATETIME_FIELDS,
    DECIMAL_FIELDS,
    MAX_DECIMAL_PLACES,
    StreamSettings,
    constant_value,
)

RowFunction = Callable[[int, list[str]], Fact | BadRecord | None]
"""``map_row(line, cells)``: the fact of a row starting at physical ``line``, its bad record,
or ``None`` for a blank row."""

_FACT_FIELDS = frozenset(f.name for f in dataclasses.fields(Fact))


class StreamPlan:
    """A stream's settings compiled into converters, ready to bind to a file's header.

    Args:
        name: the stream's name.
        settings: the stream's settings.
        zone: the timezone of dates and times without offset.

    Raises:
        ValueError: a constant does not fit its field (settings validation prevents this).
    """

    def __init__(self, name: str, settings: StreamSettings, zone: tzinfo):
        self.name = name
        self.settings = settings
        self.zone = zone
        self.delimiter = settings.cell_delimiter
        self.id_columns = [c.strip() for c in settings.id_columns]
        self.required_columns = settings.required_columns
        self.constants: dict[str, object] = {"kind": settings.kind}
        """Fact field -> the value every fact of the stream gets."""
        for field, value in settings.constants.items():
            converted = constant_value(field, value, zone)
            aliases = settings.aliases.get(field)
            if aliases and isinstance(converted, str):
                converted = aliases.get(converted, converted)
            self.constants[field] = converted
        self.fields: list[tuple[str, str, Callable[[str], object] | None]] = [
            (field, column.strip(), self._converter(field))
            for field, column in settings.columns.items()
        ]
        """(Fact field, column, converter); ``None`` for plain text (trimmed, empty -> None)."""
        self.attributes = [
            (name, column.strip(), settings.aliases.get(name) or None)
            for name, column in settings.attributes.items()
        ]
        """(attribute name, column, aliases or ``None``)."""
        unknown = ({f for f, _, _ in self.fields} | set(self.constants)) - _FACT_FIELDS
        if unknown:  # pragma: no cover - MAPPABLE_FIELDS are Fact fields
            raise ValueError(f"not Fact fields: {sorted(unknown)}")

    def _converter(self, field: str) -> Callable[[str], object] | None:
        settings = self.settings
        aliases = settings.aliases.get(field)
        convert: Callable[[str], object]
        if field in DECIMAL_FIELDS:
            convert = decimal_converter(
                settings.decimal_separator, settings.thousands_separator, MAX_DECIMAL_PLACES
            )
        elif field in DATETIME_FIELDS:
            convert = datetime_converter(settings.effective_date_formats, self.zone)
        elif field == "deleted":
            convert = parse_bool
        elif aliases:
            convert = parse_text
        else:
            return None  # plain text: done inline by the row function, the common case
        return with_aliases(convert, aliases) if aliases else convert

    def bind(self, header: Sequence[str], location: str) -> RowMapper:
        """Return the row mapper for a file with this ``header``.

        Args:
            header: the file's first record.
            location: the file's name in bad records.

        Returns:
            The mapper of the file's rows.

        Raises:
            SourceError: a mapped column is missing from the header, or appears twice.
        """
        names = [h.strip() for h in header]
        index: dict[str, int] = {}
        for i, name in enumerate(names):
            index.setdefault(name, i)
        missing = [c for c in self.required_columns if c not in index]
        if missing:
            hints = []
            for column in missing:
                close = difflib.get_close_matches(column, names, n=1)
                hints.append(f"{column!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise SourceError(
                f"{location}: stream {self.name!r}: column {', '.join(hints)} not in the "
                f"header (found: {', '.join(repr(n) for n in names)})"
            )
        doubled = [c for c in self.required_columns if names.count(c) > 1]
        if doubled:
            raise SourceError(
                f"{location}: stream {self.name!r}: column {', '.join(map(repr, doubled))} "
                "appears more than once in the header"
            )
        return RowMapper(self, index, len(header), location)


def _call_arguments(arguments: dict[str, str], name: Callable[[str, object], str]) -> str:
    """Return the argument list of a ``Fact(...)`` call setting ``arguments``.

    Fields are passed by position where the dataclass allows it (faster than keywords, which
    matters a million times over), filling the gaps with the fields' defaults; a field with a
    default factory ends the positional part, and keyword-only fields go by keyword.
    """
    positional: list[str] = []
    keywords: list[str] = []
    by_position = True
    for f in dataclasses.fields(Fact):
        value = arguments.get(f.name)
        if f.kw_only:
            if value is not None:
                keywords.append(f"{f.name}={value}")
            continue
        if by_position and value is None:
            if f.default is dataclasses.MISSING:
                by_position = False
            else:
                value = name("default", f.default)
                positional.append(value)
                continue
        if by_position:
            positional.append(arguments[f.name])
        elif value is not None:
            keywords.append(f"{f.name}={value}")
    while positional and positional[-1].startswith("default_"):
        positional.pop()
    return ", ".join(positional + keywords)


def is_blank(cells: list[str]) -> bool:
    """Return True for a blank row: no cells, or only empty or blank ones."""
    return not any(cell.strip() for cell in cells)


class RowMapper:
    """Turns the rows of one file into facts, or into bad records naming what is wrong.

    A row becomes a bad record when it has not as many cells as the header, when its id (or
    a part of a composite id) is empty, or when a converter rejects a cell (the record then
    names that column). A blank row (a blank line, or only empty cells such as the ``,,,``
    a spreadsheet leaves) is no record at all: ``map_row`` returns ``None`` for it.

    Args:
        plan: the stream's plan.
        index: column name -> cell position, from the file's header.
        width: the header's number of cells; every row must have as many.
        location: the file's name in bad records.

    Attributes:
        width: the number of cells of every row.
        map_row: ``map_row(line, cells)`` returns the fact of a row starting at physical
            ``line``, its bad record, or ``None`` for a blank row.
    """

    def __init__(self, plan: StreamPlan, index: dict[str, int], width: int, location: str):
        self.location = location
        self.width = width
        self._delimiter = plan.delimiter
        self._ids = [(index[c], c) for c in plan.id_columns]
        self.map_row: RowFunction = self._compile(plan, index)

    def _compile(self, plan: StreamPlan, index: dict[str, int]) -> RowFunction:
        """Generate the row function of this file (see the module docstring)."""
        namespace: dict[str, Any] = {
            "Fact": Fact,
            "bad": self._bad,
            "width_bad": self._width_bad,
            "empty_id": self._empty_id,
        }

        def name(prefix: str, value: object) -> str:
            """Put ``value`` in the namespace under a fresh generated name; return the name."""
            key = f"{prefix}_{len(namespace)}"
            namespace[key] = value
            return key

        code = [
            "def map_row(line, cells):",
            f"    if len(cells) != {self.width:d}:",
            "        return width_bad(line, cells)",
        ]
        parts: list[str] = []
        for position, column in self._ids:
            part = f"id{len(parts)}"
            reason = "the id is empty" if len(self._ids) == 1 else "part of the id is empty"
            code += [
                f"    {part} = cells[{position:d}].strip()",
                f"    if not {part}:",
                f"        return empty_id(line, cells, {name('column', column)}, "
                f"{name('reason', reason)})",
            ]
            parts.append(part)
        separator = name("separator", ":")
        code.append(f"    external_id = {f' + {separator} + '.join(parts)}")
        arguments = {"external_id": "external_id"}
        for field, value in plan.constants.items():
            arguments[field] = name("constant", value)
        for field, column, convert in plan.fields:
            cell = f"cells[{index[column]:d}]"
            if convert is None:
                arguments[field] = f"({cell}.strip() or None)"
                continue
            value = f"value{len(arguments)}"
            code += [
                "    try:",
                f"        {value} = {name('convert', convert)}({cell})",
                "    except ValueError as exc:",
                f"        return bad(line, cells, {name('column', column)}, str(exc), external_id)",
            ]
            arguments[field] = value
        if plan.attributes:
            items: list[str] = []
            for attribute, column, aliases in plan.attributes:
                cell = f"cells[{index[column]:d}].strip()"
                if aliases:
                    text = f"text{len(items)}"
                    code.append(f"    {text} = {cell}")
                    cell = f"{name('aliases', dict(aliases))}.get({text}, {text})"
                items.append(f"{name('attribute', attribute)}: {cell}")
            arguments["attributes"] = "{" + ", ".join(items) + "}"
        else:
            arguments["attributes"] = "{}"
        code.append(f"    return Fact({_call_arguments(arguments, name)})")
        exec("\n".join(code), namespace)  # generated from positions and names only
        function: RowFunction = namespace["map_row"]
        return function

    def _empty_id(self, line: int, cells: list[str], column: str, reason: str) -> BadRecord | None:
        if is_blank(cells):
            return None
        return self._bad(line, cells, column, reason, None)

    def _width_bad(self, line: int, cells: list[str]) -> BadRecord | None:
        if is_blank(cells):
            return None
        problem = f"expected {self.width} cells as in the header, found {len(cells)}"
        if len(cells) < self.width and any("\n" in c or "\r" in c for c in cells):
            problem += " (a quote left open? a quoted cell runs over several lines)"
        return self._bad(line, cells, None, problem, None)

    def _bad(
        self,
        line: int,
        cells: list[str],
        column: str | None,
        reason: str,
        record_id: str | None,
    ) -> BadRecord:
        if record_id is None and all(p < len(cells) for p, _ in self._ids):
            parts = [cells[p].strip() for p, _ in self._ids]
            record_id = ":".join(parts) if all(parts) else None
        return BadRecord(
            location=self.location,
            reason=reason,
            line=line,
            column=column,
            record_id=record_id,
            raw=self._delimiter.join(cells),
        )

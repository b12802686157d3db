"""Fast executemany for the hot paths (fact upserts), below SQLAlchemy's per-row machinery.

A Core statement is compiled once for the connection's dialect; each row is turned into DBAPI
parameters with the columns' own bind processors (so values are stored exactly as SQLAlchemy
would store them: scaled Decimals, UTC datetimes, JSON), and the driver's ``executemany`` runs
the batch. Per row this costs a few processor calls instead of SQLAlchemy's parameter
construction, which dominates a million-row sync otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Table
from sqlalchemy.sql.dml import Insert


class BulkInsert:
    """An INSERT (possibly with ``ON CONFLICT``) prepared for fast executemany.

    Args:
        build: returns the Core insert statement for a dialect name (``sqlite``,
            ``postgresql``), e.g. with the dialect's ``on_conflict_do_update``.
        table: the table inserted into.
        columns: the columns every row gives, in any order.
        memo: columns whose values repeat a lot (dates): their conversions are cached.
        raw: columns the caller already gives in their stored form (e.g. scaled integers):
            no conversion is applied to them.
    """

    def __init__(
        self,
        build: Callable[[str], Insert],
        table: Table,
        columns: Sequence[str],
        memo: Sequence[str] = (),
        raw: Sequence[str] = (),
    ):
        self.build = build
        self.table = table
        self.columns = tuple(columns)
        self.memo = frozenset(memo)
        self.raw = frozenset(raw)
        self._compiled: dict[str, tuple[str, tuple[str, ...], list[Any], bool]] = {}

    def _prepare(self, conn: Connection) -> tuple[str, tuple[str, ...], list[Any], bool]:
        name = conn.dialect.name
        if name not in self._compiled:
            statement = self.build(name)
            compiled = statement.compile(dialect=conn.dialect, column_keys=list(self.columns))
            positional = bool(compiled.positional)
            order = tuple(compiled.positiontup or ()) if positional else self.columns
            processors: list[Any] = []
            for col in order:
                col_type = self.table.c[col].type
                proc: Callable[[Any], Any] | None = None
                if col not in self.raw:
                    proc = col_type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
                if proc is not None and col in self.memo:
                    proc = _memoised(proc)
                elif proc is not None and isinstance(col_type, JSON):
                    proc = _empty_first(proc)
                processors.append(proc)
            self._compiled[name] = (str(compiled), order, processors, positional)
        return self._compiled[name]

    def execute(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Run the statement for every row (each a dict with every column of ``columns``)."""
        if not rows:
            return
        sql, order, processors, positional = self._prepare(conn)
        pick = itemgetter(*order)
        convert = [(i, proc) for i, proc in enumerate(processors) if proc is not None]
        params: list[Any] = []
        for row in rows:
            values = list(pick(row)) if len(order) > 1 else [pick(row)]
            for i, proc in convert:
                value = values[i]
                if value is not None:
                    values[i] = proc(value)
            params.append(tuple(values) if positional else dict(zip(order, values, strict=True)))
        conn.exec_driver_sql(sql, params)


def _empty_first(proc: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Serialise empty JSON containers once (most rows have no extra attributes)."""
    empty = proc({})

    def run(value: Any) -> Any:
        return empty if value == {} else proc(value)

    return run


def _memoised(proc: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Cache a bind processor's results (for columns whose values repeat, like dates)."""
    cache: dict[Any, Any] = {}

    def run(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            if len(cache) > 100_000:
                cache.clear()
            result = cache[value] = proc(value)
            return result

    return run


_PLAIN: dict[Table, BulkInsert] = {}


def insert_many(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Plain INSERT of ``rows`` (all with the same keys) through :class:`BulkInsert`."""
    if not rows:
        return
    columns = tuple(rows[0])
    bulk = _PLAIN.get(table)
    if bulk is None or bulk.columns != columns:
        bulk = _PLAIN[table] = BulkInsert(lambda _dialect: table.insert(), table, columns)
    bulk.execute(conn, rows)

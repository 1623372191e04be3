"""Set-based bulk inserts at driver speed.

SQLAlchemy's executemany spends more time per row than the database does; a portfolio import of a
million rows cannot afford that. This writes through the DB-API connection of the current
transaction instead: ``COPY … FROM STDIN`` on PostgreSQL, ``executemany`` on SQLite. Values still
pass through each column type's bind processor, so ``Money``, ``UTCDateTime`` and friends keep
their guarantees. ``RowConverter`` does that conversion ahead of time, even in another process, so
the process holding the transaction only ships ready rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Any

import sqlalchemy as sa

_TEXT_FOR_COPY = (Decimal, dt.date, uuid.UUID)  # datetime is a date


@cache
def dialect_named(name: str) -> sa.Dialect:
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

        return PGDialect_psycopg()
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

    return SQLiteDialect_pysqlite()


def _processor(dialect: sa.Dialect, table: sa.Table, name: str) -> Callable[[Any], Any] | None:
    return table.c[name].type._cached_bind_processor(dialect)


class RowConverter:
    """Turns a tuple of Python values (in ``columns`` order) into the form the driver takes.

    For PostgreSQL the result is plain text per value (what ``COPY`` reads), which also pickles
    cheaply between processes. Columns in ``raw`` already hold the database form.
    """

    def __init__(self, dialect_name: str, table: sa.Table, columns: Sequence[str], raw: Collection[str] = ()) -> None:
        dialect = dialect_named(dialect_name)
        self.steps = [
            (i, p) for i, name in enumerate(columns) if name not in raw and (p := _processor(dialect, table, name))
        ]
        self.copy_text = dialect_name == "postgresql"

    def __call__(self, row: Sequence[Any]) -> tuple[Any, ...]:
        items = list(row)
        for index, proc in self.steps:
            if items[index] is not None:
                items[index] = proc(items[index])
        if self.copy_text:
            return tuple(str(v) if isinstance(v, _TEXT_FOR_COPY) else v for v in items)
        return tuple(items)


COPY_NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_line(values: Sequence[str | None]) -> str:
    """One line of PostgreSQL ``COPY … FROM STDIN`` text format from values already in text form.

    Joined first and checked once (separators, backslashes and line breaks counted in C); only a
    line whose values hold such characters is rebuilt value by value with escapes."""
    parts = [COPY_NULL if v is None else v for v in values]
    line = "\t".join(parts)
    if (line.count("\t") != len(parts) - 1 or line.count("\\") != values.count(None)
            or "\n" in line or "\r" in line):
        line = "\t".join(COPY_NULL if v is None else v.translate(_COPY_ESCAPES) for v in values)
    return line + "\n"


def copy_value(value: Any) -> str | None:
    """The ``COPY`` text of one driver-form value (for constants; rows use faster per-type code)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def write_ready(connection: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Any]) -> int:
    """Writes rows that are already complete in the driver's form for every column in ``columns``:
    ``COPY`` lines (``copy_line``) on PostgreSQL, shipped in one write; tuples on SQLite."""
    if not rows:
        return 0
    column_list = ", ".join(f'"{name}"' for name in columns)
    dbapi: Any = connection.connection.dbapi_connection
    assert dbapi is not None
    if connection.dialect.name == "postgresql":
        with dbapi.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({column_list}) FROM STDIN') as copy:
            copy.write("".join(rows))
    else:
        placeholders = ", ".join("?" for _ in columns)
        cursor = dbapi.cursor()
        try:
            cursor.executemany(f'INSERT INTO "{table.name}" ({column_list}) VALUES ({placeholders})', rows)
        finally:
            cursor.close()
    return len(rows)


def bulk_insert(
    connection: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
    *,
    raw: Collection[str] = (),
    converted: bool = False,
) -> int:
    """Inserts tuples (in ``columns`` order) plus ``constants`` into ``table``, in the connection's
    transaction. ``converted`` rows come from a ``RowConverter`` of this dialect; otherwise they are
    converted here (except the ``raw`` columns). Returns the number of rows written."""
    dialect_name = connection.dialect.name
    convert = None if converted else RowConverter(dialect_name, table, columns, raw)
    constant_names = list(constants or {})
    constant_values = RowConverter(dialect_name, table, constant_names)(tuple((constants or {}).values()))
    values = [(*(convert(row) if convert else row), *constant_values) for row in rows]
    if not values:
        return 0
    names = [*columns, *constant_names]
    column_list = ", ".join(f'"{name}"' for name in names)
    dbapi: Any = connection.connection.dbapi_connection
    assert dbapi is not None
    if dialect_name == "postgresql":
        with dbapi.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({column_list}) FROM STDIN') as copy:
            for value in values:
                copy.write_row(value)
    else:
        placeholders = ", ".join("?" for _ in names)
        cursor = dbapi.cursor()
        try:
            cursor.executemany(f'INSERT INTO "{table.name}" ({column_list}) VALUES ({placeholders})', values)
        finally:
            cursor.close()
    return len(values)


def insert_ignoring_duplicates(session: Any, table: sa.Table, keys: Sequence[str]) -> Any:
    """``INSERT … ON CONFLICT (keys) DO NOTHING`` in the session's dialect: duplicates (a webhook delivered
    twice, a job run again) are recognised by the database, atomically, with no savepoint round trips.
    Add ``.values(...)`` and ``.returning(...)`` (drivers disagree on the rowcount of a skipped insert)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=list(keys))
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing(index_elements=list(keys))


def insert_once(session: Any, table: sa.Table, values: Mapping[str, Any], keys: Sequence[str]) -> bool:
    """Inserts unless a row with the same unique ``keys`` exists; True when this call inserted it."""
    statement = insert_ignoring_duplicates(session, table, keys).values(**values)
    return session.execute(statement.returning(table.c.id)).first() is not None

"""Set-based bulk inserts at driver speed.

SQLAlchemy's executemany spends more time per row than the database does; a portfolio import of a
million rows cannot afford that. This writes through the DB-API connection of the current
transaction instead: ``COPY … FROM STDIN`` on PostgreSQL, ``executemany`` on SQLite. Values still
pass through each column type's bind processor, so ``Money``, ``UTCDateTime`` and friends keep
their guarantees; values shared by every row (tenant, timestamps) are processed once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa


def _processor(dialect: sa.Dialect, table: sa.Table, name: str) -> Callable[[Any], Any] | None:
    return table.c[name].type._cached_bind_processor(dialect)


def bulk_insert(
    connection: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> int:
    """Inserts tuples (in ``columns`` order) plus ``constants`` into ``table``, in the connection's
    transaction. Returns the number of rows written."""
    dialect = connection.dialect
    converters = [(i, p) for i, name in enumerate(columns) if (p := _processor(dialect, table, name)) is not None]
    constant_names = list(constants or {})
    constant_values = tuple(
        (proc(value) if (proc := _processor(dialect, table, name)) is not None and value is not None else value)
        for name, value in (constants or {}).items()
    )
    values: list[tuple[Any, ...]] = []
    for row in rows:
        if converters:
            items = list(row)
            for index, proc in converters:
                if items[index] is not None:
                    items[index] = proc(items[index])
            values.append((*items, *constant_values))
        else:
            values.append((*row, *constant_values))
    if not values:
        return 0
    names = [*columns, *constant_names]
    column_list = ", ".join(f'"{name}"' for name in names)
    raw: Any = connection.connection.dbapi_connection
    assert raw is not None
    if dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({column_list}) FROM STDIN') as copy:
            for value in values:
                copy.write_row(value)
    else:
        placeholders = ", ".join("?" for _ in names)
        cursor = raw.cursor()
        try:
            cursor.executemany(f'INSERT INTO "{table.name}" ({column_list}) VALUES ({placeholders})', values)
        finally:
            cursor.close()
    return len(values)

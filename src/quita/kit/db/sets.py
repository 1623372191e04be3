"""Membership filters for large id sets.

``column IN (:p1, …, :pN)`` makes SQLAlchemy render and psycopg parse one bind parameter per value: for a
planner batch of thousands of ids that costs more Python time than the query itself. On PostgreSQL the
whole set travels as one array parameter (``column = ANY(:ids)``); SQLite keeps ``IN`` and callers chunk
below its bound-parameter limit (:data:`SQLITE_CHUNK`).

PostgreSQL hashes ``= ANY(array)`` only when the array is known at planning time. psycopg prepares a
statement after a few executions, and a generic plan then compares every row with every id (seen: 2 s
per planner batch instead of 50 ms): transactions that run such queries repeatedly call
:func:`custom_plans` first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

SQLITE_CHUNK = 900
POSTGRES_CHUNK = 50_000


def chunk_size(dialect: str) -> int:
    return SQLITE_CHUNK if dialect == "sqlite" else POSTGRES_CHUNK


def chunks(values: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def member_of(column: Any, values: Iterable[Any], dialect: str) -> ColumnElement[bool]:
    """``column`` is one of ``values``: one array parameter on PostgreSQL, ``IN`` elsewhere."""
    items = list(values)
    if dialect == "postgresql":
        return column == any_(bindparam(None, items, type_=ARRAY(column.type)))
    return column.in_(items)


def custom_plans(session: Session) -> None:
    """This transaction plans every statement with its actual parameters (PostgreSQL; no-op elsewhere)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))

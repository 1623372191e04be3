"""Alembic environment. The URL comes from the Alembic config (set by ``quita db upgrade``)."""

from __future__ import annotations

from alembic import context

import quita.kit.db.registry  # noqa: F401  (loads every model)
from quita.kit.db import Base, Database

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""
assert url, "sqlalchemy.url must be set"


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    database = Database(url)
    with database.engine.connect() as conn:
        _run(conn)
        conn.commit()
    database.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()

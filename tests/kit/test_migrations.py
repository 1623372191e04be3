from __future__ import annotations

import sqlalchemy as sa

from quita.kit.db import Base, Database
from quita.kit.db.migrate import alembic_config


def test_migrated_schema_matches_the_models(database: Database) -> None:
    """Autogenerate finds nothing to do: the migrations and the models agree on both databases."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import quita.kit.db.registry  # noqa: F401

    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == []


def test_downgrade_and_upgrade_round_trip(tmp_path: object) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path}/rt.db"
    config = alembic_config(url)
    command.upgrade(config, "heads")
    command.downgrade(config, "base")
    command.upgrade(config, "heads")
    engine = sa.create_engine(url)
    assert "debts" in sa.inspect(engine).get_table_names()
    engine.dispose()

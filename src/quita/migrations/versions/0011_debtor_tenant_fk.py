"""portfolio: debts and contact points reference their debtor by (tenant_id, debtor_id)

One composite foreign key replaces two on each child table: ``tenant_id → tenants`` and
``debtor_id → debtors`` become ``(tenant_id, debtor_id) → debtors (tenant_id, id)``, which needs a
unique index on ``debtors (tenant_id, id)``. The tenant is still enforced (the debtor's own
``tenant_id → tenants``), and a debt or contact can no longer point at another tenant's debtor. An
import checks one reference per row instead of two.

On SQLite the child tables are rebuilt (batch mode), which needs foreign-key enforcement off for the
rebuild (dropping the old ``debts`` would otherwise trip the charges and payments that reference it);
the references are checked with ``PRAGMA foreign_key_check`` before it is switched back on.

Revision ID: 0011_debtor_tenant_fk
Revises: 0010_outbox_lane
Create Date: 2026-11-24 03:10:00
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from alembic import op

revision: str = "0011_debtor_tenant_fk"
down_revision: str | None = "0010_outbox_lane"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHILDREN = (("debts", "RESTRICT"), ("contact_points", "CASCADE"))


@contextmanager
def _sqlite_foreign_keys_off() -> Iterator[None]:
    """SQLite ignores ``PRAGMA foreign_keys`` inside a transaction: the one open (earlier migrations of
    the same upgrade) is committed first, as SQLite's own procedure for rebuilding a table prescribes."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    raw = bind.connection.dbapi_connection
    assert raw is not None
    raw.commit()
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the rebuild: {broken[:5]}")
        raw.commit()
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def upgrade() -> None:
    op.create_index("uq_debtors_tenant_id_id", "debtors", ["tenant_id", "id"], unique=True)
    with _sqlite_foreign_keys_off():
        for table, ondelete in _CHILDREN:
            with op.batch_alter_table(table) as batch:
                batch.drop_constraint(f"fk_{table}_debtor_id_debtors", type_="foreignkey")
                batch.drop_constraint(f"fk_{table}_tenant_id_tenants", type_="foreignkey")
                batch.create_foreign_key(f"fk_{table}_tenant_id_debtors", "debtors", ["tenant_id", "debtor_id"],
                                         ["tenant_id", "id"], ondelete=ondelete)


def downgrade() -> None:
    with _sqlite_foreign_keys_off():
        for table, ondelete in _CHILDREN:
            with op.batch_alter_table(table) as batch:
                batch.drop_constraint(f"fk_{table}_tenant_id_debtors", type_="foreignkey")
                batch.create_foreign_key(f"fk_{table}_tenant_id_tenants", "tenants", ["tenant_id"], ["id"],
                                         ondelete="RESTRICT")
                batch.create_foreign_key(f"fk_{table}_debtor_id_debtors", "debtors", ["debtor_id"], ["id"],
                                         ondelete=ondelete)
    op.drop_index("uq_debtors_tenant_id_id", table_name="debtors")

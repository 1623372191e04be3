"""Debts and contact points reference their debtor by (tenant_id, debtor_id) (migration 0011)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError

from quita.kit.db import Database
from quita.kit.db.migrate import alembic_config, upgrade
from quita.portfolio.models import ContactKind, ContactPoint, Debt, Debtor, DocumentKind, Provenance
from quita.tenant import service as tenants
from tests.factories import make_tenant


def _debtor(session: Any, tenant_id: uuid.UUID) -> Debtor:
    debtor = Debtor(tenant_id=tenant_id, name="Maria", document_kind=DocumentKind.CPF, document="52998224725")
    session.add(debtor)
    session.flush()
    return debtor


def _debt(tenant_id: uuid.UUID, debtor_id: uuid.UUID, creditor_id: uuid.UUID) -> Debt:
    return Debt(tenant_id=tenant_id, debtor_id=debtor_id, creditor_id=creditor_id, external_id="T1",
                principal=Decimal("10.00"), due_date=dt.date(2026, 1, 10))


def test_a_debt_or_contact_cannot_point_at_another_tenants_debtor(database: Database) -> None:
    a, b = make_tenant(database, "tenant-a"), make_tenant(database, "tenant-b")
    with database.transaction() as session:
        debtor_of_a = _debtor(session, a).id
        creditor_of_b = tenants.list_creditors(session, b)[0].id
    with pytest.raises(IntegrityError), database.transaction() as session:
        session.add(_debt(b, debtor_of_a, creditor_of_b))
        session.flush()
    with pytest.raises(IntegrityError), database.transaction() as session:
        session.add(ContactPoint(tenant_id=b, debtor_id=debtor_of_a, kind=ContactKind.PHONE, value="+5511987654321",
                                 provenance=Provenance.CONTRACT))
        session.flush()
    with database.transaction() as session:  # the same rows under the debtor's own tenant are fine
        session.add(_debt(a, debtor_of_a, tenants.list_creditors(session, a)[0].id))
        session.add(ContactPoint(tenant_id=a, debtor_id=debtor_of_a, kind=ContactKind.PHONE, value="+5511987654321",
                                 provenance=Provenance.CONTRACT))
    with database.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Debt)) == 1


def test_deleting_a_debtor_still_cascades_to_contacts_and_is_refused_with_debts(database: Database) -> None:
    a = make_tenant(database, "tenant-a")
    with database.transaction() as session:
        debtor = _debtor(session, a)
        session.add(ContactPoint(tenant_id=a, debtor_id=debtor.id, kind=ContactKind.EMAIL, value="m@example.com",
                                 provenance=Provenance.CONTRACT))
        other = Debtor(tenant_id=a, name="João", document_kind=DocumentKind.CPF, document="11144477735")
        session.add(other)
        session.flush()
        session.add(_debt(a, other.id, tenants.list_creditors(session, a)[0].id))
        debtor_id, other_id = debtor.id, other.id
    with database.transaction() as session:
        session.execute(sa.delete(Debtor).where(Debtor.id == debtor_id))
    with database.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ContactPoint)) == 0
    with pytest.raises(IntegrityError), database.transaction() as session:
        session.execute(sa.delete(Debtor).where(Debtor.id == other_id))


def _filler(column: sa.Column[Any]) -> Any:
    kind = column.type
    if isinstance(kind, sa.Uuid):
        return uuid.uuid4().hex
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer | sa.Numeric):
        return 1
    if isinstance(kind, sa.DateTime):
        return "2026-01-01 00:00:00.000000"
    if isinstance(kind, sa.Date):
        return "2026-01-01"
    if isinstance(kind, sa.JSON):
        return "{}"
    return "x"


def _insert(conn: sa.Connection, table: str, **given: Any) -> str:
    """A row with every required column filled (the schema of the revision the database is at)."""
    values = {c["name"]: given.get(c["name"], _filler(sa.Column(c["name"], c["type"])))
              for c in sa.inspect(conn).get_columns(table) if not c["nullable"] or c["name"] in given}
    values.setdefault("id", uuid.uuid4().hex)
    conn.execute(sa.text(f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join(':' + k for k in values)})"),
                 values)
    return str(values["id"])


def test_sqlite_upgrade_rebuilds_the_child_tables_with_rows_referencing_them(tmp_path: Path) -> None:
    """Rebuilding ``debts`` drops the old table, which SQLite refuses while charges reference its rows and
    foreign keys are enforced: the migration turns enforcement off for the rebuild and back on after."""
    url = f"sqlite:///{tmp_path}/old.db"
    upgrade(url, "0010_outbox_lane")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tenant = _insert(conn, "tenants")
        creditor = _insert(conn, "creditors", tenant_id=tenant)
        debtor = _insert(conn, "debtors", tenant_id=tenant)
        _insert(conn, "contact_points", tenant_id=tenant, debtor_id=debtor)
        debt = _insert(conn, "debts", tenant_id=tenant, debtor_id=debtor, creditor_id=creditor)
        _insert(conn, "charges", tenant_id=tenant, debt_id=debt)
    engine.dispose()
    upgrade(url)
    command.downgrade(alembic_config(url), "0010_outbox_lane")  # the way back rebuilds them too
    upgrade(url)
    database = Database(url)
    with database.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA foreign_key_check")).fetchall() == []
        assert conn.execute(sa.text("SELECT count(*) FROM debts")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM contact_points")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM charges")).scalar() == 1
        keys = {tuple(fk["constrained_columns"]) for fk in sa.inspect(conn).get_foreign_keys("debts")}
        assert ("tenant_id", "debtor_id") in keys and ("debtor_id",) not in keys
    with database.engine.connect() as conn:  # enforcement is on again for the database's connections
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        with pytest.raises(IntegrityError):
            conn.execute(sa.text("DELETE FROM debts"))
    database.dispose()

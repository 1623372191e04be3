from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from quita.audit.models import AuditEvent
from quita.kit.db import Database
from tests.factories import make_tenant


def test_audit_log_refuses_update_and_delete(database: Database) -> None:
    make_tenant(database)
    with database.transaction() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.occurred_at)).all()
        assert [e.action for e in events] == ["tenant.created", "creditor.created"]
    for statement in ("UPDATE audit_events SET actor = 'forged'", "DELETE FROM audit_events"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), database.transaction() as session:
            session.execute(sa.text(statement))
    with database.transaction() as session:
        assert session.scalar(select(sa.func.count()).select_from(AuditEvent)) == 2

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quita.audit.models import AuditEvent
from quita.importing.service import import_file
from quita.kit import events
from quita.kit.db import Database
from quita.portfolio import service
from quita.portfolio.models import Debt, DebtStatus
from tests.factories import good_row, make_tenant, write_csv


def test_status_change_is_audited_and_announced(database: Database, tmp_path: Path) -> None:
    tenant_id = make_tenant(database)
    with database.transaction() as session:
        import_file(session, tenant_id=tenant_id, path=write_csv(tmp_path / "c.csv", [good_row(1)]), actor="t")
    seen: list[dict[str, Any]] = []

    def handler(session: Session, payload: dict[str, Any]) -> None:
        seen.append(payload)

    events.subscribe(events.DEBT_STATUS_CHANGED, handler)
    try:
        with database.transaction() as session:
            debt = session.scalars(select(Debt)).one()
            service.change_debt_status(session, tenant_id, debt.id, DebtStatus.PAID, actor="t", reason="pix")
            service.change_debt_status(session, tenant_id, debt.id, DebtStatus.PAID, actor="t", reason="again")
    finally:
        events._SUBSCRIBERS[events.DEBT_STATUS_CHANGED].remove(handler)
    assert [(p["old_status"], p["new_status"]) for p in seen] == [(DebtStatus.OPEN, DebtStatus.PAID)]
    with database.transaction() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "debt.status_changed"))
        assert event is not None and event.before == {"status": "open"}
        assert event.after == {"status": "paid", "reason": "pix"}

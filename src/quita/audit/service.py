"""Writes audit events. Services call this inside the caller's transaction, so an event exists
exactly when the change it describes was committed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from quita.audit.models import AuditEvent
from quita.kit.db import utcnow
from quita.kit.db.bulk import bulk_insert
from quita.kit.jsonable import jsonable


def record(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            tenant_id=tenant_id,
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=jsonable(before) if before is not None else None,
            after=jsonable(after) if after is not None else None,
        )
    )


def record_many(session: Session, events: Iterable[Mapping[str, Any]]) -> int:
    """Bulk form for imports: each mapping has the keyword arguments of :func:`record`."""
    now = utcnow()
    rows = [
        (uuid.uuid4(), e["tenant_id"], e["actor"], e["action"], e["entity_type"], e.get("entity_id"),
         jsonable(e["before"]) if e.get("before") is not None else None,
         jsonable(e["after"]) if e.get("after") is not None else None)
        for e in events
    ]
    if not rows:
        return 0
    return bulk_insert(
        session.connection(), AuditEvent.__table__,  # type: ignore[arg-type]
        ("id", "tenant_id", "actor", "action", "entity_type", "entity_id", "before", "after"),
        rows, {"created_at": now, "occurred_at": now},
    )

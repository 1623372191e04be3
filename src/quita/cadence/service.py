"""Cadence use cases: store validated definitions, list them in priority order, confirm identities."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quita.audit import service as audit
from quita.cadence.defaults import default_cadence
from quita.cadence.domain.definition import Cadence, CadenceError, parse_cadence
from quita.cadence.models import CadenceDefinition, IdentityConfirmation
from quita.kit.db import utcnow
from quita.kit.errors import InvalidInput


def _hash(data: Mapping[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def save_cadence(session: Session, tenant_id: uuid.UUID, data: Any, *, actor: str) -> CadenceDefinition:
    """Validates and stores (or replaces, by name) one cadence of the tenant."""
    try:
        cadence = parse_cadence(data)
    except CadenceError as exc:
        raise InvalidInput(
            "régua inválida: " + "; ".join(exc.problems), code="invalid_cadence", details=list(exc.problems)
        ) from None
    plain = json.loads(json.dumps(data, default=str))
    row = session.scalar(
        select(CadenceDefinition).where(
            CadenceDefinition.tenant_id == tenant_id, CadenceDefinition.name == cadence.name
        )
    )
    before = None
    if row is None:
        row = CadenceDefinition(tenant_id=tenant_id, name=cadence.name)
        session.add(row)
    else:
        before = {"content_hash": row.content_hash}
    row.priority = cadence.priority
    row.definition = plain
    row.content_hash = _hash(plain)
    row.enabled = True
    session.flush()
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="cadence.saved",
        entity_type="cadence",
        entity_id=row.id,
        before=before,
        after={"name": cadence.name, "content_hash": row.content_hash},
    )
    return row


def list_definitions(session: Session, tenant_id: uuid.UUID) -> Sequence[CadenceDefinition]:
    return session.scalars(
        select(CadenceDefinition)
        .where(CadenceDefinition.tenant_id == tenant_id)
        .order_by(CadenceDefinition.priority, CadenceDefinition.name)
    ).all()


def active_cadences(session: Session, tenant_id: uuid.UUID) -> list[Cadence]:
    """The tenant's enabled cadences in priority order; the shipped default when it has none."""
    rows = [r for r in list_definitions(session, tenant_id) if r.enabled]
    if not rows:
        return [default_cadence()]
    return [parse_cadence(r.definition) for r in rows]


def confirm_identity(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    debtor_id: uuid.UUID,
    contact_id: uuid.UUID,
    method: str,
    actor: str,
    at: dt.datetime | None = None,
) -> None:
    """Recorded by the identity dialog (ID-02): from now on the cadence may disclose the debt on this contact."""
    exists = session.scalar(
        select(IdentityConfirmation.id).where(
            IdentityConfirmation.tenant_id == tenant_id,
            IdentityConfirmation.debtor_id == debtor_id,
            IdentityConfirmation.contact_id == contact_id,
        )
    )
    if exists is not None:
        return
    session.add(
        IdentityConfirmation(
            tenant_id=tenant_id,
            debtor_id=debtor_id,
            contact_id=contact_id,
            method=method,
            confirmed_at=at or utcnow(),
        )
    )
    session.flush()
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="identity.confirmed",
        entity_type="debtor",
        entity_id=debtor_id,
        after={"contact_id": str(contact_id), "method": method},
    )

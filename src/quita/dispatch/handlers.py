"""Reactions to other capabilities' events, inside their transaction: a debt that stops being collectable
(paid, agreement, dispute…) or a debtor who opts out cancels every message not yet handed to Meta."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from quita.dispatch import service
from quita.kit import events

STOPPING = {"paid", "in_agreement", "written_off", "prescribed", "disputed"}


def on_debt_status_changed(session: Session, payload: dict[str, Any]) -> None:
    new_status = str(payload.get("new_status"))
    if new_status in STOPPING:
        service.cancel_unsent(
            session,
            payload["tenant_id"],
            debt_id=payload["debt_id"],
            reason=f"título mudou para {new_status}",
        )


def on_contact_opted_out(session: Session, payload: dict[str, Any]) -> None:
    channel = payload.get("channel")
    if channel not in (None, "whatsapp"):
        return
    contact_id = payload.get("contact_id")
    if contact_id is not None:
        service.cancel_unsent(
            session, payload["tenant_id"], contact_id=contact_id, reason="opt-out do contato"
        )
    else:
        service.cancel_unsent(
            session, payload["tenant_id"], debtor_id=payload["debtor_id"], reason="opt-out do devedor"
        )


def register() -> None:
    events.subscribe(events.DEBT_STATUS_CHANGED, on_debt_status_changed)
    events.subscribe(events.CONTACT_OPTED_OUT, on_contact_opted_out)

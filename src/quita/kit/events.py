"""In-transaction domain events, so a lower capability can announce a change without importing the
capabilities that react to it (e.g. a debt settled by payments cancels the cadence's pending messages).

Handlers run synchronously inside the publisher's unit of work: their writes commit or roll back with
the change that caused them. Subscribe at import time of the reacting capability's ``service`` module
(``quita.kit.db.registry`` imports every capability's models; handlers live next to them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

Handler = Callable[[Session, dict[str, Any]], None]
_SUBSCRIBERS: dict[str, list[Handler]] = defaultdict(list)

# Event names in use (payload keys in parentheses):
DEBT_STATUS_CHANGED = "debt.status_changed"  # (tenant_id, debt_id, old_status, new_status, actor)
CONTACT_OPTED_OUT = "contact.opted_out"  # (tenant_id, debtor_id, contact_id | None, channel, actor)
PAYMENT_RECEIVED = "payments.payment_received"  # (tenant_id, payment_id, charge_id, debt_id, agreement_installment_id, outcome, amount, paid_at)
INBOUND_MESSAGE = "whatsapp.inbound_message"  # (tenant, channel, conversation, contact, debtor, wamid, text, reply, context)


def subscribe(event: str, handler: Handler) -> Handler:
    if handler not in _SUBSCRIBERS[event]:
        _SUBSCRIBERS[event].append(handler)
    return handler


def publish(session: Session, event: str, payload: dict[str, Any]) -> None:
    for handler in list(_SUBSCRIBERS.get(event, ())):
        handler(session, payload)

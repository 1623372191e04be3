"""Subscription to inbound WhatsApp messages: the bot answers in its own job, after the webhook commits.

Kept free of heavy imports because importing ``quita.bot`` (e.g. for the NLU) registers it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from quita.kit import events
from quita.kit.jobs import enqueue_after_commit

#: Published by ``whatsapp.jobs`` for every new (deduplicated) inbound message.
INBOUND_MESSAGE = events.INBOUND_MESSAGE
REPLY_JOB = "bot.reply"


def on_inbound(session: Session, payload: dict[str, Any]) -> None:
    import quita.bot.jobs  # noqa: F401  (registers the job handler before the runner looks it up)

    if payload.get("debtor_id") is None:
        return  # unknown sender: nothing to say, the receiver already logged it
    enqueue_after_commit(session, REPLY_JOB, {k: None if v is None else str(v) for k, v in payload.items()})


def on_payment(session: Session, payload: dict[str, Any]) -> None:
    """A payment reconciled: instalments, agreements, promises and receipt reviews follow (bot.agreements)."""
    from quita.bot.agreements import on_payment_received

    on_payment_received(session, payload)


def preload() -> None:
    """For a process that will answer debtors: the NLU model loads in the background now, not on the first
    message (:func:`quita.bot.nlu.understanding.preload`)."""
    from quita.bot.nlu.understanding import preload as preload_nlu

    preload_nlu()


def register() -> None:
    events.subscribe(INBOUND_MESSAGE, on_inbound)
    events.subscribe(events.PAYMENT_RECEIVED, on_payment)

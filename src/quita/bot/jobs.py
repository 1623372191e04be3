"""The bot's background jobs: answer one inbound message outside the webhook's transaction; at start-up, answer
what a stopped process left unanswered."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import exists, select

from quita.bot.hooks import REPLY_JOB, on_inbound
from quita.bot.models import BotInbound
from quita.kit.db import Database, utcnow
from quita.kit.jobs import job
from quita.whatsapp import service as whatsapp
from quita.whatsapp.models import Conversation, Message

RESUME_JOB = "bot.resume"
#: Older messages are not answered late: the 24 h window they opened has closed (only templates go out then).
RESUME_WITHIN = dt.timedelta(hours=24)
_COLUMNS = ("id", "tenant_id", "channel_id", "conversation_id", "contact_id", "debtor_id", "wamid", "body",
            "occurred_at")  # fmt: skip


@job(REPLY_JOB)
def reply_job(database: Database, payload: dict[str, Any]) -> None:
    from quita.bot.service import handle_inbound

    handle_inbound(database, payload)


@job(RESUME_JOB)
def resume_job(database: Database, _payload: dict[str, Any]) -> None:
    resume_unanswered(database)


def resume_unanswered(database: Database, *, now: dt.datetime | None = None) -> int:
    """Queues an answer for every message a known debtor wrote in the last 24 h that the bot never decided on.

    The reply job is queued after the commit that recorded the message; in the embedded mode it lives only in
    the process's memory, so a process stopped (or killed) in between would leave the debtor unanswered for
    good. Answering is idempotent (``bot_inbound`` is unique per wamid), so a message answered meanwhile, or
    queued twice by two starting processes, is answered once. Read through the conversations written to in
    the window (:func:`quita.whatsapp.service.recent_inbound`). Returns how many."""
    since = (now or utcnow()) - RESUME_WITHIN
    answered = exists(select(BotInbound.id).where(BotInbound.wamid == Message.wamid))
    with database.transaction() as session:
        rows = session.execute(
            whatsapp.recent_inbound(since, *(getattr(Message, c) for c in _COLUMNS), Conversation.wa_id).where(
                Message.debtor_id.is_not(None),
                Message.wamid.is_not(None),
                Message.occurred_at >= since,  # written by the debtor then (Meta retries a webhook for days)
                ~answered,
            )
        ).all()
        for row in rows:  # as the pump's event would have queued it
            on_inbound(session, whatsapp.inbound_event(dict(zip(_COLUMNS, row, strict=False)), row.wa_id))
    return len(rows)

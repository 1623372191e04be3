"""The bot's background job: answer one inbound message outside the webhook's transaction."""

from __future__ import annotations

from typing import Any

from quita.bot.hooks import REPLY_JOB
from quita.kit.db import Database
from quita.kit.jobs import job


@job(REPLY_JOB)
def reply_job(database: Database, payload: dict[str, Any]) -> None:
    from quita.bot.service import handle_inbound

    handle_inbound(database, payload)

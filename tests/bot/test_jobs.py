"""Start-up catch-up: messages recorded but never answered (the reply job lived only in a stopped process)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from cryptography.fernet import Fernet

from quita.bot.hooks import REPLY_JOB
from quita.bot.jobs import resume_unanswered
from quita.bot.models import BotInbound
from quita.kit.db import Database
from tests.whatsapp.conftest import make_setup
from tests.whatsapp.payloads import inbound_text
from tests.whatsapp.test_processing import deliver


def test_only_recent_unanswered_messages_of_known_debtors_are_queued(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUITA_SECRET_KEY", Fernet.generate_key().decode())
    wa = make_setup(database)
    now = int(time.time())
    # No job runner: the reply jobs these messages queue after their commit go nowhere, as in a killed process.
    deliver(database, wa, inbound_text("wamid.old", "5511987654321", "oi", ts=now - 25 * 3600),
            inbound_text("wamid.new", "5511987654321", "quanto eu devo?", ts=now - 60),
            inbound_text("wamid.stranger", "5521999998888", "quem é?", ts=now - 60))  # fmt: skip
    queued: list[tuple[str, dict[str, Any]]] = []
    database.job_sink = lambda name, payload: queued.append((name, payload))
    try:
        assert resume_unanswered(database) == 1
        [(name, payload)] = queued
        assert name == REPLY_JOB and payload["wamid"] == "wamid.new" and payload["text"] == "quanto eu devo?"
        assert payload["debtor_id"] == str(wa.debtor_id) and payload["wa_id"] == "5511987654321"
        assert payload["occurred_at"] is not None
        with database.transaction() as session:  # the bot decided on it meanwhile
            session.add(BotInbound(tenant_id=wa.tenant_id, wamid="wamid.new", bot_conversation_id=uuid.uuid4()))
        assert resume_unanswered(database) == 0
    finally:
        database.job_sink = None

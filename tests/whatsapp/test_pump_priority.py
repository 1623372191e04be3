from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from sqlalchemy import select

from quita.kit.db import Database
from quita.whatsapp import jobs
from quita.whatsapp.models import WebhookDelivery
from quita.whatsapp.webhooks import ChannelKeys, DeliveryWriter
from tests.whatsapp.conftest import Setup
from tests.whatsapp.payloads import inbound_text, raw, status


def test_the_pump_yields_to_status_bursts_but_not_when_a_person_wrote(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "_last_person", 0.0)  # a person's message from an earlier test in this process
    jobs.note_intake()
    assert jobs.yielding_to_intake()
    jobs.note_intake(person_waiting=True)
    assert not jobs.yielding_to_intake()


def test_message_bodies_are_told_from_status_bodies() -> None:
    inbound = {"entry": [{"changes": [{"value": {"messages": [{"from": "5511999990000", "type": "text"}]}}]}]}
    status = {"entry": [{"changes": [{"value": {"statuses": [{"id": "wamid.x", "status": "read"}]}}]}]}
    assert jobs.carries_messages(json.dumps(inbound).encode())
    assert not jobs.carries_messages(json.dumps(status).encode())


def test_status_bodies_as_meta_sends_them_are_not_taken_for_messages() -> None:
    """Every body Meta sends for a number says ``"field": "messages"``; only a ``"messages"`` key counts."""
    status_body = status("wamid.s", "delivered")
    message_body = inbound_text("wamid.m", "5511999990000", "oi")
    assert not jobs.carries_messages(raw(status_body))
    assert not jobs.carries_messages(json.dumps(status_body, indent=2).encode())
    assert jobs.carries_messages(raw(message_body))
    assert jobs.carries_messages(json.dumps(message_body, indent=2).encode())  # "messages": [ with spaces
    quoted = status("wamid.q", "read", callback='{"messages": 1}')
    assert not jobs.carries_messages(raw(quoted))  # the key inside a string is escaped


def test_pauses_grow_during_a_status_burst_up_to_a_bound() -> None:
    pauses = [jobs.burst_pause(n) for n in range(8)]
    assert pauses[:4] == [0.25, 0.5, 1.0, 2.0]
    assert max(pauses) == jobs.BUSY_MAX_PAUSE_S == pauses[-1]
    assert jobs.burst_pause(10_000) == jobs.BUSY_MAX_PAUSE_S


def test_a_burst_pause_ends_with_the_burst() -> None:
    jobs.note_intake()
    started = time.monotonic()
    jobs._pause(jobs.BUSY_MAX_PAUSE_S)
    assert time.monotonic() - started < jobs.BUSY_MAX_PAUSE_S / 2  # the intake went quiet after BUSY_WINDOW_S


def test_a_persons_message_is_processed_ahead_of_a_status_backlog(database: Database, wa: Setup) -> None:
    """The writer tells the pump which stored bodies carry people's messages; the pump claims those first,
    even behind many older statuses (which may wait during a burst)."""
    keys = ChannelKeys(wa.channel_id, wa.tenant_id, "secret", "verify")
    statuses = [raw(status(f"wamid.s{n}", "delivered")) for n in range(30)]
    person = raw(inbound_text("wamid.p", "5511999990000", "oi"))

    async def store() -> None:
        writer = DeliveryWriter(database)
        try:
            for n, body in enumerate(statuses):
                await writer.store(body, keys, f"{n:064x}", state="received", problem=None)
            await writer.store(person, keys, "e" * 64, state="received", problem=None)
        finally:
            writer.close()

    jobs.note_intake(person_rows=[uuid.uuid4() for _ in range(5)])  # already processed, or another database's
    asyncio.run(store())
    assert jobs.person_waiting()
    assert jobs.process_pending(database) == 31
    with database.transaction() as session:
        rows = {d.body: d.processed_at for d in session.scalars(select(WebhookDelivery))}
    assert all(at is not None for at in rows.values())
    assert rows[person] < min(rows[body] for body in statuses)

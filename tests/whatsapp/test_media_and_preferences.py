"""Inbound media fetched at once and kept with its hash; marketing opt-out/resume applied to the contact."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from quita.kit.db import Database
from quita.portfolio.models import ContactPoint
from quita.server.app import create_app
from quita.simulator.app import create_app as create_simulator
from quita.simulator.whatsapp.schemas import SimConfig
from quita.whatsapp import evidence, jobs, media, service
from quita.whatsapp.models import ConversationEntry, InboundMedia, Message, WebhookDelivery, WebhookNotice
from tests.conftest import ServerThread
from tests.factories import make_tenant
from tests.whatsapp.conftest import Setup, add_debtor
from tests.whatsapp.loopback import Scripted, serve_fake_graph
from tests.whatsapp.payloads import envelope, raw, signed

SIM_TOKEN, SIM_SECRET, PHONE_ID, WABA_ID = "media-token", "media-secret", "100000000000019", "200000000000019"
DEBTOR_PHONE = "5511987651111"


def wait_for(predicate: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The job reads the data dir from the (cached) settings."""
    from quita.config import get_settings

    monkeypatch.setenv("QUITA_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    monkeypatch.undo()
    get_settings.cache_clear()


def test_a_document_the_debtor_sends_is_downloaded_and_chained(database: Database, data_dir: Path) -> None:
    tmp_path = data_dir
    tenant_id = make_tenant(database, "media")
    add_debtor(database, tenant_id, phone=f"+{DEBTOR_PHONE}")
    quita = ServerThread(create_app(database=database))
    config = SimConfig(token=SIM_TOKEN, app_secret=SIM_SECRET, waba_id=WABA_ID,
                       phone_numbers=[{"phone_number_id": PHONE_ID, "display_phone_number": "5511999990019"}],
                       webhook_url=f"{quita.url}/webhooks/whatsapp")
    pdf = b"%PDF-1.4\n% comprovante de pagamento\n" + bytes(range(256)) * 40
    with ServerThread(create_simulator(config)) as sim, quita:
        with database.transaction() as session:
            service.create_channel(session, tenant_id=tenant_id, phone_number_id=PHONE_ID, waba_id=WABA_ID,
                                   access_token=SIM_TOKEN, app_secret=SIM_SECRET, verify_token="v", actor="test",
                                   graph_url=sim.url)
        sent = httpx.post(f"{sim.url}/_sim/inbound", json={
            "from": DEBTOR_PHONE, "type": "document", "filename": "comprovante.pdf", "mime_type": "application/pdf",
            "data_base64": base64.b64encode(pdf).decode(), "caption": "paguei"})
        assert sent.status_code == 200, sent.text

        def stored() -> InboundMedia | None:
            with database.transaction() as session:
                return session.scalar(select(InboundMedia).where(InboundMedia.tenant_id == tenant_id))

        row = wait_for(stored)
    digest = hashlib.sha256(pdf).hexdigest()
    assert row.error is None and row.sha256 == digest and row.size == len(pdf)
    assert row.mime_type == "application/pdf" and row.filename == "comprovante.pdf" and row.kind == "document"
    path = media.absolute_path(row, tmp_path)
    assert path is not None and path.read_bytes() == pdf
    with database.transaction() as session:
        entry = session.get_one(ConversationEntry, row.entry_id)
        assert entry.kind == "media_stored" and entry.content["sha256"] == digest
        assert entry.message_id == row.message_id and entry.conversation_id == row.conversation_id
        assert media.for_message(session, tenant_id, row.message_id) is not None
        assert all(report.ok for report in evidence.verify(session, tenant_id))
    # The job again (a redelivered job message): nothing new, the same row.
    again = media.download(database, row.message_id, data_dir=tmp_path)
    assert again is not None and again.id == row.id
    with database.transaction() as session:
        kinds = session.scalars(select(ConversationEntry.kind).where(
            ConversationEntry.conversation_id == row.conversation_id)).all()
    assert kinds.count("media_stored") == 1


def preference(value: str, ts: int, wa_id: str = "5511987654321") -> dict[str, Any]:
    item = {"wa_id": wa_id, "detail": f"User requested to {value} marketing messages",
            "category": "marketing_messages", "value": value, "timestamp": ts}
    return envelope({"contacts": [{"wa_id": wa_id, "profile": {"name": "Maria"}}], "user_preferences": [item]},
                    field="user_preferences")


def deliver(database: Database, body: dict[str, Any]) -> None:
    from fastapi.testclient import TestClient

    data = raw(body)
    with TestClient(create_app(database=database)) as client:
        assert client.post("/webhooks/whatsapp", content=data, headers=signed(data)).status_code == 200
    jobs.process_pending(database)


def opted_out_at(database: Database, wa: Setup) -> Any:
    with database.transaction() as session:
        return session.get_one(ContactPoint, wa.contact_id).marketing_opted_out_at


def test_marketing_stop_and_resume_follow_the_user_preferences(database: Database, wa: Setup) -> None:
    deliver(database, preference("stop", 1_760_000_000))
    stopped = opted_out_at(database, wa)
    assert stopped is not None and int(stopped.timestamp()) == 1_760_000_000
    deliver(database, preference("resume", 1_759_999_000))  # older than the stop: out of order, ignored
    assert opted_out_at(database, wa) == stopped
    deliver(database, preference("resume", 1_760_000_500))
    assert opted_out_at(database, wa) is None
    with database.transaction() as session:
        applied = [n.detail["applied"] for n in session.scalars(
            select(WebhookNotice).where(WebhookNotice.kind == "user_preferences").order_by(WebhookNotice.created_at))]
        entries = session.scalars(select(ConversationEntry.kind).where(ConversationEntry.tenant_id == wa.tenant_id))
        assert list(entries).count("user_preferences") == 3
    assert applied == ["marketing_opted_out", None, "marketing_resumed"]


def test_a_preference_from_an_unknown_number_changes_no_contact(database: Database, wa: Setup) -> None:
    other_tenant = make_tenant(database, "other")
    _, other_contact = add_debtor(database, other_tenant, phone="+5521999998888")
    deliver(database, preference("stop", 1_760_000_000, wa_id="5521999998888"))  # not this channel's tenant
    with database.transaction() as session:
        assert session.get_one(ContactPoint, other_contact).marketing_opted_out_at is None
        notice = session.scalars(select(WebhookNotice).where(WebhookNotice.kind == "user_preferences")).one()
        assert notice.detail["matched"] is False and notice.detail["applied"] is None
    assert opted_out_at(database, wa) is None


# --------------------------------------------------------------------------- downloads that did not happen at once


def _document_message(database: Database, graph_url: str, token: str) -> tuple[Setup, uuid.UUID]:
    """A tenant whose channel points at ``graph_url`` and one inbound document processed by the pump with no job
    runner, so its download job goes nowhere (as when the process stops right after the commit)."""
    from tests.whatsapp.payloads import PHONE_ID as TEST_PHONE_ID
    from tests.whatsapp.payloads import WABA_ID as TEST_WABA_ID

    tenant_id = make_tenant(database, "media-late")
    debtor_id, contact_id = add_debtor(database, tenant_id)
    with database.transaction() as session:
        channel = service.create_channel(session, tenant_id=tenant_id, phone_number_id=TEST_PHONE_ID,
                                         waba_id=TEST_WABA_ID, access_token=token, app_secret="s", verify_token="v",
                                         actor="test", graph_url=graph_url)  # fmt: skip
        channel_id = channel.id
    document = {"id": "wamid.doc1", "from": "5511987654321", "timestamp": str(int(time.time())), "type": "document",
                "document": {"id": "55", "mime_type": "application/pdf", "sha256": "x", "filename": "recibo.pdf"}}
    data = raw(envelope({"contacts": [{"wa_id": "5511987654321", "profile": {"name": "Maria"}}],
                         "messages": [document]}))  # fmt: skip
    with database.transaction() as session:
        session.add(WebhookDelivery(dedupe_key=uuid.uuid4().hex * 2, body_sha256=hashlib.sha256(data).hexdigest(),
                                    body=data, tenant_id=tenant_id, channel_id=channel_id))  # fmt: skip
    jobs.process_pending(database)
    with database.transaction() as session:
        message_id = session.scalar(select(Message.id).where(Message.wamid == "wamid.doc1"))
    assert message_id is not None
    return Setup(tenant_id, channel_id, debtor_id, contact_id), message_id


def test_a_download_meta_refuses_for_a_moment_is_tried_again(
    database: Database, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(media, "RETRY_DELAYS_S", (0.01, 0.01, 0.01, 0.01))
    with serve_fake_graph() as graph:
        _, message_id = _document_message(database, graph.url, "test-token")
        graph.media["55"] = (b"%PDF-1.4 recibo", "application/pdf")
        graph.script.append(Scripted(status=500, json={"error": {"message": "An unknown error occurred", "code": 1,
                                                                 "type": "OAuthException"}}))  # fmt: skip
        row = media.download(database, message_id, data_dir=data_dir)
        asked = [r for r in graph.requests if r["path"].endswith("/55") and not r["path"].startswith("/download")]
    assert row is not None and row.error is None and row.size == len(b"%PDF-1.4 recibo")
    assert len(asked) == 2  # refused once, fetched the second time


def test_downloads_a_stopped_process_never_ran_are_queued_at_the_next_start(
    database: Database, data_dir: Path
) -> None:
    with serve_fake_graph() as graph:
        _, message_id = _document_message(database, graph.url, "test-token")
        graph.media["55"] = (b"%PDF-1.4 recibo", "application/pdf")
        queued: list[tuple[str, dict[str, Any]]] = []
        database.job_sink = lambda name, payload: queued.append((name, payload))
        try:
            assert media.queue_missing(database) == 1
            assert queued == [(media.DOWNLOAD_MEDIA, {"message_id": str(message_id)})]
            for _, payload in queued:
                media.download_media_job(database, payload)
            assert media.queue_missing(database) == 0  # stored now: nothing left to catch up
        finally:
            database.job_sink = None
    with database.transaction() as session:
        assert media.for_message(session, session.scalar(select(Message.tenant_id)), message_id) is not None

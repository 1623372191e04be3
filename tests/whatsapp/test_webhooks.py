"""The receiver: handshake, signatures, size limit, durable storage before 200, duplicates, routing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from quita.kit.db import Database
from quita.server.app import create_app
from quita.whatsapp import jobs
from quita.whatsapp.models import StatusEvent, WebhookDelivery, WebhookNotice
from quita.whatsapp.webhooks import MAX_BODY_BYTES, signature_bytes
from tests.whatsapp.conftest import Setup, make_setup
from tests.whatsapp.payloads import PHONE_ID, SECRET, VERIFY, raw, signed, status

URL = "/webhooks/whatsapp"


@pytest.fixture
def client(database: Database, wa: Setup) -> Iterator[TestClient]:
    with TestClient(create_app(database=database)) as test_client:
        yield test_client


def deliveries(database: Database) -> list[WebhookDelivery]:
    with database.transaction() as session:
        return list(session.scalars(select(WebhookDelivery)))


def test_handshake_echoes_the_challenge_only_for_a_configured_token(client: TestClient) -> None:
    ok = client.get(URL, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = client.get(URL, params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"})
    assert wrong.status_code == 403
    assert client.get(URL, params={"hub.mode": "unsubscribe", "hub.verify_token": VERIFY,
                                   "hub.challenge": "1"}).status_code == 403


def test_unsigned_and_forged_posts_are_refused_and_nothing_is_stored(client: TestClient, database: Database) -> None:
    body = raw(status("wamid.A", "sent"))
    assert client.post(URL, content=body, headers={"Content-Type": "application/json"}).status_code == 401
    assert client.post(URL, content=body, headers={"X-Hub-Signature-256": " "}).status_code == 401
    assert client.post(URL, content=body, headers=signed(body, "another-secret")).status_code == 403
    assert client.post(URL, content=body, headers={"X-Hub-Signature-256": "sha256=zz"}).status_code == 403
    tampered = body.replace(b"sent", b"read")
    assert client.post(URL, content=tampered, headers=signed(body)).status_code == 403
    assert deliveries(database) == []


def test_signature_header_parsing() -> None:
    digest = bytes(range(32))
    assert signature_bytes(b"sha256=" + digest.hex().encode()) == digest
    assert signature_bytes(b" SHA256=" + digest.hex().upper().encode() + b" ") == digest  # any letter case
    for bad in (None, b"", b"sha256=", b"sha1=" + digest.hex().encode(), b"sha256=" + digest.hex().encode()[:-1],
                b"sha256=" + digest.hex().encode() + b"00", b"sha256=" + b"zz" * 32,
                b"sha256=" + b"ab " * 21 + b"a", b"sha256=" + b"ab " * 21 + b" ", b"sha256=" + "é".encode() * 32):
        assert signature_bytes(bad) is None, bad


def test_signature_header_name_is_case_insensitive(client: TestClient, database: Database) -> None:
    body = raw(status("wamid.B", "sent"))
    header = signed(body)["X-Hub-Signature-256"]
    response = client.post(URL, content=body, headers={"x-hub-signature-256": header})
    assert response.status_code == 200
    assert len(deliveries(database)) == 1


def test_oversized_bodies_get_413_by_header_and_by_count(client: TestClient, database: Database) -> None:
    big = b"{" + b" " * MAX_BODY_BYTES + b"}"
    assert client.post(URL, content=big, headers=signed(big)).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer, counted while reading
        for _ in range(17):
            yield b" " * 65536

    assert client.post(URL, content=chunks(), headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}).status_code == 413
    assert deliveries(database) == []


@pytest.mark.parametrize("body", [b"\x00not json at all", b'{"object": "whatsapp_business_account", "entry": [',
                                  b"\xff\xfe not utf-8"])
def test_signed_garbage_is_stored_raw_then_marked_unparseable_and_reported(
    client: TestClient, database: Database, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """Stored as it came and answered 200 (Meta stops retrying); the pump, which parses every body,
    marks it ``unparseable`` with the parser's error, logs a warning, and never processes it again."""
    with caplog.at_level("WARNING", logger="quita.whatsapp.jobs"):
        assert client.post(URL, content=body, headers=signed(body)).status_code == 200
        [stored] = deliveries(database)
        assert stored.body == body
        client.app.state.runner.wait_idle(10)  # type: ignore[attr-defined]
        jobs.process_pending(database)
    [stored] = deliveries(database)
    assert stored.state == "unparseable" and stored.body == body and stored.processed_at is not None
    assert "JSON" in (stored.problem or "")
    assert any(str(stored.id) in r.getMessage() and "JSON" in r.getMessage() for r in caplog.records)
    assert jobs.process_pending(database) == 0


def test_duplicate_deliveries_are_stored_once_and_processed_once(client: TestClient, database: Database) -> None:
    body = raw(status("wamid.C", "delivered", callback=str(uuid.uuid4())))
    for _ in range(3):
        assert client.post(URL, content=body, headers=signed(body)).status_code == 200
    jobs.process_pending(database)
    assert len(deliveries(database)) == 1
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(StatusEvent)) == 1


def test_accepted_webhooks_are_processed_by_the_job(client: TestClient, database: Database) -> None:
    body = raw(status("wamid.D", "sent"))
    assert client.post(URL, content=body, headers=signed(body)).status_code == 200
    client.app.state.runner.wait_idle(10)  # type: ignore[attr-defined]
    jobs.process_pending(database)
    [stored] = deliveries(database)
    assert stored.state == "processed" and stored.events == 1


def test_a_secret_of_another_app_cannot_write_into_its_tenant(database: Database, wa: Setup) -> None:
    other = make_setup(database, slug="other", phone_number_id="100000000000002", secret="other-secret")
    # Signed with tenant "acme"'s secret but addressed to tenant "other"'s number.
    body = raw(status("wamid.E", "sent", phone_number_id="100000000000002"))
    with TestClient(create_app(database=database)) as client:
        assert client.post(URL, content=body, headers=signed(body, SECRET)).status_code == 200
    jobs.process_pending(database)
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(StatusEvent)) == 0
        notice = session.scalars(select(WebhookNotice)).one()
        assert notice.kind == "unrouted" and notice.tenant_id != other.tenant_id
    # Signed with its own secret, it lands in the right tenant.
    with TestClient(create_app(database=database)) as client:
        assert client.post(URL, content=body, headers=signed(body, "other-secret")).status_code == 200
    jobs.process_pending(database)
    with database.transaction() as session:
        event = session.scalars(select(StatusEvent)).one()
        assert event.tenant_id == other.tenant_id and event.channel_id == other.channel_id


def test_unprocessed_deliveries_resume_after_a_restart(database: Database, wa: Setup) -> None:
    body = raw(status("wamid.F", "read"))
    with database.transaction() as session:
        import hashlib

        session.add(WebhookDelivery(dedupe_key="f" * 64, body_sha256=hashlib.sha256(body).hexdigest(), body=body,
                                    tenant_id=wa.tenant_id, channel_id=wa.channel_id, state="processing"))
    with TestClient(create_app(database=database)) as client:
        client.app.state.runner.wait_idle(10)  # type: ignore[attr-defined]
    [stored] = deliveries(database)
    assert stored.state == "processed"


def test_phone_number_id_routes_before_tenant(database: Database, wa: Setup) -> None:
    assert PHONE_ID  # the default channel
    with TestClient(create_app(database=database)) as client:
        body = raw(status("wamid.G", "sent", phone_number_id="999"))
        assert client.post(URL, content=body, headers=signed(body)).status_code == 200
    jobs.process_pending(database)
    with database.transaction() as session:
        assert session.scalars(select(WebhookNotice.kind)).all() == ["unrouted"]

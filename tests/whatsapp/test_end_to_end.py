"""Quita and the simulator over real HTTP on loopback: starter templates are submitted, the identity
check goes out, the debtor taps its button on the simulator, and the reply shows in the conversation API."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from quita.kit.db import Database
from quita.server.app import create_app
from quita.simulator.app import create_app as create_simulator
from quita.simulator.whatsapp.schemas import SimConfig
from quita.whatsapp import service, templates
from tests.conftest import ServerThread
from tests.factories import make_api_key, make_tenant
from tests.whatsapp import outreach
from tests.whatsapp.conftest import add_debtor

SIM_TOKEN, SIM_SECRET, PHONE_ID, WABA_ID = "e2e-token", "e2e-secret", "100000000000009", "200000000000009"


def wait_for(predicate: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_template_button_tap_reaches_the_conversation_record(database: Database) -> None:
    tenant_id = make_tenant(database, "e2e")
    debtor_id, _ = add_debtor(database, tenant_id, phone="+5511987650000")
    api_key = make_api_key(database, "e2e")
    quita = ServerThread(create_app(database=database))
    config = SimConfig(token=SIM_TOKEN, app_secret=SIM_SECRET, waba_id=WABA_ID,
                       phone_numbers=[{"phone_number_id": PHONE_ID, "display_phone_number": "5511999990009"}],
                       webhook_url=f"{quita.url}/webhooks/whatsapp", sent_delay_s=0.01, delivered_delay_s=0.02,
                       read_delay_s=0.03, read_rate=1.0)
    with ServerThread(create_simulator(config)) as sim, quita:
        with database.transaction() as session:
            channel = service.create_channel(
                session, tenant_id=tenant_id, phone_number_id=PHONE_ID, waba_id=WABA_ID, access_token=SIM_TOKEN,
                app_secret=SIM_SECRET, verify_token="v", actor="test", graph_url=sim.url,
            )
            installed = templates.install_starter(session, channel, actor="test")
            assert {t.name for t in installed} >= {outreach.IDENTITY_TEMPLATE}
            assert all(t.usable for t in installed)
        with database.transaction() as session:  # the listing is paged (4 starters + the simulator's own)
            channel = service.default_channel(session, tenant_id)
            synced = list(templates.fetch_templates(channel, page_size=2))
            assert len(synced) >= 4
        [sent] = outreach.send_identity_checks(database, tenant_id, limit=1)
        assert sent.error is None and sent.wamid

        headers = {"Authorization": f"Bearer {api_key}"}
        url = f"{quita.url}/api/v1/debtors/{debtor_id}/conversation"

        def outbound_read() -> Any:
            # Meta does not promise the order of status webhooks (nor do two group commits on two connections):
            # 'read' may be applied before 'sent' is stored, so wait for all three.
            entries = httpx.get(url, headers=headers).json()["entries"]
            done = entries and entries[0]["status"] == "read" and len(entries[0]["statuses"]) == 3
            return entries if done else None

        [outbound] = wait_for(outbound_read)
        assert outbound["content"]["template"]["name"] == outreach.IDENTITY_TEMPLATE
        assert [s["status"] for s in outbound["statuses"]] == ["sent", "delivered", "read"]

        tap = httpx.post(f"{sim.url}/_sim/inbound", json={
            "from": "5511987650000", "type": "button", "payload": outreach.CONFIRM_PAYLOAD, "text": "Sim, sou eu",
            "context": sent.wamid})
        assert tap.status_code == 200, tap.text

        def replied() -> Any:
            entries = httpx.get(url, headers=headers).json()["entries"]
            return entries if len(entries) == 2 else None

        entries = wait_for(replied)
        reply = entries[1]
        assert reply["direction"] == "inbound" and reply["actor"] == "debtor"
        assert reply["content"]["button_payload"] == outreach.CONFIRM_PAYLOAD
        assert reply["content"]["context_id"] == sent.wamid

        other_key = make_api_key_for_other_tenant(database)
        assert httpx.get(url, headers={"Authorization": f"Bearer {other_key}"}).status_code == 404


def make_api_key_for_other_tenant(database: Database) -> str:
    make_tenant(database, f"other-{uuid.uuid4().hex[:6]}")
    from sqlalchemy import select

    from quita.tenant.models import Tenant

    with database.transaction() as session:
        slug = session.scalars(select(Tenant.slug).where(Tenant.slug.startswith("other-"))).first()
    assert slug is not None
    return make_api_key(database, slug)

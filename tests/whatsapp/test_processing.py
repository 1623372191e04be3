"""Processing stored webhooks: statuses (forward-only, parked), inbound matching, templates, system."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlalchemy import select

from quita.kit.db import Database
from quita.portfolio.models import ContactPoint, ContactStatus
from quita.whatsapp import jobs, service, templates
from quita.whatsapp.models import Conversation, ConversationEntry, Message, WebhookNotice, WhatsAppTemplate
from tests.whatsapp.conftest import Setup, add_debtor
from tests.whatsapp.payloads import WABA_ID, envelope, inbound_text, raw, status


def deliver(database: Database, wa: Setup, *bodies: dict[str, Any]) -> None:
    from quita.whatsapp.models import WebhookDelivery

    with database.transaction() as session:
        for body in bodies:
            data = raw(body)
            session.add(WebhookDelivery(dedupe_key=uuid.uuid4().hex * 2, body_sha256=hashlib.sha256(data).hexdigest(),
                                        body=data, tenant_id=wa.tenant_id, channel_id=wa.channel_id))
            session.flush()
    jobs.process_pending(database)


def send(database: Database, wa: Setup, wamid: str | None, message_id: uuid.UUID | None = None) -> uuid.UUID:
    message_id = message_id or uuid.uuid4()
    with database.transaction() as session:
        service.record_outbound(
            session, tenant_id=wa.tenant_id, channel_id=wa.channel_id, contact_id=wa.contact_id,
            debtor_id=wa.debtor_id, message_id=message_id, wamid=wamid, kind="template",
            body={"to": "5511987654321", "type": "template"}, actor="bot",
            template_name="quita_confirmacao_identidade", template_params=["Exemplo", "Maria"], wa_id="5511987654321",
        )
    return message_id


def message(database: Database, message_id: uuid.UUID) -> Message:
    with database.transaction() as session:
        return session.get_one(Message, message_id)


def test_reordered_and_duplicated_statuses_end_in_the_highest_state(database: Database, wa: Setup) -> None:
    mid = send(database, wa, "wamid.1")
    deliver(database, wa, status("wamid.1", "read", ts=30), status("wamid.1", "sent", ts=10),
            status("wamid.1", "read", ts=30), status("wamid.1", "delivered", ts=20))
    assert message(database, mid).status == "read"
    with database.transaction() as session:
        history = [e.status for e in service.status_events_for(session, wa.tenant_id, str(mid))]
    assert history == []  # no callback data in these webhooks: history is by wamid
    with database.transaction() as session:
        items = service.debtor_conversation(session, wa.tenant_id, wa.debtor_id)
    assert sorted(s.status for s in items[0].statuses) == ["delivered", "read", "sent"]


def test_failed_is_terminal_and_a_late_sent_does_not_resurrect(database: Database, wa: Setup) -> None:
    mid = send(database, wa, "wamid.2")
    deliver(database, wa, status("wamid.2", "failed", ts=10, errors=[{"code": 131049, "title": "x"}]),
            status("wamid.2", "sent", ts=5))
    stored = message(database, mid)
    assert stored.status == "failed" and stored.error_codes == [131049]


def test_statuses_for_an_unknown_message_are_parked_then_applied(database: Database, wa: Setup) -> None:
    mid = uuid.uuid4()
    deliver(database, wa, status("wamid.3", "sent", callback=str(mid), ts=10),
            status("wamid.3", "delivered", callback=str(mid), ts=20))
    with database.transaction() as session:
        parked = service.status_events_for(session, wa.tenant_id, str(mid))
    assert [e.status for e in parked] == ["sent", "delivered"]
    # The dispatcher recorded the send without a wamid (in-doubt) and reconciles by our id.
    send(database, wa, None, mid)
    stored = message(database, mid)
    assert stored.status == "delivered" and stored.wamid == "wamid.3" and stored.pricing is not None


def test_an_in_doubt_send_is_found_by_our_id_and_then_by_its_wamid_in_the_same_chunk(
    database: Database, wa: Setup
) -> None:
    # The dispatcher recorded the send without a wamid (the response was lost); one chunk of the pump then holds
    # "sent" carrying our id and "read" carrying only the wamid: the second must find the message the first bound.
    mid = send(database, wa, None)
    deliver(database, wa, status("wamid.5", "sent", callback=str(mid), ts=10), status("wamid.5", "read", ts=30))
    stored = message(database, mid)
    assert stored.wamid == "wamid.5" and stored.status == "read"


def test_our_id_echoed_on_another_wamid_never_merges_two_sends(database: Database, wa: Setup) -> None:
    mid = send(database, wa, "wamid.6")
    deliver(database, wa, status("wamid.7", "read", callback=str(mid), ts=30), status("wamid.6", "sent", ts=10))
    stored = message(database, mid)
    assert stored.wamid == "wamid.6" and stored.status == "sent"
    with database.transaction() as session:
        assert [e.status for e in service.status_events_for(session, wa.tenant_id, str(mid))] == ["read"]  # kept


def test_not_on_whatsapp_marks_the_contact(database: Database, wa: Setup) -> None:
    send(database, wa, "wamid.4")
    deliver(database, wa, status("wamid.4", "failed", errors=[{"code": 131026, "title": "undeliverable"}]))
    with database.transaction() as session:
        assert session.get_one(ContactPoint, wa.contact_id).status == ContactStatus.NO_WHATSAPP


def conversation_of(database: Database, wa: Setup) -> list[ConversationEntry]:
    with database.transaction() as session:
        return [i.entry for i in service.debtor_conversation(session, wa.tenant_id, wa.debtor_id)]


def test_inbound_from_the_legacy_12_digit_form_matches_the_13_digit_contact(database: Database, wa: Setup) -> None:
    deliver(database, wa, inbound_text("wamid.in1", "551187654321", "oi, quem fala?"))
    [entry] = conversation_of(database, wa)
    assert entry.direction == "inbound" and entry.actor == "debtor" and entry.content["text"] == "oi, quem fala?"
    with database.transaction() as session:
        assert service.last_inbound_at(session, wa.tenant_id, wa.contact_id) is not None
        assert session.get_one(ContactPoint, wa.contact_id).wa_id == "551187654321"


def test_inbound_from_the_13_digit_form_matches_a_12_digit_contact(database: Database, wa: Setup) -> None:
    debtor_id, contact_id = add_debtor(database, wa.tenant_id, phone="+553188887777", document="11144477735")
    deliver(database, wa, inbound_text("wamid.in2", "5531988887777", "bom dia"))
    with database.transaction() as session:
        items = service.debtor_conversation(session, wa.tenant_id, debtor_id)
        assert [i.entry.content["text"] for i in items] == ["bom dia"]
        assert service.last_inbound_at(session, wa.tenant_id, contact_id) is not None


def test_inbound_with_only_a_bsuid_matches_by_business_scoped_user_id(database: Database, wa: Setup) -> None:
    with database.transaction() as session:
        session.get_one(ContactPoint, wa.contact_id).wa_user_id = "BR.13491208655302741918"
    deliver(database, wa, inbound_text("wamid.in3", None, "sou eu", user_id="BR.13491208655302741918"))
    assert [e.content["text"] for e in conversation_of(database, wa)] == ["sou eu"]


def test_duplicate_inbound_is_recorded_once_and_unknown_senders_are_kept(database: Database, wa: Setup) -> None:
    body = inbound_text("wamid.in4", "5521999998888", "quem é?")
    deliver(database, wa, body, body)
    with database.transaction() as session:
        [conversation] = session.scalars(select(Conversation)).all()
        assert conversation.peer == "wa:5521999998888" and conversation.entry_count == 1
        assert "unmatched_sender" in session.scalars(select(WebhookNotice.kind)).all()


def test_unknown_message_types_and_fields_are_stored_without_crashing(database: Database, wa: Setup) -> None:
    odd = envelope({"messages": [{"id": "wamid.in5", "from": "5511987654321", "timestamp": "1760000000",
                                  "type": "hologram", "hologram": {"x": 1.5}}]})
    future = envelope({"something": True}, field="brand_new_field")
    deliver(database, wa, odd, future)
    assert [e.kind for e in conversation_of(database, wa)] == ["hologram"]
    with database.transaction() as session:
        assert "unknown" in session.scalars(select(WebhookNotice.kind)).all()


def test_template_reclassified_to_marketing_becomes_unusable_until_reviewed(database: Database, wa: Setup) -> None:
    with database.transaction() as session:
        templates.upsert(session, wa.tenant_id, WABA_ID, {
            "id": "777", "name": "quita_em_atraso", "language": "pt_BR", "category": "UTILITY", "status": "APPROVED",
            "components": [{"type": "BODY", "text": "Olá, {{1}}. Valor {{2}}."}],
        })
    body = {"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "time": 1760000000, "changes": [{
        "field": "template_category_update",
        "value": {"message_template_id": 777, "message_template_name": "quita_em_atraso",
                  "message_template_language": "pt_BR", "previous_category": "UTILITY",
                  "new_category": "MARKETING"}}]}]}
    deliver(database, wa, body)
    with database.transaction() as session:
        template = session.scalars(select(WhatsAppTemplate)).one()
        assert (template.category, template.usable, template.needs_review) == ("MARKETING", False, True)
        assert template.parameter_names == ["1", "2"]


def test_paused_template_is_unusable(database: Database, wa: Setup) -> None:
    with database.transaction() as session:
        templates.upsert(session, wa.tenant_id, WABA_ID, {
            "id": "778", "name": "quita_vencimento_hoje", "language": "pt_BR", "category": "UTILITY",
            "status": "APPROVED", "components": []})
    body = {"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "time": 1760000000, "changes": [{
        "field": "message_template_status_update",
        "value": {"event": "PAUSED", "message_template_id": 778, "message_template_name": "quita_vencimento_hoje",
                  "message_template_language": "pt_BR", "reason": "LOW_QUALITY"}}]}]}
    deliver(database, wa, body)
    with database.transaction() as session:
        template = session.scalars(select(WhatsAppTemplate)).one()
        assert (template.status, template.usable) == ("PAUSED", False)


def test_user_changed_number_updates_the_contact(database: Database, wa: Setup) -> None:
    body = envelope({"messages": [{"from": "5511987654321", "id": "wamid.sys", "timestamp": "1760000000",
                                   "type": "system", "system": {"body": "User A changed from X to Y",
                                                                "wa_id": "5511912345678",
                                                                "type": "user_changed_number"}}]})
    deliver(database, wa, body)
    with database.transaction() as session:
        assert session.get_one(ContactPoint, wa.contact_id).wa_id == "5511912345678"
    assert [e.actor for e in conversation_of(database, wa)] == ["system"]


def test_value_level_errors_and_marketing_opt_out_are_recorded(database: Database, wa: Setup) -> None:
    errors = envelope({"errors": [{"code": 131051, "title": "Unsupported message type"}]})
    prefs = envelope({"contacts": [{"wa_id": "5511987654321"}], "user_preferences": [
        {"wa_id": "5511987654321", "detail": "User requested to stop marketing messages",
         "category": "marketing_messages", "value": "stop", "timestamp": 1760000000}]}, field="user_preferences")
    deliver(database, wa, errors, prefs)
    with database.transaction() as session:
        kinds = session.scalars(select(WebhookNotice.kind)).all()
    assert "error" in kinds and "user_preferences" in kinds
    assert [e.kind for e in conversation_of(database, wa)] == ["user_preferences"]

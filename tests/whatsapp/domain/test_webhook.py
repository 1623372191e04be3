"""parse_webhook against every real-world sample (expected facts written by hand) and odd payloads."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quita.whatsapp.domain.events import (
    ErrorEvent,
    InboundMessage,
    StatusUpdate,
    SystemEvent,
    TemplateCategoryUpdate,
    TemplateStatusUpdate,
    UnknownEvent,
    UserPreferenceUpdate,
    to_record,
)
from quita.whatsapp.domain.webhook import NotAWebhook, parse_webhook

CONFORMANCE = Path(__file__).resolve().parents[3] / ".." / "shared" / "conformance" / "whatsapp"


def _load(name: str) -> bytes:
    path = CONFORMANCE / name
    if not path.exists():
        pytest.skip(f"conformance sample {name} not available")
    return path.read_bytes()


def _one(name: str) -> Any:
    events = parse_webhook(_load(name))
    assert len(events) == 1, events
    return events[0]


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


# --------------------------------------------------------------------------- conformance samples


def test_every_conformance_payload_parses_into_jsonable_records() -> None:
    if not CONFORMANCE.exists():
        pytest.skip("conformance corpus not available")
    files = sorted(CONFORMANCE.glob("*.json"))
    assert len(files) >= 22
    for path in files:
        events = parse_webhook(path.read_bytes())
        assert events, path.name
        for event in events:
            json.dumps(to_record(event))
            assert not isinstance(event, UnknownEvent), path.name


def test_template_button_with_numeric_timestamp() -> None:
    event = _one("netflie_inbound_template_button_numeric_timestamp.json")
    assert isinstance(event, InboundMessage)
    assert event.type == "button"
    assert event.button_payload == "No-Button-Payload"
    assert event.button_text == "No"
    assert event.from_ == "16315551234"
    assert event.timestamp == _utc(1669233778)
    assert event.context_id == "wamid.ID"
    assert event.phone_number_id == "PHONE_NUMBER_ID"
    record = to_record(event)
    assert record["reply_title"] == "No"
    assert record["timestamp"] == "2022-11-23T20:02:58Z"


def test_unknown_type_with_top_level_details() -> None:
    event = _one("netflie_inbound_unknown_type_131051.json")
    assert isinstance(event, InboundMessage)
    assert event.type == "unknown"
    assert [e.code for e in event.errors] == [131051]
    assert event.errors[0].details == "Message type is not currently supported"
    assert event.errors[0].title == "Unsupported message type"


def test_one_entry_two_changes_gives_two_messages_in_order() -> None:
    events = parse_webhook(_load("netflie_multiple_changes_two_text_messages.json"))
    assert [type(e) for e in events] == [InboundMessage, InboundMessage]
    assert [e.text for e in events if isinstance(e, InboundMessage)] == ["MESSAGE_BODY", "MESSAGE_BODY2"]
    assert [e.timestamp for e in events] == [_utc(1669233778), _utc(1669233779)]


def test_failed_status_with_minimal_errors() -> None:
    event = _one("netflie_status_failed_131053_minimal_errors.json")
    assert isinstance(event, StatusUpdate)
    assert event.status == "failed"
    assert event.wamid == "amid.ID"
    assert event.recipient_id == "CUSTOMER_PHONE_NUMBER"
    assert event.phone_number_id == "102944729380254"
    assert event.waba_id == "114957184830690"
    assert [(e.code, e.title, e.details) for e in event.errors] == [(131053, "ERROR_TITLE", None)]
    assert event.pricing is None and event.conversation is None
    assert to_record(event)["error_codes"] == [131053]


def test_button_reply() -> None:
    event = _one("pywa_inbound_button_reply.json")
    assert isinstance(event, InboundMessage)
    assert (event.interactive_type, event.reply_id, event.reply_title) == (
        "button_reply",
        "callback_data",
        "title",
    )
    assert event.user_id == "US.13491208655302741918"
    assert event.contact_name == "Test Name"
    assert event.context_id == "wamid.xyzxyz"
    assert event.timestamp == _utc(1698266730)


def test_image_with_url() -> None:
    event = _one("pywa_inbound_image_with_url.json")
    assert isinstance(event, InboundMessage) and event.media is not None
    assert event.type == "image"
    assert (event.media.id, event.media.mime_type, event.media.sha256) == (
        "65463453",
        "image/jpeg",
        "4654+8g=",
    )
    assert event.media.url is not None and event.media.url.startswith("https://lookaside.fbsbx.com/")
    assert event.media.caption is None


def test_interactive_without_reply_plus_value_level_error() -> None:
    events = parse_webhook(_load("pywa_inbound_interactive_missing_reply_with_value_errors_131000.json"))
    assert [type(e) for e in events] == [InboundMessage, ErrorEvent]
    message, error = events
    assert isinstance(message, InboundMessage) and isinstance(error, ErrorEvent)
    assert message.type == "interactive"
    assert message.reply_id is None and message.interactive_type is None
    assert message.wamid == "wamid.wegrchytvwcggt="
    assert [(e.code, e.details) for e in error.errors] == [(131000, "Unsupported webhook payload")]
    assert error.phone_number_id == "1122334455667"


@pytest.mark.parametrize(
    ("name", "description"),
    [
        ("pywa_inbound_list_reply.json", None),
        ("pywa_inbound_list_reply_with_description.json", "description"),
    ],
)
def test_list_reply(name: str, description: str | None) -> None:
    event = _one(name)
    assert isinstance(event, InboundMessage)
    assert event.interactive_type == "list_reply"
    assert (event.reply_id, event.reply_title, event.reply_description) == (
        "callback_data",
        "title",
        description,
    )
    assert event.wamid == "wamid.zyzxyz"


def test_reaction_with_empty_emoji_is_a_removal() -> None:
    event = _one("pywa_inbound_reaction_empty_emoji_unreact.json")
    assert isinstance(event, InboundMessage)
    assert event.type == "reaction"
    assert event.reaction_message_id == "wamid.yzxyzx="
    assert event.reaction_emoji is None
    assert event.reaction_removed


def test_template_quick_reply() -> None:
    event = _one("pywa_inbound_template_quick_reply.json")
    assert isinstance(event, InboundMessage)
    assert (event.type, event.button_payload, event.button_text) == ("button", "callback_data", "title")
    assert event.context_id == "wamid.xyzxyz=="
    assert event.context_from == "972123456789"


def test_text_with_ctwa_referral() -> None:
    event = _one("pywa_inbound_text_referral_ctwa.json")
    assert isinstance(event, InboundMessage)
    assert event.text == "BODY"
    assert event.referral is not None
    assert event.referral["ctwa_clid"] == "CTWA_CLID"
    assert event.referral["source_id"] == "ADID"


def test_unsupported_messages() -> None:
    plain = _one("pywa_inbound_unsupported_131051.json")
    typed = _one("pywa_inbound_unsupported_with_type.json")
    assert isinstance(plain, InboundMessage) and isinstance(typed, InboundMessage)
    assert plain.type == typed.type == "unsupported"
    assert plain.unsupported_type is None
    assert typed.unsupported_type == "pool"
    assert plain.errors[0].details == "Message type is currently not supported."


def test_failed_status_with_href() -> None:
    event = _one("pywa_status_failed_130472_experiment.json")
    assert isinstance(event, StatusUpdate)
    assert event.status == "failed"
    assert event.recipient_id == "972987654321"
    assert event.recipient_user_id == "US.13491208655302741918"  # contact matched by wa_id
    error = event.errors[0]
    assert error.code == 130472
    assert error.href == "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
    assert error.details is not None and error.details.startswith("Failed to send message")


def test_group_read_status() -> None:
    event = _one("pywa_status_read_group_recipient.json")
    assert isinstance(event, StatusUpdate)
    assert event.status == "read"
    assert event.recipient_type == "group"
    assert event.recipient_id == "fowefinoewcnw"
    assert event.recipient_participant_user_id == "US.123456"
    # The only contact is the participant, not the group: no BSUID borrowed for the group.
    assert event.recipient_user_id is None


def test_sent_status_with_callback_data_pricing_and_conversation() -> None:
    event = _one("pywa_status_sent_with_biz_opaque_callback_data.json")
    assert isinstance(event, StatusUpdate)
    assert event.status == "sent"
    assert event.biz_opaque_callback_data == "some data"
    assert event.pricing is not None and event.conversation is not None
    assert (event.pricing.billable, event.pricing.pricing_model, event.pricing.category) == (
        True,
        "CBP",
        "service",
    )
    assert event.pricing.type is None
    assert event.conversation.id == "7270432eae37498234f4444b35ffc5"
    assert event.conversation.expiration == _utc(1698339900)
    assert event.conversation.origin_type == "service"


def test_identity_change_system_event() -> None:
    event = _one("pywa_system_identity_change.json")
    assert isinstance(event, SystemEvent)
    assert event.system_type == "customer_identity_changed"
    assert event.identity_hash == "xyzxyz"
    assert event.new_wa_id is None


def test_user_changed_number_system_event() -> None:
    event = _one("pywa_system_user_changed_number.json")
    assert isinstance(event, SystemEvent)
    assert event.system_type == "user_changed_number"
    assert (event.old_wa_id, event.new_wa_id) == ("972987654321", "972912345678")
    assert to_record(event)["kind"] == "system"


def test_template_rejected() -> None:
    event = _one("pywa_template_status_update_rejected.json")
    assert isinstance(event, TemplateStatusUpdate)
    assert (event.event, event.template_name, event.language) == ("REJECTED", "abandoned_cart", "en")
    assert event.template_id == "1689556908129835"  # a JSON number, kept as text
    assert (event.reason, event.category) == ("INVALID_FORMAT", "MARKETING")
    assert event.detail is not None and "{{1}}{{2}}" in event.detail
    assert event.timestamp == _utc(1751247548)  # from entry.time
    assert event.phone_number_id is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("pywa_user_preferences_marketing_resume.json", "resume"),
        ("pywa_user_preferences_marketing_signup.json", "signup"),
    ],
)
def test_user_preferences(name: str, value: str) -> None:
    event = _one(name)
    assert isinstance(event, UserPreferenceUpdate)
    assert (event.wa_id, event.category, event.value) == ("16505551234", "marketing_messages", value)
    assert event.timestamp == _utc(1731705721)
    # The payload's contact is a different wa_id: its BSUID must not be attached to this person.
    assert event.user_id is None


# --------------------------------------------------------------------------- odd payloads


def _envelope(value: Any, field: str = "messages") -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": field, "value": value}]}],
    }


def _msg(**fields: Any) -> dict[str, Any]:
    return _envelope({"metadata": {"phone_number_id": 123}, "messages": [fields]})


def test_bsuid_only_sender_without_phone() -> None:
    body = _envelope(
        {
            "metadata": {"phone_number_id": "99"},
            "contacts": [{"profile": {"username": "maria"}, "user_id": "BR.1502576394655843"}],
            "messages": [
                {
                    "from_user_id": "BR.1502576394655843",
                    "id": "wamid.A",
                    "timestamp": "1779372805",
                    "type": "text",
                    "text": {"body": "oi"},
                }
            ],
        }
    )
    [event] = parse_webhook(body)
    assert isinstance(event, InboundMessage)
    assert event.from_ is None
    assert event.user_id == "BR.1502576394655843"
    record = to_record(event)
    assert record["from"] is None and record["match_key"] is None


def test_brazilian_sender_gets_ninth_digit_proof_match_key() -> None:
    legacy = to_record(
        parse_webhook(_msg(**{"from": "554797192447", "type": "text", "text": {"body": "x"}}))[0]
    )
    modern = to_record(
        parse_webhook(_msg(**{"from": "5547997192447", "type": "text", "text": {"body": "x"}}))[0]
    )
    assert legacy["match_key"] == modern["match_key"] == "554797192447"


def test_numbers_as_strings_and_strings_as_numbers() -> None:
    [event] = parse_webhook(
        _msg(
            **{
                "from": 5511988887777,
                "id": "w",
                "timestamp": 1700000000.0,
                "type": "text",
                "text": {"body": "ok"},
            }
        )
    )
    assert isinstance(event, InboundMessage)
    assert event.from_ == "5511988887777"
    assert event.phone_number_id == "123"
    assert event.timestamp == _utc(1700000000)
    status_body = _envelope(
        {"statuses": [{"id": "w", "status": "DELIVERED", "timestamp": "x", "errors": [{"code": "131026"}]}]}
    )
    [status] = parse_webhook(status_body)
    assert isinstance(status, StatusUpdate)
    assert status.status == "delivered"
    assert status.timestamp is None
    assert status.errors[0].code == 131026


def test_nulls_and_wrong_types_everywhere_never_crash() -> None:
    bodies: list[dict[str, Any]] = [
        {"object": "whatsapp_business_account"},
        {"object": "whatsapp_business_account", "entry": None},
        {"object": "whatsapp_business_account", "entry": [None, 1, "x", {"changes": None}]},
        {"object": "whatsapp_business_account", "entry": [{"changes": [None, {"value": None}]}]},
        _envelope({"messages": None, "statuses": "nope", "errors": 5}),
        _msg(type=None, text=None, id=None, timestamp=None),
        _msg(type="image", image=None),
        _msg(type="interactive", interactive={"type": "button_reply", "button_reply": None}),
        _msg(type="location", location={"latitude": "nan", "longitude": "-23.5"}),
        _msg(type="reaction", reaction={"message_id": "w"}),
        _msg(type="contacts", contacts=[{"name": None, "phones": [{"phone": "+55 11 9", "wa_id": 5511}]}]),
        _msg(type="system", system=None),
        _msg(timestamp=10**400, type="text", text={"body": 10**400}),
        _envelope({"statuses": [{"pricing": [], "conversation": "x", "errors": [{"code": None}]}]}),
    ]
    for body in bodies:
        for event in parse_webhook(body):
            json.dumps(to_record(event), default=str)


def test_message_types_unknown_to_us_are_kept() -> None:
    [event] = parse_webhook(
        _msg(**{"from": "5511988887777", "id": "w", "type": "hologram", "hologram": {"x": 1}})
    )
    assert isinstance(event, InboundMessage)
    assert event.type == "hologram"


def test_other_fields_become_unknown_events() -> None:
    [event] = parse_webhook(_envelope({"event": "VERIFIED_ACCOUNT"}, field="account_update"))
    assert isinstance(event, UnknownEvent)
    assert event.field == "account_update"
    assert to_record(event)["kind"] == "unknown"


def test_messages_value_with_nothing_we_know_is_kept_as_unknown() -> None:
    [event] = parse_webhook(_envelope({"message_echoes": [{"id": "x"}]}))
    assert isinstance(event, UnknownEvent)


def test_media_location_contacts_and_reaction() -> None:
    doc = parse_webhook(
        _msg(
            type="document",
            document={
                "id": "9",
                "mime_type": "application/pdf",
                "sha256": "aa",
                "filename": "boleto.pdf",
                "caption": "segue",
            },
        )
    )[0]
    assert isinstance(doc, InboundMessage) and doc.media is not None
    assert (doc.media.filename, doc.media.caption) == ("boleto.pdf", "segue")
    voice = parse_webhook(_msg(type="audio", audio={"id": "8", "voice": True}))[0]
    assert isinstance(voice, InboundMessage) and voice.media is not None and voice.media.voice
    loc = parse_webhook(
        _msg(type="location", location={"latitude": -23.55, "longitude": "-46.63", "name": "Sé"})
    )[0]
    assert isinstance(loc, InboundMessage) and loc.location is not None
    assert (loc.location.latitude, loc.location.longitude, loc.location.name) == (-23.55, -46.63, "Sé")
    card = parse_webhook(
        _msg(
            type="contacts",
            contacts=[
                {
                    "name": {"formatted_name": "Ana"},
                    "phones": [{"phone": "+55 11 98888-7777", "wa_id": "5511988887777"}],
                }
            ],
        )
    )[0]
    assert isinstance(card, InboundMessage)
    assert card.contacts[0].formatted_name == "Ana"
    assert card.contacts[0].wa_ids == ("5511988887777",)
    heart = parse_webhook(_msg(type="reaction", reaction={"message_id": "w", "emoji": "❤️"}))[0]
    assert isinstance(heart, InboundMessage) and heart.reaction_emoji == "❤️" and not heart.reaction_removed
    absent = parse_webhook(_msg(type="reaction", reaction={"message_id": "w"}))[0]
    assert isinstance(absent, InboundMessage) and absent.reaction_removed


def test_huge_unicode_text_survives() -> None:
    text = "Olá, Ñandú 💸 " * 20_000
    [event] = parse_webhook(json.dumps(_msg(type="text", text={"body": text}), ensure_ascii=False).encode())
    assert isinstance(event, InboundMessage) and event.text == text


def test_user_changed_user_id_and_template_category() -> None:
    [system] = parse_webhook(
        _msg(
            type="system",
            system={"type": "user_changed_user_id", "user_id": "MX.2", "previous_user_id": "CO.1"},
        )
    )
    assert isinstance(system, SystemEvent)
    assert (system.previous_user_id, system.new_user_id) == ("CO.1", "MX.2")
    body = _envelope(
        {
            "message_template_id": 5,
            "message_template_name": "lembrete",
            "message_template_language": "pt_BR",
            "previous_category": "UTILITY",
            "new_category": "MARKETING",
        },
        field="template_category_update",
    )
    [category] = parse_webhook(body)
    assert isinstance(category, TemplateCategoryUpdate)
    assert (category.template_id, category.previous_category, category.new_category) == (
        "5",
        "UTILITY",
        "MARKETING",
    )
    assert to_record(category)["kind"] == "template_category"


def test_batch_with_statuses_and_messages_mixed_keeps_everything() -> None:
    body = _envelope(
        {
            "messages": [{"from": "5511988887777", "id": "in1", "type": "text", "text": {"body": "a"}}],
            "statuses": [
                {"id": "out1", "status": "read"},
                {"id": "out2", "status": "failed", "errors": [{"code": 131026}]},
            ],
        }
    )
    kinds = [e.kind for e in parse_webhook(body)]
    assert kinds == ["message", "status", "status"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'"x"',
        b'{"object": "page", "entry": []}',
        b"{}",
        b"[" * 100_000,
    ],
)
def test_non_webhooks_are_rejected(body: bytes) -> None:
    with pytest.raises(NotAWebhook):
        parse_webhook(body)


def test_utf8_bom_is_accepted() -> None:
    assert parse_webhook(b"\xef\xbb\xbf" + json.dumps(_msg(type="text")).encode())


# --------------------------------------------------------------------------- fuzz

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)
_keys = st.sampled_from(
    [
        "entry",
        "changes",
        "value",
        "field",
        "messages",
        "statuses",
        "errors",
        "contacts",
        "metadata",
        "type",
        "text",
        "interactive",
        "button",
        "image",
        "reaction",
        "system",
        "pricing",
        "conversation",
        "timestamp",
        "id",
        "from",
        "user_preferences",
        "location",
        "button_reply",
        "list_reply",
        "error_data",
        "code",
        "messages",
    ]
)
_shaped = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=6)
    | st.sampled_from(["text", "image", "system"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_keys, children, max_size=5),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entry=_shaped)
def test_fuzz_webhook_shaped_input_never_raises(entry: Any) -> None:
    body = {"object": "whatsapp_business_account", "entry": entry}
    for event in parse_webhook(body):
        json.dumps(to_record(event), default=str)


@settings(max_examples=200, deadline=None)
@given(data=_json)
def test_fuzz_arbitrary_json_only_raises_not_a_webhook(data: Any) -> None:
    with contextlib.suppress(NotAWebhook):
        parse_webhook(json.dumps(data).encode())

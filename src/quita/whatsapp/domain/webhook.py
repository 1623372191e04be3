"""Turn one raw webhook POST into a flat list of typed events, tolerating anything JSON can express.

Meta batches several ``entry`` (WABAs) × ``changes`` × ``messages``/``statuses``/``errors`` in one POST,
adds fields without notice and omits others. A parser that crashes on one odd item would drop the
whole batch (and Meta would keep retrying it for days), so every lookup here is defensive: wrong types
become ``None``, unknown things become :class:`UnknownEvent` or keep their raw ``type``. The only error
is :class:`NotAWebhook`, for bodies that are not a WhatsApp Business webhook at all.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from quita.whatsapp.domain.events import (
    Conversation,
    ErrorEvent,
    InboundMessage,
    Location,
    Media,
    Pricing,
    SharedContact,
    StatusUpdate,
    SystemEvent,
    TemplateCategoryUpdate,
    TemplateStatusUpdate,
    UnknownEvent,
    UserPreferenceUpdate,
    WebhookError,
    WebhookEvent,
)

WEBHOOK_OBJECT = "whatsapp_business_account"
MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z
_BIG = 10**300  # larger ints are nonsense here (and str() refuses > 4300 digits)


class NotAWebhook(ValueError):
    """The body is not a WhatsApp Business Account webhook (not JSON, not an object, wrong ``object``)."""


# --------------------------------------------------------------------------- defensive accessors


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: object) -> Iterator[Mapping[str, Any]]:
    """The dict items of a JSON array; a lone object is treated as a one-item array."""
    if isinstance(value, Mapping):
        yield value
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                yield item


def _str(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and abs(value) < _BIG:
        return str(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) < _BIG:
        return str(int(value))
    return None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit() and len(text) <= 20:
            return int(text)
    return None


def _float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and abs(value) >= _BIG:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _timestamp(value: object) -> datetime | None:
    """Epoch seconds as string or number (real traffic uses strings; some fixtures numbers)."""
    seconds = _float(value)
    if seconds is None or seconds < 0 or seconds > _MAX_EPOCH:
        return None
    return datetime.fromtimestamp(int(seconds), tz=UTC)


def _errors(value: object) -> tuple[WebhookError, ...]:
    errors = []
    for item in _items(value):
        error_data = _map(item.get("error_data"))
        errors.append(
            WebhookError(
                code=_int(item.get("code")),
                title=_str(item.get("title")),
                message=_str(item.get("message")),
                details=_str(error_data.get("details")) or _str(item.get("details")),
                href=_str(item.get("href")),
            )
        )
    return tuple(errors)


# --------------------------------------------------------------------------- entry point


def load_body(body: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        data: object = body
    else:
        try:
            text = body.decode("utf-8-sig") if isinstance(body, bytes | bytearray) else body
            data = json.loads(text)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise NotAWebhook(f"body is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise NotAWebhook("body is JSON but not an object")
    if data.get("object") != WEBHOOK_OBJECT:
        raise NotAWebhook(f"'object' is {data.get('object')!r}, expected {WEBHOOK_OBJECT!r}")
    return data


def parse_webhook(body: bytes | str | Mapping[str, Any]) -> list[WebhookEvent]:
    """Every event in the POST, in order: entry × changes × (messages | statuses | errors | other)."""
    data = load_body(body)
    events: list[WebhookEvent] = []
    for entry in _items(data.get("entry")):
        waba_id = _str(entry.get("id"))
        entry_time = _timestamp(entry.get("time"))
        for change in _items(entry.get("changes")):
            field = _str(change.get("field"))
            value = change.get("value")
            events.extend(_change(field, value, waba_id, entry_time))
    return events


def _change(
    field: str | None, raw_value: object, waba_id: str | None, entry_time: datetime | None
) -> list[Any]:
    value = _map(raw_value)
    metadata = _map(value.get("metadata"))
    common: dict[str, Any] = {
        "waba_id": waba_id,
        "phone_number_id": _str(metadata.get("phone_number_id")),
        "display_phone_number": _str(metadata.get("display_phone_number")),
    }
    if field == "message_template_status_update":
        return [_template_status(value, common, entry_time)]
    if field == "template_category_update":
        return [_template_category(value, common, entry_time)]
    contacts = list(_items(value.get("contacts")))
    events: list[Any] = []
    if field in ("messages", "user_preferences", None):
        events.extend(_message(m, contacts, common) for m in _items(value.get("messages")))
        events.extend(_status(s, contacts, common) for s in _items(value.get("statuses")))
        events.extend(_preference(p, contacts, common) for p in _items(value.get("user_preferences")))
        value_errors = _errors(value.get("errors"))
        if value_errors:
            events.append(ErrorEvent(**common, timestamp=entry_time, errors=value_errors))
    if not events:
        events.append(UnknownEvent(**common, timestamp=entry_time, field=field, value=raw_value))
    return events


# --------------------------------------------------------------------------- messages


def _contact_for(
    contacts: list[Mapping[str, Any]], wa_id: str | None, user_id: str | None, *, lone_fallback: bool = True
) -> Mapping[str, Any]:
    """The ``contacts[]`` item for this person; a lone item is assumed to be the sender of a message."""
    for contact in contacts:
        if wa_id is not None and _str(contact.get("wa_id")) == wa_id:
            return contact
        if user_id is not None and _str(contact.get("user_id")) == user_id:
            return contact
    return contacts[0] if lone_fallback and len(contacts) == 1 else {}


def _message(
    msg: Mapping[str, Any], contacts: list[Mapping[str, Any]], common: dict[str, Any]
) -> WebhookEvent:
    sender = _str(msg.get("from"))
    contact = _contact_for(contacts, sender, _str(msg.get("from_user_id")))
    user_id = _str(msg.get("from_user_id")) or _str(contact.get("user_id"))
    msg_type = _str(msg.get("type")) or "unknown"
    timestamp = _timestamp(msg.get("timestamp"))
    wamid = _str(msg.get("id"))
    if msg_type == "system":
        system = _map(msg.get("system"))
        return SystemEvent(
            **common,
            timestamp=timestamp,
            wamid=wamid,
            system_type=_str(system.get("type")),
            body=_str(system.get("body")),
            old_wa_id=sender,
            new_wa_id=_str(system.get("wa_id")) or _str(system.get("new_wa_id")),
            user_id=user_id,
            previous_user_id=_str(system.get("previous_user_id")),
            new_user_id=_str(system.get("user_id")),
            identity_hash=_str(_map(msg.get("identity")).get("hash")),
        )
    fields: dict[str, Any] = {}
    body = _map(msg.get(msg_type))
    if msg_type == "text":
        fields["text"] = _str(body.get("body"))
    elif msg_type == "button":
        fields["button_payload"] = _str(body.get("payload"))
        fields["button_text"] = _str(body.get("text"))
    elif msg_type == "interactive":
        fields.update(_interactive(body))
    elif msg_type in MEDIA_TYPES:
        fields["media"] = Media(
            id=_str(body.get("id")),
            mime_type=_str(body.get("mime_type")),
            sha256=_str(body.get("sha256")),
            caption=_str(body.get("caption")),
            filename=_str(body.get("filename")),
            url=_str(body.get("url")),
            voice=_bool(body.get("voice")) or False,
            animated=_bool(body.get("animated")) or False,
        )
    elif msg_type == "reaction":
        fields["reaction_message_id"] = _str(body.get("message_id"))
        fields["reaction_emoji"] = _str(body.get("emoji")) or None
    elif msg_type == "location":
        fields["location"] = Location(
            latitude=_float(body.get("latitude")),
            longitude=_float(body.get("longitude")),
            name=_str(body.get("name")),
            address=_str(body.get("address")),
            url=_str(body.get("url")),
        )
    elif msg_type == "contacts":
        fields["contacts"] = tuple(_shared_contact(c) for c in _items(msg.get("contacts")))
    elif msg_type in ("unsupported", "unknown"):
        fields["unsupported_type"] = _str(body.get("type"))
    context = _map(msg.get("context"))
    referral = {
        k: v for k, v in _map(msg.get("referral")).items() if isinstance(k, str) and isinstance(v, str)
    }
    return InboundMessage(
        **common,
        timestamp=timestamp,
        wamid=wamid,
        from_=sender,
        user_id=user_id,
        contact_name=_str(_map(contact.get("profile")).get("name")),
        contact_wa_id=_str(contact.get("wa_id")),
        type=msg_type,
        context_id=_str(context.get("id")),
        context_from=_str(context.get("from")),
        forwarded=bool(_bool(context.get("forwarded")) or _bool(context.get("frequently_forwarded"))),
        referral=referral or None,
        errors=_errors(msg.get("errors")),
        **fields,
    )


def _interactive(body: Mapping[str, Any]) -> dict[str, Any]:
    kind = _str(body.get("type"))
    reply = _map(body.get(kind)) if kind else {}
    fields: dict[str, Any] = {"interactive_type": kind}
    if kind == "nfm_reply":  # WhatsApp Flows answer
        fields["flow_response_json"] = _str(reply.get("response_json"))
        fields["reply_title"] = _str(reply.get("name"))
        fields["text"] = _str(reply.get("body"))
    else:
        fields["reply_id"] = _str(reply.get("id"))
        fields["reply_title"] = _str(reply.get("title"))
        fields["reply_description"] = _str(reply.get("description"))
    return fields


def _shared_contact(card: Mapping[str, Any]) -> SharedContact:
    phones = [_map(p) for p in _items(card.get("phones"))]
    return SharedContact(
        formatted_name=_str(_map(card.get("name")).get("formatted_name")),
        phones=tuple(p for p in (_str(p.get("phone")) for p in phones) if p),
        wa_ids=tuple(w for w in (_str(p.get("wa_id")) for p in phones) if w),
    )


# --------------------------------------------------------------------------- statuses and others


def _status(
    status: Mapping[str, Any], contacts: list[Mapping[str, Any]], common: dict[str, Any]
) -> StatusUpdate:
    recipient = _str(status.get("recipient_id"))
    contact = _contact_for(contacts, recipient, _str(status.get("recipient_user_id")), lone_fallback=False)
    pricing = status.get("pricing")
    conversation = status.get("conversation")
    raw_status = _str(status.get("status"))
    return StatusUpdate(
        **common,
        timestamp=_timestamp(status.get("timestamp")),
        wamid=_str(status.get("id")),
        status=raw_status.lower() if raw_status else None,
        recipient_id=recipient,
        recipient_user_id=_str(status.get("recipient_user_id")) or _str(contact.get("user_id")),
        recipient_type=_str(status.get("recipient_type")),
        recipient_participant_id=_str(status.get("recipient_participant_id")),
        recipient_participant_user_id=_str(status.get("recipient_participant_user_id")),
        biz_opaque_callback_data=_str(status.get("biz_opaque_callback_data")),
        errors=_errors(status.get("errors")),
        pricing=_pricing(_map(pricing)) if isinstance(pricing, Mapping) else None,
        conversation=_conversation(_map(conversation)) if isinstance(conversation, Mapping) else None,
    )


def _pricing(pricing: Mapping[str, Any]) -> Pricing:
    return Pricing(
        billable=_bool(pricing.get("billable")),
        pricing_model=_str(pricing.get("pricing_model")),
        type=_str(pricing.get("type")) or _str(pricing.get("pricing_type")),
        category=_str(pricing.get("category")),
    )


def _conversation(conversation: Mapping[str, Any]) -> Conversation:
    return Conversation(
        id=_str(conversation.get("id")),
        expiration=_timestamp(conversation.get("expiration_timestamp")),
        origin_type=_str(_map(conversation.get("origin")).get("type")),
    )


def _preference(
    pref: Mapping[str, Any], contacts: list[Mapping[str, Any]], common: dict[str, Any]
) -> UserPreferenceUpdate:
    wa_id = _str(pref.get("wa_id"))
    contact = _contact_for(contacts, wa_id, _str(pref.get("user_id")), lone_fallback=wa_id is None)
    return UserPreferenceUpdate(
        **common,
        timestamp=_timestamp(pref.get("timestamp")),
        wa_id=wa_id,
        user_id=_str(pref.get("user_id")) or _str(contact.get("user_id")),
        category=_str(pref.get("category")),
        value=_str(pref.get("value")),
        detail=_str(pref.get("detail")),
    )


def _template_status(
    value: Mapping[str, Any], common: dict[str, Any], at: datetime | None
) -> TemplateStatusUpdate:
    rejection = _map(value.get("rejection_info"))
    other = _map(value.get("other_info"))
    return TemplateStatusUpdate(
        **common,
        timestamp=at,
        event=_str(value.get("event")),
        template_id=_str(value.get("message_template_id")),
        template_name=_str(value.get("message_template_name")),
        language=_str(value.get("message_template_language")),
        category=_str(value.get("message_template_category")),
        reason=_str(value.get("reason")),
        detail=_str(rejection.get("reason")) or _str(other.get("description")),
    )


def _template_category(
    value: Mapping[str, Any], common: dict[str, Any], at: datetime | None
) -> TemplateCategoryUpdate:
    return TemplateCategoryUpdate(
        **common,
        timestamp=at,
        template_id=_str(value.get("message_template_id")),
        template_name=_str(value.get("message_template_name")),
        language=_str(value.get("message_template_language")),
        previous_category=_str(value.get("previous_category")),
        new_category=_str(value.get("new_category")),
        correct_category=_str(value.get("correct_category")),
        category_update_at=_timestamp(value.get("category_update_timestamp")),
    )

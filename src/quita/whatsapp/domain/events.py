"""Normalised webhook events: one typed record per thing that happened, whatever batch it came in.

Every field Meta may omit is optional here: real traffic drops ``pricing``, ``contacts`` and, since the
2026 usernames change, even the phone number (only the BSUID ``user_id`` is left). ``to_record`` flattens
any event into the stable JSON shape printed by ``quita wa parse-webhook``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from quita.br.phones import InvalidPhone, match_key


@dataclass(frozen=True, slots=True)
class WebhookError:
    code: int | None
    title: str | None = None
    message: str | None = None
    details: str | None = None
    href: str | None = None


@dataclass(frozen=True, slots=True)
class Media:
    id: str | None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    url: str | None = None  # newer webhooks include it; it expires, download at once
    voice: bool = False
    animated: bool = False


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float | None
    longitude: float | None
    name: str | None = None
    address: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class SharedContact:
    formatted_name: str | None
    phones: tuple[str, ...] = ()
    wa_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Pricing:
    billable: bool | None
    pricing_model: str | None = None
    type: str | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str | None
    expiration: datetime | None = None
    origin_type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Event:
    kind: ClassVar[str]
    waba_id: str | None = None
    phone_number_id: str | None = None
    display_phone_number: str | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundMessage(_Event):
    kind: ClassVar[str] = "message"
    wamid: str | None = None
    from_: str | None = None  # phone / wa_id; may be absent for username-only users
    user_id: str | None = None  # BSUID (from_user_id or contacts[].user_id)
    contact_name: str | None = None
    contact_wa_id: str | None = None
    type: str = "unknown"
    text: str | None = None
    button_payload: str | None = None  # template quick reply
    button_text: str | None = None
    interactive_type: str | None = None  # button_reply | list_reply | nfm_reply | …
    reply_id: str | None = None
    reply_title: str | None = None
    reply_description: str | None = None
    flow_response_json: str | None = None
    context_id: str | None = None  # wamid of the message this one answers
    context_from: str | None = None
    forwarded: bool = False
    media: Media | None = None
    reaction_message_id: str | None = None
    reaction_emoji: str | None = None  # None when the reaction was removed
    location: Location | None = None
    contacts: tuple[SharedContact, ...] = ()
    unsupported_type: str | None = None
    referral: Mapping[str, str] | None = None  # Click-to-WhatsApp ad data (ctwa_clid…)
    errors: tuple[WebhookError, ...] = ()

    @property
    def reaction_removed(self) -> bool:
        return self.type == "reaction" and not self.reaction_emoji


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemEvent(_Event):
    kind: ClassVar[str] = "system"
    wamid: str | None = None
    system_type: str | None = None  # user_changed_number | user_changed_user_id | customer_identity_changed
    body: str | None = None
    old_wa_id: str | None = None  # the message's ``from``
    new_wa_id: str | None = None
    user_id: str | None = None
    previous_user_id: str | None = None
    new_user_id: str | None = None
    identity_hash: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusUpdate(_Event):
    kind: ClassVar[str] = "status"
    wamid: str | None = None
    status: str | None = None
    recipient_id: str | None = None
    recipient_user_id: str | None = None
    recipient_type: str | None = None
    recipient_participant_id: str | None = None
    recipient_participant_user_id: str | None = None
    biz_opaque_callback_data: str | None = None
    errors: tuple[WebhookError, ...] = ()
    pricing: Pricing | None = None
    conversation: Conversation | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorEvent(_Event):
    """Value-level ``errors[]``: Meta could not deliver or represent something to us."""

    kind: ClassVar[str] = "error"
    errors: tuple[WebhookError, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateStatusUpdate(_Event):
    kind: ClassVar[str] = "template_status"
    event: str | None = None  # APPROVED | REJECTED | PAUSED | DISABLED | …
    template_id: str | None = None
    template_name: str | None = None
    language: str | None = None
    category: str | None = None
    reason: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateCategoryUpdate(_Event):
    kind: ClassVar[str] = "template_category"
    template_id: str | None = None
    template_name: str | None = None
    language: str | None = None
    previous_category: str | None = None
    new_category: str | None = None
    correct_category: str | None = None  # impending change announced before it happens
    category_update_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserPreferenceUpdate(_Event):
    kind: ClassVar[str] = "user_preferences"
    wa_id: str | None = None
    user_id: str | None = None
    category: str | None = None  # marketing_messages
    value: str | None = None  # stop | resume | signup
    detail: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownEvent(_Event):
    """A change we do not model (account_update, quality updates, future fields); kept, not dropped."""

    kind: ClassVar[str] = "unknown"
    field: str | None = None
    value: Any = None


WebhookEvent = (
    InboundMessage
    | SystemEvent
    | StatusUpdate
    | ErrorEvent
    | TemplateStatusUpdate
    | TemplateCategoryUpdate
    | UserPreferenceUpdate
    | UnknownEvent
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def phone_match_key(number: str | None) -> str | None:
    """The Brazilian ninth-digit-proof key for a wa_id (``None`` for foreign numbers and BSUIDs)."""
    if number is None or not number.startswith("55"):
        return None
    try:
        return match_key(number)
    except InvalidPhone:
        return None


def _error_dicts(errors: tuple[WebhookError, ...]) -> list[dict[str, Any]]:
    return [
        {"code": e.code, "title": e.title, "message": e.message, "details": e.details, "href": e.href}
        for e in errors
    ]


def to_record(event: WebhookEvent) -> dict[str, Any]:
    """Flat JSON-safe dict: the same keys for every kind (None where not applicable), then extras."""
    errors: tuple[WebhookError, ...] = getattr(event, "errors", ())
    record: dict[str, Any] = {
        "kind": event.kind,
        "waba_id": event.waba_id,
        "phone_number_id": event.phone_number_id,
        "wamid": getattr(event, "wamid", None),
        "from": None,
        "recipient_id": None,
        "user_id": getattr(event, "user_id", None),
        "type": None,
        "text": None,
        "button_payload": None,
        "reply_id": None,
        "reply_title": None,
        "status": None,
        "error_codes": [e.code for e in errors if e.code is not None],
        "biz_opaque_callback_data": None,
        "timestamp": _iso(event.timestamp),
        "match_key": None,
    }
    match event:
        case InboundMessage():
            record.update(
                {
                    "from": event.from_,
                    "type": event.type,
                    "text": event.text,
                    "button_payload": event.button_payload,
                    "reply_id": event.reply_id,
                    "reply_title": event.reply_title if event.reply_title is not None else event.button_text,
                    "contact_name": event.contact_name,
                    "context_id": event.context_id,
                    "interactive_type": event.interactive_type,
                    "reply_description": event.reply_description,
                    "media": _media(event.media),
                    "reaction_message_id": event.reaction_message_id,
                    "reaction_emoji": event.reaction_emoji,
                    "reaction_removed": event.reaction_removed if event.type == "reaction" else None,
                    "location": _location(event.location),
                    "contacts": [
                        {
                            "formatted_name": c.formatted_name,
                            "phones": list(c.phones),
                            "wa_ids": list(c.wa_ids),
                        }
                        for c in event.contacts
                    ],
                    "unsupported_type": event.unsupported_type,
                    "referral": dict(event.referral) if event.referral is not None else None,
                    "errors": _error_dicts(event.errors),
                }
            )
        case SystemEvent():
            record.update(
                {
                    "from": event.old_wa_id,
                    "type": event.system_type,
                    "text": event.body,
                    "old_wa_id": event.old_wa_id,
                    "new_wa_id": event.new_wa_id,
                    "previous_user_id": event.previous_user_id,
                    "new_user_id": event.new_user_id,
                }
            )
        case StatusUpdate():
            record.update(
                {
                    "recipient_id": event.recipient_id,
                    "user_id": event.recipient_user_id,
                    "status": event.status,
                    "biz_opaque_callback_data": event.biz_opaque_callback_data,
                    "recipient_type": event.recipient_type,
                    "recipient_participant_id": event.recipient_participant_id,
                    "recipient_participant_user_id": event.recipient_participant_user_id,
                    "pricing": None
                    if event.pricing is None
                    else {
                        "billable": event.pricing.billable,
                        "pricing_model": event.pricing.pricing_model,
                        "type": event.pricing.type,
                        "category": event.pricing.category,
                    },
                    "conversation": None
                    if event.conversation is None
                    else {
                        "id": event.conversation.id,
                        "expiration": _iso(event.conversation.expiration),
                        "origin_type": event.conversation.origin_type,
                    },
                    "errors": _error_dicts(event.errors),
                }
            )
        case ErrorEvent():
            record["errors"] = _error_dicts(event.errors)
        case TemplateStatusUpdate():
            record.update(
                {
                    "status": event.event,
                    "template_id": event.template_id,
                    "template_name": event.template_name,
                    "language": event.language,
                    "category": event.category,
                    "reason": event.reason,
                    "detail": event.detail,
                }
            )
        case TemplateCategoryUpdate():
            record.update(
                {
                    "template_id": event.template_id,
                    "template_name": event.template_name,
                    "language": event.language,
                    "previous_category": event.previous_category,
                    "new_category": event.new_category,
                    "correct_category": event.correct_category,
                    "category_update_at": _iso(event.category_update_at),
                }
            )
        case UserPreferenceUpdate():
            record.update(
                {
                    "from": event.wa_id,
                    "status": event.value,
                    "category": event.category,
                    "detail": event.detail,
                }
            )
        case UnknownEvent():
            record.update({"field": event.field, "value": event.value})
    record["match_key"] = phone_match_key(record["from"] or record["recipient_id"])
    return record


def _media(media: Media | None) -> dict[str, Any] | None:
    if media is None:
        return None
    return {
        "id": media.id,
        "mime_type": media.mime_type,
        "sha256": media.sha256,
        "caption": media.caption,
        "filename": media.filename,
        "url": media.url,
        "voice": media.voice,
        "animated": media.animated,
    }


def _location(location: Location | None) -> dict[str, Any] | None:
    if location is None:
        return None
    return {
        "latitude": location.latitude,
        "longitude": location.longitude,
        "name": location.name,
        "address": location.address,
        "url": location.url,
    }

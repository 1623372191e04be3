"""Webhook bodies exactly as Meta posts them (``object: whatsapp_business_account``), and their signature."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

SIGNATURE_HEADER = "X-Hub-Signature-256"


def sign(body: bytes, app_secret: str) -> str:
    """``X-Hub-Signature-256`` value: HMAC-SHA256 of the raw body keyed by the App Secret."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(body: bytes, app_secret: str, header: str | None) -> bool:
    return header is not None and hmac.compare_digest(sign(body, app_secret), header)


@dataclass(frozen=True)
class BusinessNumber:
    waba_id: str
    phone_number_id: str
    display_phone_number: str


def envelope(number: BusinessNumber, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": number.waba_id,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": number.display_phone_number,
                                "phone_number_id": number.phone_number_id,
                            },
                            **value,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def pricing(category: str, billable: bool) -> dict[str, Any]:
    """PMP pricing object (webhooks after 2025-07-01)."""
    return {
        "billable": billable,
        "pricing_model": "PMP",
        "type": "regular" if billable else "free_customer_service",
        "category": category,
    }


def price_of(template_category: str | None, in_window: bool) -> tuple[str, bool]:
    """(category, billable) of a delivered message: free-form is service; utility is free in the window."""
    if template_category is None:
        return "service", False
    category = template_category.lower()
    if category == "utility" and in_window:
        return category, False
    return category, True


def conversation(conversation_id: str, expires_at: int, category: str) -> dict[str, Any]:
    return {"id": conversation_id, "expiration_timestamp": str(expires_at), "origin": {"type": category}}


def new_conversation_id() -> str:
    return secrets.token_hex(16)


def status(
    wamid: str,
    state: str,
    timestamp: int,
    recipient_id: str,
    *,
    callback_data: str | None = None,
    price: dict[str, Any] | None = None,
    conv: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": wamid,
        "status": state,
        "timestamp": str(timestamp),
        "recipient_id": recipient_id,
    }
    if callback_data is not None:
        out["biz_opaque_callback_data"] = callback_data
    if conv is not None:
        out["conversation"] = conv
    if price is not None:
        out["pricing"] = price
    if errors:
        out["errors"] = errors
    return out


def business_scoped_user_id(wa_id: str, waba_id: str) -> str:
    """A stable BSUID (``user_id``, e.g. ``BR.1502576394655843``) for a user as seen by one business."""
    digest = hashlib.sha256(f"{waba_id}:{wa_id}".encode()).hexdigest()
    country = "BR" if wa_id.startswith("55") else "US"
    return f"{country}.{int(digest[:15], 16) % 10**16:016d}"


def contact(wa_id: str, name: str, user_id: str) -> dict[str, Any]:
    """Inbound ``contacts[]`` item; since 2026 Meta adds the business-scoped ``user_id`` next to ``wa_id``."""
    return {"profile": {"name": name}, "wa_id": wa_id, "user_id": user_id}


def inbound(
    wamid: str,
    wa_id: str,
    timestamp: int,
    kind: str,
    content: dict[str, Any],
    context: dict[str, str] | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {}
    if context:
        message["context"] = context
    message.update({"from": wa_id, "id": wamid, "timestamp": str(timestamp), "type": kind, kind: content})
    return message

"""Webhook bodies shaped like Meta's, for the receiver and processing tests."""

from __future__ import annotations

import json
from typing import Any

from quita.whatsapp.domain.signature import compute_signature

PHONE_ID = "100000000000001"
WABA_ID = "200000000000001"
SECRET = "test-app-secret"
VERIFY = "test-verify-token"


def envelope(value: dict[str, Any], *, field: str = "messages", phone_number_id: str = PHONE_ID,
             waba_id: str = WABA_ID) -> dict[str, Any]:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "5511999990000", "phone_number_id": phone_number_id}, **value}
    return {"object": "whatsapp_business_account",
            "entry": [{"id": waba_id, "changes": [{"field": field, "value": value}]}]}


def status(wamid: str, state: str, *, ts: int = 1_760_000_000, callback: str | None = None,
           recipient: str = "5511987654321", errors: list[dict[str, Any]] | None = None,
           phone_number_id: str = PHONE_ID) -> dict[str, Any]:
    item: dict[str, Any] = {"id": wamid, "status": state, "timestamp": str(ts), "recipient_id": recipient}
    if callback is not None:
        item["biz_opaque_callback_data"] = callback
    if errors:
        item["errors"] = errors
    if state in ("sent", "delivered"):
        item["pricing"] = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    return envelope({"statuses": [item]}, phone_number_id=phone_number_id)


def inbound_text(wamid: str, sender: str | None, text: str, *, user_id: str | None = None, ts: int = 1_760_000_100,
                 phone_number_id: str = PHONE_ID) -> dict[str, Any]:
    message: dict[str, Any] = {"id": wamid, "timestamp": str(ts), "type": "text", "text": {"body": text}}
    contact: dict[str, Any] = {"profile": {"name": "Maria"}}
    if sender is not None:
        message["from"] = sender
        contact["wa_id"] = sender
    if user_id is not None:
        message["from_user_id"] = user_id
        contact["user_id"] = user_id
    return envelope({"contacts": [contact], "messages": [message]}, phone_number_id=phone_number_id)


def button_reply(wamid: str, sender: str, payload: str, text: str, context: str) -> dict[str, Any]:
    message = {"id": wamid, "from": sender, "timestamp": "1760000200", "type": "button",
               "context": {"from": "5511999990000", "id": context},
               "button": {"payload": payload, "text": text}}
    return envelope({"contacts": [{"wa_id": sender, "profile": {"name": "Maria"}}], "messages": [message]})


def raw(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"X-Hub-Signature-256": compute_signature(body, secret), "Content-Type": "application/json"}

"""Request bodies shared by the simulator tests."""

from __future__ import annotations

from typing import Any

from simulator.conftest import PHONE_ID, SECRET, TOKEN, WABA_ID

__all__ = ["PHONE_ID", "SECRET", "TOKEN", "WABA_ID", "template_body", "text_body"]


def text_body(to: str, text: str, tracker: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"preview_url": False, "body": text},
    }
    if tracker is not None:
        body["biz_opaque_callback_data"] = tracker
    return body


def template_body(to: str, tracker: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {
            "name": "lembrete_vencimento",
            "language": {"policy": "deterministic", "code": "pt_BR"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Maria"},
                        {
                            "type": "currency",
                            "currency": {"fallback_value": "R$ 150,00", "code": "BRL", "amount_1000": 150000},
                        },
                        {"type": "date_time", "date_time": {"fallback_value": "10/09/2026"}},
                    ],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "1",
                    "parameters": [{"type": "payload", "payload": "NEGOCIAR"}],
                },
            ],
        },
    }
    if tracker is not None:
        body["biz_opaque_callback_data"] = tracker
    return body


def wait_stats(control: Any, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
    """Polls ``/_sim/stats`` until ``predicate(stats)`` holds (webhook outcomes are counted asynchronously)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        stats: dict[str, Any] = control.get("/stats").json()
        if predicate(stats):
            return stats
        if time.monotonic() > deadline:
            raise AssertionError(f"stats condition not met: {stats}")
        time.sleep(0.02)

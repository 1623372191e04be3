from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from quita.simulator.whatsapp.domain import errors, payloads

CONFORMANCE = Path(__file__).resolve().parents[4] / ".." / "shared" / "conformance" / "whatsapp"


def test_signature_is_hmac_sha256_of_raw_body() -> None:
    body = '{"a":"ção"}'.encode()
    expected = "sha256=" + hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert payloads.sign(body, "secret") == expected
    assert payloads.signature_matches(body, "secret", expected)
    assert not payloads.signature_matches(body + b" ", "secret", expected)
    assert not payloads.signature_matches(body, "secret", None)


def test_price_of() -> None:
    assert payloads.price_of(None, True) == ("service", False)
    assert payloads.price_of("UTILITY", True) == ("utility", False)
    assert payloads.price_of("UTILITY", False) == ("utility", True)
    assert payloads.price_of("MARKETING", True) == ("marketing", True)


def _keys(obj: object) -> set[str]:
    """Every key path in a JSON document (list indices collapsed)."""
    out: set[str] = set()

    def walk(node: object, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                out.add(f"{prefix}.{key}")
                walk(value, f"{prefix}.{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, f"{prefix}[]")

    walk(obj, "")
    return out


def test_status_and_inbound_shapes_match_real_samples() -> None:
    if not CONFORMANCE.exists():
        pytest.skip("conformance samples not available")
    number = payloads.BusinessNumber("5467539754836534", "1122334455667", "972123456789")
    sent = payloads.envelope(
        number,
        {
            "contacts": [payloads.contact("972987654321", "Test Name", "US.1")],
            "statuses": [
                payloads.status(
                    "wamid.x",
                    "sent",
                    1,
                    "972987654321",
                    callback_data="d",
                    price=payloads.pricing("service", True),
                    conv=payloads.conversation("c", 2, "service"),
                )
            ],
        },
    )
    sample = json.loads((CONFORMANCE / "pywa_status_sent_with_biz_opaque_callback_data.json").read_text())
    assert _keys(sample) - {".entry[].changes[].value.contacts[].parent_user_id"} <= _keys(sent)
    failed = payloads.envelope(
        number,
        {
            "statuses": [
                payloads.status("wamid.x", "failed", 1, "972987654321", errors=[errors.status_error(131026)])
            ]
        },
    )
    sample = json.loads((CONFORMANCE / "pywa_status_failed_130472_experiment.json").read_text())
    missing = _keys(sample) - _keys(failed)
    assert missing <= {
        ".entry[].changes[].value.contacts",
        ".entry[].changes[].value.contacts[].profile",
        ".entry[].changes[].value.contacts[].profile.name",
        ".entry[].changes[].value.contacts[].wa_id",
        ".entry[].changes[].value.contacts[].user_id",
        ".entry[].changes[].value.contacts[].parent_user_id",
        ".entry[].changes[].value.statuses[].errors[].href",
    }
    button = payloads.envelope(
        number,
        {
            "contacts": [payloads.contact("972987654321", "Test Name", "US.1")],
            "messages": [
                payloads.inbound(
                    "wamid.y",
                    "972987654321",
                    1,
                    "button",
                    {"payload": "p", "text": "t"},
                    {"from": "972123456789", "id": "wamid.x"},
                )
            ],
        },
    )
    sample = json.loads((CONFORMANCE / "pywa_inbound_template_quick_reply.json").read_text())
    assert _keys(sample) - {".entry[].changes[].value.contacts[].parent_user_id"} <= _keys(button)

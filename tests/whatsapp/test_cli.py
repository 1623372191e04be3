from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quita.whatsapp.cli import wa_app
from quita.whatsapp.domain.signature import verify_signature

CONFORMANCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance" / "whatsapp"
REQUIRED = {
    "kind", "phone_number_id", "wamid", "from", "recipient_id", "user_id", "type", "text", "button_payload",
    "reply_id", "reply_title", "status", "error_codes", "biz_opaque_callback_data", "timestamp",
}  # fmt: skip
KINDS = {
    "message",
    "status",
    "error",
    "template_status",
    "template_category",
    "user_preferences",
    "system",
    "unknown",
}
runner = CliRunner()


def _lines(path: Path) -> list[dict[str, object]]:
    result = runner.invoke(wa_app, ["parse-webhook", str(path)])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_every_conformance_payload_prints_json_lines_with_the_common_keys() -> None:
    if not CONFORMANCE.exists():
        pytest.skip("conformance corpus not available")
    kinds: set[object] = set()
    for path in sorted(CONFORMANCE.glob("*.json")):
        records = _lines(path)
        assert records, path.name
        for record in records:
            assert record.keys() >= REQUIRED, path.name
            assert record["kind"] in KINDS
            assert isinstance(record["error_codes"], list)
            assert all(isinstance(code, int) for code in record["error_codes"])
            kinds.add(record["kind"])
    assert kinds == {"message", "status", "error", "template_status", "user_preferences", "system"}


def test_specific_records(tmp_path: Path) -> None:
    if not CONFORMANCE.exists():
        pytest.skip("conformance corpus not available")
    [status] = _lines(CONFORMANCE / "pywa_status_sent_with_biz_opaque_callback_data.json")
    assert (status["kind"], status["status"], status["biz_opaque_callback_data"]) == (
        "status",
        "sent",
        "some data",
    )
    assert status["recipient_id"] == "972987654321"
    assert status["timestamp"] == "2023-10-25T20:49:05Z"
    [failed] = _lines(CONFORMANCE / "netflie_status_failed_131053_minimal_errors.json")
    assert failed["error_codes"] == [131053]
    [reply] = _lines(CONFORMANCE / "pywa_inbound_button_reply.json")
    assert (reply["reply_id"], reply["reply_title"], reply["user_id"]) == (
        "callback_data",
        "title",
        "US.13491208655302741918",
    )


def test_odd_but_valid_body_with_unicode(tmp_path: Path) -> None:
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"field": "messages", "value": {"messages": [
            {"from": "5511988887777", "type": "text", "text": {"body": "Já paguei ✅"}, "timestamp": "1756000000"},
            {"type": None},
        ]}}]}],
    }  # fmt: skip
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    first, second = _lines(path)
    assert first["text"] == "Já paguei ✅"
    assert first["match_key"] == "551188887777"
    assert second["type"] == "unknown"


@pytest.mark.parametrize("content", [b"not json", b"[]", b'{"object": "page"}'])
def test_non_webhook_file_exits_2(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content)
    result = runner.invoke(wa_app, ["parse-webhook", str(path)])
    assert result.exit_code == 2
    assert "não é um webhook do WhatsApp Business" in result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(wa_app, ["parse-webhook", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "não foi possível ler" in result.stderr


def test_sign_and_classify(tmp_path: Path) -> None:
    path = tmp_path / "body.json"
    path.write_bytes(b'{"object":"whatsapp_business_account"}')
    signed = runner.invoke(wa_app, ["sign", str(path), "--app-secret", "s3cret"])
    assert signed.exit_code == 0
    verify_signature(path.read_bytes(), signed.stdout.strip(), "s3cret")
    classified = runner.invoke(wa_app, ["classify-error", "131056"])
    assert json.loads(classified.stdout) == {
        "code": 131056,
        "class": "retry_later",
        "retry_after": 6.0,
        "reason": "pair rate limit: too many messages to the same recipient",
    }

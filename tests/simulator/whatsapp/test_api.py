"""The Graph API surface over real HTTP: sends of each type, Meta's error envelope, limits, media, templates."""

from __future__ import annotations

import base64
import hashlib

import httpx
import pytest

from simulator.helpers import PHONE_ID, WABA_ID, template_body, text_body

pytestmark = pytest.mark.usefixtures("receiver")


def assert_meta_error(response: httpx.Response, code: int, http_status: int = 400) -> dict:
    assert response.status_code == http_status, response.text
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "code", "error_data", "fbtrace_id"}
    assert error["code"] == code
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert error["error_data"]["details"]
    return error


def test_text_send_answers_like_meta(graph: httpx.Client) -> None:
    response = graph.post(f"/{PHONE_ID}/messages", json=text_body("+55 11 98888-7777", "Olá"))
    assert response.status_code == 200
    data = response.json()
    assert data["messaging_product"] == "whatsapp"
    assert data["contacts"] == [{"input": "+55 11 98888-7777", "wa_id": "5511988887777"}]
    assert data["messages"][0]["id"].startswith("wamid.")
    assert "message_status" not in data["messages"][0]
    # The wamid embeds the counterpart's number, as Meta's does.
    assert b"5511988887777" in base64.b64decode(data["messages"][0]["id"].removeprefix("wamid."))


def test_legacy_twelve_digit_wa_id_for_ddd_31_and_above(graph: httpx.Client) -> None:
    response = graph.post(f"/{PHONE_ID}/messages", json=text_body("5547997192447", "Oi"))
    assert response.json()["contacts"] == [{"input": "5547997192447", "wa_id": "554797192447"}]
    # And a 12-digit input of a DDD 11 number is reported in its 13-digit form.
    response = graph.post(f"/{PHONE_ID}/messages", json=text_body("551188887777", "Oi"))
    assert response.json()["contacts"][0]["wa_id"] == "5511988887777"


def test_template_send_returns_message_status(graph: httpx.Client) -> None:
    response = graph.post(f"/{PHONE_ID}/messages", json=template_body("5511988887777"))
    assert response.status_code == 200, response.text
    assert response.json()["messages"][0]["message_status"] == "accepted"


@pytest.mark.parametrize(
    "payload",
    [
        {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Como deseja pagar?"},
                "footer": {"text": "Empresa X"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "pix", "title": "Pagar com Pix"}},
                        {"type": "reply", "reply": {"id": "parcelar", "title": "Parcelar"}},
                    ]
                },
            },
        },
        {
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Escolha um plano"},
                "action": {
                    "button": "Ver opções",
                    "sections": [
                        {
                            "title": "Parcelamento",
                            "rows": [{"id": "3x", "title": "3x sem juros", "description": "R$ 50,00/mês"}],
                        }
                    ],
                },
            },
        },
        {
            "type": "interactive",
            "interactive": {
                "type": "cta_url",
                "body": {"text": "Pague agora"},
                "action": {
                    "name": "cta_url",
                    "parameters": {"display_text": "Pagar", "url": "https://x.example/p"},
                },
            },
        },
        {
            "type": "document",
            "document": {"link": "https://cdn.example/boleto.pdf", "filename": "boleto.pdf"},
        },
        {"type": "image", "image": {"link": "https://cdn.example/qr.png", "caption": "QR Pix"}},
        {"type": "reaction", "reaction": {"message_id": "wamid.abc", "emoji": "👍"}},
    ],
    ids=["buttons", "list", "cta_url", "document", "image", "reaction"],
)
def test_each_free_form_type_is_accepted(graph: httpx.Client, control: httpx.Client, payload: dict) -> None:
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "5511977776666", **payload}
    response = graph.post(f"/{PHONE_ID}/messages", json=body)
    assert response.status_code == 200, response.text
    sent = control.get("/messages", params={"to": "5511977776666"}).json()["data"]
    assert [m["type"] for m in sent] == [payload["type"]]
    assert sent[0]["request"] == body
    assert sent[0]["id"] == response.json()["messages"][0]["id"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"to": None}, 100),
        ({"messaging_product": None}, 100),
        ({"type": "fax"}, 100),
        ({"text": {"body": "x" * 4097}}, 131009),
        ({"text": None}, 100),
        ({"to": "12"}, 131009),
        ({"biz_opaque_callback_data": "x" * 513}, 131009),
    ],
    ids=[
        "missing-to",
        "missing-product",
        "bad-type",
        "long-text",
        "missing-text",
        "bad-number",
        "long-tracker",
    ],
)
def test_invalid_sends_get_meta_errors(graph: httpx.Client, change: dict, code: int) -> None:
    body = {**text_body("5511988887777", "Olá"), **change}
    body = {k: v for k, v in body.items() if v is not None}
    assert_meta_error(graph.post(f"/{PHONE_ID}/messages", json=body), code)


def test_bad_interactive_limits(graph: httpx.Client) -> None:
    buttons = [{"type": "reply", "reply": {"id": str(i), "title": f"B{i}"}} for i in range(4)]
    body = {
        **text_body("5511988887777", ""),
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": "x"}, "action": {"buttons": buttons}},
    }
    del body["text"]
    assert_meta_error(graph.post(f"/{PHONE_ID}/messages", json=body), 131009)


def test_bad_token_is_190_and_unknown_number_is_100(base_url: str) -> None:
    response = httpx.post(
        f"{base_url}/v23.0/{PHONE_ID}/messages",
        json=text_body("5511988887777", "x"),
        headers={"Authorization": "Bearer wrong"},
    )
    assert_meta_error(response, 190, 401)
    assert_meta_error(httpx.get(f"{base_url}/v23.0/{PHONE_ID}"), 190, 401)
    response = httpx.post(
        f"{base_url}/v23.0/999/messages",
        json=text_body("5511988887777", "x"),
        headers={"Authorization": "Bearer test-token"},
    )
    assert assert_meta_error(response, 100)["type"] == "GraphMethodException"


def test_unknown_template_is_132001_and_param_mismatch_132000(
    graph: httpx.Client, control: httpx.Client
) -> None:
    body = template_body("5511988887777")
    body["template"]["language"]["code"] = "en_US"
    error = assert_meta_error(graph.post(f"/{PHONE_ID}/messages", json=body), 132001, 404)
    assert "does not exist in en_US" in error["error_data"]["details"]
    body = template_body("5511988887777")
    body["template"]["components"][0]["parameters"].pop()
    error = assert_meta_error(graph.post(f"/{PHONE_ID}/messages", json=body), 132000)
    assert (
        "number of localizable_params (2) does not match the expected number of params (3)"
        in (error["error_data"]["details"])
    )
    stats = control.get("/stats").json()
    assert stats["rejected_by_code"] == {"132001": 1, "132000": 1}
    assert stats["accepted"] == 0


def test_throughput_limit_130429(graph: httpx.Client, control: httpx.Client) -> None:
    control.post("/config", json={"throughput_mps": 3, "pair_burst": 100}).raise_for_status()
    codes = []
    for i in range(12):
        response = graph.post(f"/{PHONE_ID}/messages", json=text_body(f"55119777700{i:02d}", "x"))
        codes.append(response.json()["error"]["code"] if response.status_code != 200 else 200)
    assert 130429 in codes
    assert codes[:3] == [200, 200, 200]
    error = graph.post(f"/{PHONE_ID}/messages", json=text_body("5511977770099", "x")).json()["error"]
    assert error["error_data"]["details"] == "Cloud API message throughput has been reached."


def test_pair_rate_limit_131056_only_for_that_recipient(graph: httpx.Client, control: httpx.Client) -> None:
    control.post("/config", json={"pair_burst": 2, "pair_interval_s": 600}).raise_for_status()
    ok = [
        graph.post(f"/{PHONE_ID}/messages", json=text_body("5511988887777", "x")).status_code
        for _ in range(2)
    ]
    assert ok == [200, 200]
    assert_meta_error(graph.post(f"/{PHONE_ID}/messages", json=text_body("5511988887777", "x")), 131056)
    # The other form of the same number is the same WhatsApp user.
    assert_meta_error(graph.post(f"/{PHONE_ID}/messages", json=text_body("551188887777", "x")), 131056)
    assert graph.post(f"/{PHONE_ID}/messages", json=text_body("5511966665555", "x")).status_code == 200


def test_media_upload_info_and_download_with_token(graph: httpx.Client, base_url: str) -> None:
    pdf = b"%PDF-1.4 boleto"
    response = graph.post(
        f"/{PHONE_ID}/media",
        files={"file": ("boleto.pdf", pdf, "application/pdf")},
        data={"messaging_product": "whatsapp", "type": "application/pdf"},
    )
    assert response.status_code == 200, response.text
    media_id = response.json()["id"]
    info = graph.get(f"/{media_id}").json()
    assert info["mime_type"] == "application/pdf"
    assert info["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert info["file_size"] == len(pdf)
    assert httpx.get(info["url"]).status_code == 401
    download = httpx.get(info["url"], headers={"Authorization": "Bearer test-token"})
    assert download.content == pdf
    sent = graph.post(
        f"/{PHONE_ID}/messages",
        json={
            **text_body("5511988887777", ""),
            "type": "document",
            "document": {"id": media_id, "filename": "b.pdf"},
        },
    )
    assert sent.status_code == 200
    unknown = graph.post(
        f"/{PHONE_ID}/messages",
        json={**text_body("5511988887777", ""), "type": "document", "document": {"id": "404404"}},
    )
    assert_meta_error(unknown, 131009)


def test_media_upload_requires_messaging_product(graph: httpx.Client) -> None:
    response = graph.post(f"/{PHONE_ID}/media", files={"file": ("a.pdf", b"x", "application/pdf")})
    assert_meta_error(response, 100)


def test_templates_create_and_page_with_cursors(graph: httpx.Client) -> None:
    for i in range(3):
        created = graph.post(
            f"/{WABA_ID}/message_templates",
            json={
                "name": f"aviso_{i}",
                "language": "pt_BR",
                "category": "UTILITY",
                "components": [{"type": "BODY", "text": "Olá {{1}}"}],
            },
        )
        assert created.status_code == 200, created.text
        assert created.json()["status"] == "APPROVED"
    names: list[str] = []
    page = graph.get(f"/{WABA_ID}/message_templates", params={"limit": 2}).json()
    while True:
        names += [t["name"] for t in page["data"]]
        assert page["paging"]["cursors"]["after"]
        if "next" not in page["paging"]:
            break
        page = graph.get(page["paging"]["next"]).json()
    assert names == ["lembrete_vencimento", "boleto_disponivel", "aviso_0", "aviso_1", "aviso_2"]
    duplicate = graph.post(
        f"/{WABA_ID}/message_templates",
        json={
            "name": "aviso_0",
            "language": "pt_BR",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": "x"}],
        },
    )
    assert_meta_error(duplicate, 100)


def test_phone_number_info_reports_throughput_level(graph: httpx.Client, control: httpx.Client) -> None:
    info = graph.get(f"/{PHONE_ID}").json()
    assert info["throughput"] == {"level": "STANDARD"}
    assert info["id"] == PHONE_ID
    control.post("/config", json={"throughput_mps": 1000}).raise_for_status()
    assert graph.get(f"/{PHONE_ID}", params={"fields": "throughput"}).json() == {
        "throughput": {"level": "HIGH"},
        "id": PHONE_ID,
    }


def test_mark_as_read_with_typing_indicator(graph: httpx.Client, control: httpx.Client) -> None:
    inbound = control.post("/inbound", json={"from": "5511988887777", "type": "text", "text": "oi"}).json()
    response = graph.post(
        f"/{PHONE_ID}/messages",
        json={
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": inbound["id"],
            "typing_indicator": {"type": "text"},
        },
    )
    assert response.json() == {"success": True}
    chat = control.get("/conversation", params={"number": "5511988887777"}).json()
    assert chat["typing"] is True
    assert chat["messages"][0]["status"] == "read"
    unknown = graph.post(
        f"/{PHONE_ID}/messages",
        json={"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.nope"},
    )
    assert_meta_error(unknown, 100)


def test_faults_5xx_and_dropped_connection(graph: httpx.Client, control: httpx.Client) -> None:
    control.post("/config", json={"fault_5xx_rate": 1.0}).raise_for_status()
    response = graph.post(f"/{PHONE_ID}/messages", json=text_body("5511988887777", "x"))
    assert response.status_code in (500, 503)
    assert response.json()["error"]["code"] in (131000, 131016)
    control.post("/config", json={"fault_5xx_rate": 0.0, "fault_drop_rate": 1.0}).raise_for_status()
    with pytest.raises(httpx.RemoteProtocolError):
        graph.post(f"/{PHONE_ID}/messages", json=text_body("5511988887777", "x"))
    control.post(
        "/config", json={"fault_drop_rate": 0.0, "fault_timeout_rate": 1.0, "fault_timeout_s": 1}
    ).raise_for_status()
    with pytest.raises(httpx.ReadTimeout):
        graph.post(f"/{PHONE_ID}/messages", json=text_body("5511988887777", "x"), timeout=0.3)
    stats = control.get("/stats").json()
    assert stats["faults"] == {"5xx": 1, "drop": 1, "timeout": 1}
    # A timed-out send was nevertheless accepted: the double-send hazard clients must handle.
    assert stats["accepted"] == 1

"""Signed webhooks reach a receiver: status sequences, failures (131047, 131026), inbound, retries, dups."""

from __future__ import annotations

import httpx
import pytest

from quita.simulator.whatsapp.domain.payloads import sign
from simulator.conftest import Receiver
from simulator.helpers import PHONE_ID, SECRET, WABA_ID, template_body, text_body, wait_stats


def statuses_of(receiver: Receiver, wamid: str) -> list[dict]:
    return [s for s in receiver.statuses() if s["id"] == wamid]


def send(graph: httpx.Client, body: dict) -> str:
    response = graph.post(f"/{PHONE_ID}/messages", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["messages"][0]["id"])


def test_every_webhook_is_signed_with_the_app_secret(graph: httpx.Client, receiver: Receiver) -> None:
    wamid = send(graph, template_body("5511988887777", tracker="debt-1"))
    receiver.wait_for(lambda r: len(statuses_of(r, wamid)) == 3)
    for headers, body in receiver.posts:
        assert headers["x-hub-signature-256"] == sign(body, SECRET)
        assert headers["content-type"] == "application/json"
    body = receiver.bodies()[0]
    assert body["object"] == "whatsapp_business_account"
    assert body["entry"][0]["id"] == WABA_ID
    change = body["entry"][0]["changes"][0]
    assert change["field"] == "messages"
    assert change["value"]["metadata"]["phone_number_id"] == PHONE_ID


def test_template_goes_sent_delivered_read_with_tracker_and_pricing(
    graph: httpx.Client, receiver: Receiver
) -> None:
    wamid = send(graph, template_body("5547997192447", tracker="debt-7"))
    receiver.wait_for(lambda r: len(statuses_of(r, wamid)) == 3)
    statuses = statuses_of(receiver, wamid)
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    for status in statuses:
        assert status["recipient_id"] == "554797192447"  # the legacy wa_id form
        assert status["biz_opaque_callback_data"] == "debt-7"
        assert status["pricing"] == {
            "billable": True,
            "pricing_model": "PMP",
            "type": "regular",
            "category": "utility",
        }
        assert isinstance(status["timestamp"], str)
    assert statuses[0]["conversation"]["origin"] == {"type": "utility"}
    assert "conversation" not in statuses[2]


def test_free_form_outside_window_fails_131047_then_works_after_debtor_writes(
    graph: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    wamid = send(graph, text_body("5511988887777", "Olá"))
    receiver.wait_for(lambda r: len(statuses_of(r, wamid)) == 1)
    (failed,) = statuses_of(receiver, wamid)
    assert failed["status"] == "failed"
    assert failed["errors"][0]["code"] == 131047
    assert failed["errors"][0]["error_data"]["details"]
    assert "pricing" not in failed
    control.post("/inbound", json={"from": "5511988887777", "type": "text", "text": "oi"}).raise_for_status()
    wamid = send(graph, text_body("5511988887777", "Como posso ajudar?"))
    receiver.wait_for(lambda r: len(statuses_of(r, wamid)) == 3)
    assert statuses_of(receiver, wamid)[0]["pricing"]["type"] == "free_customer_service"
    assert control.get("/messages", params={"to": "5511988887777"}).json()["data"][0]["status"] == "failed"


def test_undeliverable_number_fails_131026(
    graph: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    control.post("/config", json={"undeliverable_numbers": ["+55 (21) 97777-0000"]}).raise_for_status()
    wamid = send(graph, template_body("5521977770000"))
    receiver.wait_for(lambda r: len(statuses_of(r, wamid)) == 1)
    assert statuses_of(receiver, wamid)[0]["errors"][0]["code"] == 131026
    assert control.get("/stats").json()["failed_by_code"] == {"131026": 1}


def test_inbound_button_tap_carries_context_and_payload(
    graph: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    wamid = send(graph, template_body("5531988887777"))
    control.post(
        "/inbound",
        json={
            "from": "5531988887777",
            "name": "Maria",
            "type": "button",
            "payload": "NEGOCIAR",
            "text": "Negociar",
            "context": wamid,
        },
    ).raise_for_status()
    receiver.wait_for(lambda r: len(r.messages()) == 1)
    body = next(b for b in receiver.bodies() if b["entry"][0]["changes"][0]["value"].get("messages"))
    value = body["entry"][0]["changes"][0]["value"]
    (contact,) = value["contacts"]
    assert contact["profile"] == {"name": "Maria"}
    assert contact["wa_id"] == "553188887777"
    assert contact["user_id"].startswith("BR.")
    (message,) = value["messages"]
    assert message["from"] == "553188887777"
    assert message["type"] == "button"
    assert message["button"] == {"payload": "NEGOCIAR", "text": "Negociar"}
    assert message["context"] == {"from": "5511999990000", "id": wamid}
    assert message["id"].startswith("wamid.")


@pytest.mark.parametrize(
    ("inbound", "expected"),
    [
        (
            {"type": "button_reply", "id": "pix", "title": "Pagar com Pix"},
            {"type": "button_reply", "button_reply": {"id": "pix", "title": "Pagar com Pix"}},
        ),
        (
            {"type": "list_reply", "id": "3x", "title": "3x sem juros", "description": "R$ 50,00/mês"},
            {
                "type": "list_reply",
                "list_reply": {"id": "3x", "title": "3x sem juros", "description": "R$ 50,00/mês"},
            },
        ),
    ],
)
def test_inbound_interactive_replies(
    control: httpx.Client, receiver: Receiver, inbound: dict, expected: dict
) -> None:
    control.post(
        "/inbound", json={"from": "5511988887777", "context": "wamid.X", **inbound}
    ).raise_for_status()
    receiver.wait_for(lambda r: len(r.messages()) == 1)
    (message,) = receiver.messages()
    assert message["type"] == "interactive"
    assert message["interactive"] == expected


def test_inbound_document_is_downloadable_through_graph(
    graph: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    control.post(
        "/inbound",
        json={
            "from": "5511988887777",
            "type": "document",
            "filename": "comprovante.pdf",
            "mime_type": "application/pdf",
            "data_base64": "JVBERi0xLjQ=",
            "caption": "paguei",
        },
    ).raise_for_status()
    receiver.wait_for(lambda r: len(r.messages()) == 1)
    document = receiver.messages()[0]["document"]
    assert document["filename"] == "comprovante.pdf"
    info = graph.get(f"/{document['id']}").json()
    assert graph.get(info["url"]).content == b"%PDF-1.4"


def test_failed_posts_are_retried_then_counted(control: httpx.Client, receiver: Receiver) -> None:
    control.post("/config", json={"status_webhooks": "off", "webhook_max_attempts": 3}).raise_for_status()
    receiver.answers.extend([500, 503])
    control.post("/inbound", json={"from": "5511988887777", "type": "text", "text": "oi"}).raise_for_status()
    receiver.wait_for(lambda r: len(r.messages()) == 1)
    webhooks = wait_stats(control, lambda s: s["webhooks"]["delivered"] == 1)["webhooks"]
    assert webhooks["retries"] == 2
    assert webhooks["attempts"] == 3
    receiver.answers.extend([500, 500, 500])
    control.post(
        "/inbound", json={"from": "5511988887777", "type": "text", "text": "de novo"}
    ).raise_for_status()
    webhooks = wait_stats(control, lambda s: s["webhooks"]["failed"] == 1)["webhooks"]
    assert webhooks["delivered"] == 1
    assert webhooks["attempts"] == 6
    assert len(receiver.messages()) == 1


def test_duplicates_and_out_of_order_when_configured(
    graph: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    control.post(
        "/config", json={"duplicate_rate": 1.0, "out_of_order_rate": 1.0, "read_rate": 0.0}
    ).raise_for_status()
    wamid = send(graph, template_body("5511988887777"))
    receiver.wait_for(lambda r: len(statuses_of(r, wamid)) == 4)
    states = [s["status"] for s in statuses_of(receiver, wamid)]
    assert states.index("delivered") < states.index("sent")
    assert sorted(states) == ["delivered", "delivered", "sent", "sent"]
    assert wait_stats(control, lambda s: s["webhooks"]["duplicates"] == 2)


def test_batched_and_sampled_status_webhooks(
    graph: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    control.post(
        "/config", json={"webhook_batch_size": 50, "read_rate": 0.0, "pair_burst": 50}
    ).raise_for_status()
    ids = [send(graph, template_body(f"551197777{i:04d}")) for i in range(10)]
    receiver.wait_for(lambda r: sum(1 for s in r.statuses() if s["id"] in ids) == 20)
    assert len(receiver.posts) < 20  # several statuses share one POST
    control.post("/reset").raise_for_status()
    receiver.clear()
    control.post("/config", json={"status_webhooks": "off"}).raise_for_status()
    wamid = send(graph, template_body("5511988887777"))
    control.post("/inbound", json={"from": "5511988887777", "type": "text", "text": "ok"}).raise_for_status()
    receiver.wait_for(lambda r: len(r.messages()) == 1)
    assert statuses_of(receiver, wamid) == []

"""The control API: stats (duplicates countable by tracker), sent messages per number, config, reset."""

from __future__ import annotations

import httpx

from simulator.conftest import Receiver
from simulator.helpers import PHONE_ID, template_body, text_body


def test_stats_count_sends_per_tracker_and_rejections(graph: httpx.Client, control: httpx.Client) -> None:
    control.post("/config", json={"pair_burst": 10}).raise_for_status()
    for tracker in ("debt-1", "debt-2", "debt-1"):
        assert (
            graph.post(f"/{PHONE_ID}/messages", json=template_body("5511988887777", tracker)).status_code
            == 200
        )
    graph.post(f"/{PHONE_ID}/messages", json={"messaging_product": "whatsapp", "type": "text"})
    stats = control.get("/stats").json()
    assert stats["accepted"] == 3
    assert stats["accepted_by_type"] == {"template": 3}
    assert stats["duplicate_sends"] == {"debt-1": 2}
    assert stats["distinct_callback_data"] == 2
    assert stats["rejected_by_code"] == {"100": 1}
    assert "sends_by_callback_data" not in stats
    full = control.get("/stats", params={"include": "callback_data"}).json()
    assert full["sends_by_callback_data"] == {"debt-1": 2, "debt-2": 1}


def test_messages_by_number_in_any_form_with_status_and_render(
    graph: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    wamid = graph.post(f"/{PHONE_ID}/messages", json=template_body("5547997192447", "t")).json()["messages"][
        0
    ]["id"]
    graph.post(f"/{PHONE_ID}/messages", json=template_body("5511911112222"))
    receiver.wait_for(
        lambda r: sum(1 for s in r.statuses() if s["id"] == wamid and s["status"] == "read") == 1
    )
    for form in ("5547997192447", "554797192447", "+55 47 9719-2447"):
        (message,) = control.get("/messages", params={"to": form}).json()["data"]
        assert message["id"] == wamid
    assert message["status"] == "read"
    assert [s["status"] for s in message["statuses"]] == ["sent", "delivered", "read"]
    assert message["wa_id"] == "554797192447"
    assert message["biz_opaque_callback_data"] == "t"
    assert message["rendered"]["body"] == (
        "Olá, Maria. Sua fatura de R$ 150,00 vence em 10/09/2026. Escolha abaixo como prefere pagar."
    )
    assert message["rendered"]["buttons"][1] == {
        "type": "quick_reply",
        "text": "Negociar",
        "payload": "NEGOCIAR",
    }
    assert message["rendered"]["buttons"][0]["payload"] == "Pagar com Pix"
    assert len(control.get("/messages").json()["data"]) == 2


def test_config_is_validated_and_reset_restores_launch_config(
    control: httpx.Client, graph: httpx.Client
) -> None:
    bad = control.post("/config", json={"throughput_mps": 5000})
    assert bad.status_code == 422
    assert control.post("/config", json={"no_such_option": 1}).status_code == 422
    assert control.post("/config", json={"throughput_mps": 500}).json()["throughput_mps"] == 500
    graph.post(f"/{PHONE_ID}/messages", json=text_body("5511988887777", "x"))
    control.post("/reset").raise_for_status()
    assert control.get("/config").json()["throughput_mps"] == 80
    assert control.get("/stats").json()["accepted"] == 0
    assert control.get("/messages").json()["data"] == []


def test_templates_from_config_render_named_params(control: httpx.Client, graph: httpx.Client) -> None:
    template = {
        "name": "acordo_fechado",
        "language": "pt_BR",
        "category": "UTILITY",
        "parameter_format": "NAMED",
        "components": [{"type": "BODY", "text": "{{nome}}, seu acordo de {{valor}} foi registrado."}],
    }
    control.post("/config", json={"templates": [template]}).raise_for_status()
    body = {
        "messaging_product": "whatsapp",
        "to": "5511988887777",
        "type": "template",
        "template": {
            "name": "acordo_fechado",
            "language": {"code": "pt_BR"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "parameter_name": "valor", "text": "R$ 90,00"},
                        {"type": "text", "parameter_name": "nome", "text": "João"},
                    ],
                }
            ],
        },
    }
    assert graph.post(f"/{PHONE_ID}/messages", json=body).status_code == 200
    (message,) = control.get("/messages", params={"to": "5511988887777"}).json()["data"]
    assert message["rendered"]["body"] == "João, seu acordo de R$ 90,00 foi registrado."
    assert control.post("/config", json={"templates": [{"name": "X"}]}).status_code == 422


def test_inbound_rejects_bad_input_clearly(control: httpx.Client) -> None:
    response = control.post("/inbound", json={"from": "5511988887777", "type": "text"})
    assert response.status_code == 400
    assert "text" in response.json()["detail"]
    assert (
        control.post("/inbound", json={"from": "5511988887777", "type": "fax", "text": "x"}).status_code
        == 422
    )


def test_seeded_faults_are_reproducible(control: httpx.Client, graph: httpx.Client) -> None:
    def run() -> list[int]:
        control.post("/reset").raise_for_status()
        control.post(
            "/config", json={"seed": 42, "fault_5xx_rate": 0.5, "pair_burst": 100}
        ).raise_for_status()
        return [
            graph.post(f"/{PHONE_ID}/messages", json=template_body("5511988887777")).status_code
            for _ in range(12)
        ]

    first = run()
    assert set(first) > {200}
    assert run() == first

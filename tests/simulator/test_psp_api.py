"""The fake PSP over HTTP: OAuth, cobv/cob, webhook registration, the pay control endpoint."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from quita.payments.domain.cnab_return import parse_cnab_return
from quita.payments.domain.pix import build_static
from tests.simulator.conftest import Receiver

TXID = "a" * 10 + "b" * 10 + "c" * 12


@pytest.fixture
def psp(sim_server: str, receiver: Receiver, tmp_path: Path) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim_server, timeout=10) as client:
        client.post("/_sim/psp/reset")
        client.post(
            "/_sim/psp/config",
            json={
                "pix_webhook_url": receiver.url,
                "pix_webhook_secret": "xyz",
                "cnab_dir": str(tmp_path),
                "client_id": "c",
                "client_secret": "s",
            },
        )
        yield client
        client.post("/_sim/psp/reset")
        client.post("/_sim/psp/config", json={"pix_webhook_url": None, "pix_webhook_secret": None})


def _token(psp: httpx.Client) -> dict[str, str]:
    basic = base64.b64encode(b"c:s").decode()
    response = psp.post(
        "/psp/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _cobv() -> dict[str, Any]:
    return {
        "calendario": {"dataDeVencimento": "2026-03-10"},
        "devedor": {"cpf": "52998224725", "nome": "Maria"},
        "valor": {"original": "15.90", "juros": {"modalidade": 3, "valorPerc": "1.00"}},
        "chave": "cobranca@acme.com.br",
    }


def test_oauth_client_credentials(psp: httpx.Client) -> None:
    assert psp.post("/psp/oauth/token", data={"grant_type": "password"}).status_code == 400
    assert (
        psp.post(
            "/psp/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "c", "client_secret": "errado"},
        ).status_code
        == 401
    )
    form = psp.post(
        "/psp/oauth/token", data={"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"}
    )
    assert form.status_code == 200 and form.json()["token_type"] == "Bearer"


def test_cobv_lifecycle_and_errors(psp: httpx.Client, receiver: Receiver) -> None:
    auth = _token(psp)
    assert psp.put(f"/psp/v2/cobv/{TXID}", json=_cobv()).status_code == 401
    assert psp.put("/psp/v2/cobv/curto", json=_cobv(), headers=auth).status_code == 400
    bad = psp.put(f"/psp/v2/cobv/{TXID}", json={**_cobv(), "devedor": {}}, headers=auth)
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
    created = psp.put(f"/psp/v2/cobv/{TXID}", json=_cobv(), headers=auth)
    assert created.status_code == 201 and created.json()["status"] == "ATIVA"
    assert psp.put(f"/psp/v2/cobv/{TXID}", json=_cobv(), headers=auth).status_code == 409
    assert psp.get(f"/psp/v2/cob/{TXID}", headers=auth).status_code == 404
    paid = psp.post("/_sim/psp/pay", json={"brcode": created.json()["pixCopiaECola"]}).json()
    assert paid["txid"] == TXID and paid["valor"] == "15.90" and paid["webhook"]["status"] == 200
    receiver.wait_for(lambda r: len(r.posts) == 1)
    headers, body = receiver.posts[0]
    assert headers["x-webhook-secret"] == "xyz"
    assert json.loads(body)["pix"][0]["endToEndId"] == paid["endToEndId"] and len(paid["endToEndId"]) == 32
    followed = psp.get(f"/psp/v2/cobv/{TXID}", headers=auth).json()
    assert followed["status"] == "CONCLUIDA" and len(followed["pix"]) == 1
    again = psp.post("/_sim/psp/pay", json={"txid": TXID})
    assert again.status_code == 409


def test_registered_webhook_wins_and_keeps_query(psp: httpx.Client, receiver: Receiver) -> None:
    auth = _token(psp)
    url = receiver.url + "?secret=abc"
    assert (
        psp.put("/psp/v2/webhook/cobranca@acme.com.br", json={"webhookUrl": url}, headers=auth).status_code
        == 200
    )
    code = build_static(
        key="cobranca@acme.com.br",
        merchant_name="ACME",
        merchant_city="SAO PAULO",
        amount=Decimal("10.00"),
        txid="abc123",
    )
    paid = psp.post("/_sim/psp/pay", json={"brcode": code}).json()
    assert paid["webhook"]["url"] == receiver.url + "/pix?secret=abc"
    assert paid["txid"] == "abc123" and paid["valor"] == "10.00"


def test_static_code_without_amount_needs_one(psp: httpx.Client) -> None:
    code = build_static(key="cobranca@acme.com.br", merchant_name="ACME", merchant_city="SAO PAULO")
    assert psp.post("/_sim/psp/pay", json={"brcode": code}).status_code == 400
    assert psp.post("/_sim/psp/pay", json={"brcode": "000201xyz"}).status_code == 400
    assert psp.post("/_sim/psp/pay", json={}).status_code == 400


def test_boleto_payment_writes_a_cnab_return(psp: httpx.Client) -> None:
    linha = "00190.00009 07777.777009 00087.654182 6 49000000295295"
    response = psp.post(
        "/_sim/psp/pay", json={"linha_digitavel": linha, "paid_on": "2011-03-08", "amount": "3000.00"}
    )
    assert response.status_code == 200
    written = Path(response.json()["file"])
    parsed = parse_cnab_return(written.read_bytes())
    (title,) = parsed.titles
    assert parsed.bank == "001" and title.is_settlement and title.nosso_numero == "77777770000087654"
    assert title.amount == Decimal("2952.95") and title.amount_paid == Decimal("3000.00")
    listed = psp.get("/_sim/psp/received").json()["return_files"]
    assert listed == [str(written)]
    assert psp.get(f"/_sim/psp/returns/{written.name}").content == written.read_bytes()
    assert psp.post("/_sim/psp/pay", json={"linha_digitavel": "123"}).status_code == 400

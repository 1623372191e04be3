"""API Pix client against the PSP simulator over real loopback HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from quita.payments.domain.matching import TxidError, new_txid
from quita.payments.domain.pix import parse_brcode
from quita.payments.pix_api import PixApiClient, PixApiError, PixApiSettings, cobv_body
from quita.simulator.app import create_app
from quita.simulator.psp.schemas import PspConfig
from tests.conftest import ServerThread


@pytest.fixture(scope="module")
def psp_url() -> Iterator[str]:
    with ServerThread(create_app(psp_config=PspConfig(client_id="quita", client_secret="s3cr3t"))) as server:
        yield f"{server.url}/psp"


def _client(url: str, secret: str = "s3cr3t") -> PixApiClient:
    return PixApiClient(PixApiSettings(base_url=url, client_id="quita", client_secret=secret))


def _body() -> dict[str, object]:
    return cobv_body(
        due_date=dt.date(2026, 3, 10),
        amount=Decimal("1038.00"),
        pix_key="cobranca@acme.com.br",
        debtor_name="Maria da Silva",
        debtor_document="52998224725",
        fine_percent=Decimal("2"),
        interest_percent_month=Decimal("1"),
        discount_until=(dt.date(2026, 3, 5), Decimal("10.00")),
        message="Título T1",
    )


def test_cobv_body_follows_the_api_schema() -> None:
    body = _body()
    assert body["calendario"] == {"dataDeVencimento": "2026-03-10", "validadeAposVencimento": 30}
    assert body["devedor"] == {"cpf": "52998224725", "nome": "Maria da Silva"}
    assert body["valor"] == {
        "original": "1038.00",
        "multa": {"modalidade": 2, "valorPerc": "2.00"},
        "juros": {"modalidade": 3, "valorPerc": "1.00"},
        "desconto": {"modalidade": 1, "descontoDataFixa": [{"data": "2026-03-05", "valorPerc": "10.00"}]},
    }


def test_put_and_get_cobv_with_cached_token(psp_url: str) -> None:
    txid = new_txid()
    with _client(psp_url) as client:
        created = client.put_cobv(txid, _body())
        assert created["status"] == "ATIVA" and created["txid"] == txid
        code = parse_brcode(created["pixCopiaECola"])
        assert code.is_dynamic and code.location_url and code.location_url in created["loc"]["location"]
        followed = client.get_cobv(txid)
        assert followed["valor"]["original"] == "1038.00" and followed["pix"] == []
        assert client.token_requests == 1


def test_bad_credentials_are_reported(psp_url: str) -> None:
    with _client(psp_url, secret="errado") as client, pytest.raises(PixApiError) as caught:
        client.put_cobv(new_txid(), _body())
    assert caught.value.status == 401


def test_problem_details_surface(psp_url: str) -> None:
    with _client(psp_url) as client:
        with pytest.raises(PixApiError) as missing:
            client.get_cobv(new_txid())
        assert missing.value.status == 404
        body = _body()
        del body["devedor"]
        with pytest.raises(PixApiError) as invalid:
            client.put_cobv(new_txid(), body)
        assert invalid.value.status == 400 and "devedor" in str(invalid.value)


def test_txid_rules_checked_before_any_request() -> None:
    client = PixApiClient(PixApiSettings(base_url="http://127.0.0.1:9", client_id="x", client_secret="y"))
    for bad in ("curto", "a" * 36, "com-hifen-" + "a" * 20):
        with pytest.raises(TxidError):
            client.get_cobv(bad)
    assert all(26 <= len(new_txid(n)) <= 35 for n in (26, 35))
    with pytest.raises(TxidError):
        new_txid(25)


def test_mtls_options_reach_httpx(tmp_path: object) -> None:
    settings = PixApiSettings(
        base_url="https://psp", client_id="x", client_secret="y", cert="c.pem", key="k.pem", ca="ca.pem"
    )
    assert settings.httpx_options()["cert"] == ("c.pem", "k.pem")
    assert settings.httpx_options()["verify"] == "ca.pem"

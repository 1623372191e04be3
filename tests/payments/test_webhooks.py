"""Pix webhook receiver over real HTTP: shared-secret auth, raw storage, idempotency by endToEndId."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from quita.config import Settings
from quita.kit.db import Database
from quita.payments.models import Charge, ChargeKind, ChargeStatus, Payment, PixWebhookDelivery
from quita.server.app import create_app
from tests.conftest import ServerThread
from tests.payments.builders import WEBHOOK_SECRET, issue, make_debt, pix_item, setup_tenant


@pytest.fixture
def quita(database: Database, tmp_path: Path) -> Iterator[str]:
    settings = Settings(database_url=database.url, data_dir=tmp_path)
    with ServerThread(create_app(settings, database)) as server:
        yield server.url


@pytest.fixture
def pix_charge(database: Database, tmp_path: Path) -> tuple[uuid.UUID, Charge]:
    tenant_id = setup_tenant(database)
    return tenant_id, issue(
        database, tenant_id, make_debt(database, tenant_id), ChargeKind.PIX, data_dir=tmp_path
    )


def _post(url: str, body: Any, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, json=body, timeout=10, **kwargs)


def _payments(database: Database) -> int:
    with database.transaction() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(Payment)) or 0)


def test_secret_required_and_checked(quita: str, database: Database, pix_charge: Any) -> None:
    _, charge = pix_charge
    body = {"pix": [pix_item(charge.txid, str(charge.amount))]}
    url = f"{quita}/webhooks/pix/acme/pix"
    assert _post(url, body).status_code == 401
    assert _post(url, body, headers={"X-Webhook-Secret": "errado"}).status_code == 401
    assert (
        _post(
            f"{quita}/webhooks/pix/nao-existe/pix", body, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
        ).status_code
        == 401
    )
    assert _payments(database) == 0
    with database.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(PixWebhookDelivery)) == 0


def test_payment_applied_once_and_acknowledged(quita: str, database: Database, pix_charge: Any) -> None:
    _, charge = pix_charge
    body = {"pix": [pix_item(charge.txid, str(charge.amount))]}
    headers = {"X-Webhook-Secret": WEBHOOK_SECRET}
    first = _post(f"{quita}/webhooks/pix/acme/pix", body, headers=headers)
    again = _post(f"{quita}/webhooks/pix/acme/pix", body, headers=headers)
    assert first.status_code == 200 and first.json() == {"received": 1, "new": 1, "duplicates": 0}
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    assert _payments(database) == 1
    with database.transaction() as session:
        stored = session.get_one(Charge, charge.id)
        assert stored.status == ChargeStatus.PAID and stored.amount_paid == charge.amount
        deliveries = session.scalars(sa.select(PixWebhookDelivery)).all()
    assert len(deliveries) == 2 and all(d.processed_at is not None for d in deliveries)


def test_secret_in_query_with_pix_appended(quita: str, database: Database, pix_charge: Any) -> None:
    """Some PSPs append /pix after the query string of the registered URL."""
    _, charge = pix_charge
    body = {"pix": [pix_item(charge.txid, str(charge.amount))]}
    response = _post(f"{quita}/webhooks/pix/acme?secret={WEBHOOK_SECRET}/pix", body)
    assert response.status_code == 200 and response.json()["new"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"pix": []},
        {"pix": [{"endToEndId": "curto", "valor": "1.00", "horario": "2026-03-02T10:00:00-03:00"}]},
        {"pix": [{"endToEndId": "E" + "1" * 31, "valor": "1,00", "horario": "2026-03-02T10:00:00-03:00"}]},
        {"pix": [{"endToEndId": "E" + "1" * 31, "valor": "1.00", "horario": "2026-03-02T10:00:00"}]},
        "not json",
    ],
)
def test_invalid_payload_is_stored_and_rejected(
    quita: str, database: Database, pix_charge: Any, body: Any
) -> None:
    headers = {"X-Webhook-Secret": WEBHOOK_SECRET}
    if isinstance(body, str):
        response = httpx.post(f"{quita}/webhooks/pix/acme/pix", content=body, headers=headers, timeout=10)
    else:
        response = _post(f"{quita}/webhooks/pix/acme/pix", body, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_payload"
    assert _payments(database) == 0
    with database.transaction() as session:
        (delivery,) = session.scalars(sa.select(PixWebhookDelivery)).all()
    assert delivery.error and delivery.processed_at is None

"""End to end over loopback HTTP: charge issued at the PSP simulator, debtor pays, the webhook (Pix) or
the CNAB return (boleto) reaches Quita, the debt is paid, audited and announced."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from quita.audit.models import AuditEvent
from quita.config import Settings
from quita.kit import events
from quita.kit.db import Database
from quita.payments import reconciliation
from quita.payments.models import Charge, ChargeKind, ChargeStatus, ReviewItem, ReviewKind
from quita.portfolio.models import Debt, DebtStatus
from quita.server.app import create_app as create_quita
from quita.simulator.app import create_app as create_simulator
from quita.simulator.psp.schemas import PspConfig
from tests.conftest import ServerThread
from tests.payments.builders import WEBHOOK_SECRET, issue, make_debt, setup_tenant


@pytest.fixture
def published() -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def handler(_session: Any, payload: dict[str, Any]) -> None:
        seen.append(payload)

    events.subscribe(events.DEBT_STATUS_CHANGED, handler)
    yield seen
    events._SUBSCRIBERS[events.DEBT_STATUS_CHANGED].remove(handler)


@pytest.fixture
def world(database: Database, tmp_path: Path) -> Iterator[tuple[str, str, uuid.UUID]]:
    with ServerThread(
        create_quita(Settings(database_url=database.url, data_dir=tmp_path), database)
    ) as quita:
        config = PspConfig(
            client_id="quita",
            client_secret="s3cr3t",
            pix_webhook_url=f"{quita.url}/webhooks/pix/acme",
            pix_webhook_secret=WEBHOOK_SECRET,
            cnab_dir=str(tmp_path / "retornos"),
        )
        with ServerThread(create_simulator(psp_config=config)) as simulator:
            tenant_id = setup_tenant(
                database,
                extra={
                    "psp_base_url": f"{simulator.url}/psp",
                    "psp_client_id": "quita",
                    "psp_client_secret": "s3cr3t",
                },
            )
            yield quita.url, simulator.url, tenant_id


def _state(
    database: Database, debt_id: uuid.UUID, charge_id: uuid.UUID
) -> tuple[DebtStatus, ChargeStatus, set[str]]:
    with database.transaction() as session:
        debt = session.get_one(Debt, debt_id)
        charge = session.get_one(Charge, charge_id)
        actions = set(session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_id == debt_id)))
    return debt.status, charge.status, actions


def test_pix_charge_paid_at_the_psp_settles_the_debt(
    database: Database, world: Any, tmp_path: Path, published: list[dict[str, Any]]
) -> None:
    _, simulator, tenant_id = world
    debt_id = make_debt(database, tenant_id)
    charge = issue(database, tenant_id, debt_id, ChargeKind.PIX, data_dir=tmp_path)
    assert charge.pix_location and charge.psp_status == "ATIVA" and len(charge.txid or "") == 32
    paid = httpx.post(f"{simulator}/_sim/psp/pay", json={"brcode": charge.brcode}, timeout=15).json()
    assert paid["txid"] == charge.txid and paid["valor"] == str(charge.amount)
    assert paid["webhook"]["status"] == 200
    status, charge_status, actions = _state(database, debt_id, charge.id)
    assert (status, charge_status) == (DebtStatus.PAID, ChargeStatus.PAID)
    assert "debt.status_changed" in actions
    assert [(p["debt_id"], p["new_status"]) for p in published] == [(debt_id, DebtStatus.PAID)]
    cobv = httpx.get(f"{simulator}/_sim/psp/charges", timeout=5).json()["data"][0]
    assert cobv["status"] == "CONCLUIDA" and cobv["pix"][0]["endToEndId"] == paid["endToEndId"]


def test_boleto_paid_at_the_bank_then_pix_of_the_same_slip(
    database: Database, world: Any, tmp_path: Path, published: list[dict[str, Any]]
) -> None:
    _, simulator, tenant_id = world
    debt_id = make_debt(database, tenant_id)
    charge = issue(database, tenant_id, debt_id, data_dir=tmp_path)
    paid = httpx.post(
        f"{simulator}/_sim/psp/pay", json={"linha_digitavel": charge.linha_digitavel}, timeout=15
    )
    content = Path(paid.json()["file"]).read_bytes()
    with database.transaction() as session:
        result = reconciliation.import_return(session, tenant_id, content, filename="sim.ret", actor="test")
    assert result.debts_paid == 1
    assert _state(database, debt_id, charge.id)[:2] == (DebtStatus.PAID, ChargeStatus.PAID)
    # The debtor also pays the Pix QR printed on the same (hybrid) slip: flagged, not credited again.
    again = httpx.post(f"{simulator}/_sim/psp/pay", json={"brcode": charge.brcode}, timeout=15).json()
    assert again["webhook"]["status"] == 200
    with database.transaction() as session:
        reviews = session.scalars(sa.select(ReviewItem.kind)).all()
        assert session.get_one(Charge, charge.id).amount_paid == charge.amount
    assert reviews == [ReviewKind.DOUBLE_PAYMENT]
    assert len(published) == 1

"""Charges for an agreement instalment: their own amount, the instalment id stored, settlement of the
instalment only (never the whole debt), credited towards the debt; SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from quita.kit import events
from quita.kit.db import Database
from quita.kit.errors import InvalidInput
from quita.payments import reconciliation, service
from quita.payments.models import ChargeKind, ChargeStatus, PaymentOutcome, ReviewKind
from quita.payments.schemas import PixItem
from quita.portfolio.models import Debt, DebtStatus
from tests.payments.builders import issue, make_debt, pix_item, return_file_for, setup_tenant


@pytest.fixture
def received() -> Any:
    seen: list[dict[str, Any]] = []

    def handler(_session: Any, payload: dict[str, Any]) -> None:
        seen.append(payload)

    events.subscribe(events.PAYMENT_RECEIVED, handler)
    yield seen
    events._SUBSCRIBERS[events.PAYMENT_RECEIVED].remove(handler)


def _debt_status(database: Database, debt_id: uuid.UUID) -> DebtStatus:
    with database.transaction() as session:
        return session.get_one(Debt, debt_id).status


def test_instalment_charge_has_its_own_amount_and_id(database: Database, tmp_path: Any) -> None:
    tenant_id = setup_tenant(database)
    debt_id = make_debt(database, tenant_id)
    installment_id = uuid.uuid4()
    full = issue(database, tenant_id, debt_id, data_dir=tmp_path)
    part = issue(
        database, tenant_id, debt_id, data_dir=tmp_path, amount=Decimal("187.45"),
        agreement_installment_id=installment_id, label="Parcela 1/6 do acordo",
    )  # fmt: skip
    assert full.agreement_installment_id is None and full.amount > Decimal("1000.00")
    assert part.amount == Decimal("187.45") and part.agreement_installment_id == installment_id
    assert part.itemisation["total"] == "187.45"
    assert part.itemisation["installment"]["label"] == "Parcela 1/6 do acordo"
    assert part.linha_digitavel is not None and "18745" in part.linha_digitavel.replace(".", "").replace(
        " ", ""
    )
    pix = issue(
        database, tenant_id, debt_id, ChargeKind.PIX, data_dir=tmp_path, amount=Decimal("187.45"),
        agreement_installment_id=installment_id,
    )  # fmt: skip
    assert pix.brcode is not None and "5406187.45" in pix.brcode


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1.00"), Decimal("10.001")])
def test_instalment_amount_must_be_positive_cents(database: Database, tmp_path: Any, amount: Decimal) -> None:
    tenant_id = setup_tenant(database)
    debt_id = make_debt(database, tenant_id)
    with pytest.raises(InvalidInput):
        issue(
            database,
            tenant_id,
            debt_id,
            data_dir=tmp_path,
            amount=amount,
            agreement_installment_id=uuid.uuid4(),
        )


def test_amount_without_instalment_is_refused(database: Database, tmp_path: Any) -> None:
    tenant_id = setup_tenant(database)
    debt_id = make_debt(database, tenant_id)
    with pytest.raises(InvalidInput):
        issue(database, tenant_id, debt_id, data_dir=tmp_path, amount=Decimal("10.00"))


def test_paid_instalment_settles_the_charge_not_the_debt_and_is_credited(
    database: Database, tmp_path: Any, received: list[dict[str, Any]]
) -> None:
    tenant_id = setup_tenant(database)
    debt_id = make_debt(database, tenant_id)
    with database.transaction() as session:
        session.get_one(Debt, debt_id).status = DebtStatus.IN_AGREEMENT
    installment_id = uuid.uuid4()
    charge = issue(
        database, tenant_id, debt_id, data_dir=tmp_path, amount=Decimal("300.00"),
        agreement_installment_id=installment_id,
    )  # fmt: skip
    with database.transaction() as session:
        result = reconciliation.import_return(
            session, tenant_id, return_file_for([(charge, charge.amount)]), filename="R.ret", actor="test"
        )
    (applied,) = result.applied
    assert applied.outcome == PaymentOutcome.SETTLED and not applied.debt_paid
    assert _debt_status(database, debt_id) == DebtStatus.IN_AGREEMENT
    with database.transaction() as session:
        assert service.get_charge(session, tenant_id, charge.id).status == ChargeStatus.PAID
        assert service.credited_so_far(session, tenant_id, debt_id) == Decimal("300.00")
    (event,) = received
    assert event["agreement_installment_id"] == installment_id and event["charge_paid"] is True
    # A later charge for the whole debt bills only what is left after the instalment.
    rest = issue(database, tenant_id, debt_id, data_dir=tmp_path)
    assert rest.itemisation["already_paid"] == "300.00"
    assert rest.amount == Decimal(rest.itemisation["principal"]) + Decimal(
        rest.itemisation["fine"]
    ) + Decimal(rest.itemisation["interest"]) - Decimal("300.00")


def test_plain_charge_paid_by_pix_still_pays_the_debt_and_announces_it(
    database: Database, tmp_path: Any, received: list[dict[str, Any]]
) -> None:
    tenant_id = setup_tenant(database)
    debt_id = make_debt(database, tenant_id)
    charge = issue(database, tenant_id, debt_id, ChargeKind.PIX, data_dir=tmp_path)
    with database.transaction() as session:
        item = PixItem.model_validate(pix_item(charge.txid, str(charge.amount)))
        assert reconciliation.apply_pix_items(session, tenant_id, [item], actor="test").applied[0].debt_paid
    assert _debt_status(database, debt_id) == DebtStatus.PAID
    (event,) = received
    assert event["agreement_installment_id"] is None and event["debt_id"] == debt_id
    assert event["outcome"] == "settled"


def test_boleto_and_pix_of_the_same_instalment_is_a_double_payment(database: Database, tmp_path: Any) -> None:
    tenant_id = setup_tenant(database)
    debt_id = make_debt(database, tenant_id)
    with database.transaction() as session:
        session.get_one(Debt, debt_id).status = DebtStatus.IN_AGREEMENT
    installment_id = uuid.uuid4()
    charges = [
        issue(database, tenant_id, debt_id, kind, data_dir=tmp_path, amount=Decimal("300.00"),
              agreement_installment_id=installment_id)
        for kind in (ChargeKind.BOLETO, ChargeKind.PIX)
    ]  # fmt: skip
    boleto, pix = charges
    with database.transaction() as session:
        reconciliation.import_return(
            session, tenant_id, return_file_for([(boleto, boleto.amount)]), filename="R.ret", actor="test"
        )
    with database.transaction() as session:
        item = PixItem.model_validate(pix_item(pix.txid, str(pix.amount)))
        (applied,) = reconciliation.apply_pix_items(session, tenant_id, [item], actor="test").applied
    assert applied.outcome == PaymentOutcome.DUPLICATE and applied.review == ReviewKind.DOUBLE_PAYMENT
    with database.transaction() as session:
        assert service.credited_so_far(session, tenant_id, debt_id) == Decimal("300.00")

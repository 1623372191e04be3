"""Reconciliation of CNAB returns and Pix notifications, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from quita.audit.models import AuditEvent
from quita.kit import events
from quita.kit.db import Database
from quita.payments import reconciliation
from quita.payments.domain.cnab_return import CnabError
from quita.payments.models import (
    Charge,
    ChargeKind,
    ChargeStatus,
    Payment,
    PaymentOutcome,
    ReturnFile,
    ReviewItem,
    ReviewKind,
)
from quita.payments.schemas import PixItem
from quita.portfolio.models import Debt, DebtStatus
from tests.payments.builders import issue, make_debt, pix_item, return_file_for, setup_tenant


@pytest.fixture
def published() -> Any:
    seen: list[dict[str, Any]] = []

    def handler(_session: Any, payload: dict[str, Any]) -> None:
        seen.append(payload)

    events.subscribe(events.DEBT_STATUS_CHANGED, handler)
    yield seen
    events._SUBSCRIBERS[events.DEBT_STATUS_CHANGED].remove(handler)


def _import(
    database: Database, tenant_id: uuid.UUID, content: bytes, name: str = "RET.ret"
) -> reconciliation.ImportResult:
    with database.transaction() as session:
        return reconciliation.import_return(session, tenant_id, content, filename=name, actor="test")


def _debt(database: Database, debt_id: uuid.UUID) -> Debt:
    with database.transaction() as session:
        return session.get_one(Debt, debt_id)


def _charge(database: Database, charge_id: uuid.UUID) -> Charge:
    with database.transaction() as session:
        return session.get_one(Charge, charge_id)


def _reviews(database: Database, tenant_id: uuid.UUID) -> list[ReviewItem]:
    with database.transaction() as session:
        return list(session.scalars(sa.select(ReviewItem).where(ReviewItem.tenant_id == tenant_id)))


def _count(database: Database, model: Any) -> int:
    with database.transaction() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def test_issued_boleto_carries_updated_amount_and_pix(database: Database, tmp_path: Any) -> None:
    tenant_id = setup_tenant(database)
    debt_id = make_debt(database, tenant_id)
    charge = issue(database, tenant_id, debt_id, data_dir=tmp_path)
    # 1000.00 due 2026-01-10, paid 2026-03-05: 54 days late, 2% fine, 1% a.m. pro rata
    assert charge.itemisation["fine"] == "20.00"
    assert charge.itemisation["interest"] == "18.00"
    assert charge.amount == Decimal("1038.00")
    assert charge.barcode is not None and charge.barcode[9:19] == "0000103800"
    assert charge.nosso_numero == "12345670000000001" and charge.nn_key == "12345670000000001"
    assert charge.txid and charge.brcode and charge.brcode.startswith("000201")
    assert charge.pdf_path and Path(charge.pdf_path).read_bytes()[:5] == b"%PDF-"


def test_full_payment_settles_debt_audits_and_publishes(
    database: Database, tmp_path: Any, published: Any
) -> None:
    tenant_id = setup_tenant(database)
    debt_id = make_debt(database, tenant_id)
    charge = issue(database, tenant_id, debt_id, data_dir=tmp_path)
    result = _import(database, tenant_id, return_file_for([(charge, charge.amount)]))
    assert (result.settlements, result.count(PaymentOutcome.SETTLED), result.debts_paid) == (1, 1, 1)
    assert result.credited == charge.amount
    assert _debt(database, debt_id).status == DebtStatus.PAID
    assert _charge(database, charge.id).status == ChargeStatus.PAID
    assert [p["debt_id"] for p in published] == [debt_id]
    assert published[0]["new_status"] == DebtStatus.PAID
    with database.transaction() as session:
        actions = set(session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_id == debt_id)))
    assert "debt.status_changed" in actions
    assert _reviews(database, tenant_id) == []


def test_same_file_twice_credits_nothing_twice(database: Database, tmp_path: Any) -> None:
    tenant_id = setup_tenant(database)
    charge = issue(database, tenant_id, make_debt(database, tenant_id), data_dir=tmp_path)
    content = return_file_for([(charge, charge.amount)])
    first = _import(database, tenant_id, content)
    second = _import(database, tenant_id, content)
    assert not first.already_imported and second.already_imported
    assert second.applied == [] and second.credited == 0
    assert _count(database, Payment) == 1 and _count(database, ReturnFile) == 1
    assert _charge(database, charge.id).amount_paid == charge.amount


def test_partial_payment_leaves_a_balance_then_completes(database: Database, tmp_path: Any) -> None:
    tenant_id = setup_tenant(database)
    debt_id = make_debt(database, tenant_id)
    charge = issue(database, tenant_id, debt_id, data_dir=tmp_path)
    result = _import(database, tenant_id, return_file_for([(charge, Decimal("400.00"))]))
    assert result.count(PaymentOutcome.PARTIAL) == 1
    assert _charge(database, charge.id).status == ChargeStatus.PARTIALLY_PAID
    assert _debt(database, debt_id).status == DebtStatus.OPEN
    (review,) = _reviews(database, tenant_id)
    assert review.kind == ReviewKind.PARTIAL_PAYMENT and "saldo R$ 638.00" in review.message
    rest = _import(database, tenant_id, return_file_for([(charge, Decimal("638.00"))], sequence=2))
    assert rest.count(PaymentOutcome.SETTLED) == 1 and rest.debts_paid == 1
    assert _charge(database, charge.id).amount_paid == Decimal("1038.00")
    assert _debt(database, debt_id).status == DebtStatus.PAID


def test_new_charge_after_partial_payment_charges_only_the_balance(database: Database, tmp_path: Any) -> None:
    tenant_id = setup_tenant(database)
    debt_id = make_debt(database, tenant_id)
    charge = issue(database, tenant_id, debt_id, data_dir=tmp_path)
    _import(database, tenant_id, return_file_for([(charge, Decimal("400.00"))]))
    again = issue(database, tenant_id, debt_id, data_dir=tmp_path)
    assert again.amount == Decimal("638.00") and again.itemisation["already_paid"] == "400.00"


def test_overpayment_settles_and_is_flagged(database: Database, tmp_path: Any) -> None:
    tenant_id = setup_tenant(database)
    debt_id = make_debt(database, tenant_id)
    charge = issue(database, tenant_id, debt_id, data_dir=tmp_path)
    result = _import(database, tenant_id, return_file_for([(charge, Decimal("1100.00"))]))
    assert result.count(PaymentOutcome.OVERPAID) == 1 and result.debts_paid == 1
    (review,) = _reviews(database, tenant_id)
    assert review.kind == ReviewKind.OVERPAYMENT and review.expected == Decimal("1038.00")
    assert review.received == Decimal("1100.00")


def test_bank_computed_interest_is_not_an_overpayment(database: Database, tmp_path: Any) -> None:
    tenant_id = setup_tenant(database)
    charge = issue(database, tenant_id, make_debt(database, tenant_id), data_dir=tmp_path)
    late = return_file_for([(charge, Decimal("1040.00"))], interest=Decimal("2.00"))
    assert _import(database, tenant_id, late).count(PaymentOutcome.SETTLED) == 1
    assert _reviews(database, tenant_id) == []


def test_unmatched_payment_is_listed_for_review(database: Database, tmp_path: Any) -> None:
    tenant_id = setup_tenant(database)
    other = setup_tenant(database, "outro")
    charge = issue(database, other, make_debt(database, other), data_dir=tmp_path)  # not this tenant's
    result = _import(database, tenant_id, return_file_for([(charge, charge.amount)]))
    assert result.count(PaymentOutcome.UNMATCHED) == 1 and result.credited == 0
    (review,) = _reviews(database, tenant_id)
    assert review.kind == ReviewKind.UNMATCHED
    assert _charge(database, charge.id).status == ChargeStatus.ISSUED


def test_non_settlement_occurrences_mark_nothing_paid(database: Database, tmp_path: Any) -> None:
    tenant_id = setup_tenant(database)
    debt_id = make_debt(database, tenant_id)
    charge = issue(database, tenant_id, debt_id, data_dir=tmp_path)
    for sequence, code in enumerate(("02", "09", "28"), start=1):
        result = _import(
            database,
            tenant_id,
            return_file_for([(charge, charge.amount)], occurrence=code, sequence=sequence),
        )
        assert (result.settlements, result.ignored, result.applied) == (0, 1, [])
    assert _debt(database, debt_id).status == DebtStatus.OPEN


def test_boleto_and_pix_of_the_same_title_is_flagged_never_credited_twice(
    database: Database, tmp_path: Any
) -> None:
    tenant_id = setup_tenant(database)
    debt_id = make_debt(database, tenant_id)
    hybrid = issue(database, tenant_id, debt_id, data_dir=tmp_path)
    assert hybrid.txid is not None
    _import(database, tenant_id, return_file_for([(hybrid, hybrid.amount)]))
    with database.transaction() as session:
        item = PixItem.model_validate(pix_item(hybrid.txid, str(hybrid.amount)))
        result = reconciliation.apply_pix_items(session, tenant_id, [item], actor="test")
    assert result.applied[0].outcome == PaymentOutcome.DUPLICATE
    assert _charge(database, hybrid.id).amount_paid == hybrid.amount
    (review,) = _reviews(database, tenant_id)
    assert review.kind == ReviewKind.DOUBLE_PAYMENT
    assert "boleto" in review.message and "Pix" in review.message


def test_separate_pix_charge_paid_after_boleto_is_a_double_payment(database: Database, tmp_path: Any) -> None:
    tenant_id = setup_tenant(database)
    debt_id = make_debt(database, tenant_id)
    pix = issue(database, tenant_id, debt_id, ChargeKind.PIX, data_dir=tmp_path)
    boleto = issue(database, tenant_id, debt_id, data_dir=tmp_path)
    with database.transaction() as session:
        item = PixItem.model_validate(pix_item(pix.txid, str(pix.amount)))
        assert reconciliation.apply_pix_items(session, tenant_id, [item], actor="test").applied[0].debt_paid
    result = _import(database, tenant_id, return_file_for([(boleto, boleto.amount)]))
    assert result.count(PaymentOutcome.DUPLICATE) == 1 and result.credited == 0
    assert [r.kind for r in _reviews(database, tenant_id)] == [ReviewKind.DOUBLE_PAYMENT]


def test_malformed_file_applies_nothing(database: Database, tmp_path: Any) -> None:
    tenant_id = setup_tenant(database)
    first = issue(database, tenant_id, make_debt(database, tenant_id, "T1"), data_dir=tmp_path)
    second = issue(database, tenant_id, make_debt(database, tenant_id, "T2"), data_dir=tmp_path)
    lines = return_file_for([(first, first.amount), (second, second.amount)]).decode("latin-1").split("\r\n")
    u_of_second = lines[5]
    lines[5] = u_of_second[:77] + "00000000012X,00" + u_of_second[92:]  # valor pago of the 2nd title
    with pytest.raises(CnabError) as caught:
        _import(database, tenant_id, "\r\n".join(lines).encode("latin-1"))
    assert (caught.value.line, caught.value.column) == (6, 78)
    assert _count(database, Payment) == 0 and _count(database, ReturnFile) == 0
    assert _charge(database, first.id).status == ChargeStatus.ISSUED


def test_pix_notification_idempotent_by_end_to_end_id(database: Database, tmp_path: Any) -> None:
    tenant_id = setup_tenant(database)
    debt_id = make_debt(database, tenant_id)
    pix = issue(database, tenant_id, debt_id, ChargeKind.PIX, data_dir=tmp_path)
    item = PixItem.model_validate(pix_item(pix.txid, str(pix.amount)))
    for expected_new in (1, 0):
        with database.transaction() as session:
            result = reconciliation.apply_pix_items(session, tenant_id, [item], actor="test")
        assert result.new == expected_new
    assert _count(database, Payment) == 1
    assert _charge(database, pix.id).amount_paid == pix.amount


def test_refund_in_a_repeated_notification_opens_a_review(database: Database, tmp_path: Any) -> None:
    tenant_id = setup_tenant(database)
    pix = issue(database, tenant_id, make_debt(database, tenant_id), ChargeKind.PIX, data_dir=tmp_path)
    raw = pix_item(pix.txid, str(pix.amount))
    refund = {
        **raw,
        "devolucoes": [{"id": "D1", "rtrId": "D" + "1" * 31, "valor": "10.00", "status": "DEVOLVIDO"}],
    }
    for body in (raw, refund, refund):
        with database.transaction() as session:
            reconciliation.apply_pix_items(session, tenant_id, [PixItem.model_validate(body)], actor="test")
    assert [r.kind for r in _reviews(database, tenant_id)] == [ReviewKind.REFUND]


def test_charge_for_a_paid_debt_is_refused(database: Database, tmp_path: Any) -> None:
    from quita.kit.errors import Conflict

    tenant_id = setup_tenant(database)
    debt_id = make_debt(database, tenant_id)
    charge = issue(database, tenant_id, debt_id, data_dir=tmp_path)
    _import(database, tenant_id, return_file_for([(charge, charge.amount)]))
    with pytest.raises(Conflict):
        issue(database, tenant_id, debt_id, data_dir=tmp_path)


def test_nosso_numero_sequence_is_per_account(database: Database, tmp_path: Any) -> None:
    tenant_id = setup_tenant(database)
    numbers = [
        issue(database, tenant_id, make_debt(database, tenant_id, f"T{n}"), data_dir=tmp_path).nosso_numero
        for n in range(3)
    ]
    assert numbers == ["12345670000000001", "12345670000000002", "12345670000000003"]

"""Reconciliation: one path for every payment, whether a CNAB return line or a Pix webhook item.

Order matters for safety: the payment row is inserted first under its unique key (``INSERT … ON
CONFLICT DO NOTHING``), so a retried webhook or a concurrent duplicate loses on the key and credits
nothing; only then is the charge locked, credited and the debt settled. A title already settled (by the
same or by another instrument: boleto *and* Pix) is never credited again; it goes to people for review.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from quita.audit import service as audit
from quita.kit import events
from quita.kit.db import utcnow
from quita.kit.db.bulk import insert_once
from quita.kit.jsonable import jsonable
from quita.payments.domain.cnab_return import CnabReturn, CnabTitle, parse_cnab_return
from quita.payments.domain.matching import file_keys
from quita.payments.models import (
    Charge,
    ChargeKind,
    ChargeStatus,
    Payment,
    PaymentOutcome,
    PaymentSource,
    ReturnFile,
    ReviewItem,
    ReviewKind,
)
from quita.portfolio.models import Debt, DebtStatus
from quita.portfolio.service import change_debt_status

BRAZIL = ZoneInfo("America/Sao_Paulo")
ZERO = Decimal("0.00")
SOURCE_LABEL = {
    PaymentSource.CNAB: "boleto",
    PaymentSource.PIX_WEBHOOK: "Pix",
    PaymentSource.MANUAL: "manual",
}


@dataclass(frozen=True)
class IncomingPayment:
    """Money the bank or PSP says arrived, before reconciliation."""

    source: PaymentSource
    amount: Decimal
    paid_at: dt.datetime
    credited_on: dt.date | None = None
    nosso_numero: str | None = None
    bank: str | None = None
    txid: str | None = None
    end_to_end_id: str | None = None
    # Charges the bank or PSP computed itself (late interest/fine minus discount/rebate): legitimate
    # differences between what was paid and the charge's face amount.
    adjustment: Decimal = ZERO
    return_file_id: uuid.UUID | None = None
    file_line: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def reference(self) -> str | None:
        return self.txid or self.nosso_numero


@dataclass
class Applied:
    payment_id: uuid.UUID
    outcome: PaymentOutcome
    amount: Decimal
    credited: Decimal
    reference: str | None
    charge_id: uuid.UUID | None = None
    debt_id: uuid.UUID | None = None
    debt_paid: bool = False
    review: ReviewKind | None = None
    message: str = ""


def find_charge(session: Session, tenant_id: uuid.UUID, incoming: IncomingPayment) -> Charge | None:
    """By txid (Pix, and Pix paid on a hybrid boleto), else by the bank's nosso número."""
    if incoming.txid:
        charge = session.scalar(
            sa.select(Charge)
            .where(Charge.tenant_id == tenant_id, Charge.txid == incoming.txid)
            .with_for_update()
        )
        if charge is not None:
            return charge
    if incoming.nosso_numero:
        for key in file_keys(incoming.nosso_numero):
            query = sa.select(Charge).where(
                Charge.tenant_id == tenant_id, Charge.nn_key == key, Charge.kind == ChargeKind.BOLETO
            )
            if incoming.bank:
                query = query.where(Charge.bank == incoming.bank)
            found = session.scalars(query.order_by(Charge.created_at).with_for_update()).all()
            if found:
                return found[0]
    return None


def _review(
    session: Session,
    tenant_id: uuid.UUID,
    payment: Payment,
    kind: ReviewKind,
    message: str,
    expected: Decimal | None,
    actor: str,
) -> None:
    item = ReviewItem(
        tenant_id=tenant_id,
        kind=kind,
        payment_id=payment.id,
        charge_id=payment.charge_id,
        debt_id=payment.debt_id,
        expected=expected,
        received=payment.amount,
        message=message[:500],
    )
    session.add(item)
    session.flush()
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="payment.review_opened",
        entity_type="payment_review",
        entity_id=item.id,
        after={"kind": kind, "payment_id": payment.id, "message": item.message},
    )


def _prior_source(
    session: Session, tenant_id: uuid.UUID, charge: Charge, payment_id: uuid.UUID
) -> str | None:
    query = sa.select(Payment.source).where(
        Payment.tenant_id == tenant_id,
        Payment.id != payment_id,
        Payment.outcome.in_([PaymentOutcome.SETTLED, PaymentOutcome.PARTIAL, PaymentOutcome.OVERPAID]),
    )
    if charge.debt_id is not None:
        query = query.where(Payment.debt_id == charge.debt_id)
    else:
        query = query.where(Payment.charge_id == charge.id)
    source = session.scalar(query.order_by(Payment.created_at).limit(1))
    return SOURCE_LABEL[source] if source is not None else None


def _instalment_paid_elsewhere(session: Session, tenant_id: uuid.UUID, charge: Charge) -> bool:
    """An agreement instalment has a boleto and a Pix: once one is paid, the other is a double payment."""
    if charge.agreement_installment_id is None:
        return False
    other = session.scalar(
        sa.select(Charge.id).where(
            Charge.tenant_id == tenant_id,
            Charge.debt_id == charge.debt_id,  # ix_charges_tenant_debt: a debt has few charges
            Charge.agreement_installment_id == charge.agreement_installment_id,
            Charge.id != charge.id,
            Charge.status == ChargeStatus.PAID,
        )
    )
    return other is not None


def record_payment(
    session: Session, tenant_id: uuid.UUID, incoming: IncomingPayment, *, actor: str
) -> Applied | None:
    """Records and reconciles one payment; None when it was already recorded (same endToEndId)."""
    payment_id = uuid.uuid4()
    values: dict[str, Any] = {
        "id": payment_id,
        "tenant_id": tenant_id,
        "created_at": utcnow(),
        "source": incoming.source,
        "outcome": PaymentOutcome.UNMATCHED,
        "amount": incoming.amount,
        "credited": ZERO,
        "paid_at": incoming.paid_at,
        "credited_on": incoming.credited_on,
        "reference": incoming.reference,
        "end_to_end_id": incoming.end_to_end_id,
        "return_file_id": incoming.return_file_id,
        "file_line": incoming.file_line,
        "details": jsonable(incoming.details) or None,
    }
    table: sa.Table = Payment.__table__  # type: ignore[assignment]
    if incoming.end_to_end_id is not None:
        if not insert_once(session, table, values, ("tenant_id", "end_to_end_id")):
            return None
    else:
        session.execute(sa.insert(table).values(**values))
    payment = session.get_one(Payment, payment_id)
    return _reconcile(session, tenant_id, payment, incoming, actor=actor)


def _reconcile(
    session: Session, tenant_id: uuid.UUID, payment: Payment, incoming: IncomingPayment, *, actor: str
) -> Applied:
    applied = Applied(payment.id, PaymentOutcome.UNMATCHED, payment.amount, ZERO, incoming.reference)
    charge = find_charge(session, tenant_id, incoming)
    if charge is None:
        payment.outcome = PaymentOutcome.UNMATCHED
        applied.review, applied.message = (
            ReviewKind.UNMATCHED,
            (
                f"pagamento de R$ {payment.amount} sem cobrança correspondente (referência {incoming.reference or '-'})"
            ),
        )
        _review(session, tenant_id, payment, ReviewKind.UNMATCHED, applied.message, None, actor)
        return applied
    payment.charge_id = applied.charge_id = charge.id
    payment.debt_id = applied.debt_id = charge.debt_id
    debt = (
        session.scalar(
            sa.select(Debt).where(Debt.tenant_id == tenant_id, Debt.id == charge.debt_id).with_for_update()
        )
        if charge.debt_id is not None
        else None
    )

    already_settled = (
        charge.status == ChargeStatus.PAID
        or (
            debt is not None
            and debt.status == DebtStatus.PAID
            and charge.status != ChargeStatus.PARTIALLY_PAID
        )
        or _instalment_paid_elsewhere(session, tenant_id, charge)
    )
    if already_settled:
        prior = _prior_source(session, tenant_id, charge, payment.id)
        this = SOURCE_LABEL[incoming.source]
        both = f" (já pago por {prior}, agora por {this})" if prior and prior != this else ""
        payment.outcome = applied.outcome = PaymentOutcome.DUPLICATE
        applied.review = ReviewKind.DOUBLE_PAYMENT
        applied.message = (
            f"título já quitado recebeu novo pagamento de R$ {payment.amount}{both}: nada creditado"
        )
        _review(session, tenant_id, payment, ReviewKind.DOUBLE_PAYMENT, applied.message, ZERO, actor)
        return applied

    expected = charge.amount - charge.amount_paid + incoming.adjustment
    credited = payment.amount
    charge.amount_paid += credited
    payment.credited = applied.credited = credited
    if charge.status in (ChargeStatus.CANCELLED, ChargeStatus.EXPIRED):
        _review(
            session,
            tenant_id,
            payment,
            ReviewKind.INACTIVE_CHARGE,
            f"pagamento recebido para cobrança {charge.status.value}: creditado, confira",
            expected,
            actor,
        )
    if payment.amount < expected:
        charge.status = ChargeStatus.PARTIALLY_PAID
        payment.outcome = applied.outcome = PaymentOutcome.PARTIAL
        applied.review = ReviewKind.PARTIAL_PAYMENT
        applied.message = (
            f"pagamento parcial: R$ {payment.amount} de R$ {expected}; saldo R$ {expected - payment.amount}"
        )
        _review(session, tenant_id, payment, ReviewKind.PARTIAL_PAYMENT, applied.message, expected, actor)
    else:
        charge.status = ChargeStatus.PAID
        charge.paid_at = incoming.paid_at
        payment.outcome = applied.outcome = PaymentOutcome.SETTLED
        if payment.amount > expected:
            payment.outcome = applied.outcome = PaymentOutcome.OVERPAID
            applied.review = ReviewKind.OVERPAYMENT
            applied.message = f"pagamento a maior: R$ {payment.amount} para R$ {expected}; excedente R$ {payment.amount - expected}"
            _review(session, tenant_id, payment, ReviewKind.OVERPAYMENT, applied.message, expected, actor)
        # An agreement instalment settles only its part: the agreement (bot) decides when the debt is paid.
        if debt is not None and debt.status != DebtStatus.PAID and charge.agreement_installment_id is None:
            how = f"{SOURCE_LABEL[incoming.source]} {incoming.reference or ''}".strip()
            change_debt_status(
                session, tenant_id, debt.id, DebtStatus.PAID, actor=actor, reason=f"pago por {how}"
            )
            applied.debt_paid = True
    session.flush()
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="payment.received",
        entity_type="payment",
        entity_id=payment.id,
        after={
            "source": incoming.source,
            "amount": payment.amount,
            "credited": payment.credited,
            "outcome": payment.outcome,
            "charge_id": charge.id,
            "reference": incoming.reference,
        },
    )
    events.publish(session, events.PAYMENT_RECEIVED, {
        "tenant_id": tenant_id, "payment_id": payment.id, "charge_id": charge.id, "debt_id": charge.debt_id,
        "agreement_installment_id": charge.agreement_installment_id, "outcome": str(payment.outcome),
        "amount": payment.amount, "paid_at": incoming.paid_at, "charge_paid": charge.status == ChargeStatus.PAID,
    })  # fmt: skip
    return applied


# --- CNAB return files -------------------------------------------------------------------------------


@dataclass
class ImportResult:
    filename: str
    content_hash: str
    layout: int
    bank: str
    bank_name: str
    already_imported: bool
    titles: int
    settlements: int
    ignored: int  # occurrences that are not settlements (entries, write-offs, fees)
    credited: Decimal
    applied: list[Applied]
    warnings: tuple[str, ...] = ()
    return_file_id: uuid.UUID | None = None

    def count(self, outcome: PaymentOutcome) -> int:
        return sum(1 for a in self.applied if a.outcome == outcome)

    @property
    def debts_paid(self) -> int:
        return sum(1 for a in self.applied if a.debt_paid)


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), BRAZIL).astimezone(dt.UTC)


def incoming_from_cnab(parsed: CnabReturn, title: CnabTitle, return_file_id: uuid.UUID) -> IncomingPayment:
    when = title.occurrence_date or title.credit_date
    return IncomingPayment(
        source=PaymentSource.CNAB,
        amount=title.amount_paid,
        paid_at=_local_midnight(when) if when else utcnow(),
        credited_on=title.credit_date,
        nosso_numero=title.nosso_numero,
        bank=parsed.bank,
        txid=title.pix_txid,
        adjustment=title.interest - title.discount - title.rebate,
        return_file_id=return_file_id,
        file_line=title.line,
        details={
            "occurrence": title.occurrence_code,
            "meaning": title.occurrence_meaning,
            "fee": title.fee,
            "amount_title": title.amount,
            "interest": title.interest,
            "discount": title.discount,
            "seu_numero": title.seu_numero,
            "line": title.line,
        },
    )


def import_return(
    session: Session, tenant_id: uuid.UUID, content: bytes, *, filename: str, actor: str
) -> ImportResult:
    """Applies a CNAB return in the caller's transaction: a parse error raises before anything is
    written (``CnabError`` with line and column), and the caller's rollback undoes everything else."""
    parsed = parse_cnab_return(content)
    digest = hashlib.sha256(content).hexdigest()
    settled_titles = [t for t in parsed.titles if t.is_settlement]
    file_id = uuid.uuid4()
    result = ImportResult(
        filename=filename,
        content_hash=digest,
        layout=parsed.layout,
        bank=parsed.bank,
        bank_name=parsed.bank_name,
        already_imported=False,
        titles=len(parsed.titles),
        settlements=len(settled_titles),
        ignored=len(parsed.titles) - len(settled_titles),
        credited=ZERO,
        applied=[],
        warnings=parsed.warnings,
    )
    values = {
        "id": file_id,
        "tenant_id": tenant_id,
        "created_at": utcnow(),
        "content_hash": digest,
        "filename": filename[:300],
        "layout": parsed.layout,
        "bank": parsed.bank,
        "file_date": parsed.file_date,
        "titles": len(parsed.titles),
        "settlements": len(settled_titles),
        "credited": ZERO,
        "imported_by": actor,
    }
    if not insert_once(session, ReturnFile.__table__, values, ("tenant_id", "content_hash")):  # type: ignore[arg-type]
        result.already_imported = True
        result.return_file_id = session.scalar(
            sa.select(ReturnFile.id).where(
                ReturnFile.tenant_id == tenant_id, ReturnFile.content_hash == digest
            )
        )
        return result
    result.return_file_id = file_id
    for title in settled_titles:
        applied = record_payment(session, tenant_id, incoming_from_cnab(parsed, title, file_id), actor=actor)
        assert applied is not None  # file lines are unique within a new file
        result.applied.append(applied)
    result.credited = sum((a.credited for a in result.applied), ZERO)
    record = session.get_one(ReturnFile, file_id)
    record.credited = result.credited
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="payment.return_imported",
        entity_type="return_file",
        entity_id=file_id,
        after={
            "filename": filename,
            "sha256": digest,
            "bank": parsed.bank,
            "layout": parsed.layout,
            "settlements": len(settled_titles),
            "credited": result.credited,
        },
    )
    session.flush()
    return result


# --- Pix webhook -------------------------------------------------------------------------------------


@dataclass
class PixResult:
    received: int
    new: int
    duplicates: int
    applied: list[Applied]


def incoming_from_pix(item: Any) -> IncomingPayment:
    """``item`` is a validated ``schemas.PixItem``."""
    parts = item.componentesValor or {}

    def part(name: str) -> Decimal:
        value = parts.get(name)
        raw = value.get("valor") if isinstance(value, dict) else None
        try:
            return Decimal(str(raw)) if raw is not None else ZERO
        except ArithmeticError:
            return ZERO

    adjustment = part("juros") + part("multa") - part("desconto") - part("abatimento")
    return IncomingPayment(
        source=PaymentSource.PIX_WEBHOOK,
        amount=Decimal(item.valor),
        paid_at=item.horario.astimezone(dt.UTC),
        credited_on=item.horario.astimezone(BRAZIL).date(),
        txid=item.txid,
        end_to_end_id=item.endToEndId,
        adjustment=adjustment,
        details={"chave": item.chave, "infoPagador": item.infoPagador, "devolucoes": item.devolucoes or []},
    )


def apply_pix_items(session: Session, tenant_id: uuid.UUID, items: Sequence[Any], *, actor: str) -> PixResult:
    result = PixResult(received=len(items), new=0, duplicates=0, applied=[])
    for item in items:
        applied = record_payment(session, tenant_id, incoming_from_pix(item), actor=actor)
        if applied is None:
            result.duplicates += 1
            if item.devolucoes:
                _note_refunds(session, tenant_id, item, actor=actor)
            continue
        result.new += 1
        result.applied.append(applied)
    session.flush()
    return result


def _note_refunds(session: Session, tenant_id: uuid.UUID, item: Any, *, actor: str) -> None:
    """A repeated notification that carries refunds (devoluções): recorded for people, never re-credited."""
    payment = session.scalar(
        sa.select(Payment).where(Payment.tenant_id == tenant_id, Payment.end_to_end_id == item.endToEndId)
    )
    if payment is None:
        return
    details = dict(payment.details or {})
    refunds = jsonable(item.devolucoes)
    if details.get("devolucoes") == refunds:
        return
    details["devolucoes"] = refunds
    payment.details = details
    _review(
        session,
        tenant_id,
        payment,
        ReviewKind.REFUND,
        f"devolução informada pelo PSP para o Pix {item.endToEndId}: ajuste o saldo do título",
        None,
        actor,
    )

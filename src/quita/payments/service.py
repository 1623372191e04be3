"""Use cases of payments: configure where a tenant receives, issue boletos and Pix charges for a debt's
updated amount, list and resolve what reconciliation left for people. Services flush; callers commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from quita.audit import service as audit
from quita.kit import secrets
from quita.kit.db import utcnow
from quita.kit.errors import Conflict, InvalidInput, NotFound
from quita.payments.domain.amounts import AmountBreakdown, AmountError, LatePaymentTerms, updated_amount
from quita.payments.domain.banks import BANK_NAMES, BoletoSpec, encode_boleto
from quita.payments.domain.boleto import BoletoError
from quita.payments.domain.matching import charge_key, new_static_txid, new_txid
from quita.payments.domain.pix import PixError, build_dynamic, build_static
from quita.payments.models import (
    Charge,
    ChargeKind,
    ChargeStatus,
    Payment,
    PaymentAccount,
    PaymentOutcome,
    ReviewItem,
    ReviewStatus,
)
from quita.payments.pdf import BoletoDocument, LineItem, Party, render_boleto_pdf
from quita.payments.pix_api import PixApiClient, PixApiError, PixApiSettings, cobv_body
from quita.portfolio.models import Debt, Debtor, DebtStatus
from quita.tenant.models import Creditor, Tenant

BRAZIL = dt.timezone(dt.timedelta(hours=-3))
DEFAULT_DAYS_TO_PAY = 3
PAYABLE = (DebtStatus.OPEN, DebtStatus.IN_AGREEMENT)
ACCOUNT_FIELDS = (
    "bank",
    "boleto_fields",
    "pix_key",
    "merchant_name",
    "merchant_city",
    "psp_base_url",
    "psp_token_url",
    "psp_client_id",
    "psp_cert_path",
    "psp_key_path",
    "psp_ca_path",
)
SECRET_FIELDS = ("psp_client_secret", "webhook_secret")

PixClientFactory = Callable[[PaymentAccount], PixApiClient]


def today_in_brazil() -> dt.date:
    return dt.datetime.now(BRAZIL).date()


# --- accounts ----------------------------------------------------------------------------------------


def find_account(
    session: Session, tenant_id: uuid.UUID, creditor_id: uuid.UUID | None
) -> PaymentAccount | None:
    """The creditor's own account, else the tenant's default (``creditor_id`` NULL)."""
    rows = session.scalars(
        sa.select(PaymentAccount).where(
            PaymentAccount.tenant_id == tenant_id,
            sa.or_(PaymentAccount.creditor_id == creditor_id, PaymentAccount.creditor_id.is_(None)),
        )
    ).all()
    own = [r for r in rows if r.creditor_id is not None and r.creditor_id == creditor_id]
    default = [r for r in rows if r.creditor_id is None]
    candidates = own or default
    return candidates[0] if candidates else None


def configure_account(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    creditor_id: uuid.UUID | None,
    changes: dict[str, Any],
    actor: str,
) -> PaymentAccount:
    """Creates or updates an account; secrets are encrypted at rest, never written to the audit log."""
    unknown = set(changes) - set(ACCOUNT_FIELDS) - set(SECRET_FIELDS)
    if unknown:
        raise InvalidInput(
            f"campo(s) desconhecido(s): {', '.join(sorted(unknown))}", code="invalid_account_field"
        )
    if changes.get("bank") and changes["bank"] not in BANK_NAMES:
        raise InvalidInput(
            f"banco {changes['bank']!r} não suportado para emissão de boleto ({', '.join(sorted(BANK_NAMES))})",
            code="unsupported_bank",
        )
    query = sa.select(PaymentAccount).where(PaymentAccount.tenant_id == tenant_id)
    query = query.where(
        PaymentAccount.creditor_id == creditor_id if creditor_id else PaymentAccount.creditor_id.is_(None)
    )
    account = session.scalar(query)
    if account is None:
        account = PaymentAccount(tenant_id=tenant_id, creditor_id=creditor_id, next_nosso_numero=1)
        session.add(account)
    for name, value in changes.items():
        if name in SECRET_FIELDS:
            setattr(account, name, secrets.encrypt(value) if value else None)
        else:
            setattr(account, name, value)
    session.flush()
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="payment_account.configured",
        entity_type="payment_account",
        entity_id=account.id,
        after={k: ("***" if k in SECRET_FIELDS and v else v) for k, v in changes.items()},
    )
    return account


def account_secret(account: PaymentAccount, name: str) -> str | None:
    token = getattr(account, name)
    return secrets.decrypt(token) if token else None


def pix_client_for(account: PaymentAccount) -> PixApiClient:
    if not (account.psp_base_url and account.psp_client_id):
        raise InvalidInput("conta sem PSP configurado (psp_base_url e psp_client_id)", code="no_psp")
    return PixApiClient(
        PixApiSettings(
            base_url=account.psp_base_url,
            client_id=account.psp_client_id,
            client_secret=account_secret(account, "psp_client_secret") or "",
            token_url=account.psp_token_url,
            cert=account.psp_cert_path,
            key=account.psp_key_path,
            ca=account.psp_ca_path,
        )
    )


# --- amounts -----------------------------------------------------------------------------------------


def _fraction(percent: Decimal | None) -> Decimal | None:
    return None if percent is None else percent / 100


def debt_breakdown(debt: Debt, on: dt.date) -> AmountBreakdown:
    fine = _fraction(debt.fine_rate)
    try:
        terms = LatePaymentTerms(
            fine_rate=fine if fine is not None else LatePaymentTerms().fine_rate,
            monthly_interest_rate=_fraction(debt.interest_rate_monthly),
        )
        return updated_amount(debt.principal, debt.due_date, on, terms)
    except AmountError as exc:
        raise InvalidInput(f"título {debt.external_id}: {exc}", code="invalid_amount") from exc


def credited_so_far(session: Session, tenant_id: uuid.UUID, debt_id: uuid.UUID) -> Decimal:
    """What was paid towards the debt without settling it: partial payments, and every payment of an
    agreement instalment (settling an instalment settles only that part; if the agreement breaks, the
    debt goes back to collection with these credited)."""
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Payment.credited), 0))
        .select_from(Payment)
        .outerjoin(Charge, Charge.id == Payment.charge_id)
        .where(
            Payment.tenant_id == tenant_id,
            Payment.debt_id == debt_id,
            sa.or_(
                Payment.outcome == PaymentOutcome.PARTIAL,
                sa.and_(
                    Charge.agreement_installment_id.is_not(None),
                    Payment.outcome.in_((PaymentOutcome.SETTLED, PaymentOutcome.OVERPAID)),
                ),
            ),
        )
    )
    return Decimal(total or 0).quantize(Decimal("0.01")) if total is not None else Decimal("0.00")


def itemisation(breakdown: AmountBreakdown, already_paid: Decimal) -> dict[str, Any]:
    return {
        "principal": str(breakdown.principal),
        "fine": str(breakdown.fine),
        "interest": str(breakdown.interest),
        "discount": str(breakdown.discount),
        "already_paid": str(already_paid),
        "total": str(breakdown.total - already_paid),
        "days_late": breakdown.days_late,
        "monthly_rate": str(breakdown.monthly_rate),
        "rate_source": breakdown.rate_source,
        "rate_capped": breakdown.rate_capped,
        "debt_due_date": breakdown.due_date.isoformat(),
        "on": breakdown.on.isoformat(),
    }


# --- issuing -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChargeContext:
    tenant: Tenant
    debt: Debt
    debtor: Debtor
    creditor: Creditor
    account: PaymentAccount | None


def _context(session: Session, tenant_id: uuid.UUID, debt_id: uuid.UUID) -> ChargeContext:
    debt = session.scalar(sa.select(Debt).where(Debt.tenant_id == tenant_id, Debt.id == debt_id))
    if debt is None:
        raise NotFound("título não encontrado", code="debt_not_found")
    if debt.status not in PAYABLE:
        raise Conflict(
            f"título {debt.external_id} está {debt.status.value}: não se emite cobrança",
            code="debt_not_payable",
        )
    debtor = session.scalar(
        sa.select(Debtor).where(Debtor.tenant_id == tenant_id, Debtor.id == debt.debtor_id)
    )
    creditor = session.scalar(
        sa.select(Creditor).where(Creditor.tenant_id == tenant_id, Creditor.id == debt.creditor_id)
    )
    tenant = session.get(Tenant, tenant_id)
    assert debtor is not None and creditor is not None and tenant is not None
    return ChargeContext(tenant, debt, debtor, creditor, find_account(session, tenant_id, debt.creditor_id))


def find_debt(session: Session, tenant_id: uuid.UUID, external_id: str) -> Debt:
    debt = session.scalar(sa.select(Debt).where(Debt.tenant_id == tenant_id, Debt.external_id == external_id))
    if debt is None:
        raise NotFound(f"título {external_id!r} não encontrado", code="debt_not_found")
    return debt


def issue_charge(
    session: Session,
    tenant_id: uuid.UUID,
    debt_id: uuid.UUID,
    *,
    kind: ChargeKind,
    actor: str,
    due_date: dt.date | None = None,
    today: dt.date | None = None,
    data_dir: Path | None = None,
    pix_client_factory: PixClientFactory | None = None,
    amount: Decimal | None = None,
    agreement_installment_id: uuid.UUID | None = None,
    label: str | None = None,
) -> Charge:
    """A boleto (hybrid with a Pix QR when the account has a Pix key) or a Pix charge (``cobv`` at the
    PSP when one is configured, else a static BR Code) for the debt's updated amount on ``due_date``.

    An agreement instalment passes its own ``amount`` (the agreed value, not the debt's balance), its
    ``agreement_installment_id`` (stored on the charge, so reconciliation settles the instalment and not the
    whole debt) and a ``label`` ("Parcela 1/6 do acordo") printed on the slip."""
    today = today or today_in_brazil()
    due = due_date or today + dt.timedelta(days=DEFAULT_DAYS_TO_PAY)
    if due < today:
        raise InvalidInput(f"vencimento {due.isoformat()} já passou", code="due_in_past")
    if (amount is None) != (agreement_installment_id is None):
        raise InvalidInput(
            "valor e parcela do acordo vêm juntos (amount e agreement_installment_id)", code="invalid_amount"
        )
    if amount is not None and (amount <= 0 or amount != amount.quantize(Decimal("0.01"))):
        raise InvalidInput(f"valor da parcela inválido: {amount}", code="invalid_amount")
    ctx = _context(session, tenant_id, debt_id)
    if ctx.account is None:
        raise InvalidInput(
            "este tenant não tem conta de recebimento: use `quita payments account` para configurar banco e/ou Pix",
            code="no_payment_account",
        )
    breakdown = debt_breakdown(ctx.debt, due)
    paid = credited_so_far(session, tenant_id, ctx.debt.id)
    items = itemisation(breakdown, paid)
    if amount is not None:
        total = amount
        items["debt_balance"], items["total"] = items["total"], str(amount)
        items["installment"] = {"id": str(agreement_installment_id), "label": label or "Parcela do acordo",
                                "amount": str(amount)}  # fmt: skip
    else:
        total = breakdown.total - paid
    if total <= 0:
        raise Conflict("o título não tem saldo a cobrar", code="nothing_to_charge")
    charge = Charge(
        tenant_id=tenant_id,
        debt_id=ctx.debt.id,
        agreement_installment_id=agreement_installment_id,
        kind=kind,
        status=ChargeStatus.ISSUED,
        amount=total,
        amount_paid=Decimal("0.00"),
        itemisation=items,
        due_date=due,
        created_by=actor,
    )
    if kind == ChargeKind.BOLETO:
        _fill_boleto(session, ctx, charge)
    else:
        _fill_pix(ctx, charge, breakdown, pix_client_factory or pix_client_for)
    session.add(charge)
    session.flush()
    if charge.kind == ChargeKind.BOLETO:
        from quita.config import get_settings

        charge.pdf_path = str(_write_pdf(ctx, charge, data_dir or Path(get_settings().data_dir), today))
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="charge.issued",
        entity_type="charge",
        entity_id=charge.id,
        after={
            "debt_id": ctx.debt.id,
            "kind": kind,
            "amount": total,
            "due_date": due,
            "nosso_numero": charge.nosso_numero,
            "txid": charge.txid,
            "agreement_installment_id": agreement_installment_id,
        },
    )
    return charge


def _next_nosso_numero(session: Session, account: PaymentAccount) -> int:
    """Row-locked counter: two concurrent issues never get the same nosso número."""
    locked = session.scalar(
        sa.select(PaymentAccount).where(PaymentAccount.id == account.id).with_for_update()
    )
    assert locked is not None
    number = locked.next_nosso_numero
    locked.next_nosso_numero = number + 1
    session.flush()
    return number


def _static_pix(
    account: PaymentAccount, creditor: Creditor, amount: Decimal, description: str
) -> tuple[str, str] | None:
    if not account.pix_key:
        return None
    txid = new_static_txid()
    try:
        payload = build_static(
            key=account.pix_key,
            merchant_name=account.merchant_name or creditor.legal_name,
            merchant_city=account.merchant_city or creditor.city,
            amount=amount,
            txid=txid,
            description=description,
        )
    except PixError as exc:
        raise InvalidInput(f"chave Pix da conta inválida: {exc}", code="invalid_pix_key") from exc
    return txid, payload


def _fill_boleto(session: Session, ctx: ChargeContext, charge: Charge) -> None:
    account = ctx.account
    assert account is not None
    if not account.bank:
        raise InvalidInput("a conta de recebimento não tem banco configurado para boletos", code="no_bank")
    number = _next_nosso_numero(session, account)
    fields = {k: str(v) for k, v in (account.boleto_fields or {}).items()}
    try:
        spec = BoletoSpec.from_mapping(
            {
                **fields,
                "bank": account.bank,
                "amount": str(charge.amount),
                "due_date": charge.due_date.isoformat(),
                "nosso_numero": str(number),
            }
        )
        encoded = encode_boleto(spec)
    except BoletoError as exc:
        raise InvalidInput(f"não foi possível emitir o boleto: {exc}", code="boleto_error") from exc
    charge.bank = account.bank
    charge.nosso_numero = encoded.nosso_numero
    charge.nosso_numero_dv = encoded.nosso_numero_dv
    charge.nn_key = charge_key(account.bank, encoded.nosso_numero, encoded.nosso_numero_dv)
    charge.barcode = encoded.barcode
    charge.linha_digitavel = encoded.linha_digitavel
    hybrid = _static_pix(account, ctx.creditor, charge.amount, f"Titulo {ctx.debt.external_id}")
    if hybrid is not None:
        charge.txid, charge.brcode = hybrid


def _fill_pix(
    ctx: ChargeContext, charge: Charge, breakdown: AmountBreakdown, factory: PixClientFactory
) -> None:
    account = ctx.account
    assert account is not None
    if not account.pix_key:
        raise InvalidInput("a conta de recebimento não tem chave Pix configurada", code="no_pix_key")
    if not (account.psp_base_url and account.psp_client_id):
        static = _static_pix(account, ctx.creditor, charge.amount, f"Titulo {ctx.debt.external_id}")
        assert static is not None
        charge.txid, charge.brcode = static
        return
    txid = new_txid()
    body = cobv_body(
        due_date=charge.due_date,
        amount=charge.amount,
        pix_key=account.pix_key,
        debtor_name=ctx.debtor.name,
        debtor_document=ctx.debtor.document,
        interest_percent_month=(breakdown.monthly_rate * 100) if breakdown.monthly_rate else None,
        message=f"Título {ctx.debt.external_id} — {ctx.creditor.legal_name}",
    )
    client = factory(account)
    try:
        created = client.put_cobv(txid, body)
    except PixApiError as exc:
        raise InvalidInput(f"o PSP recusou a cobrança Pix: {exc}", code="psp_error") from exc
    finally:
        client.close()
    charge.txid = txid
    charge.psp_status = str(created.get("status") or "")
    location = (
        created.get("loc", {}).get("location")
        if isinstance(created.get("loc"), dict)
        else created.get("location")
    )
    charge.pix_location = location
    payload = created.get("pixCopiaECola")
    if not payload and location:
        payload = build_dynamic(
            location_url=location,
            merchant_name=account.merchant_name or ctx.creditor.legal_name,
            merchant_city=account.merchant_city or ctx.creditor.city,
        )
    if not payload:
        raise InvalidInput("o PSP não devolveu pixCopiaECola nem location", code="psp_error")
    charge.brcode = payload


def _write_pdf(ctx: ChargeContext, charge: Charge, data_dir: Path, today: dt.date) -> Path:
    items = charge.itemisation
    lines = _pdf_lines(items)
    fields = (ctx.account.boleto_fields if ctx.account else None) or {}
    creditor, debtor = ctx.creditor, ctx.debtor
    address = ", ".join(
        p for p in (debtor.street, debtor.number, debtor.district, debtor.city, debtor.uf) if p
    )
    document = BoletoDocument(
        bank=charge.bank or "",
        bank_name=BANK_NAMES.get(charge.bank or "", ""),
        barcode=charge.barcode or "",
        linha_digitavel=charge.linha_digitavel or "",
        due_date=charge.due_date,
        amount=charge.amount,
        nosso_numero=charge.nosso_numero or "",
        beneficiary_account=f"{fields.get('agencia', '')} / {fields.get('conta') or fields.get('codigo_beneficiario') or ''}".strip(
            " /"
        ),
        beneficiary=Party(
            creditor.legal_name, creditor.cnpj, f"{creditor.address}, {creditor.city}/{creditor.uf}"
        ),
        payer=Party(debtor.name, debtor.document, address),
        items=tuple(lines),
        instructions=(
            f"Referente ao título {ctx.debt.external_id}"
            + (f", contrato {ctx.debt.contract}" if ctx.debt.contract else ""),
            "Não receber após 30 dias do vencimento.",
            "Após o vencimento, juros de mora pro rata die conforme contrato.",
        ),
        pix_payload=charge.brcode if charge.kind == ChargeKind.BOLETO else None,
        document_number=ctx.debt.external_id[:15],
        issue_date=today,
    )
    folder = data_dir / "boletos" / str(ctx.tenant.id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{charge.id}.pdf"
    path.write_bytes(render_boleto_pdf(document))
    return path


def _pdf_lines(items: dict[str, Any]) -> list[LineItem]:
    """An instalment slip shows the agreed instalment only; a debt slip itemises the updated amount."""
    installment = items.get("installment")
    if installment:
        return [LineItem(str(installment["label"]), Decimal(installment["amount"]))]
    lines = [LineItem("Valor original", Decimal(items["principal"]))]
    for key, label in (("fine", "Multa"), ("interest", "Juros de mora"), ("discount", "Desconto")):
        if Decimal(items[key]):
            lines.append(LineItem(label, -Decimal(items[key]) if key == "discount" else Decimal(items[key])))
    if Decimal(items["already_paid"]):
        lines.append(LineItem("Pago anteriormente", -Decimal(items["already_paid"])))
    return lines


# --- reading and reviewing ---------------------------------------------------------------------------


def get_charge(session: Session, tenant_id: uuid.UUID, charge_id: uuid.UUID) -> Charge:
    charge = session.scalar(sa.select(Charge).where(Charge.tenant_id == tenant_id, Charge.id == charge_id))
    if charge is None:
        raise NotFound("cobrança não encontrada", code="charge_not_found")
    return charge


def charges_of_debt(session: Session, tenant_id: uuid.UUID, debt_id: uuid.UUID) -> list[Charge]:
    return list(
        session.scalars(
            sa.select(Charge)
            .where(Charge.tenant_id == tenant_id, Charge.debt_id == debt_id)
            .order_by(Charge.created_at)
        )
    )


def cancel_charge(session: Session, tenant_id: uuid.UUID, charge_id: uuid.UUID, *, actor: str) -> Charge:
    charge = get_charge(session, tenant_id, charge_id)
    if charge.status != ChargeStatus.ISSUED:
        raise Conflict(
            f"cobrança {charge.status.value} não pode ser cancelada", code="charge_not_cancellable"
        )
    charge.status = ChargeStatus.CANCELLED
    session.flush()
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="charge.cancelled",
        entity_type="charge",
        entity_id=charge.id,
    )
    return charge


def list_reviews(
    session: Session, tenant_id: uuid.UUID, *, status: ReviewStatus | None = ReviewStatus.OPEN
) -> list[ReviewItem]:
    query = sa.select(ReviewItem).where(ReviewItem.tenant_id == tenant_id)
    if status is not None:
        query = query.where(ReviewItem.status == status)
    return list(session.scalars(query.order_by(ReviewItem.created_at)))


def resolve_review(
    session: Session, tenant_id: uuid.UUID, review_id: uuid.UUID, *, resolution: str, actor: str
) -> ReviewItem:
    item = session.scalar(
        sa.select(ReviewItem).where(ReviewItem.tenant_id == tenant_id, ReviewItem.id == review_id)
    )
    if item is None:
        raise NotFound("item de revisão não encontrado", code="review_not_found")
    if item.status == ReviewStatus.RESOLVED:
        raise Conflict("item de revisão já resolvido", code="review_resolved")
    if not resolution.strip():
        raise InvalidInput("descreva a resolução", code="missing_resolution")
    item.status = ReviewStatus.RESOLVED
    item.resolution = resolution.strip()[:500]
    item.resolved_at = utcnow()
    item.resolved_by = actor
    session.flush()
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="payment.review_resolved",
        entity_type="payment_review",
        entity_id=item.id,
        after={"resolution": item.resolution},
    )
    return item

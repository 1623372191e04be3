"""Builders for payment tests: a tenant with a debtor and debts, a payment account, bank return files."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from quita.kit.db import Database
from quita.payments import service
from quita.payments.models import Charge, ChargeKind
from quita.portfolio.models import Debt, Debtor, DocumentKind
from quita.simulator.psp.domain.boleto import read_slip
from quita.simulator.psp.domain.cnab240 import ReturnTitle, build_return_240
from quita.tenant.models import Creditor
from tests.factories import make_tenant

TODAY = dt.date(2026, 3, 2)
BB_FIELDS = {"agencia": "1234", "conta": "56789", "carteira": "17", "convenio": "1234567"}
WEBHOOK_SECRET = "segredo-do-webhook"


def setup_tenant(
    database: Database,
    slug: str = "acme",
    *,
    bank: str = "001",
    boleto_fields: dict[str, str] | None = None,
    pix_key: str | None = "cobranca@acme.com.br",
    extra: dict[str, Any] | None = None,
) -> uuid.UUID:
    tenant_id = make_tenant(database, slug)
    with database.transaction() as session:
        changes: dict[str, Any] = {
            "bank": bank,
            "boleto_fields": boleto_fields or BB_FIELDS,
            "merchant_name": "ACME COBRANCAS",
            "merchant_city": "SAO PAULO",
            "webhook_secret": WEBHOOK_SECRET,
            **(extra or {}),
        }
        if pix_key:
            changes["pix_key"] = pix_key
        service.configure_account(session, tenant_id, creditor_id=None, changes=changes, actor="test")
    return tenant_id


def make_debt(
    database: Database,
    tenant_id: uuid.UUID,
    external_id: str = "T1",
    *,
    principal: str = "1000.00",
    due: dt.date = dt.date(2026, 1, 10),
) -> uuid.UUID:
    with database.transaction() as session:
        creditor_id = session.scalar(sa.select(Creditor.id).where(Creditor.tenant_id == tenant_id))
        debtor = session.scalar(
            sa.select(Debtor).where(Debtor.tenant_id == tenant_id, Debtor.document == "52998224725")
        )
        if debtor is None:
            debtor = Debtor(
                tenant_id=tenant_id,
                name="Maria da Silva",
                document_kind=DocumentKind.CPF,
                document="52998224725",
                city="São Paulo",
                uf="SP",
            )
            session.add(debtor)
            session.flush()
        debt = Debt(
            tenant_id=tenant_id,
            debtor_id=debtor.id,
            external_id=external_id,
            creditor_id=creditor_id,
            principal=Decimal(principal),
            due_date=due,
            fine_rate=Decimal("2"),
            interest_rate_monthly=Decimal("1"),
        )
        session.add(debt)
        session.flush()
        return debt.id


def issue(
    database: Database,
    tenant_id: uuid.UUID,
    debt_id: uuid.UUID,
    kind: ChargeKind = ChargeKind.BOLETO,
    **kwargs: Any,
) -> Charge:
    with database.transaction() as session:
        return service.issue_charge(
            session,
            tenant_id,
            debt_id,
            kind=kind,
            actor="test",
            today=TODAY,
            due_date=kwargs.pop("due_date", TODAY + dt.timedelta(days=3)),
            **kwargs,
        )


def return_file_for(
    charges: list[tuple[Charge, Decimal]],
    *,
    occurrence: str = "06",
    sequence: int = 1,
    paid_on: dt.date = TODAY,
    interest: Decimal = Decimal("0.00"),
) -> bytes:
    """A CNAB 240 return of the bank of the first charge, as the simulated bank writes it."""
    titles = []
    for charge, paid in charges:
        assert charge.linha_digitavel is not None
        slip = read_slip(charge.linha_digitavel, paid_on)
        titles.append(
            ReturnTitle(
                nosso_numero=slip.nosso_numero,
                amount=slip.amount,
                paid=paid,
                due_date=slip.due_date,
                paid_on=paid_on,
                credit_on=paid_on + dt.timedelta(days=1),
                occurrence=occurrence,
                interest=interest,
            )
        )
    bank = charges[0][0].bank or "001"
    text = build_return_240(
        bank,
        titles,
        company_name="ACME",
        company_cnpj="11222333000181",
        sequence=sequence,
        generated=dt.datetime(2026, 3, 2, 10, 0),
    )
    return text.encode("latin-1")


def pix_item(txid: str | None, valor: str, e2e: str | None = None, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "endToEndId": e2e or ("E" + uuid.uuid4().hex + "000")[:32],
        "valor": valor,
        "horario": "2026-03-02T10:00:00-03:00",
        **extra,
    }
    if txid:
        item["txid"] = txid
    return item

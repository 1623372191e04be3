"""Builders for cadence and dispatch tests: a tenant with a WhatsApp number, templates and debts."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from cryptography.fernet import Fernet

from quita.kit.db import Database
from quita.portfolio.models import ContactKind, ContactPoint, Debt, Debtor, DocumentKind, Provenance
from quita.tenant.models import Creditor
from tests.factories import make_tenant

SECRET_KEY = Fernet.generate_key().decode()
TEMPLATES = (
    "quita_confirmacao_identidade",
    "quita_lembrete_vencimento",
    "quita_lembrete_desconto",
    "quita_vencimento_hoje",
    "quita_em_atraso",
)


def setup_tenant(
    database: Database,
    *,
    graph_url: str = "http://127.0.0.1:9",
    slug: str = "acme",
    throughput: int = 80,
    tier: int | None = 250,
    phone_number_id: str = "100000000000001",
    token: str = "sim-token",
) -> tuple[uuid.UUID, uuid.UUID]:
    """A tenant with one creditor, one WhatsApp channel and every default-cadence template approved."""
    from quita.whatsapp import service as wa
    from quita.whatsapp.models import WhatsAppTemplate

    tenant_id = make_tenant(database, slug)
    with database.transaction() as session:
        channel = wa.create_channel(
            session,
            tenant_id=tenant_id,
            phone_number_id=phone_number_id,
            waba_id="200000000000001",
            access_token=token,
            app_secret="sim-app-secret",
            verify_token="v",
            actor="test",
            graph_url=graph_url,
            throughput_mps=throughput,
            messaging_tier_limit=tier,
        )
        channel.messaging_tier_limit = tier  # None (unlimited) must survive the column default
        session.flush()
        for name in TEMPLATES:
            session.add(
                WhatsAppTemplate(
                    tenant_id=tenant_id,
                    waba_id="200000000000001",
                    name=name,
                    language="pt_BR",
                    category="UTILITY",
                    status="APPROVED",
                    components=[],
                    parameter_names=[],
                    usable=True,
                )
            )
        return tenant_id, channel.id


def add_debts(
    database: Database,
    tenant_id: uuid.UUID,
    count: int,
    *,
    due: dt.date,
    uf: str = "SP",
    opt_in: bool = True,
    phone_base: int = 11_900_000_000,
    provenance: Provenance = Provenance.CONTRACT,
    amount: Decimal = Decimal("150.00"),
    start: int = 0,
) -> list[uuid.UUID]:
    """``count`` debtors, each with one debt due on ``due`` and one mobile phone (+55 11 9xxxx-xxxx)."""
    debt_ids: list[uuid.UUID] = []
    with database.transaction() as session:
        creditor_id = session.query(Creditor.id).filter(Creditor.tenant_id == tenant_id).scalar()
        now = dt.datetime.now(dt.UTC)
        for n in range(start, start + count):
            debtor = Debtor(
                tenant_id=tenant_id,
                name=f"Maria {n} da Silva",
                document_kind=DocumentKind.CPF,
                document=f"{n:011d}",
                uf=uf,
            )
            session.add(debtor)
            session.flush()
            session.add(
                ContactPoint(
                    tenant_id=tenant_id,
                    debtor_id=debtor.id,
                    kind=ContactKind.PHONE,
                    value=f"+55{phone_base + n}",
                    provenance=provenance,
                    opt_in_at=now if opt_in else None,
                    opt_in_source="contrato" if opt_in else None,
                )
            )
            debt = Debt(
                tenant_id=tenant_id,
                debtor_id=debtor.id,
                external_id=f"T{n}",
                creditor_id=creditor_id,
                principal=amount,
                due_date=due,
                contract=f"C{n}",
            )
            session.add(debt)
            session.flush()
            debt_ids.append(debt.id)
    return debt_ids


def confirm_all(database: Database, tenant_id: uuid.UUID) -> None:
    from quita.cadence import service

    with database.transaction() as session:
        for c in session.query(ContactPoint).filter(ContactPoint.tenant_id == tenant_id):
            service.confirm_identity(
                session, tenant_id, debtor_id=c.debtor_id, contact_id=c.id, method="test", actor="test"
            )

"""``quita bench plan``: one day's planning of a large portfolio on PostgreSQL.

The portfolio is written straight into a throw-away schema with COPY (debtors, one phone each, one debt
each, due dates spread over a year around the planning day, 70 % with a confirmed identity), so the
benchmark measures the planner, not the importer. Baseline from the same run: a bare keyset scan of the
same candidate rows with no facts and no gate.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from quita.bench.import_bench import fresh_postgres_schema

PLAN_AT = dt.datetime(2026, 3, 17, 14, 0, tzinfo=dt.UTC)  # a Tuesday, 11:00 in São Paulo
SPREAD_DAYS = 365


@dataclass
class PlanBenchResult:
    name: str
    debts: int
    seconds: float
    detail: str

    @property
    def rate(self) -> float:
        return self.debts / self.seconds if self.seconds else 0.0


def _table(model: Any) -> Any:
    return model.__table__


def _populate(url: str, debts: int, seed: int) -> uuid.UUID:
    from quita.cadence.models import IdentityConfirmation
    from quita.kit.db import Database
    from quita.kit.db.bulk import bulk_insert
    from quita.portfolio.models import ContactPoint, Debt, Debtor
    from quita.tenant import service as tenants
    from quita.tenant.models import TenantKind
    from quita.whatsapp.models import WhatsAppChannel, WhatsAppTemplate

    rng = random.Random(seed)
    database = Database(url)
    now = dt.datetime.now(dt.UTC)
    with database.transaction() as session:
        tenant = tenants.create_tenant(
            session, slug="bench", name="Bench", kind=TenantKind.CREDITOR, actor="bench"
        )
        tenant_id = tenant.id
        creditor = tenants.add_creditor(
            session,
            tenant,
            legal_name="Credor Bench S.A.",
            cnpj="11222333000181",
            address="Rua Um, 1",
            city="São Paulo",
            uf="SP",
            actor="bench",
        )
        creditor_id = creditor.id
        channel = WhatsAppChannel(
            tenant_id=tenant_id,
            name="bench",
            phone_number_id="100000000000001",
            waba_id="200000000000001",
            access_token_enc="x",
            app_secret_enc="x",
            verify_token_enc="x",
            throughput_mps=1000,
            messaging_tier_limit=None,
        )
        session.add(channel)
        session.flush()
        channel.messaging_tier_limit = None  # unlimited: None must survive the column default
        for name in (
            "quita_confirmacao_identidade",
            "quita_lembrete_vencimento",
            "quita_vencimento_hoje",
            "quita_em_atraso",
        ):
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
    ufs = ["SP", "RJ", "MG", "BA", "PR", "RS", "PE", "CE", "AM", "GO"]
    today = PLAN_AT.date()
    chunk = 50_000
    for start in range(0, debts, chunk):
        debtor_rows, contact_rows, debt_rows, confirmed_rows = [], [], [], []
        for n in range(start, min(debts, start + chunk)):
            debtor_id, contact_id = uuid.uuid4(), uuid.uuid4()
            debtor_rows.append(
                (debtor_id, f"Pessoa {n}", "cpf", f"{n:011d}", rng.choice(ufs), False, False, False)
            )
            contact_rows.append(
                (contact_id, debtor_id, "phone", f"+5511{900000000 + n}", "contract", "valid", now)
            )
            due = today + dt.timedelta(days=rng.randint(-SPREAD_DAYS // 2, SPREAD_DAYS // 2))
            debt_rows.append(
                (
                    uuid.uuid4(),
                    debtor_id,
                    f"T{n}",
                    creditor_id,
                    Decimal(rng.randint(5_000, 500_000)) / 100,
                    due,
                    "open",
                )
            )
            if rng.random() < 0.7:
                confirmed_rows.append((uuid.uuid4(), debtor_id, contact_id, "bench", now))
        with database.engine.begin() as conn:
            common = {"tenant_id": tenant_id, "created_at": now}
            bulk_insert(
                conn,
                _table(Debtor),
                [
                    "id",
                    "name",
                    "document_kind",
                    "document",
                    "uf",
                    "is_deceased",
                    "is_vulnerable",
                    "in_dispute",
                ],
                debtor_rows,
                {**common, "updated_at": now},
            )
            bulk_insert(
                conn,
                _table(ContactPoint),
                [
                    "id",
                    "debtor_id",
                    "kind",
                    "value",
                    "provenance",
                    "status",
                    "opt_in_at",
                ],
                contact_rows,
                {**common, "updated_at": now},
            )
            bulk_insert(
                conn,
                _table(Debt),
                [
                    "id",
                    "debtor_id",
                    "external_id",
                    "creditor_id",
                    "principal",
                    "due_date",
                    "status",
                ],
                debt_rows,
                {**common, "updated_at": now, "currency": "BRL"},
            )
            bulk_insert(
                conn,
                _table(IdentityConfirmation),
                [
                    "id",
                    "debtor_id",
                    "contact_id",
                    "method",
                    "confirmed_at",
                ],
                confirmed_rows,
                common,
            )
    with database.engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    database.dispose()
    return tenant_id


def _baseline(url: str, tenant_id: uuid.UUID, lo: int, hi: int, batch: int) -> tuple[int, float]:
    """Bare keyset scan of the same candidate rows: the floor any planner pays."""
    from quita.portfolio.models import Debt

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    today = PLAN_AT.date()
    started = time.perf_counter()
    seen = 0
    after = None
    with engine.connect() as conn:
        while True:
            query = (
                sa.select(Debt.id, Debt.debtor_id, Debt.principal, Debt.due_date)
                .where(
                    Debt.tenant_id == tenant_id,
                    Debt.status == "open",
                    Debt.due_date >= today - dt.timedelta(days=hi),
                    Debt.due_date <= today - dt.timedelta(days=lo),
                )
                .order_by(Debt.id)
                .limit(batch)
            )
            if after is not None:
                query = query.where(Debt.id > after)
            rows = conn.execute(query).all()
            if not rows:
                break
            seen += len(rows)
            after = rows[-1].id
    engine.dispose()
    return seen, time.perf_counter() - started


def run(debts: int, postgres_url: str, seed: int = 1, batch_size: int = 5000) -> list[PlanBenchResult]:
    from quita.cadence.defaults import default_cadence
    from quita.cadence.planner import plan_tenant
    from quita.kit.db import Database

    url, drop = fresh_postgres_schema(postgres_url)
    try:
        started = time.perf_counter()
        tenant_id = _populate(url, debts, seed)
        populate_s = time.perf_counter() - started
        lo, hi = default_cadence().offset_range
        scanned, base_s = _baseline(url, tenant_id, lo - 1, hi + 1, batch_size)
        database = Database(url)
        stats = plan_tenant(database, tenant_id, PLAN_AT, batch_size=batch_size)
        again = plan_tenant(database, tenant_id, PLAN_AT + dt.timedelta(minutes=1), batch_size=batch_size)
        database.dispose()
    finally:
        drop()
    detail = (
        f"{stats.scanned:,} no intervalo dos passos; {stats.candidates:,} decididos: {stats.allowed:,} envia, "
        f"{stats.deferred:,} adiados, {stats.blocked:,} bloqueados"
    )
    return [
        PlanBenchResult(
            "linha de base: varredura pura dos candidatos", debts, base_s, f"{scanned:,} linhas lidas"
        ),
        PlanBenchResult("plan: 1º tique do dia (PostgreSQL)", debts, stats.seconds, detail),
        PlanBenchResult(
            "plan: tique seguinte (nada novo)",
            debts,
            again.seconds,
            f"{again.candidates:,} decididos, {again.skipped:,} já resolvidos",
        ),
        PlanBenchResult("(preparo: carteira via COPY)", debts, populate_s, "não conta na meta"),
    ]


def print_table(results: list[PlanBenchResult]) -> None:
    from rich.table import Table

    from quita.kit.cli import console

    table = Table(
        title=f"quita bench plan — {results[0].debts:,} títulos em aberto (PostgreSQL)".replace(",", ".")
    )
    for column in ("caso", "segundos", "títulos/s", "detalhe", "meta", "ok?"):
        table.add_column(column, justify="left" if column in ("caso", "detalhe") else "right")
    for r in results:
        first = r.name.startswith("plan: 1º")
        table.add_row(
            r.name,
            f"{r.seconds:.1f}",
            f"{r.rate:,.0f}",
            r.detail,
            "≥ 20.000/s" if first else "",
            ("sim" if r.rate >= 20_000 else "NÃO") if first else "",
        )
    console.print(table)

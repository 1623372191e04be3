"""Every real-world CNAB return in ../shared/conformance/cnab applied against charges whose nosso números
match its settlement titles: every settlement is matched, credited once, and nothing else is touched."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from quita.kit.db import Database
from quita.payments import reconciliation
from quita.payments.domain.cnab_return import parse_cnab_return
from quita.payments.domain.matching import file_keys
from quita.payments.models import Charge, ChargeKind, Payment, PaymentOutcome
from tests.factories import make_tenant
from tests.payments.conftest import CONFORMANCE_DIR

FILES = (
    sorted(p.name for p in (CONFORMANCE_DIR / "cnab").glob("*") if p.suffix.lower() != ".json")
    if (CONFORMANCE_DIR / "cnab").is_dir()
    else []
)


@pytest.mark.parametrize("name", FILES or ["absent"])
def test_conformance_return_applies_to_matching_charges(database: Database, name: str) -> None:
    path = CONFORMANCE_DIR / "cnab" / name
    if not path.is_file():
        pytest.skip("conformance CNAB files not available")
    content = path.read_bytes()
    parsed = parse_cnab_return(content)
    settlements = [t for t in parsed.titles if t.is_settlement]
    tenant_id = make_tenant(database)
    with database.transaction() as session:
        for title in settlements:
            amount = title.amount if title.amount > 0 else title.amount_paid
            session.add(
                Charge(
                    tenant_id=tenant_id,
                    kind=ChargeKind.BOLETO,
                    amount=amount,
                    itemisation={},
                    bank=parsed.bank,
                    due_date=title.due_date or dt.date(2026, 1, 1),
                    nosso_numero=title.nosso_numero,
                    nn_key=file_keys(title.nosso_numero)[0],
                    created_by="test",
                )
            )
        session.add(
            Charge(  # a charge the file does not mention stays untouched
                tenant_id=tenant_id,
                kind=ChargeKind.BOLETO,
                amount=Decimal("1.00"),
                itemisation={},
                bank=parsed.bank,
                due_date=dt.date(2026, 1, 1),
                nosso_numero="99999999999",
                nn_key="99999999999",
                created_by="test",
            )
        )
    with database.transaction() as session:
        result = reconciliation.import_return(session, tenant_id, content, filename=name, actor="test")
    assert result.settlements == len(settlements)
    assert result.count(PaymentOutcome.UNMATCHED) == 0
    assert result.count(PaymentOutcome.DUPLICATE) == 0
    assert result.credited == parsed.summary.total_paid_settled
    with database.transaction() as session:
        again = reconciliation.import_return(session, tenant_id, content, filename=name, actor="test")
        untouched = session.scalar(sa.select(Charge).where(Charge.nn_key == "99999999999"))
        payments = session.scalar(sa.select(sa.func.count()).select_from(Payment))
    assert again.already_imported and again.credited == 0
    assert payments == len(settlements)
    assert untouched is not None and untouched.amount_paid == 0

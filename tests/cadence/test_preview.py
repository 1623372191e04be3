"""``quita cadence preview`` explains every contact held back, including the ones decided earlier."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from quita.cadence.cli import app
from quita.cadence.planner import plan_tenant
from quita.config import get_settings
from quita.dispatch.models import OutboxMessage, OutboxStatus
from quita.kit.db import Database
from quita.whatsapp.models import WhatsAppChannel
from tests.cadence.portfolio import add_debts, confirm_all, setup_tenant

runner = CliRunner()
DUE = dt.date(2026, 3, 17)


@pytest.fixture
def cli_db(database: Database, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("QUITA_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database
    get_settings.cache_clear()


def _preview(*args: str) -> list[dict[str, str]]:
    result = runner.invoke(app, ["preview", "--date", "2026-03-17", "--tenant", "acme", "--csv", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return list(csv.DictReader(io.StringIO(result.output)))


def test_preview_shows_stored_decisions_of_contacts_already_decided_today(cli_db: Database) -> None:
    tenant_id, _ = setup_tenant(cli_db, tier=None)
    add_debts(cli_db, tenant_id, 3, due=DUE)
    add_debts(cli_db, tenant_id, 1, due=DUE, opt_in=False, start=7)  # blocked: no opt-in (CHAN-01)
    confirm_all(cli_db, tenant_id)
    assert len(_preview()) == 4  # before any tick: four fresh decisions
    stats = plan_tenant(cli_db, tenant_id, dt.datetime(2026, 3, 17, 14, 0, tzinfo=dt.UTC))
    assert (stats.allowed, stats.blocked) == (3, 1)
    with cli_db.transaction() as session:
        ids = list(session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.recipient)))
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == ids[0])
            .values(status=OutboxStatus.SENT, wamid="wamid.A")
        )
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == ids[1])
            .values(status=OutboxStatus.FAILED, failed_reason="131026: undeliverable")
        )

    rows = _preview()
    # the planner re-decides none of them (already in the outbox or blocked today) — yet all four are explained
    assert len(rows) == 4 and {r["origem"] for r in rows} == {"gravada"}
    by_decision = sorted((r["decisao"], r["regras"]) for r in rows)
    assert by_decision == [
        ("bloqueada", "CHAN-01"),
        ("enviada", "OUTBOX"),
        ("falhou", "OUTBOX"),
        ("planejada", "OUTBOX"),
    ]
    failed = next(r for r in rows if r["decisao"] == "falhou")
    assert "131026: undeliverable" in failed["motivos"]
    blocked = next(r for r in rows if r["decisao"] == "bloqueada")
    assert blocked["telefone"].startswith("+55") and blocked["devedor"] == "Maria 7 da Silva"

    table = runner.invoke(app, ["preview", "--date", "2026-03-17", "--tenant", "acme"])
    assert "já decidida" in table.output and "já decididas antes: 4" in table.output


def test_preview_shows_a_stored_deferral_until_its_moment(cli_db: Database) -> None:
    tenant_id, _ = setup_tenant(cli_db, tier=None)
    add_debts(cli_db, tenant_id, 1, due=DUE)
    confirm_all(cli_db, tenant_id)
    late = dt.datetime(2026, 3, 17, 23, 30, tzinfo=dt.UTC)  # 20:30 in São Paulo: outside the window
    assert plan_tenant(cli_db, tenant_id, late).deferred == 1
    rows = _preview("--at", "20:45")
    assert len(rows) == 1
    assert rows[0]["decisao"] == "adiada" and rows[0]["origem"] == "gravada" and rows[0]["a_partir_de"]
    assert rows[0]["regras"]  # the rules that deferred it


def test_unlimited_tier_is_stored_as_none(database: Database) -> None:
    from quita.whatsapp import service as wa
    from tests.factories import make_tenant

    tenant_id = make_tenant(database, "ilimitado")
    with database.transaction() as session:
        wa.create_channel(
            session,
            tenant_id=tenant_id,
            phone_number_id="100000000000009",
            waba_id="2009",
            access_token="t",
            app_secret="s",
            verify_token="v",
            actor="test",
            messaging_tier_limit=None,
        )
        wa.create_channel(
            session,
            tenant_id=tenant_id,
            phone_number_id="100000000000010",
            waba_id="2010",
            access_token="t",
            app_secret="s",
            verify_token="v",
            actor="test",
        )
    with database.transaction() as session:
        tiers = {
            number: limit
            for number, limit in session.execute(
                select(WhatsAppChannel.phone_number_id, WhatsAppChannel.messaging_tier_limit)
            )
        }
    assert tiers == {"100000000000009": None, "100000000000010": 250}

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from quita.cadence.models import PlanDecision
from quita.cadence.planner import PlanItem, plan_tenant
from quita.dispatch.models import OutboxMessage, OutboxStatus
from quita.kit.db import Database
from quita.portfolio.models import Debt, Provenance
from tests.cadence.portfolio import add_debts, confirm_all, setup_tenant

TUESDAY_11H_SP = dt.datetime(2026, 3, 17, 14, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 17)


def _outbox(database: Database) -> list[OutboxMessage]:
    with database.transaction() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.recipient)))


def test_unconfirmed_debtors_get_only_the_identity_check(database: Database) -> None:
    tenant_id, channel_id = setup_tenant(database)
    add_debts(database, tenant_id, 3, due=TODAY + dt.timedelta(days=5))
    stats = plan_tenant(database, tenant_id, TUESDAY_11H_SP)
    assert (stats.scanned, stats.allowed) == (3, 3)
    rows = _outbox(database)
    assert {r.template_name for r in rows} == {"quita_confirmacao_identidade"}
    assert {r.step_key for r in rows} == {"D-5/identity"}
    assert rows[0].kind == "identity_check" and rows[0].channel_id == channel_id
    assert rows[0].template_params == ["Credor acme S.A.", "Maria 0 da Silva"]  # no amount, no due date
    assert rows[0].ruleset_version and rows[0].status == OutboxStatus.PENDING


def test_confirmed_debtors_get_the_step_and_replanning_is_idempotent(database: Database) -> None:
    tenant_id, _ = setup_tenant(database)
    add_debts(database, tenant_id, 2, due=TODAY)
    confirm_all(database, tenant_id)
    first = plan_tenant(database, tenant_id, TUESDAY_11H_SP)
    again = plan_tenant(database, tenant_id, TUESDAY_11H_SP + dt.timedelta(minutes=1))
    assert first.allowed == 2 and again.allowed == 0 and again.skipped == 2
    rows = _outbox(database)
    assert len(rows) == 2 and {r.step_key for r in rows} == {"D0"}
    assert rows[0].template_name == "quita_vencimento_hoje"
    assert rows[0].template_params == [
        "Maria",
        "março/2026",
        "Credor acme S.A., Rua Um, 1, Centro, São Paulo/SP",
        "11.222.333/0001-81",
        "R$ 150,00",
    ]


def test_night_is_deferred_with_the_earliest_moment_and_recorded(database: Database) -> None:
    tenant_id, _ = setup_tenant(database)
    add_debts(database, tenant_id, 1, due=TODAY)
    confirm_all(database, tenant_id)
    night = dt.datetime(2026, 3, 18, 0, 30, tzinfo=dt.UTC)  # 21:30 in São Paulo on the due date
    seen: list[PlanItem] = []
    stats = plan_tenant(database, tenant_id, night, on_item=seen.append)
    assert stats.deferred == 1 and not _outbox(database)
    with database.transaction() as session:
        decision = session.scalars(select(PlanDecision)).one()
    assert decision.outcome == "deferred"
    assert decision.earliest_at == dt.datetime(2026, 3, 18, 11, 0, tzinfo=dt.UTC)  # 08:00 local
    assert "TIME-SP" in {r["rule_id"] for r in decision.reasons}
    # Before the earliest moment the planner does not even re-evaluate it; after it, it is sent.
    assert plan_tenant(database, tenant_id, night + dt.timedelta(hours=1)).candidates == 0
    assert plan_tenant(database, tenant_id, dt.datetime(2026, 3, 18, 11, 1, tzinfo=dt.UTC)).allowed == 1


def test_blocks_are_recorded_with_reasons(database: Database) -> None:
    tenant_id, _ = setup_tenant(database)
    add_debts(database, tenant_id, 1, due=TODAY, opt_in=False)
    add_debts(database, tenant_id, 1, due=TODAY, provenance=Provenance.ENRICHED, start=10)
    confirm_all(database, tenant_id)
    stats = plan_tenant(database, tenant_id, TUESDAY_11H_SP)
    assert stats.blocked == 2
    with database.transaction() as session:
        reasons = {r["rule_id"] for d in session.scalars(select(PlanDecision)) for r in d.reasons}
    assert {"CHAN-01", "ID-03"} <= reasons


def test_frequency_cap_counts_the_person_across_debts(database: Database) -> None:
    tenant_id, _ = setup_tenant(database)
    add_debts(database, tenant_id, 1, due=TODAY)
    confirm_all(database, tenant_id)
    plan_tenant(database, tenant_id, TUESDAY_11H_SP)
    # A second debt of the same person, due the same day, is held back by the daily cap.
    from quita.portfolio.models import Debt

    with database.transaction() as session:
        first = session.scalars(select(Debt)).one()
        session.add(
            Debt(
                tenant_id=tenant_id,
                debtor_id=first.debtor_id,
                external_id="T-2",
                creditor_id=first.creditor_id,
                principal=first.principal,
                due_date=TODAY,
            )
        )
    stats = plan_tenant(database, tenant_id, TUESDAY_11H_SP + dt.timedelta(minutes=5))
    assert stats.deferred == 1 and stats.allowed == 0


def test_debts_outside_every_step_window_are_not_candidates(database: Database) -> None:
    tenant_id, _ = setup_tenant(database)
    add_debts(database, tenant_id, 2, due=TODAY + dt.timedelta(days=20))
    add_debts(database, tenant_id, 1, due=TODAY - dt.timedelta(days=7), start=5)  # D+7: after D+3's grace
    stats = plan_tenant(database, tenant_id, TUESDAY_11H_SP)
    assert stats.scanned == 0 and stats.candidates == 0  # the SQL prefilter reads only days a step is active
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_debt_the_bot_paused_is_held_back_with_the_reason(database: Database) -> None:
    tenant_id, _ = setup_tenant(database)
    paused, running = add_debts(database, tenant_id, 2, due=TODAY)
    confirm_all(database, tenant_id)
    with database.transaction() as session:
        session.get(Debt, paused).tags = ["pausa:already_paid"]  # type: ignore[union-attr]
    plan_tenant(database, tenant_id, TUESDAY_11H_SP)
    with database.transaction() as session:
        assert set(session.scalars(select(OutboxMessage.debt_id))) == {running}
        decision = session.scalars(select(PlanDecision).where(PlanDecision.debt_id == paused)).one()
    assert decision.outcome == "blocked"
    assert [r["rule_id"] for r in decision.reasons] == ["BOT-PAUSE"]
    assert "já pagou" in decision.reasons[0]["message_pt"]

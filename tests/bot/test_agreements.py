"""Agreements after acceptance, on SQLite and PostgreSQL: the first instalment's boleto and Pix sent at once,
payments (CNAB and Pix) advancing the agreement to ``kept``, the tick's reminders through the outbox (gate,
idempotency), breaking after N days with the paid part credited, promises and receipt pauses."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from quita.audit.models import AuditEvent
from quita.bot import timers
from quita.bot.models import Agreement, AgreementInstallment, PaymentPromise, ReceiptReview
from quita.dispatch.models import OutboxMessage, OutboxStatus
from quita.kit.db import Database
from quita.payments import reconciliation
from quita.payments import service as payments
from quita.payments.models import Charge, ChargeKind, ChargeStatus
from quita.payments.schemas import PixItem
from quita.portfolio.models import Debt, DebtStatus
from quita.whatsapp import templates
from quita.whatsapp.domain.messages import DocumentMessage, TextMessage
from tests.bot import test_service as service_tests
from tests.bot.test_service import TODAY, Debtor, Outbox
from tests.payments.builders import BB_FIELDS, pix_item, return_file_for

# 10:00 in São Paulo on a Wednesday: inside the contact window.
MORNING = dt.datetime(2026, 3, 4, 13, 0, tzinfo=dt.UTC)


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> Outbox:
    """Replies recorded instead of sent (the service tests' recorder); charges need the secret key set."""
    from cryptography.fernet import Fernet

    from quita.bot import service

    monkeypatch.setenv("QUITA_SECRET_KEY", Fernet.generate_key().decode())
    box = service_tests.Outbox()
    monkeypatch.setattr(service, "_send", box.send)
    return box


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    from quita.config import get_settings

    monkeypatch.setenv("QUITA_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _account(database: Database, tenant_id: uuid.UUID) -> None:
    with database.transaction() as session:
        payments.configure_account(session, tenant_id, creditor_id=None, changes={
            "bank": "001", "boleto_fields": BB_FIELDS, "pix_key": "cobranca@acme.com.br",
            "merchant_name": "ACME COBRANCAS", "merchant_city": "SAO PAULO",
        }, actor="test")  # fmt: skip


def _templates(database: Database, tenant_id: uuid.UUID) -> None:
    """The starter templates approved on the number, and the debtor's WhatsApp opt-in (CHAN-01)."""
    from quita.kit.db import utcnow
    from quita.portfolio.models import ContactPoint

    with database.transaction() as session:
        for definition in templates.starter_definitions():
            templates.upsert(session, tenant_id, "2002", {**definition, "status": "APPROVED"})
        for contact in session.scalars(select(ContactPoint).where(ContactPoint.tenant_id == tenant_id)):
            contact.opt_in_at = utcnow()


def _agree(database: Database, box: Outbox, installments: int = 3) -> Debtor:
    d = Debtor(database, box)
    _account(database, d.tenant_id)
    d.tap("id_yes")
    d.say("529")
    d.say(f"quero parcelar em {installments}x")
    confirm_wamid, _ = box.sent[-1]
    d.tap(f"accept:{installments}", confirm_wamid)
    return d


def _items(database: Database, tenant_id: uuid.UUID) -> list[AgreementInstallment]:
    with database.transaction() as session:
        return list(
            session.scalars(
                select(AgreementInstallment)
                .where(AgreementInstallment.tenant_id == tenant_id)
                .order_by(AgreementInstallment.number)
            )
        )


def _charges(database: Database, installment_id: uuid.UUID) -> list[Charge]:
    with database.transaction() as session:
        return list(
            session.scalars(
                select(Charge)
                .where(Charge.agreement_installment_id == installment_id)
                .order_by(Charge.created_at)
            )
        )


def _agreement(database: Database, tenant_id: uuid.UUID) -> Agreement:
    with database.transaction() as session:
        return session.scalars(select(Agreement).where(Agreement.tenant_id == tenant_id)).one()


def _debt(database: Database, debt_id: uuid.UUID) -> Debt:
    with database.transaction() as session:
        return session.get_one(Debt, debt_id)


def _pay_by_boleto(database: Database, tenant_id: uuid.UUID, charge: Charge, paid_on: dt.date) -> None:
    with database.transaction() as session:
        content = return_file_for([(charge, charge.amount)], paid_on=paid_on)
        reconciliation.import_return(session, tenant_id, content, filename=f"R{charge.id}.ret", actor="test")


def _pay_by_pix(database: Database, tenant_id: uuid.UUID, charge: Charge) -> None:
    with database.transaction() as session:
        item = PixItem.model_validate(pix_item(charge.txid, str(charge.amount)))
        reconciliation.apply_pix_items(session, tenant_id, [item], actor="test")


def _open_window(database: Database, d: Debtor) -> None:
    """Binds the bot's conversation to the WhatsApp conversation its replies were recorded in (the test's
    payloads carry a made-up id) and marks the debtor's last message a moment ago."""
    from quita.bot.models import BotConversation
    from quita.kit.db import utcnow
    from quita.whatsapp.models import Conversation

    with database.transaction() as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.tenant_id == d.tenant_id)
        ).one()
        conversation.last_inbound_at, conversation.wa_id = utcnow(), "5511987654321"
        bot_row = session.scalars(
            select(BotConversation).where(BotConversation.tenant_id == d.tenant_id)
        ).one()
        bot_row.wa_conversation_id = conversation.id


def _outbox_rows(database: Database, tenant_id: uuid.UUID) -> list[OutboxMessage]:
    with database.transaction() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.tenant_id == tenant_id)
                .order_by(OutboxMessage.created_at)
            )
        )


def _actions(database: Database, tenant_id: uuid.UUID, prefix: str) -> list[str]:
    with database.transaction() as session:
        return list(
            session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.tenant_id == tenant_id, AuditEvent.action.like(f"{prefix}%")
                )
            )
        )


def test_acceptance_sends_the_first_instalment_boleto_and_pix(
    database: Database, outbox: Outbox, data_dir: Path
) -> None:
    d = _agree(database, outbox)
    first, *rest = _items(database, d.tenant_id)
    charges = _charges(database, first.id)
    assert {c.kind for c in charges} == {ChargeKind.BOLETO, ChargeKind.PIX}
    assert all(c.amount == first.amount and c.due_date == first.due_date for c in charges)
    assert first.charge_id == charges[0].id
    assert all(_charges(database, i.id) == [] for i in rest)  # later instalments wait
    (_, message), (_, document) = outbox.sent[-2:]
    assert isinstance(message, TextMessage)
    boleto = next(c for c in charges if c.kind == ChargeKind.BOLETO)
    pix = next(c for c in charges if c.kind == ChargeKind.PIX)
    assert boleto.linha_digitavel in message.body and pix.brcode in message.body
    assert "Parcela 1/3 do acordo" in message.body
    # then the boleto's PDF as a document (its bytes are checked over HTTP in the e2e tests)
    assert isinstance(document, DocumentMessage) and document.filename == f"boleto-{boleto.due_date}.pdf"
    assert document.caption is not None and boleto.due_date.strftime("%d/%m/%Y") in document.caption
    assert _debt(database, d.debt_id).status == DebtStatus.IN_AGREEMENT


def test_second_copy_in_agreement_is_the_instalment_not_the_debt(
    database: Database, outbox: Outbox, data_dir: Path
) -> None:
    d = _agree(database, outbox)
    first = _items(database, d.tenant_id)[0]
    before = len(_charges(database, first.id))
    d.say("me manda o boleto")
    (_, message), (_, document) = outbox.sent[-2:]
    assert isinstance(message, TextMessage) and "Parcela 1/3 do acordo" in message.body
    assert isinstance(document, DocumentMessage)  # the instalment's boleto PDF again
    assert len(_charges(database, first.id)) == before  # the live charges are sent again, none issued
    with database.transaction() as session:
        plain = session.scalar(
            select(func.count()).select_from(Charge).where(
                Charge.debt_id == d.debt_id, Charge.agreement_installment_id.is_(None)
            )
        )  # fmt: skip
    assert plain == 0


def test_a_boleto_pdf_meta_refuses_is_not_handed_to_a_person(
    database: Database, outbox: Outbox, data_dir: Path
) -> None:
    """The codes went in the text before it: a refused document is logged, nobody is asked to follow up."""
    from quita.bot.models import HandoffItem

    d = _agree(database, outbox)
    outbox.refuse_documents = True
    d.say("me manda o boleto")
    _, message = outbox.sent[-1]
    assert isinstance(message, TextMessage) and "Parcela 1/3 do acordo" in message.body
    with database.transaction() as session:
        assert session.scalars(select(HandoffItem).where(HandoffItem.tenant_id == d.tenant_id)).all() == []


def test_payments_advance_the_agreement_until_kept_and_the_debt_paid(
    database: Database, outbox: Outbox, data_dir: Path
) -> None:
    d = _agree(database, outbox)
    items = _items(database, d.tenant_id)
    boleto = next(c for c in _charges(database, items[0].id) if c.kind == ChargeKind.BOLETO)
    _pay_by_boleto(database, d.tenant_id, boleto, TODAY)
    items = _items(database, d.tenant_id)
    assert [i.status for i in items] == ["paid", "open", "open"]
    assert _debt(database, d.debt_id).status == DebtStatus.IN_AGREEMENT
    sibling = next(c for c in _charges(database, items[0].id) if c.kind == ChargeKind.PIX)
    assert sibling.status == ChargeStatus.CANCELLED  # the same instalment is not payable twice
    # The tick issues the next instalment once the previous one is paid, and sends it: the debtor wrote
    # within 24 h, so the window is open.
    _open_window(database, d)
    sent_before = len(outbox.sent)
    stats = timers.run_tick(database, now=MORNING, today=TODAY)
    assert stats.charges == 1 and not stats.errors
    (_, advanced), *_ = outbox.sent[sent_before:]
    assert isinstance(advanced, TextMessage)
    assert "Recebemos o pagamento" in advanced.body and "Parcela 2/3 do acordo" in advanced.body
    assert timers.run_tick(database, now=MORNING, today=TODAY).charges == 0
    second = _charges(database, items[1].id)
    assert {c.amount for c in second} == {items[1].amount}
    _pay_by_pix(database, d.tenant_id, next(c for c in second if c.kind == ChargeKind.PIX))
    timers.run_tick(database, now=MORNING, today=TODAY)
    third = next(c for c in _charges(database, items[2].id) if c.kind == ChargeKind.BOLETO)
    _pay_by_boleto(database, d.tenant_id, third, TODAY)
    assert [i.status for i in _items(database, d.tenant_id)] == ["paid", "paid", "paid"]
    assert _agreement(database, d.tenant_id).status == "kept"
    assert _debt(database, d.debt_id).status == DebtStatus.PAID
    assert "bot.agreement.kept" in _actions(database, d.tenant_id, "bot.agreement")


def test_unpaid_instalment_breaks_the_agreement_after_n_days_with_the_paid_part_credited(
    database: Database, outbox: Outbox, data_dir: Path
) -> None:
    d = _agree(database, outbox)
    items = _items(database, d.tenant_id)
    _pay_by_boleto(
        database, d.tenant_id, next(c for c in _charges(database, items[0].id) if c.kind == "boleto"), TODAY
    )
    timers.run_tick(database, now=MORNING, today=TODAY)
    due = items[1].due_date
    assert timers.run_tick(database, now=MORNING, today=due + dt.timedelta(days=4)).broken == 0
    stats = timers.run_tick(database, now=MORNING, today=due + dt.timedelta(days=5))
    assert stats.broken == 1
    assert timers.run_tick(database, now=MORNING, today=due + dt.timedelta(days=6)).broken == 0
    agreement = _agreement(database, d.tenant_id)
    assert agreement.status == "broken"
    assert [i.status for i in _items(database, d.tenant_id)] == ["paid", "cancelled", "cancelled"]
    assert all(c.status == ChargeStatus.CANCELLED for c in _charges(database, items[1].id))
    assert _debt(database, d.debt_id).status == DebtStatus.OPEN
    with database.transaction() as session:
        assert payments.credited_so_far(session, d.tenant_id, d.debt_id) == items[0].amount
    assert "bot.agreement.broken" in _actions(database, d.tenant_id, "bot.agreement")
    # Collection resumes on the balance: a new charge bills the updated amount minus what was paid.
    with database.transaction() as session:
        charge = payments.issue_charge(session, d.tenant_id, d.debt_id, kind=ChargeKind.PIX, actor="test",
                                       today=due + dt.timedelta(days=6))  # fmt: skip
        assert charge.itemisation["already_paid"] == str(items[0].amount)


def test_break_after_days_comes_from_the_policy(database: Database, outbox: Outbox, data_dir: Path) -> None:
    from quita.bot.dialog.policy import NegotiationPolicy
    from quita.bot.service import set_policy

    d = _agree(database, outbox)
    with database.transaction() as session:
        debt = session.get_one(Debt, d.debt_id)
        set_policy(session, d.tenant_id, debt.creditor_id, NegotiationPolicy(break_after_days=2), "cpf3")
    due = _items(database, d.tenant_id)[0].due_date
    assert timers.run_tick(database, now=MORNING, today=due + dt.timedelta(days=1)).broken == 0
    assert timers.run_tick(database, now=MORNING, today=due + dt.timedelta(days=2)).broken == 1


def test_instalment_reminders_go_through_the_gate_and_the_outbox_once(
    database: Database, outbox: Outbox, data_dir: Path
) -> None:
    d = _agree(database, outbox)
    _templates(database, d.tenant_id)
    first = _items(database, d.tenant_id)[0]
    night = dt.datetime(2026, 3, 4, 5, 0, tzinfo=dt.UTC)  # 02:00 in São Paulo: outside the contact window
    the_day_before = first.due_date - dt.timedelta(days=1)
    deferred = timers.run_tick(database, now=night, today=the_day_before)
    assert deferred.deferred == 1 and deferred.reminders == 0 and _outbox_rows(database, d.tenant_id) == []
    assert timers.run_tick(database, now=MORNING, today=the_day_before).reminders == 1
    assert timers.run_tick(database, now=MORNING, today=the_day_before).reminders == 0  # idempotent
    (row,) = _outbox_rows(database, d.tenant_id)
    assert row.template_name == timers.INSTALLMENT_TEMPLATE and row.kind == "agreement_reminder"
    assert row.debt_id is None and row.status == OutboxStatus.PENDING
    params = row.template_params
    assert params[0] == "Maria" and params[4] == "parcela 1/3" and params[5].startswith("R$")
    assert params[6] == f"vence amanhã, {first.due_date.strftime('%d/%m/%Y')}"
    assert timers.run_tick(database, now=MORNING, today=first.due_date).reminders == 1
    assert [r.template_params[6].split(",")[0] for r in _outbox_rows(database, d.tenant_id)] == [
        "vence amanhã", "vence hoje",
    ]  # fmt: skip
    # Paying cancels what is still waiting in the outbox.
    boleto = next(c for c in _charges(database, first.id) if c.kind == ChargeKind.BOLETO)
    _pay_by_boleto(database, d.tenant_id, boleto, first.due_date)
    assert {r.status for r in _outbox_rows(database, d.tenant_id)} == {OutboxStatus.CANCELLED}


def test_reminders_wait_for_a_registered_template(database: Database, outbox: Outbox, data_dir: Path) -> None:
    d = _agree(database, outbox)
    first = _items(database, d.tenant_id)[0]
    stats = timers.run_tick(database, now=MORNING, today=first.due_date)
    assert stats.reminders == 0 and stats.skipped == 1 and _outbox_rows(database, d.tenant_id) == []


def _promise(database: Database, box: Outbox) -> tuple[Debtor, dt.date]:
    d = Debtor(database, box)
    _account(database, d.tenant_id)
    d.tap("id_yes")
    d.say("529")
    d.say("posso pagar dia 10")
    with database.transaction() as session:
        promise = session.scalars(select(PaymentPromise).where(PaymentPromise.tenant_id == d.tenant_id)).one()
        return d, promise.due_date


def _promise_status(database: Database, tenant_id: uuid.UUID) -> str:
    with database.transaction() as session:
        return session.scalars(
            select(PaymentPromise.status).where(PaymentPromise.tenant_id == tenant_id)
        ).one()


def test_promise_reminded_the_day_before_and_broken_the_day_after(
    database: Database, outbox: Outbox, data_dir: Path
) -> None:
    d, due = _promise(database, outbox)
    _templates(database, d.tenant_id)
    assert timers.run_tick(database, now=MORNING, today=due - dt.timedelta(days=2)).promise_reminders == 0
    assert timers.run_tick(database, now=MORNING, today=due - dt.timedelta(days=1)).promise_reminders == 1
    assert timers.run_tick(database, now=MORNING, today=due - dt.timedelta(days=1)).promise_reminders == 0
    (row,) = _outbox_rows(database, d.tenant_id)
    assert row.template_name == timers.PROMISE_TEMPLATE and row.debt_id == d.debt_id
    assert row.template_params[4] == due.strftime("%d/%m/%Y") and "CNPJ" not in row.template_params[2]
    assert timers.run_tick(database, now=MORNING, today=due).promises_broken == 0
    assert timers.run_tick(database, now=MORNING, today=due + dt.timedelta(days=1)).promises_broken == 1
    assert _promise_status(database, d.tenant_id) == "broken"


def test_payment_on_or_before_the_date_keeps_the_promise(
    database: Database, outbox: Outbox, data_dir: Path
) -> None:
    d, _due = _promise(database, outbox)
    with database.transaction() as session:
        charge = payments.issue_charge(
            session, d.tenant_id, d.debt_id, kind=ChargeKind.PIX, actor="test", today=TODAY
        )
    _pay_by_pix(database, d.tenant_id, charge)  # paid 2026-03-02, the promise is for the 10th
    assert _promise_status(database, d.tenant_id) == "kept"
    assert _debt(database, d.debt_id).status == DebtStatus.PAID


def _claim_paid(database: Database, box: Outbox) -> Debtor:
    d = Debtor(database, box)
    _account(database, d.tenant_id)
    d.tap("id_yes")
    d.say("529")
    d.say("ja paguei")
    from quita.bot import service

    service.handle_inbound(database, d._payload(media_id="media-1"), today=TODAY)
    return d


def _review(database: Database, tenant_id: uuid.UUID) -> ReceiptReview:
    with database.transaction() as session:
        return session.scalars(select(ReceiptReview).where(ReceiptReview.tenant_id == tenant_id)).one()


def test_matching_payment_closes_the_receipt_review(
    database: Database, outbox: Outbox, data_dir: Path
) -> None:
    d = _claim_paid(database, outbox)
    assert _review(database, d.tenant_id).status == "open"
    assert "pausa:already_paid" in (_debt(database, d.debt_id).tags or [])
    with database.transaction() as session:
        charge = payments.issue_charge(
            session, d.tenant_id, d.debt_id, kind=ChargeKind.PIX, actor="test", today=TODAY
        )
    _pay_by_pix(database, d.tenant_id, charge)
    review = _review(database, d.tenant_id)
    assert review.status == "confirmed" and review.paused_until is None
    assert "pausa:already_paid" not in (_debt(database, d.debt_id).tags or [])


def test_receipt_pause_ends_on_its_date(database: Database, outbox: Outbox, data_dir: Path) -> None:
    d = _claim_paid(database, outbox)
    until = _review(database, d.tenant_id).paused_until
    assert until is not None and until > TODAY
    assert timers.run_tick(database, now=MORNING, today=until - dt.timedelta(days=1)).pauses_ended == 0
    assert timers.run_tick(database, now=MORNING, today=until).pauses_ended == 1
    assert timers.run_tick(database, now=MORNING, today=until).pauses_ended == 0
    review = _review(database, d.tenant_id)
    assert review.status == "open" and review.paused_until is None  # a person still looks at the receipt
    debt = _debt(database, d.debt_id)
    assert "pausa:already_paid" not in (debt.tags or []) and "bot_pause" not in (debt.extra or {})


def test_quita_bot_tick_runs_the_timers_once(
    database: Database, database_url: str, outbox: Outbox, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from typer.testing import CliRunner

    from quita.cli import app
    from quita.config import get_settings

    d = _agree(database, outbox)
    monkeypatch.setenv("QUITA_DATABASE_URL", database_url)
    get_settings.cache_clear()
    late = (_items(database, d.tenant_id)[0].due_date + dt.timedelta(days=5)).isoformat()
    runner = CliRunner()
    result = runner.invoke(app, ["bot", "tick", "--today", late, "--tenant", "bot"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["broken"] == 1
    again = runner.invoke(app, ["bot", "tick", "--today", late, "--tenant", "bot"])
    assert json.loads(again.output)["broken"] == 0
    assert runner.invoke(app, ["bot", "tick", "--today", "05/03/2026"]).exit_code == 2
    assert _agreement(database, d.tenant_id).status == "broken"


def test_the_planner_loop_runs_the_bot_timers(database: Database, outbox: Outbox, data_dir: Path) -> None:
    import time

    from quita.cadence.tasks import PlannerLoop

    d = _agree(database, outbox)  # first instalment due in March 2026: long overdue on the real clock
    loop = PlannerLoop(database, interval=0.05).start()
    try:
        deadline = time.monotonic() + 20
        while _agreement(database, d.tenant_id).status != "broken" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        loop.stop()
    assert _agreement(database, d.tenant_id).status == "broken"


def _plain_charges(database: Database, debt_id: uuid.UUID) -> list[Charge]:
    with database.transaction() as session:
        return list(
            session.scalars(
                select(Charge).where(Charge.debt_id == debt_id, Charge.agreement_installment_id.is_(None))
            )
        )


def test_acceptance_cancels_the_open_charge_of_the_whole_debt(
    database: Database, outbox: Outbox, data_dir: Path
) -> None:
    d = Debtor(database, outbox)
    _account(database, d.tenant_id)
    d.tap("id_yes")
    d.say("529")
    d.say("me manda o boleto")
    assert [c.status for c in _plain_charges(database, d.debt_id)] == [ChargeStatus.ISSUED]
    d.say("quero parcelar em 3x")
    confirm_wamid, _ = outbox.sent[-1]
    d.tap("accept:3", confirm_wamid)
    assert [c.status for c in _plain_charges(database, d.debt_id)] == [ChargeStatus.CANCELLED]


def test_debt_paid_outside_the_agreement_ends_it_as_kept(
    database: Database, outbox: Outbox, data_dir: Path
) -> None:
    from quita.portfolio import service as portfolio

    d = _agree(database, outbox)
    with database.transaction() as session:
        portfolio.change_debt_status(
            session, d.tenant_id, d.debt_id, DebtStatus.PAID, actor="test", reason="quitado"
        )
    assert timers.run_tick(database, now=MORNING, today=TODAY).kept == 1
    assert timers.run_tick(database, now=MORNING, today=TODAY).kept == 0
    assert _agreement(database, d.tenant_id).status == "kept"


def test_the_tick_only_reads_agreements_the_clock_concerns(
    database: Database, outbox: Outbox, data_dir: Path
) -> None:
    d = _agree(database, outbox)
    items = _items(database, d.tenant_id)

    def candidates(day: dt.date) -> int:
        with database.transaction() as session:
            return len(timers._agreements_with_work(session, d.tenant_id, day))

    assert candidates(items[0].due_date - dt.timedelta(days=3)) == 0  # charged, nothing due yet: idle
    assert candidates(items[0].due_date - dt.timedelta(days=2)) == 1  # the day before, in some time zone
    _pay_by_boleto(
        database, d.tenant_id, next(c for c in _charges(database, items[0].id) if c.kind == "boleto"), TODAY
    )
    assert candidates(TODAY) == 1  # the next instalment waits for its charge
    timers.run_tick(database, now=MORNING, today=TODAY)
    assert candidates(TODAY) == 0


def test_the_periodic_tick_runs_at_most_every_interval(
    database: Database, outbox: Outbox, data_dir: Path
) -> None:
    assert timers.periodic_tick(database, every=3600) is not None
    assert timers.periodic_tick(database, every=3600) is None
    assert timers.periodic_tick(database, every=0) is not None

"""The agreement end to end over real HTTP (the bot's e2e stack: simulator + Quita server, SQLite): accept
six instalments, receive the first boleto and Pix in the conversation, pay the Pix at the simulated PSP,
whose webhook reaches Quita, and see the agreement advance to the second instalment."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import select

from quita.bot import timers
from quita.bot.models import Agreement, AgreementInstallment
from quita.server import demo
from tests.bot.test_e2e import (  # noqa: F401  (the module's stack fixture)
    Stack,
    assert_boleto_pdf_sent,
    rows_of,
    stack,
    texts,
)


def _statuses(s: Stack, debtor_id: object) -> list[str]:
    with s.database.transaction() as session:
        agreement = session.scalars(select(Agreement).where(Agreement.debtor_id == debtor_id)).one()
        return list(
            session.scalars(
                select(AgreementInstallment.status)
                .where(AgreementInstallment.agreement_id == agreement.id)
                .order_by(AgreementInstallment.number)
            )
        )


def test_accept_pay_the_first_instalment_by_pix_and_the_agreement_advances(stack: Stack) -> None:  # noqa: F811
    httpx.post(
        f"{stack.sim.url}/_sim/psp/config",
        json={
            "pix_webhook_url": f"{stack.api}/webhooks/pix/bot-e2e",
            "pix_webhook_secret": demo.DEMO_PIX_WEBHOOK_SECRET,
        },
        timeout=10,
    ).raise_for_status()
    phone = stack.debtor()
    phone.start_verified()
    phone.tap(phone.last(), "menu:plans")
    six = [r for r in rows_of(phone.last()["request"]) if r["title"].startswith("6x")]
    phone.tap(phone.last(), six[0]["title"])
    done = texts(phone.say("confirmo"))
    assert "Acordo registrado" in done and "Parcela 1/6 do acordo" in done
    assert "Linha digitável do boleto" in done
    brcode = done.split("Pix copia e cola:\n", 1)[1].split("\n", 1)[0]

    paid = httpx.post(f"{stack.sim.url}/_sim/psp/pay", json={"brcode": brcode}, timeout=10)
    assert paid.status_code == 200, paid.text
    deadline = time.monotonic() + 20
    while _statuses(stack, phone.debtor_id)[0] != "paid" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _statuses(stack, phone.debtor_id) == ["paid"] + ["open"] * 5

    stats = timers.run_tick(stack.database, only_tenant="bot-e2e")
    assert stats.charges == 1 and not stats.errors
    fresh = phone.new()
    advanced = texts(fresh)
    assert "Recebemos o pagamento da parcela anterior" in advanced and "Parcela 2/6 do acordo" in advanced
    assert "Pix copia e cola" in advanced
    assert [r["type"] for r in fresh][-2:] == ["text", "document"]  # the second instalment's boleto PDF
    with stack.database.transaction() as session:
        second = session.scalars(
            select(AgreementInstallment.id)
            .join(Agreement, Agreement.id == AgreementInstallment.agreement_id)
            .where(Agreement.debtor_id == phone.debtor_id, AgreementInstallment.number == 2)
        ).one()
    assert_boleto_pdf_sent(stack, fresh[-1], second)


def test_instalment_reminder_template_reaches_the_phone_through_the_dispatcher(stack: Stack) -> None:  # noqa: F811
    import asyncio
    import datetime as dt

    from quita.dispatch.models import OutboxMessage, OutboxStatus
    from quita.dispatch.worker import Dispatcher, DispatchSettings
    from quita.kit.db import utcnow
    from quita.portfolio.models import ContactPoint
    from tests.dispatch.conftest import drain

    phone = stack.debtor()
    with stack.database.transaction() as session:  # the debtor's WhatsApp opt-in (CHAN-01)
        session.get_one(ContactPoint, phone.contact_id).opt_in_at = utcnow()
    phone.start_verified()
    phone.tap(phone.last(), "menu:plans")
    six = [r for r in rows_of(phone.last()["request"]) if r["title"].startswith("6x")]
    phone.tap(phone.last(), six[0]["title"])
    assert "Parcela 1/6 do acordo" in texts(phone.say("confirmo"))
    with stack.database.transaction() as session:
        agreement = session.scalars(select(Agreement).where(Agreement.debtor_id == phone.debtor_id)).one()
        first = session.scalars(
            select(AgreementInstallment).where(
                AgreementInstallment.agreement_id == agreement.id, AgreementInstallment.number == 1
            )
        ).one()
    # A weekday morning in São Paulo for the gate; the day before the first due date for the decision.
    morning = dt.datetime(2026, 3, 4, 13, 0, tzinfo=dt.UTC)
    stats = timers.run_tick(
        stack.database, now=morning, today=first.due_date - dt.timedelta(days=1), only_tenant="bot-e2e"
    )
    assert stats.reminders == 1, stats
    asyncio.run(
        drain(Dispatcher(stack.database, settings=DispatchSettings(pair_interval=0.001)), stack.database)
    )
    with stack.database.transaction() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.debtor_id == phone.debtor_id)).one()
        assert row.status == OutboxStatus.SENT and row.wamid
    [template] = [m for m in phone.new() if m["type"] == "template"]
    assert template["template"]["name"] == timers.INSTALLMENT_TEMPLATE
    params = [p["text"] for p in template["template"]["components"][0]["parameters"]]
    assert params[4] == "parcela 1/6" and params[6].startswith("vence amanhã")

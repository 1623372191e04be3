"""The life of an agreement after acceptance: instalment charges, payments, keeping and breaking.

Charges: each instalment gets its own boleto and Pix for the agreed amount (``payments.issue_charge`` with
``amount`` and ``agreement_installment_id``), the first at acceptance, the next when the previous one is
paid or when its first reminder goes out. Payments arrive as ``payments.payment_received`` events inside
reconciliation's transaction: an instalment charge paid marks the instalment ``paid``; the last one keeps
the agreement and pays the debt; the next instalment's charges follow on the next tick. Any payment closes an open receipt review of the debt and keeps a promise
whose date it meets. Breaking (the tick decides when) cancels what is unpaid and returns the debt to
collection; what was paid stays credited (``payments.credited_so_far`` counts instalment payments).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from quita.bot.dialog.timers import Moment
from quita.bot.models import (
    Agreement,
    AgreementInstallment,
    BotConversation,
    BotTimerEvent,
    PaymentPromise,
    ReceiptReview,
)
from quita.kit.db import Database, utcnow
from quita.kit.errors import QuitaError
from quita.payments import service as payments
from quita.payments.models import Charge, ChargeKind, ChargeStatus
from quita.portfolio import service as portfolio
from quita.portfolio.models import Debt, DebtStatus

if TYPE_CHECKING:
    from quita.bot.service import DocumentReply

log = logging.getLogger("quita.bot.agreements")
ACTOR = "bot"
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def installments_of(session: Session, agreement: Agreement) -> list[AgreementInstallment]:
    return list(
        session.scalars(
            select(AgreementInstallment)
            .where(
                AgreementInstallment.tenant_id == agreement.tenant_id,
                AgreementInstallment.agreement_id == agreement.id,
            )
            .order_by(AgreementInstallment.number)
        )
    )


def label(item: AgreementInstallment, count: int) -> str:
    return "Entrada do acordo" if item.number == 0 else f"Parcela {item.number}/{count} do acordo"


def installment_charges(session: Session, item: AgreementInstallment) -> list[Charge]:
    """Through the debt (``ix_charges_tenant_debt``: a debt has few charges), then the instalment."""
    debt_id = select(Agreement.debt_id).where(Agreement.id == item.agreement_id).scalar_subquery()
    return list(
        session.scalars(
            select(Charge)
            .where(
                Charge.tenant_id == item.tenant_id,
                Charge.debt_id == debt_id,
                Charge.agreement_installment_id == item.id,
            )
            .order_by(Charge.created_at)
        )
    )


def issue_installment(
    session: Session, agreement: Agreement, item: AgreementInstallment, *, today: dt.date
) -> list[Charge]:
    """Boleto and Pix for the instalment (whichever the account can issue); reuses live ones already issued.

    A failure of one kind (no bank, PSP down) does not stop the other; ``charge_id`` is the first charge."""
    live = [c for c in installment_charges(session, item) if c.status == ChargeStatus.ISSUED]
    if live:
        return live
    count = sum(1 for i in installments_of(session, agreement) if i.number > 0)
    issued: list[Charge] = []
    for kind in (ChargeKind.BOLETO, ChargeKind.PIX):
        try:
            with session.begin_nested():
                charge = payments.issue_charge(
                    session, agreement.tenant_id, agreement.debt_id, kind=kind, actor=ACTOR, today=today,
                    due_date=max(item.due_date, today), amount=item.amount, agreement_installment_id=item.id,
                    label=label(item, count),
                )  # fmt: skip
            issued.append(charge)
        except QuitaError as exc:
            log.info("instalment %s: no %s charge (%s)", item.id, kind.value, exc.message)
    if issued and item.charge_id is None:
        item.charge_id = issued[0].id
    session.flush()
    return issued


def charge_text(item: AgreementInstallment, count: int, charges: list[Charge], creditor_line: str) -> str:
    """The message that carries an instalment's codes (linha digitável and Pix copia e cola)."""
    from quita.bot.dialog.texts import day
    from quita.br.money import format_brl

    lines = [f"{label(item, count)}: {format_brl(item.amount)}, vencimento {day(item.due_date)}."]
    linha = next((c.linha_digitavel for c in charges if c.linha_digitavel), None)
    pix = next((c.brcode for c in charges if c.kind == ChargeKind.PIX and c.brcode), None) or next(
        (c.brcode for c in charges if c.brcode), None
    )
    if linha:
        lines.append(f"Linha digitável do boleto:\n{linha}")
    if pix:
        lines.append(f"Pix copia e cola:\n{pix}")
    lines.append(creditor_line)
    return "\n".join(lines)


# --------------------------------------------------------------------------- payments


def on_payment_received(session: Session, payload: dict[str, Any]) -> None:
    """``payments.payment_received`` handler, in reconciliation's transaction."""
    if payload.get("outcome") not in ("settled", "partial", "overpaid"):
        return  # duplicates and unmatched payments change nothing here
    tenant_id = payload["tenant_id"]
    debt_id = payload.get("debt_id")
    paid_at: dt.datetime = payload["paid_at"]
    if debt_id is not None:
        _keep_promises(session, tenant_id, debt_id, paid_at.astimezone(SAO_PAULO).date())
        if payload.get("charge_paid"):
            _close_reviews(session, tenant_id, debt_id)
    installment_id = payload.get("agreement_installment_id")
    if installment_id is not None and payload.get("charge_paid"):
        installment_paid(session, tenant_id, installment_id, payload["charge_id"])


def installment_paid(
    session: Session, tenant_id: uuid.UUID, installment_id: uuid.UUID, charge_id: uuid.UUID
) -> None:
    item = session.get(AgreementInstallment, installment_id)
    if item is None or item.tenant_id != tenant_id or item.status == "paid":
        return
    agreement = session.get(Agreement, item.agreement_id)
    if agreement is None:
        return
    item.status = "paid"
    for sibling in installment_charges(session, item):
        if sibling.id != charge_id and sibling.status == ChargeStatus.ISSUED:
            payments.cancel_charge(session, tenant_id, sibling.id, actor=ACTOR)
    cancel_reminders(session, tenant_id, item.id)
    _audit(session, agreement, "installment_paid", {"number": item.number, "charge_id": str(charge_id)})
    if all(i.status == "paid" for i in installments_of(session, agreement)):
        keep(session, agreement)
    # Otherwise the next tick issues the next instalment's boleto and Pix (``advance``): no HTTP call to
    # the PSP inside reconciliation's transaction, and no job a CLI import could not run.
    session.flush()


def keep(session: Session, agreement: Agreement) -> None:
    agreement.status = "kept"
    debt = session.get(Debt, agreement.debt_id)
    if debt is not None and debt.status != DebtStatus.PAID:
        portfolio.change_debt_status(
            session, agreement.tenant_id, debt.id, DebtStatus.PAID, actor=ACTOR, reason=f"acordo {agreement.id} cumprido"
        )  # fmt: skip
    _audit(session, agreement, "kept", {"installments": agreement.installments})


def break_agreement(
    session: Session, agreement: Agreement, item: AgreementInstallment, today: dt.date
) -> None:
    """Unpaid instalments are cancelled with their charges; the debt returns to ``open`` collection and
    what was paid stays credited (``payments.credited_so_far``)."""
    agreement.status = "broken"
    for other in installments_of(session, agreement):
        if other.status == "paid":
            continue
        other.status = "cancelled"
        cancel_reminders(session, agreement.tenant_id, other.id)
        for charge in installment_charges(session, other):
            if charge.status == ChargeStatus.ISSUED:
                payments.cancel_charge(session, agreement.tenant_id, charge.id, actor=ACTOR)
    debt = session.get(Debt, agreement.debt_id)
    if debt is not None and debt.status == DebtStatus.IN_AGREEMENT:
        portfolio.change_debt_status(
            session, agreement.tenant_id, debt.id, DebtStatus.OPEN, actor=ACTOR,
            reason=f"acordo {agreement.id} rompido: parcela {item.number} vencida em {item.due_date.isoformat()}",
        )  # fmt: skip
    credited = payments.credited_so_far(session, agreement.tenant_id, agreement.debt_id)
    _audit(session, agreement, "broken", {
        "installment": item.number, "due_date": item.due_date.isoformat(), "today": today.isoformat(),
        "credited": str(credited),
    })  # fmt: skip
    conversation = (
        session.get(BotConversation, agreement.bot_conversation_id) if agreement.bot_conversation_id else None
    )
    if conversation is not None:
        _leave_agreement_step(session, conversation)
    session.flush()


def _leave_agreement_step(session: Session, row: BotConversation) -> None:
    """A broken agreement lets the debtor negotiate again: the conversation goes back to the menu."""
    from dataclasses import replace

    from quita.bot.dialog.state import ConversationState, Step

    state = ConversationState.from_json(row.state)
    if state.step is not Step.IN_AGREEMENT:
        return
    new = replace(state, step=Step.MENU, agreement_offer=None, pending_plan=None)
    row.state, row.step, row.version = new.to_json(), new.step.value, row.version + 1


def cancel_reminders(session: Session, tenant_id: uuid.UUID, installment_id: uuid.UUID) -> None:
    """Reminders of an instalment already queued but not yet handed to Meta are cancelled."""
    from quita.dispatch.models import UNSENT, OutboxMessage, OutboxStatus

    ids = [
        i
        for i in session.scalars(
            select(BotTimerEvent.outbox_id).where(
                BotTimerEvent.tenant_id == tenant_id,  # by key: the unique (tenant_id, key) index
                BotTimerEvent.key.in_([f"inst:{installment_id}:{m.value}" for m in Moment]),
                BotTimerEvent.outbox_id.is_not(None),
            )
        )
        if i is not None
    ]
    if ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status.in_(UNSENT))
            .values(
                status=OutboxStatus.CANCELLED,
                failed_reason="parcela paga antes do envio",
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )


def _keep_promises(session: Session, tenant_id: uuid.UUID, debt_id: uuid.UUID, paid_on: dt.date) -> None:
    for promise in session.scalars(
        select(PaymentPromise).where(
            PaymentPromise.tenant_id == tenant_id,
            PaymentPromise.debt_id == debt_id,
            PaymentPromise.status == "open",
            PaymentPromise.due_date >= paid_on,
        )
    ):
        promise.status = "kept"


def _close_reviews(session: Session, tenant_id: uuid.UUID, debt_id: uuid.UUID) -> None:
    """A matching payment answers the 'I already paid' claim: the review closes and the pause ends."""
    reviews = list(
        session.scalars(
            select(ReceiptReview).where(
                ReceiptReview.tenant_id == tenant_id,
                ReceiptReview.debt_id == debt_id,
                ReceiptReview.status == "open",
            )
        )
    )
    for review in reviews:
        review.status, review.paused_until = "confirmed", None
    if reviews:
        debt = session.get(Debt, debt_id)
        if debt is not None:
            end_pause(debt, "already_paid")


def end_pause(debt: Debt, reason: str) -> None:
    debt.tags = [t for t in (debt.tags or []) if t != f"pausa:{reason}"]
    extra = dict(debt.extra or {})
    if (extra.get("bot_pause") or {}).get("reason") == reason:
        extra.pop("bot_pause")
        debt.extra = extra


def _audit(session: Session, agreement: Agreement, what: str, after: dict[str, Any]) -> None:
    from quita.audit import service as audit

    audit.record(session, tenant_id=agreement.tenant_id, actor=ACTOR, action=f"bot.agreement.{what}",
                 entity_type="agreement", entity_id=agreement.id, after=after)  # fmt: skip


def creditor_line_of(session: Session, agreement: Agreement) -> str:
    from quita.br.documents import format_cnpj
    from quita.tenant.models import Creditor

    debt = session.get(Debt, agreement.debt_id)
    creditor = session.get(Creditor, debt.creditor_id) if debt is not None else None
    if creditor is None:
        return ""
    return f"Credor: {creditor.legal_name}, CNPJ {format_cnpj(creditor.cnpj)}."


def conversation_target(session: Session, agreement: Agreement) -> dict[str, Any] | None:
    """Where to write in the open 24 h window: the agreement's WhatsApp conversation, if the debtor wrote
    in the last 24 h; None otherwise (then only a template may go, through the outbox)."""
    from quita.whatsapp.models import Conversation

    row = (
        session.get(BotConversation, agreement.bot_conversation_id) if agreement.bot_conversation_id else None
    )
    if row is None:
        return None
    conversation = session.get(Conversation, row.wa_conversation_id)
    if conversation is None or conversation.last_inbound_at is None:
        return None
    if utcnow() - conversation.last_inbound_at >= dt.timedelta(hours=24):
        return None
    return {
        "tenant_id": str(agreement.tenant_id), "channel_id": str(conversation.channel_id),
        "conversation_id": str(conversation.id), "debtor_id": str(agreement.debtor_id),
        "contact_id": str(conversation.contact_id) if conversation.contact_id else None,
        "wamid": f"agreement:{agreement.id}", "wa_id": conversation.wa_id,
    }  # fmt: skip


def send_text(database: Database, target: dict[str, Any], text: str, documents: Sequence[DocumentReply] = ()) -> None:
    """``text`` in the conversation's open window, then ``documents`` (the boletos' PDFs)."""
    from quita.bot.dialog.machine import Reply
    from quita.bot.service import Inbound, send_replies
    from quita.whatsapp.domain.messages import TextMessage

    send_replies(database, Inbound.from_payload(target), (Reply(TextMessage(text)), *documents))

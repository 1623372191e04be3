"""Runs the dialog for one inbound message: load state, decide, apply commands, reply, save.

Exactly-once per inbound wamid (``bot_inbound`` has a unique wamid, inserted in the same transaction as
the new state), serialised per conversation (the state row carries a version; a concurrent writer loses
and retries from the fresh state), resumable (the state lives in the database, never in memory).
Replies go out after the decision commits; each sent message is then recorded in the hash-chained
conversation (actor ``bot``) and the wamids of offers are bound in the state for later taps.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quita.bot.dialog import commands as cmd
from quita.bot.dialog.facts import ChoiceIn, DebtFacts, Event, MediaIn, TextIn
from quita.bot.dialog.machine import Reply, decide
from quita.bot.dialog.policy import NegotiationPolicy, schedule
from quita.bot.dialog.state import ConversationState, Step
from quita.bot.models import (
    Agreement,
    AgreementInstallment,
    BotConversation,
    BotInbound,
    HandoffItem,
    NegotiationPolicyRow,
    PaymentPromise,
    ReceiptReview,
)
from quita.br.documents import format_cnpj
from quita.dispatch.domain.policy import Action, RetryPolicy, plan_for
from quita.kit import events
from quita.kit.db import Database, utcnow
from quita.kit.db.bulk import insert_once
from quita.kit.errors import Conflict, NotFound
from quita.payments import service as payments
from quita.payments.models import Charge, ChargeKind
from quita.portfolio import service as portfolio
from quita.portfolio.models import ContactPoint, ContactStatus, Debt, Debtor, DebtStatus
from quita.tenant.models import Creditor
from quita.whatsapp import service as whatsapp
from quita.whatsapp.domain.errors import WhatsAppError
from quita.whatsapp.domain.messages import DocumentMessage, Message, TextMessage

log = logging.getLogger("quita.bot")
ACTOR = "bot"
MAX_RETRIES = 5
#: A reply Meta turned away for a moment is sent again within this many seconds (the pair rate limit asks for
#: ~6 s); past that the person has likely left the chat, and a person is asked to follow the conversation up.
REPLY_RETRY_BUDGET_S = 15.0
REPLY_POLICY = RetryPolicy(base=0.25, cap=2.0, max_attempts=4)
UNANSWERED_REASON = "reply_not_sent"  # a handoff item: Meta refused the bot's answer for good
_OPEN = (
    DebtStatus.OPEN,
    DebtStatus.IN_AGREEMENT,
    DebtStatus.DISPUTED,
)  # a paused debt still hears an opt-out


@dataclass(frozen=True, slots=True)
class DocumentReply:
    """A file sent as a WhatsApp document: the boleto's PDF (payment slip, itemised amounts, Pix QR code).
    Its media id exists only once uploaded, at sending time. The codes themselves go in the text sent
    just before it, so a document that cannot be sent is logged, not handed to a person."""

    content: bytes
    filename: str
    caption: str
    mime_type: str = "application/pdf"


Outgoing = Reply | DocumentReply


@dataclass(frozen=True, slots=True)
class Inbound:
    tenant_id: uuid.UUID
    channel_id: uuid.UUID
    conversation_id: uuid.UUID
    debtor_id: uuid.UUID
    contact_id: uuid.UUID | None
    wamid: str
    wa_id: str | None
    text: str | None
    reply_id: str | None
    reply_title: str | None
    context_wamid: str | None
    media_id: str | None
    occurred_at: dt.datetime | None = None  # when the debtor wrote: it opened the 24 h window the reply uses

    @classmethod
    def from_payload(cls, p: dict[str, Any]) -> Inbound:
        def uid(key: str) -> uuid.UUID | None:
            return uuid.UUID(p[key]) if p.get(key) else None

        tenant, channel, conversation, debtor = (
            uid(k) for k in ("tenant_id", "channel_id", "conversation_id", "debtor_id")
        )
        if tenant is None or channel is None or conversation is None or debtor is None or not p.get("wamid"):
            raise ValueError("inbound payload without tenant, channel, conversation, debtor or wamid")
        return cls(
            tenant, channel, conversation, debtor, uid("contact_id"), str(p["wamid"]), p.get("wa_id"),
            p.get("text"), p.get("reply_id"), p.get("reply_title"), p.get("context_wamid"), p.get("media_id"),
            _aware(p.get("occurred_at")),
        )  # fmt: skip


def _aware(value: Any) -> dt.datetime | None:
    if not value:
        return None
    moment = dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def today_local() -> dt.date:
    return payments.today_in_brazil()


# --------------------------------------------------------------------------- facts


def policy_for(
    session: Session, tenant_id: uuid.UUID, creditor_id: uuid.UUID
) -> tuple[NegotiationPolicy, str]:
    row = session.scalar(
        select(NegotiationPolicyRow).where(
            NegotiationPolicyRow.tenant_id == tenant_id, NegotiationPolicyRow.creditor_id == creditor_id
        )
    )
    if row is None:
        return NegotiationPolicy(), "cpf3"
    return NegotiationPolicy.from_json(row.policy), row.identity_method


def set_policy(
    session: Session,
    tenant_id: uuid.UUID,
    creditor_id: uuid.UUID,
    policy: NegotiationPolicy,
    identity_method: str,
) -> None:
    if identity_method not in ("cpf3", "birth_date"):
        raise ValueError("identity_method: use cpf3 ou birth_date")
    row = session.scalar(
        select(NegotiationPolicyRow).where(
            NegotiationPolicyRow.tenant_id == tenant_id, NegotiationPolicyRow.creditor_id == creditor_id
        )
    )
    if row is None:
        row = NegotiationPolicyRow(
            tenant_id=tenant_id, creditor_id=creditor_id, policy={}, identity_method="cpf3"
        )
        session.add(row)
    row.policy, row.identity_method = policy.to_json(), identity_method
    session.flush()


def debt_in_focus(session: Session, tenant_id: uuid.UUID, debtor_id: uuid.UUID) -> Debt | None:
    """The debt the conversation is about: the oldest open one (or the one in agreement)."""
    return session.scalar(
        select(Debt)
        .where(Debt.tenant_id == tenant_id, Debt.debtor_id == debtor_id, Debt.status.in_(_OPEN))
        .order_by(Debt.due_date, Debt.id)
        .limit(1)
    )


def facts_for(
    session: Session, tenant_id: uuid.UUID, debtor: Debtor, debt: Debt, today: dt.date
) -> DebtFacts:
    creditor = session.get(Creditor, debt.creditor_id)
    if creditor is None or creditor.tenant_id != tenant_id:
        raise NotFound("credor não encontrado", code="creditor_not_found")
    policy, method = policy_for(session, tenant_id, creditor.id)
    if method == "birth_date" and debtor.birth_date is None:
        method = "cpf3"
    breakdown = payments.debt_breakdown(debt, today)
    paid = payments.credited_so_far(session, tenant_id, debt.id)
    secret = (
        debtor.birth_date.isoformat() if method == "birth_date" and debtor.birth_date else debtor.document[:3]
    )
    address = f"{creditor.address}, {creditor.city}/{creditor.uf}"
    return DebtFacts(
        agency_name=creditor.trade_name or creditor.legal_name,
        creditor_name=creditor.legal_name,
        creditor_cnpj=format_cnpj(creditor.cnpj),
        creditor_address=address,
        due_date=debt.due_date,
        principal=breakdown.principal,
        fine=breakdown.fine,
        interest=breakdown.interest,
        total=max(breakdown.total - paid, Decimal("0.00")),
        days_overdue=breakdown.days_late,
        identity_method=method,
        identity_secret=secret,
        today=today,
        policy=policy,
        already_paid=paid,
    )


def _event(inbound: Inbound, today: dt.date) -> Event | None:
    if inbound.reply_id:
        return ChoiceIn(inbound.reply_id, inbound.context_wamid, inbound.reply_title)
    if inbound.media_id:
        return MediaIn("media", inbound.media_id)
    if inbound.text is not None:
        from quita.bot.nlu import understand

        return TextIn(inbound.text, understand(inbound.text, today))
    return None


# --------------------------------------------------------------------------- conversation rows


def _conversation(session: Session, inbound: Inbound, debt: Debt | None) -> BotConversation:
    query = select(BotConversation).where(
        BotConversation.tenant_id == inbound.tenant_id,
        BotConversation.wa_conversation_id == inbound.conversation_id,
    )
    row = session.scalar(query)
    if row is None:
        row = BotConversation(
            tenant_id=inbound.tenant_id, wa_conversation_id=inbound.conversation_id, debtor_id=inbound.debtor_id,
            contact_id=inbound.contact_id, debt_id=debt.id if debt else None,
            state=ConversationState().to_json(), step=Step.AWAITING_IDENTITY.value, version=1,
        )  # fmt: skip
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            row = session.scalars(query.execution_options(populate_existing=True)).one()
    return row


def _save(session: Session, row: BotConversation, state: ConversationState) -> bool:
    """Compare-and-set on ``version``: False when another writer got there first."""
    result = session.execute(
        update(BotConversation)
        .where(BotConversation.id == row.id, BotConversation.version == row.version)
        .values(state=state.to_json(), step=state.step.value, version=row.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- the job


@dataclass
class Handled:
    replies: tuple[Outgoing, ...] = ()
    sent: tuple[str, ...] = ()  # wamids of the replies sent
    duplicate: bool = False
    commands: tuple[cmd.Command, ...] = ()


def handle_inbound(database: Database, payload: dict[str, Any], *, today: dt.date | None = None) -> Handled:
    inbound = Inbound.from_payload(payload)
    day = today or today_local()
    for _ in range(MAX_RETRIES):
        with database.transaction() as session:
            debtor = session.get(Debtor, inbound.debtor_id)
            debt = debt_in_focus(session, inbound.tenant_id, inbound.debtor_id)
            if debtor is None or debtor.tenant_id != inbound.tenant_id or debt is None:
                return Handled()
            row = _conversation(session, inbound, debt)
            facts = facts_for(session, inbound.tenant_id, debtor, debt, day)
            state = ConversationState.from_json(row.state)
            event = _event(inbound, day)
            if event is None:
                return Handled()
            outcome = decide(state, event, facts)
            # Reads before the first write: on SQLite the write lock (one writer per process at a time) is then
            # held only for the writes, not for this transaction's lookups too.
            sending = _sending_context(session, inbound)
            # The compare-and-set first (a lost race retries from a fresh read), then the wamid: a message
            # already answered (a job run twice) inserts nothing, and the rollback undoes the compare-and-set.
            if not _save(session, row, outcome.state):
                session.rollback()
                continue
            answered = {"id": uuid.uuid4(), "created_at": utcnow(), "tenant_id": inbound.tenant_id,
                        "wamid": inbound.wamid, "bot_conversation_id": row.id}  # fmt: skip
            if not insert_once(session, BotInbound.__table__, answered, ("wamid",)):  # type: ignore[arg-type]
                session.rollback()
                return Handled(duplicate=True)
            extra: list[Outgoing] = []
            for command in outcome.commands:
                extra.extend(apply_command(session, inbound, row, debt, facts, command))
            replies: tuple[Outgoing, ...] = (*outcome.replies, *extra)
            conversation_row_id, debt_id = row.id, debt.id
        sent = send_replies(database, inbound, replies, bind_to=conversation_row_id, context=sending)
        unsent = sum(1 for r, w in zip(replies, sent, strict=True) if w is None and isinstance(r, Reply))
        if unsent:
            _hand_unanswered_to_person(database, inbound, conversation_row_id, debt_id, unsent)
        if any(isinstance(c, cmd.CreateAgreement) for c in outcome.commands):
            _send_first_charge(database, inbound, today=day)
        return Handled(replies, tuple(w for w in sent if w), commands=outcome.commands)
    raise Conflict("conversa alterada concorrentemente demais vezes", code="bot_conversation_busy")


def _hand_unanswered_to_person(
    database: Database, inbound: Inbound, row_id: uuid.UUID, debt_id: uuid.UUID, unsent: int
) -> None:
    """Meta kept refusing an answer past the retry budget (an outage, a blocked number): the debtor's message must
    not go unanswered in silence, so a person is asked to follow the conversation up (one open item per
    conversation however many answers failed; the bot goes on answering what comes next)."""
    log.warning("bot: %d reply(ies) to %s not sent; handed to a person", unsent, inbound.wamid)
    with database.transaction() as session:
        waiting = session.scalar(select(HandoffItem.id).where(
            HandoffItem.tenant_id == inbound.tenant_id, HandoffItem.bot_conversation_id == row_id,
            HandoffItem.reason == UNANSWERED_REASON, HandoffItem.status != "closed",
        ))  # fmt: skip
        if waiting is None:
            item = HandoffItem(tenant_id=inbound.tenant_id, bot_conversation_id=row_id, debtor_id=inbound.debtor_id,
                               debt_id=debt_id, queue="general", reason=UNANSWERED_REASON, status="open")  # fmt: skip
            session.add(item)
            session.flush()
            waiting = item.id
        _audit(session, inbound.tenant_id, "handoff.reply_not_sent", waiting,
               {"wamid": inbound.wamid, "unsent": unsent})  # fmt: skip


def _bind_sent(session: Session, row_id: uuid.UUID, pairs: list[tuple[str, str]]) -> None:
    """Notes which offer each sent wamid carried (a later tap quotes it as ``context``), in the caller's
    transaction; a concurrent writer's newer version is re-read and the compare-and-set retried."""
    for _ in range(MAX_RETRIES):
        row = session.get(BotConversation, row_id, populate_existing=True)
        if row is None:
            return
        state = ConversationState.from_json(row.state)
        for wamid, offer_id in pairs:
            state = state.with_sent(wamid, offer_id)
        if _save(session, row, state):
            return
    log.warning("bot: offers of conversation %s not bound after %d attempts", row_id, MAX_RETRIES)


# --------------------------------------------------------------------------- sending


def _sending_context(session: Session, inbound: Inbound) -> tuple[Any, dt.datetime]:
    """The channel (detached from the session) and when the debtor last wrote (opens the 24 h window)."""
    channel = whatsapp.get_channel(session, inbound.tenant_id, inbound.channel_id)
    last_inbound = inbound.occurred_at or (
        whatsapp.last_inbound_at(session, inbound.tenant_id, inbound.contact_id) if inbound.contact_id else None
    ) or utcnow()
    session.expunge(channel)
    return channel, last_inbound


def send_replies(
    database: Database,
    inbound: Inbound,
    replies: tuple[Outgoing, ...],
    *,
    bind_to: uuid.UUID | None = None,
    context: tuple[Any, dt.datetime] | None = None,
) -> list[str | None]:
    """Sends inside the 24 h window the debtor's message just opened, through the number's shared client;
    then records every sent message and (``bind_to``: the conversation row) binds the offers' wamids, all in
    one transaction. ``context``: :func:`_sending_context` already read in the caller's transaction."""
    if not replies:
        return []
    if context is None:
        with database.transaction() as session:
            context = _sending_context(session, inbound)
    channel, last_inbound = context
    to = inbound.wa_id or ""
    results = whatsapp.run_with_client(channel, lambda client: _send(client, to, replies, last_inbound))
    records = [
        _record(inbound, to, reply, message, message_id, wamid, wa_id)
        for reply, (message_id, wamid, wa_id, message) in zip(replies, results, strict=True)
        if wamid is not None and message is not None
    ]
    offers = [(w, r.offer_id) for r, (_, w, _, _) in zip(replies, results, strict=True)
              if w and isinstance(r, Reply) and r.offer_id]
    if records:
        with database.transaction() as session:
            whatsapp.record_outbound_batch(session, records)
            if bind_to is not None and offers:
                _bind_sent(session, bind_to, offers)
    return [wamid for _, wamid, _, _ in results]


def _record(
    inbound: Inbound, to: str, reply: Outgoing, message: Message, message_id: uuid.UUID, wamid: str,
    wa_id: str | None,
) -> whatsapp.OutboundRecord:
    """The conversation record of one sent message; a document's entry also holds the SHA-256 of the file,
    so the record proves which PDF the person received (the media id expires at Meta after 30 days)."""
    body = {"to": to, **message.to_json()}
    if isinstance(reply, DocumentReply):
        body["document"] = {**body["document"], "sha256": hashlib.sha256(reply.content).hexdigest()}
    return whatsapp.OutboundRecord(
        tenant_id=inbound.tenant_id, channel_id=inbound.channel_id, contact_id=inbound.contact_id,
        debtor_id=inbound.debtor_id, message_id=message_id, wamid=wamid, kind=str(body["type"]), body=body,
        actor=ACTOR, wa_id=wa_id,
    )  # fmt: skip


Sent = tuple[uuid.UUID, str | None, str | None, Message | None]  # message id, wamid, wa_id, what was sent


async def _send(client: Any, to: str, replies: tuple[Outgoing, ...], last_inbound: dt.datetime) -> list[Sent]:
    out: list[Sent] = []
    for reply in replies:
        message_id = uuid.uuid4()
        wamid, wa_id, message = await _send_one(client, to, reply, message_id, last_inbound)
        out.append((message_id, wamid, wa_id, message))
    return out


async def _send_one(
    client: Any, to: str, reply: Outgoing, message_id: uuid.UUID, last_inbound: dt.datetime
) -> tuple[str | None, str | None, Message | None]:
    """One reply, sent again while Meta turns it away for a moment (throughput, the pair rate limit, a brief
    outage) and the wait stays short enough for someone reading the chat. A request that may have gone through
    (timeout, dropped connection) is never repeated: the debtor would read the answer twice. A document is
    uploaded first (an upload may be repeated: it only leaves an unused media id behind)."""
    message = reply.message if isinstance(reply, Reply) else None
    waited = 0.0
    for attempt in range(1, REPLY_POLICY.max_attempts + 1):
        try:
            if message is None:
                assert isinstance(reply, DocumentReply)
                media_id = await client.upload_media(reply.content, mime_type=reply.mime_type, filename=reply.filename)
                message = DocumentMessage(media_id=media_id, filename=reply.filename, caption=reply.caption)
            result = await client.send(to, message, callback_data=str(message_id), last_inbound_at=last_inbound)
            return result.wamid, result.wa_id, message
        except WhatsAppError as exc:
            plan = plan_for(exc, attempt, REPLY_POLICY)  # the dispatcher's rules: never again when in doubt
            if plan.action is not Action.RETRY or waited + plan.delay > REPLY_RETRY_BUDGET_S:
                log.warning("bot reply not sent to %s: %s", to[-4:], exc)
                return None, None, None
            waited += plan.delay
            await asyncio.sleep(plan.delay)
    return None, None, None


def boleto_documents(charges: Iterable[Charge]) -> list[DocumentReply]:
    """The PDF of each boleto among ``charges``, as a document to send after the text with the codes. A PDF
    missing on disk (a data directory moved) is logged and left out: the linha digitável is in the text."""
    from quita.br.money import format_brl

    documents = []
    for charge in charges:
        if charge.kind != ChargeKind.BOLETO or not charge.pdf_path:
            continue
        try:
            content = Path(charge.pdf_path).read_bytes()
        except OSError as exc:
            log.warning("boleto %s: PDF not sent (%s)", charge.id, exc)
            continue
        documents.append(DocumentReply(
            content, f"boleto-{charge.due_date:%Y-%m-%d}.pdf",
            f"Boleto de {format_brl(charge.amount)}, vencimento {charge.due_date:%d/%m/%Y}.",
        ))  # fmt: skip
    return documents


def _send_first_charge(database: Database, inbound: Inbound, *, today: dt.date | None = None) -> None:
    """Right after acceptance (the agreement committed): the first instalment's (or down payment's) boleto
    and Pix, issued for that instalment's amount and sent in the conversation, whose window is open."""
    from quita.bot import agreements

    day = today or today_local()
    with database.transaction() as session:
        agreement = session.scalar(
            select(Agreement)
            .join(BotConversation, BotConversation.id == Agreement.bot_conversation_id)
            .where(
                Agreement.tenant_id == inbound.tenant_id,
                BotConversation.wa_conversation_id == inbound.conversation_id,
                Agreement.status == "active",
            )
            .order_by(Agreement.accepted_at.desc())
            .limit(1)
        )
        if agreement is None:
            return
        items = agreements.installments_of(session, agreement)
        first = next((i for i in items if i.status != "paid"), None)
        if first is None:
            return
        charges = agreements.issue_installment(session, agreement, first, today=day)
        count = sum(1 for i in items if i.number > 0)
        if charges:
            body = agreements.charge_text(
                first, count, charges, agreements.creditor_line_of(session, agreement)
            )
        else:
            body = texts_unavailable()
        documents = boleto_documents(charges)
    send_replies(database, inbound, (Reply(TextMessage(body)), *documents))


# --------------------------------------------------------------------------- commands


def apply_command(
    session: Session,
    inbound: Inbound,
    row: BotConversation,
    debt: Debt,
    facts: DebtFacts,
    command: cmd.Command,
) -> list[Outgoing]:
    """Carries out one command in the decision's transaction; returns extra replies (e.g. a charge's code)."""
    tenant_id = inbound.tenant_id
    match command:
        case cmd.FlagWrongNumber():
            contact = _contact(session, inbound)
            if contact is not None:
                contact.status = ContactStatus.WRONG_NUMBER
            _audit(
                session,
                tenant_id,
                "contact.wrong_number",
                inbound.contact_id,
                {"debtor_id": inbound.debtor_id},
            )
        case cmd.OptOut():
            contact = _contact(session, inbound)
            if contact is not None and contact.opted_out_at is None:
                contact.opted_out_at = utcnow()
                contact.opt_out_reason = "pedido do devedor no WhatsApp"
            session.flush()
            events.publish(session, events.CONTACT_OPTED_OUT, {
                "tenant_id": tenant_id, "debtor_id": inbound.debtor_id, "contact_id": inbound.contact_id,
                "channel": "whatsapp", "actor": ACTOR,
            })  # fmt: skip
        case cmd.PauseDebt(reason=reason, business_days=days):
            _tag(debt, f"pausa:{reason}")
            extra = dict(debt.extra or {})
            extra["bot_pause"] = {"reason": reason, "business_days": days, "at": utcnow().isoformat()}
            debt.extra = extra
            if reason == "dispute" and debt.status == DebtStatus.OPEN:
                portfolio.change_debt_status(
                    session, tenant_id, debt.id, DebtStatus.DISPUTED, actor=ACTOR, reason=reason
                )
        case cmd.TagDebt(tag=tag):
            _tag(debt, tag)
        case cmd.Handoff(queue=queue, reason=reason):
            session.add(HandoffItem(
                tenant_id=tenant_id, bot_conversation_id=row.id, debtor_id=inbound.debtor_id, debt_id=debt.id,
                queue=queue, reason=reason, status="open",
            ))  # fmt: skip
        case cmd.CreateAgreement(plan=plan, offer_id=offer_id, first_due=first_due):
            agreement = Agreement(
                tenant_id=tenant_id, debt_id=debt.id, debtor_id=inbound.debtor_id, bot_conversation_id=row.id,
                offer_id=offer_id, plan=plan.to_json(), total=plan.total, installments=plan.installments,
                status="active", accepted_at=utcnow(),
            )  # fmt: skip
            session.add(agreement)
            session.flush()
            for item in schedule(plan, first_due):
                session.add(AgreementInstallment(
                    tenant_id=tenant_id, agreement_id=agreement.id, number=item.number, due_date=item.due_date,
                    amount=item.amount, status="open",
                ))  # fmt: skip
            session.flush()
            portfolio.change_debt_status(
                session,
                tenant_id,
                debt.id,
                DebtStatus.IN_AGREEMENT,
                actor=ACTOR,
                reason=f"acordo {agreement.id}",
            )
            _supersede_charges(session, tenant_id, debt.id)
            _audit(
                session,
                tenant_id,
                "agreement.accepted",
                agreement.id,
                {"plan": plan.to_json(), "wamid": inbound.wamid},
            )
        case cmd.RecordPromise(due=due, text=said):
            session.add(PaymentPromise(
                tenant_id=tenant_id, debt_id=debt.id, debtor_id=inbound.debtor_id, due_date=due, said=said[:200],
                status="open",
            ))  # fmt: skip
        case cmd.OpenReview(receipt=media_id):
            session.add(ReceiptReview(
                tenant_id=tenant_id, debt_id=debt.id, debtor_id=inbound.debtor_id, media_id=media_id, status="open",
                paused_until=_business_days_after(facts.today, 3),
            ))  # fmt: skip
        case cmd.IssueCharge(kind=kind):
            return _issue_charge(session, inbound, debt, facts, kind)
        case cmd.ConfirmIdentity(method=method):
            _audit(session, tenant_id, "debtor.identity_confirmed", inbound.debtor_id, {"method": method})
            if inbound.contact_id is not None:  # the cadence and the bot's reminders may now disclose (ID-02)
                from quita.cadence import service as cadence

                cadence.confirm_identity(
                    session, tenant_id, debtor_id=inbound.debtor_id, contact_id=inbound.contact_id,
                    method=f"bot:{method}", actor=ACTOR,
                )  # fmt: skip
        case cmd.FlagIdentityFailed(attempts=attempts):
            _tag(debt, "identidade_nao_confirmada")
            _audit(session, tenant_id, "debtor.identity_failed", inbound.debtor_id, {"attempts": attempts})
    session.flush()
    return []


def _issue_charge(
    session: Session, inbound: Inbound, debt: Debt, facts: DebtFacts, kind: str
) -> list[Outgoing]:
    from quita.bot.dialog.texts import creditor_line, day
    from quita.br.money import format_brl
    from quita.kit.errors import QuitaError

    if debt.status == DebtStatus.IN_AGREEMENT:
        return _installment_copy(session, debt, facts)

    try:
        with session.begin_nested():
            charge = payments.issue_charge(
                session, inbound.tenant_id, debt.id, kind=ChargeKind.BOLETO if kind == "boleto" else ChargeKind.PIX,
                actor=ACTOR, today=facts.today,
            )  # fmt: skip
    except QuitaError as exc:
        log.warning("bot could not issue a %s charge: %s", kind, exc)
        return [Reply(TextMessage(texts_unavailable()))]
    lines = [f"Valor: {format_brl(charge.amount)}, vencimento {day(charge.due_date)}."]
    if charge.linha_digitavel:
        lines.append(f"Linha digitável do boleto:\n{charge.linha_digitavel}")
    if charge.brcode:
        lines.append(f"Pix copia e cola:\n{charge.brcode}")
    lines.append(creditor_line(facts))
    return [Reply(TextMessage("\n".join(lines))), *boleto_documents([charge])]


def _supersede_charges(session: Session, tenant_id: uuid.UUID, debt_id: uuid.UUID) -> None:
    """The agreement replaces any boleto/Pix of the whole debt still open: only instalments are payable now."""
    from quita.payments.models import ChargeStatus

    for charge in payments.charges_of_debt(session, tenant_id, debt_id):
        if charge.status == ChargeStatus.ISSUED and charge.agreement_installment_id is None:
            payments.cancel_charge(session, tenant_id, charge.id, actor=ACTOR)


def _installment_copy(session: Session, debt: Debt, facts: DebtFacts) -> list[Outgoing]:
    """In an agreement a second copy is the current instalment's boleto and Pix, never the whole debt."""
    from quita.bot import agreements

    agreement = session.scalar(
        select(Agreement).where(
            Agreement.tenant_id == debt.tenant_id, Agreement.debt_id == debt.id, Agreement.status == "active"
        )
    )
    items = agreements.installments_of(session, agreement) if agreement is not None else []
    item = next((i for i in items if i.status != "paid"), None)
    if agreement is None or item is None:
        return [Reply(TextMessage(texts_unavailable()))]
    charges = agreements.issue_installment(session, agreement, item, today=facts.today)
    if not charges:
        return [Reply(TextMessage(texts_unavailable()))]
    from quita.bot.dialog.texts import creditor_line

    count = sum(1 for i in items if i.number > 0)
    text = Reply(TextMessage(agreements.charge_text(item, count, charges, creditor_line(facts))))
    return [text, *boleto_documents(charges)]


def texts_unavailable() -> str:
    return "Não foi possível gerar o pagamento agora. Uma pessoa da nossa equipe vai ajudar."


def _contact(session: Session, inbound: Inbound) -> ContactPoint | None:
    if inbound.contact_id is None:
        return None
    contact = session.get(ContactPoint, inbound.contact_id)
    return contact if contact is not None and contact.tenant_id == inbound.tenant_id else None


def _tag(debt: Debt, tag: str) -> None:
    tags = list(debt.tags or [])
    if tag not in tags:
        debt.tags = [*tags, tag]


def _audit(
    session: Session, tenant_id: uuid.UUID, action: str, entity_id: uuid.UUID | None, after: dict[str, Any]
) -> None:
    from quita.audit import service as audit

    entity = action.split(".")[0]
    audit.record(session, tenant_id=tenant_id, actor=ACTOR, action=f"bot.{action}", entity_type=entity,
                 entity_id=entity_id, after=after)  # fmt: skip


def _business_days_after(day: dt.date, n: int) -> dt.date:
    current = day
    while n > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            n -= 1
    return current


# --------------------------------------------------------------------------- handoff queue


def list_handoffs(
    session: Session,
    tenant_id: uuid.UUID,
    status: str | None = None,
    *,
    after: uuid.UUID | None = None,
    limit: int | None = None,
) -> list[HandoffItem]:
    """Oldest first (a queue); ``after`` is the last item of the previous page (keyset on created_at, id)."""
    query = select(HandoffItem).where(HandoffItem.tenant_id == tenant_id)
    if status is not None:
        query = query.where(HandoffItem.status == status)
    if after is not None:
        last = session.get(HandoffItem, after)
        if last is not None and last.tenant_id == tenant_id:
            query = query.where(
                (HandoffItem.created_at > last.created_at)
                | ((HandoffItem.created_at == last.created_at) & (HandoffItem.id > last.id))
            )
    query = query.order_by(HandoffItem.created_at, HandoffItem.id)
    return list(session.scalars(query if limit is None else query.limit(limit)))


def assign_handoff(session: Session, tenant_id: uuid.UUID, handoff_id: uuid.UUID, agent: str) -> HandoffItem:
    item = session.get(HandoffItem, handoff_id)
    if item is None or item.tenant_id != tenant_id:
        raise NotFound("item de atendimento não encontrado", code="handoff_not_found")
    if item.status == "closed":
        raise Conflict("este atendimento já foi encerrado", code="handoff_closed")
    item.status, item.assigned_to, item.assigned_at = "assigned", agent[:100], utcnow()
    session.flush()
    return item


def close_handoff(session: Session, tenant_id: uuid.UUID, handoff_id: uuid.UUID, agent: str) -> HandoffItem:
    """Closes the item and, when no other item holds the conversation, gives it back to the bot: to the
    agreement, the menu (identity already confirmed) or the identity question, with a fresh count."""
    item = session.get(HandoffItem, handoff_id)
    if item is None or item.tenant_id != tenant_id:
        raise NotFound("item de atendimento não encontrado", code="handoff_not_found")
    if item.status == "closed":
        return item
    item.status = "closed"
    item.assigned_to = item.assigned_to or agent[:100]
    session.flush()
    still_held = session.scalar(
        select(HandoffItem.id).where(
            HandoffItem.tenant_id == tenant_id,
            HandoffItem.bot_conversation_id == item.bot_conversation_id,
            HandoffItem.status != "closed",
        )
    )
    row = session.get(BotConversation, item.bot_conversation_id)
    if still_held is None and row is not None and row.tenant_id == tenant_id:
        state = ConversationState.from_json(row.state)
        if state.step is Step.HUMAN:
            if state.agreement_offer:
                step = Step.IN_AGREEMENT
            elif state.identity_verified:
                step = Step.MENU
            else:
                step = Step.AWAITING_IDENTITY
            state = replace(state, step=step, misunderstandings=0, identity_failures=0)
            row.state, row.step, row.version = state.to_json(), step.value, row.version + 1
    _audit(session, tenant_id, "handoff.closed", item.id, {"agent": agent[:100]})
    session.flush()
    return item

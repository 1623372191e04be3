"""Direct sends outside the cadence and the bot, for tests: the identity-check template and a boleto + Pix.

Quita itself sends the identity check through the cadence planner and the dispatcher (outbox, rate limits,
compliance gate) and a boleto through the bot (text with the codes, then the PDF as a document). These
helpers send the same messages straight through the WhatsApp client, so a test can put a template or a
payment on a phone without running those flows: ``client_for(channel).send(...)`` then ``record_outbound(...)``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from quita.br.money import format_brl
from quita.kit.db import Database
from quita.portfolio.models import ContactKind, ContactPoint, ContactStatus, Debtor
from quita.tenant.models import Creditor
from quita.whatsapp import service
from quita.whatsapp.domain.errors import WhatsAppError
from quita.whatsapp.domain.messages import (
    DocumentMessage,
    QuickReplyButtonParam,
    TemplateMessage,
    TextMessage,
    TextParam,
)
from quita.whatsapp.models import WhatsAppChannel

IDENTITY_TEMPLATE = "quita_confirmacao_identidade"
CONFIRM_PAYLOAD = "IDENTIDADE_CONFIRMADA"
DENY_PAYLOAD = "IDENTIDADE_NEGADA"


@dataclass(frozen=True, slots=True)
class Sent:
    debtor_id: uuid.UUID
    debtor_name: str
    number: str
    message_id: uuid.UUID
    wamid: str | None
    error: str | None = None


def identity_check(creditor_name: str, debtor_name: str) -> TemplateMessage:
    first_name = debtor_name.split()[0].title() if debtor_name.split() else debtor_name
    return TemplateMessage(
        name=IDENTITY_TEMPLATE,
        language="pt_BR",
        body=(TextParam(creditor_name), TextParam(first_name)),
        buttons=(QuickReplyButtonParam(0, CONFIRM_PAYLOAD), QuickReplyButtonParam(1, DENY_PAYLOAD)),
    )


_Job = tuple[Debtor, ContactPoint, TemplateMessage]
_Result = tuple[Debtor, ContactPoint, TemplateMessage, uuid.UUID, str | None, str | None, str | None]


async def _send_all(channel: WhatsAppChannel, jobs: list[_Job]) -> list[_Result]:
    results: list[_Result] = []
    async with service.client_for(channel) as client:
        for debtor, contact, message in jobs:
            message_id = uuid.uuid4()
            try:
                sent = await client.send(contact.value.lstrip("+"), message, callback_data=str(message_id))
            except WhatsAppError as exc:
                results.append((debtor, contact, message, message_id, None, None, str(exc)))
                continue
            results.append((debtor, contact, message, message_id, sent.wamid, sent.wa_id, None))
    return results


def send_identity_checks(
    database: Database, tenant_id: uuid.UUID, *, limit: int = 3, actor: str = "bot"
) -> list[Sent]:
    """Sends the identity check to the first ``limit`` debtors with a valid phone, and records each send."""
    with database.transaction() as session:
        channel = service.default_channel(session, tenant_id)
        creditor = session.scalars(select(Creditor).where(Creditor.tenant_id == tenant_id)).first()
        creditor_name = (creditor.trade_name or creditor.legal_name) if creditor else "seu credor"
        rows = session.execute(
            select(Debtor, ContactPoint)
            .join(ContactPoint, ContactPoint.debtor_id == Debtor.id)
            .where(
                Debtor.tenant_id == tenant_id,
                ContactPoint.tenant_id == tenant_id,
                ContactPoint.kind == ContactKind.PHONE,
                ContactPoint.status == ContactStatus.VALID,
                ContactPoint.value.startswith("+55"),
                ContactPoint.opted_out_at.is_(None),
                Debtor.is_deceased.is_(False),
            )
            .order_by(Debtor.name, ContactPoint.value)
            .limit(limit * 4)
        ).all()
        first_contact: dict[uuid.UUID, tuple[Debtor, ContactPoint]] = {}
        for debtor, contact in rows:
            first_contact.setdefault(debtor.id, (debtor, contact))
        jobs = [
            (debtor, contact, identity_check(creditor_name, debtor.name))
            for debtor, contact in list(first_contact.values())[:limit]
        ]
    results = asyncio.run(_send_all(channel, jobs))
    sent: list[Sent] = []
    for debtor, contact, message, message_id, wamid, wa_id, error in results:
        if error is None:
            with database.transaction() as session:
                service.record_outbound(
                    session,
                    tenant_id=tenant_id,
                    channel_id=channel.id,
                    contact_id=contact.id,
                    debtor_id=debtor.id,
                    message_id=message_id,
                    wamid=wamid,
                    kind="template",
                    body={"to": contact.value.lstrip("+"), **message.to_json()},
                    actor=actor,
                    template_name=message.name,
                    template_params=[p.text for p in message.body if isinstance(p, TextParam)],
                    wa_id=wa_id,
                )
        sent.append(Sent(debtor.id, debtor.name, contact.value, message_id, wamid, error))
    return sent


@dataclass(frozen=True, slots=True)
class BoletoToSend:
    linha_digitavel: str
    pdf: bytes
    amount: Decimal
    due_date: dt.date
    reference: str


@dataclass(frozen=True, slots=True)
class PixToSend:
    copia_e_cola: str
    amount: Decimal
    due_date: dt.date


@dataclass(frozen=True, slots=True)
class Delivered:
    kind: str  # document | text
    message_id: uuid.UUID
    wamid: str | None
    error: str | None = None


def boleto_caption(boleto: BoletoToSend) -> str:
    return (
        f"Boleto de {format_brl(boleto.amount)}, vencimento {boleto.due_date:%d/%m/%Y} "
        f"(título {boleto.reference}).\nLinha digitável:\n{boleto.linha_digitavel}"
    )


def pix_text(pix: PixToSend) -> str:
    return (
        f"Se preferir, pague com Pix: {format_brl(pix.amount)} até {pix.due_date:%d/%m/%Y}. "
        f"Copie o código abaixo (Pix copia e cola) no app do seu banco:\n{pix.copia_e_cola}"
    )


async def _send_payment(
    channel: WhatsAppChannel, to: str, boleto: BoletoToSend, pix: PixToSend, last_inbound_at: dt.datetime
) -> list[tuple[Delivered, dict[str, Any]]]:
    results: list[tuple[Delivered, dict[str, Any]]] = []
    async with service.client_for(channel) as client:
        try:
            media_id = await client.upload_media(
                boleto.pdf, mime_type="application/pdf", filename=f"boleto-{boleto.reference}.pdf"
            )
        except WhatsAppError as exc:
            return [(Delivered("document", uuid.uuid4(), None, f"upload do PDF: {exc}"), {})]
        messages: list[tuple[str, DocumentMessage | TextMessage]] = [
            (
                "document",
                DocumentMessage(
                    media_id=media_id,
                    filename=f"boleto-{boleto.reference}.pdf",
                    caption=boleto_caption(boleto),
                ),
            ),
            ("text", TextMessage(pix_text(pix))),
        ]
        for kind, message in messages:
            message_id = uuid.uuid4()
            body = {"to": to, **message.to_json()}
            try:
                sent = await client.send(
                    to, message, callback_data=str(message_id), last_inbound_at=last_inbound_at
                )
            except WhatsAppError as exc:
                results.append((Delivered(kind, message_id, None, str(exc)), body))
                continue
            results.append((Delivered(kind, message_id, sent.wamid), body | {"wa_id": sent.wa_id}))
    return results


def send_payment_options(
    database: Database,
    tenant_id: uuid.UUID,
    *,
    debtor_id: uuid.UUID,
    contact_id: uuid.UUID,
    to: str,
    boleto: BoletoToSend,
    pix: PixToSend,
    last_inbound_at: dt.datetime,
    actor: str = "bot",
) -> list[Delivered]:
    """Sends the boleto (PDF with the linha digitável in the caption) and the Pix copia e cola, and records
    each message in the conversation. Needs the window the debtor opened (``last_inbound_at``)."""
    with database.transaction() as session:
        channel = service.default_channel(session, tenant_id)
    digits = to.lstrip("+")
    results = asyncio.run(_send_payment(channel, digits, boleto, pix, last_inbound_at))
    for delivered, body in results:
        if delivered.error is not None:
            continue
        wa_id = body.pop("wa_id", None)
        with database.transaction() as session:
            service.record_outbound(
                session,
                tenant_id=tenant_id,
                channel_id=channel.id,
                contact_id=contact_id,
                debtor_id=debtor_id,
                message_id=delivered.message_id,
                wamid=delivered.wamid,
                kind=delivered.kind,
                body=body,
                actor=actor,
                wa_id=wa_id,
            )
    return [d for d, _ in results]

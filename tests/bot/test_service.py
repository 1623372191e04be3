"""The bot service on both databases: decisions applied, state persisted, duplicates ignored.

Sending is replaced by a recorder here (the simulator end-to-end path is exercised separately)."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from quita.bot import service
from quita.bot.dialog.machine import Reply
from quita.bot.models import Agreement, AgreementInstallment, BotConversation, HandoffItem
from quita.bot.service import Outgoing
from quita.kit.db import Database
from quita.portfolio.models import ContactPoint, ContactStatus, Debt, DebtStatus
from quita.tenant.models import Creditor
from quita.whatsapp import service as whatsapp
from quita.whatsapp.domain.messages import DocumentMessage, ListMessage, ReplyButtonsMessage, TextMessage
from tests.factories import make_tenant
from tests.whatsapp.conftest import add_debtor

TODAY = dt.date(2026, 3, 2)


class Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []
        self._ids = itertools.count(1)
        self.refuse_documents = False  # as if Meta refused every document for good

    async def send(self, channel: Any, to: str, replies: tuple[Outgoing, ...], last: dt.datetime) -> list[Any]:
        """Stands in for ``service._send``: every reply "sent", a document as if uploaded first."""
        out = []
        for reply in replies:
            n = next(self._ids)
            if self.refuse_documents and not isinstance(reply, Reply):
                out.append((uuid.uuid4(), None, None, None))
                continue
            wamid = f"wamid.out.{n}"
            message = reply.message if isinstance(reply, Reply) else DocumentMessage(
                media_id=f"media.{n}", filename=reply.filename, caption=reply.caption
            )
            self.sent.append((wamid, message))
            out.append((uuid.uuid4(), wamid, to, message))
        return out


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch, secret_key: str) -> Outbox:
    box = Outbox()
    monkeypatch.setattr(service, "_send", box.send)
    return box


@pytest.fixture
def secret_key(monkeypatch: pytest.MonkeyPatch) -> str:
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    monkeypatch.setenv("QUITA_SECRET_KEY", key)
    return key


class Debtor:
    def __init__(self, database: Database, outbox: Outbox) -> None:
        self.database, self.outbox = database, outbox
        self.tenant_id = make_tenant(database, "bot")
        self.debtor_id, self.contact_id = add_debtor(database, self.tenant_id)
        with database.transaction() as session:
            channel = whatsapp.create_channel(
                session, tenant_id=self.tenant_id, phone_number_id="1001", waba_id="2002", access_token="t",
                app_secret="s", verify_token="v", actor="test",
            )  # fmt: skip
            creditor = session.scalars(select(Creditor).where(Creditor.tenant_id == self.tenant_id)).one()
            debt = Debt(
                tenant_id=self.tenant_id, debtor_id=self.debtor_id, external_id="T-1", creditor_id=creditor.id,
                principal=Decimal("1100.00"), due_date=dt.date(2025, 12, 1), status=DebtStatus.OPEN,
            )  # fmt: skip
            session.add(debt)
            session.flush()
            self.channel_id, self.debt_id = channel.id, debt.id
        self.conversation_id = uuid.uuid4()
        self.seq = itertools.count(1)

    def _payload(self, **fields: Any) -> dict[str, Any]:
        return {
            "tenant_id": str(self.tenant_id), "channel_id": str(self.channel_id),
            "conversation_id": str(self.conversation_id), "debtor_id": str(self.debtor_id),
            "contact_id": str(self.contact_id), "wamid": f"wamid.in.{next(self.seq)}", "wa_id": "5511987654321",
            **fields,
        }  # fmt: skip

    def say(self, text: str, wamid: str | None = None) -> service.Handled:
        payload = self._payload(text=text)
        if wamid:
            payload["wamid"] = wamid
        return service.handle_inbound(self.database, payload, today=TODAY)

    def tap(self, reply_id: str, context: str | None = None) -> service.Handled:
        return service.handle_inbound(
            self.database, self._payload(reply_id=reply_id, context_wamid=context), today=TODAY
        )


def test_identity_disclosure_agreement_persisted(database: Database, outbox: Outbox) -> None:
    d = Debtor(database, outbox)
    d.tap("id_yes")
    d.say("529")
    assert isinstance(outbox.sent[-1][1], ListMessage)
    d.say("quero parcelar em 6x")
    confirm_wamid, confirm = outbox.sent[-1]
    assert isinstance(confirm, ReplyButtonsMessage)
    handled = d.tap("accept:6", confirm_wamid)
    assert any(type(c).__name__ == "CreateAgreement" for c in handled.commands)
    with database.transaction() as session:
        agreement = session.scalars(select(Agreement).where(Agreement.tenant_id == d.tenant_id)).one()
        items = session.scalars(
            select(AgreementInstallment).where(AgreementInstallment.agreement_id == agreement.id)
        ).all()
        assert agreement.installments == 6 and len(items) == 6
        assert sum(i.amount for i in items) == agreement.total
        debt = session.get(Debt, d.debt_id)
        assert debt is not None and debt.status == DebtStatus.IN_AGREEMENT
        row = session.scalars(select(BotConversation)).one()
        assert row.step == "in_agreement" and row.version >= 5


def test_duplicate_webhook_is_answered_once(database: Database, outbox: Outbox) -> None:
    d = Debtor(database, outbox)
    first = d.say("oi", wamid="wamid.dup")
    second = d.say("oi", wamid="wamid.dup")
    assert not first.duplicate and second.duplicate
    assert len(outbox.sent) == 1


def test_wrong_person_flags_the_contact(database: Database, outbox: Outbox) -> None:
    d = Debtor(database, outbox)
    d.tap("id_no")
    with database.transaction() as session:
        contact = session.get(ContactPoint, d.contact_id)
        assert contact is not None and contact.status == ContactStatus.WRONG_NUMBER
    message = outbox.sent[-1][1]
    assert isinstance(message, TextMessage) and "R$" not in message.body


def test_opt_out_and_dispute_handoff(database: Database, outbox: Outbox) -> None:
    d = Debtor(database, outbox)
    d.tap("id_yes")
    d.say("529")
    d.say("eu não devo isso, nunca comprei nessa loja")
    with database.transaction() as session:
        [item] = service.list_handoffs(session, d.tenant_id)
        assert (item.queue, item.reason, item.status) == ("care", "dispute", "open")
        service.assign_handoff(session, d.tenant_id, item.id, "ana")
        debt = session.get(Debt, d.debt_id)
        assert debt is not None and debt.status == DebtStatus.DISPUTED and "contestacao" in (debt.tags or [])
    count = len(outbox.sent)
    d.say("alô?")
    assert len(outbox.sent) == count  # silent while a person owns it
    d.say("pare de me mandar mensagens")
    with database.transaction() as session:
        contact = session.get(ContactPoint, d.contact_id)
        assert contact is not None and contact.opted_out_at is not None
        assert session.scalars(select(HandoffItem)).one().assigned_to == "ana"

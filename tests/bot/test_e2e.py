"""The bot end to end: the simulator posts a signed webhook to a real Quita server over loopback, Quita's
receiver stores it, the processing job publishes the inbound message, the bot job decides and replies
through the Graph API of the simulator. Every path of issue 6's conversation is walked here.

One simulator and one Quita server per database for the whole module (SQLite, then PostgreSQL; the in-process
job runner of ``quita serve``); every test uses its own
debtor and phone, so the tests are independent of each other and of their order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.fernet import Fernet
from sqlalchemy import select

from quita.bot.models import (
    Agreement,
    AgreementInstallment,
    BotConversation,
    BotInbound,
    HandoffItem,
    PaymentPromise,
    ReceiptReview,
)
from quita.bot.nlu.understanding import Nlu
from quita.config import Settings
from quita.kit.db import Database
from quita.portfolio.models import ContactPoint, ContactStatus, Debt, DebtStatus
from quita.server import demo
from quita.server.app import create_app
from quita.simulator.app import create_app as create_simulator
from quita.simulator.psp.schemas import PspConfig
from quita.simulator.whatsapp.schemas import PhoneNumberConfig, SimConfig
from quita.whatsapp import service as whatsapp
from tests.conftest import ServerThread, _truncate_all, free_port
from tests.factories import make_api_key, make_tenant
from tests.whatsapp import outreach
from tests.whatsapp.conftest import add_debtor

PHONE_ID = "100000000000061"
CPF = "529"  # every debtor's CPF starts with these three digits (the identity check's answer)


def cpf_starting_529(n: int) -> str:
    """A valid CPF 529xxxxxx-dd, distinct per ``n`` (debtors are unique per tenant and document)."""
    digits = [int(c) for c in f"529{n:06d}"]
    for size in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(size + 1, 1, -1), strict=True))
        digits.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, digits))


_numbers = itertools.count(1)


class Stack:
    """The simulator and a Quita server that can be restarted on the same port."""

    def __init__(self, database: Database, settings: Settings, sim: ServerThread, quita_port: int) -> None:
        self.database, self.settings, self.sim, self.port = database, settings, sim, quita_port
        self.quita: ServerThread | None = None
        self.app: Any = None
        self.tenant_id = make_tenant(database, "bot-e2e")
        self.api_key = make_api_key(database, "bot-e2e")

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.app = create_app(self.settings, self.database)
        self.quita = on_port(self.app, self.port).__enter__()

    def stop(self) -> None:
        assert self.quita is not None
        self.quita.__exit__(None, None, None)
        self.quita = None

    def wait_idle(self) -> None:
        assert self.quita is not None
        self.app.state.runner.wait_idle(timeout=30)

    def sim_config(self, **changes: Any) -> None:
        httpx.post(f"{self.sim.url}/_sim/config", json=changes, timeout=10).raise_for_status()

    def stats(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.sim.url}/_sim/stats", timeout=10).json())

    def debtor(self, principal: str = "1100.00", days_overdue: int = 95) -> Phone:
        n = next(_numbers)
        number = f"55119{n:04d}7{uuid.uuid4().int % 1000:03d}"
        debtor_id, contact_id = add_debtor(
            self.database, self.tenant_id, phone=f"+{number}", document=cpf_starting_529(n)
        )
        from quita.tenant.models import Creditor

        with self.database.transaction() as session:
            creditor = session.scalars(select(Creditor).where(Creditor.tenant_id == self.tenant_id)).one()
            debt = Debt(
                tenant_id=self.tenant_id,
                debtor_id=debtor_id,
                external_id=f"E2E-{number}",
                creditor_id=creditor.id,
                principal=Decimal(principal),
                due_date=dt.date.today() - dt.timedelta(days=days_overdue),
                status=DebtStatus.OPEN,
            )
            session.add(debt)
            session.flush()
            debt_id = debt.id
        return Phone(self, number, debtor_id, contact_id, debt_id)


class Phone:
    """One debtor's phone: acts through the simulator's control API, reads what the business sent back."""

    def __init__(
        self, stack: Stack, number: str, debtor_id: uuid.UUID, contact_id: uuid.UUID, debt_id: uuid.UUID
    ) -> None:
        self.stack, self.number = stack, number
        self.debtor_id, self.contact_id, self.debt_id = debtor_id, contact_id, debt_id
        self.seen = 0

    # -- the business side
    def first_contact(self) -> str:
        """The cadence's neutral identity template (no amount), sent through Quita's WhatsApp client."""
        db = self.stack.database
        with db.transaction() as session:
            channel = whatsapp.default_channel(session, self.stack.tenant_id)
            session.expunge(channel)

        async def send() -> str:
            async with whatsapp.client_for(channel) as client:
                message = outreach.identity_check("Credor bot-e2e", "Maria")
                result = await client.send(self.number, message, callback_data=str(uuid.uuid4()))
                return result.wamid

        wamid = asyncio.run(send())
        self.seen = len(self.messages())
        return wamid

    def messages(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.stack.sim.url}/_sim/messages", params={"to": self.number}, timeout=10)
        return list(response.json()["data"])

    # -- the debtor side
    def post(self, body: dict[str, Any]) -> str:
        response = httpx.post(
            f"{self.stack.sim.url}/_sim/inbound",
            json={"from": self.number, "name": "Maria", **body},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    def wait_answered(self, wamid: str, timeout: float = 20.0) -> None:
        """Until the bot decided on this inbound message (its dedup row committed) and its job finished."""
        deadline = time.monotonic() + timeout
        while True:
            with self.stack.database.transaction() as session:
                if session.scalar(select(BotInbound.id).where(BotInbound.wamid == wamid)) is not None:
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot never handled {wamid}")
            time.sleep(0.02)
        self.stack.wait_idle()

    def new(self) -> list[dict[str, Any]]:
        messages = self.messages()
        fresh, self.seen = messages[self.seen :], len(messages)
        return [m["request"] for m in fresh]

    def act(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        self.wait_answered(self.post(body))
        return self.new()

    def say(self, text: str) -> list[dict[str, Any]]:
        return self.act({"type": "text", "text": text})

    def tap(self, message: dict[str, Any], title_or_id: str) -> list[dict[str, Any]]:
        """Taps a button or list row of a business message (``message`` is a ``/_sim/messages`` entry)."""
        request = message["request"]
        interactive = request["interactive"]
        if interactive["type"] == "button":
            options = [b["reply"] for b in interactive["action"]["buttons"]]
            kind = "button_reply"
        else:
            options = [r for s in interactive["action"]["sections"] for r in s["rows"]]
            kind = "list_reply"
        [chosen] = [o for o in options if o["id"] == title_or_id or o["title"].startswith(title_or_id)]
        return self.act(
            {"type": kind, "id": chosen["id"], "title": chosen["title"], "context": message["id"]}
        )

    def last(self) -> dict[str, Any]:
        return self.messages()[-1]

    def start_verified(self) -> list[dict[str, Any]]:
        """Identity template → [Sou eu] → the first three CPF digits: returns the disclosure."""
        template = self.first_contact()
        asked = self.act(
            {"type": "button", "payload": outreach.CONFIRM_PAYLOAD, "text": "Sou eu", "context": template}
        )
        assert "três primeiros dígitos do seu CPF" in body_of(asked[0])
        return self.say(CPF[:3])

    def state(self) -> BotConversation:
        with self.stack.database.transaction() as session:
            row = session.scalars(
                select(BotConversation).where(BotConversation.debtor_id == self.debtor_id)
            ).one()
            session.expunge(row)
            return row


def on_port(app: Any, port: int) -> ServerThread:
    """A ServerThread on a chosen port, so that a restarted Quita answers the simulator's retries."""
    server = ServerThread(app)
    server.port = port
    server.server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    server.thread = threading.Thread(target=server.server.run, daemon=True)
    return server


def body_of(request: dict[str, Any]) -> str:
    if request["type"] == "text":
        return str(request["text"]["body"])
    if request["type"] == "interactive":
        return str(request["interactive"]["body"]["text"])
    return ""


def rows_of(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for s in request["interactive"]["action"]["sections"] for r in s["rows"]]


def texts(requests: list[dict[str, Any]]) -> str:
    return "\n".join(body_of(r) for r in requests)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, nlu: Nlu
) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("bot-e2e")
    if request.param == "sqlite":
        path = folder / "quita.db"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QUITA_SECRET_KEY", Fernet.generate_key().decode())
        database = Database(url)
        if not database.is_sqlite:
            _truncate_all(database)  # the session's schema: other modules' rows go
        settings = Settings(database_url=url, data_dir=folder / "data", embedded_dispatch=False)
        quita_port, sim_port = free_port(), free_port()
        sim_url = f"http://127.0.0.1:{sim_port}"
        whatsapp_config = SimConfig(
            token=demo.DEMO_SIM_TOKEN, app_secret=demo.DEMO_SIM_SECRET,
            phone_numbers=[PhoneNumberConfig(phone_number_id=PHONE_ID, display_phone_number="5511999990061")],
            webhook_url=f"http://127.0.0.1:{quita_port}/webhooks/whatsapp", sent_delay_s=0.01,
            delivered_delay_s=0.02, read_delay_s=0.03, pair_interval_s=0.01, pair_burst=100,
            webhook_retry_base_s=0.2, webhook_max_attempts=10, status_webhooks="off",
        )  # fmt: skip
        psp_config = PspConfig(
            client_id=demo.DEMO_PSP_CLIENT, client_secret=demo.DEMO_PSP_SECRET, public_base_url=f"{sim_url}/psp",
            cnab_dir=str(folder / "cnab"), pix_webhook_url=f"http://127.0.0.1:{quita_port}/webhooks/pix/bot-e2e",
            pix_webhook_secret=demo.DEMO_PIX_WEBHOOK_SECRET,
        )  # fmt: skip
        with on_port(create_simulator(whatsapp_config, psp_config), sim_port) as sim:
            built = Stack(database, settings, sim, quita_port)
            demo.connect(database, built.tenant_id, sim.url, whatsapp_config)
            built.start()
            try:
                yield built
            finally:
                if built.quita is not None:
                    built.stop()
                database.dispose()


# --------------------------------------------------------------------------- identity


def test_identity_yes_then_itemised_disclosure_with_creditor(stack: Stack) -> None:
    phone = stack.debtor()
    template = phone.first_contact()
    [sent] = [m for m in phone.messages() if m["id"] == template]
    assert sent["request"]["type"] == "template" and "R$" not in str(sent.get("rendered"))
    asked = phone.act(
        {"type": "button", "payload": outreach.CONFIRM_PAYLOAD, "text": "Sou eu", "context": template}
    )
    assert len(asked) == 1 and "R$" not in body_of(asked[0])
    [shown] = phone.say("529")
    disclosure = body_of(shown)
    for part in (
        "Valor original: R$ 1.100,00",
        "Multa: R$",
        "Juros: R$",
        "Total atualizado",
        "CNPJ 11.222.333/0001-81",
        "Rua Um, 1, Centro, São Paulo/SP",
        "vencido em",
    ):
        assert part in disclosure, part
    assert "529" not in disclosure  # the document is never echoed  # the document is never echoed
    rows = rows_of(shown)
    assert 1 <= len(rows) <= 10 and all(len(r["title"]) <= 24 for r in rows)
    assert {"menu:plans", "menu:paid", "menu:human", "menu:dispute"} <= {r["id"] for r in rows}


def test_identity_no_is_the_wrong_person_and_then_silence(stack: Stack) -> None:
    phone = stack.debtor()
    template = phone.first_contact()
    [sorry] = phone.act(
        {
            "type": "button",
            "payload": outreach.DENY_PAYLOAD,
            "text": "Não conheço esta pessoa",
            "context": template,
        }
    )
    assert "desculpas" in body_of(sorry) and "R$" not in body_of(sorry)
    assert phone.say("mas quanto é a dívida?") == []
    with stack.database.transaction() as session:
        assert session.get_one(ContactPoint, phone.contact_id).status == ContactStatus.WRONG_NUMBER


def test_wrong_person_in_free_text_reveals_nothing(stack: Stack) -> None:
    phone = stack.debtor()
    phone.first_contact()
    [sorry] = phone.say("nao conheço essa pessoa, esse numero é meu faz anos")
    assert "desculpas" in body_of(sorry) and "R$" not in body_of(sorry) and "CNPJ" not in body_of(sorry)
    assert phone.state().step == "wrong_person"


def test_three_identity_failures_lock_and_offer_a_person(stack: Stack) -> None:
    phone = stack.debtor()
    template = phone.first_contact()
    phone.act({"type": "button", "payload": outreach.CONFIRM_PAYLOAD, "text": "Sou eu", "context": template})
    first, second = phone.say("111"), phone.say("222")
    assert "não conferem" in texts(first) and "não conferem" in texts(second)
    [locked] = phone.say("333")
    assert "Não foi possível confirmar sua identidade" in body_of(locked)
    assert [b["reply"]["title"] for b in locked["interactive"]["action"]["buttons"]] == [
        "Falar com atendente"
    ]
    assert phone.say("529") == []  # locked: even the right digits now disclose nothing
    everything = [m["request"] for m in phone.messages()]
    assert not any("R$" in body_of(r) or "CNPJ" in body_of(r) for r in everything)
    handed = phone.tap(phone.last(), "Falar com atendente")
    assert "Uma pessoa da nossa equipe" in texts(handed)
    with stack.database.transaction() as session:
        debt = session.get_one(Debt, phone.debt_id)
        assert "identidade_nao_confirmada" in (debt.tags or [])
        assert session.scalars(select(HandoffItem).where(HandoffItem.debtor_id == phone.debtor_id)).one()


# --------------------------------------------------------------------------- negotiation


def test_counter_proposal_old_button_and_acceptance(stack: Stack) -> None:
    phone = stack.debtor()
    phone.start_verified()
    menu = phone.last()
    [plans] = phone.tap(menu, "menu:plans")
    plans_message = phone.last()
    assert "CET" in str(plans) and "CNPJ" in body_of(plans)
    six = [r for r in rows_of(plans) if r["title"].startswith("6x")]
    assert six, rows_of(plans)

    counter = phone.say("consigo pagar 150 por mês")
    shown = counter[0]
    assert shown["type"] == "interactive"
    if shown["interactive"]["type"] == "list":  # nearest plan the policy allows, with the honest note
        [row] = [r for r in rows_of(shown) if r["id"].startswith("plan:")]
        value = Decimal(row["title"].split("R$")[1].strip().replace(".", "").replace(",", "."))
        assert value <= Decimal("150.00")
    twelve = phone.say("dá pra fazer em 12x?")
    twelve_message = phone.last()
    assert "12 parcelas" in texts(twelve) and twelve_message["request"]["interactive"]["type"] == "button"

    # A row tapped on the first (older) list is bound to that list's offer, not to the newest one.
    confirm_six = phone.tap(plans_message, six[0]["title"])
    assert "6 parcelas" in texts(confirm_six)
    # Tapping Confirmo on the older 12x confirmation accepts that older offer, as the person saw it.
    done = phone.tap(twelve_message, "Confirmo")
    assert "Acordo registrado" in texts(done) and "12 parcelas" in texts(done)
    with stack.database.transaction() as session:
        agreement = session.scalars(select(Agreement).where(Agreement.debtor_id == phone.debtor_id)).one()
        assert agreement.installments == 12
        count = len(
            session.scalars(
                select(AgreementInstallment).where(AgreementInstallment.agreement_id == agreement.id)
            ).all()
        )
        assert count == 12
        assert session.get_one(Debt, phone.debt_id).status == DebtStatus.IN_AGREEMENT
    assert "já está registrado" in texts(phone.tap(plans_message, six[0]["title"]))  # no second agreement


def test_acceptance_of_six_installments_in_free_text(stack: Stack) -> None:
    phone = stack.debtor()
    phone.start_verified()
    phone.tap(phone.last(), "menu:plans")
    six = [r for r in rows_of(phone.last()["request"]) if r["title"].startswith("6x")]
    phone.tap(phone.last(), six[0]["title"])
    done = phone.say("confirmo")
    assert "Acordo registrado" in texts(done) and "6 parcelas" in texts(done)
    with stack.database.transaction() as session:
        agreement = session.scalars(select(Agreement).where(Agreement.debtor_id == phone.debtor_id)).one()
        assert agreement.installments == 6 and agreement.status == "active"
        first = session.scalars(
            select(AgreementInstallment).where(
                AgreementInstallment.agreement_id == agreement.id, AgreementInstallment.number == 1
            )
        ).one()
    # The first instalment's boleto and Pix come right after the acceptance, for the instalment's amount,
    # the codes in a text and the boleto's PDF as a document after it.
    codes = texts(done)
    assert "Linha digitável do boleto" in codes and "Pix copia e cola" in codes
    assert [r["type"] for r in done][-2:] == ["text", "document"]
    assert_boleto_pdf_sent(stack, done[-1], first.id)
    brcode = codes.split("Pix copia e cola:\n", 1)[1].split("\n", 1)[0]
    paid = httpx.post(f"{stack.sim.url}/_sim/psp/pay", json={"brcode": brcode}, timeout=15)
    assert paid.status_code == 200, paid.text
    deadline = time.monotonic() + 15
    while True:
        with stack.database.transaction() as session:
            status = session.get_one(AgreementInstallment, first.id).status
        if status == "paid" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status == "paid"  # the Pix webhook advanced the agreement: instalment 1 of 6 paid


def assert_boleto_pdf_sent(stack: Stack, request: dict[str, Any], installment_id: uuid.UUID | None = None,
                           debt_id: uuid.UUID | None = None) -> None:
    """The document the phone received is the boleto's PDF as issued, and the conversation record holds its
    SHA-256 (the media id expires at Meta; the hash still proves which file the person got)."""
    import hashlib

    from quita.payments.models import Charge, ChargeKind
    from quita.whatsapp.models import WhatsAppMessage

    document = request["document"]
    assert document["filename"].startswith("boleto-") and document["filename"].endswith(".pdf")
    assert "Boleto de R$" in document["caption"]
    received = httpx.get(f"{stack.sim.url}/_sim/media/{document['id']}", timeout=10)
    assert received.status_code == 200 and received.content.startswith(b"%PDF")
    with stack.database.transaction() as session:
        query = select(Charge).where(Charge.kind == ChargeKind.BOLETO)
        if installment_id is not None:
            query = query.where(Charge.agreement_installment_id == installment_id)
        if debt_id is not None:
            query = query.where(Charge.debt_id == debt_id, Charge.agreement_installment_id.is_(None))
        charge = session.scalars(query).one()
        assert received.content == Path(str(charge.pdf_path)).read_bytes()
        recorded = session.scalars(
            select(WhatsAppMessage).where(WhatsAppMessage.kind == "document", WhatsAppMessage.actor == "bot")
        ).all()
        [entry] = [m for m in recorded if m.body["document"]["id"] == document["id"]]
        assert entry.body["document"]["sha256"] == hashlib.sha256(received.content).hexdigest()


def test_asking_for_the_boleto_sends_its_codes_and_its_pdf(stack: Stack) -> None:
    phone = stack.debtor()
    phone.start_verified()
    sent = phone.say("me manda o boleto pra eu pagar")
    assert "Linha digitável do boleto" in texts(sent)
    assert [r["type"] for r in sent][-1] == "document"
    assert_boleto_pdf_sent(stack, sent[-1], debt_id=phone.debt_id)


# --------------------------------------------------------------------------- promises, receipts, care


def test_promise_to_pay_vague_then_a_date(stack: Stack) -> None:
    phone = stack.debtor()
    phone.start_verified()
    [ask] = phone.say("vou pagar quando cair o salário")
    assert "Em qual data" in body_of(ask)
    when = dt.date.today() + dt.timedelta(days=5)
    [noted] = phone.say(f"dia {when.strftime('%d/%m')}")
    assert when.strftime("%d/%m/%Y") in body_of(noted)
    with stack.database.transaction() as session:
        promise = session.scalars(
            select(PaymentPromise).where(PaymentPromise.debtor_id == phone.debtor_id)
        ).one()
        assert promise.due_date == when and promise.status == "open"


def test_already_paid_asks_for_the_receipt_and_opens_a_review(stack: Stack) -> None:
    phone = stack.debtor()
    phone.start_verified()
    [ask] = phone.say("ja paguei isso semana passada")
    assert "comprovante" in body_of(ask)
    [thanks] = phone.act(
        {
            "type": "document",
            "filename": "comprovante.pdf",
            "mime_type": "application/pdf",
            "data_base64": "JVBERi0xLjQKJSVFT0YK",
        }
    )
    assert "Recebemos o comprovante" in body_of(thanks)
    with stack.database.transaction() as session:
        review = session.scalars(
            select(ReceiptReview).where(ReceiptReview.debtor_id == phone.debtor_id)
        ).one()
        assert review.media_id and review.paused_until and review.paused_until > dt.date.today()
        assert "pausa:already_paid" in (session.get_one(Debt, phone.debt_id).tags or [])


def test_opt_out_inside_a_sentence_confirmed_once(stack: Stack) -> None:
    phone = stack.debtor()
    phone.start_verified()
    [confirmed] = phone.say("ok entendi, mas por favor parem de me mandar mensagem")
    assert "não receberá mais mensagens" in body_of(confirmed)
    assert phone.say("PARAR") == []
    with stack.database.transaction() as session:
        assert session.get_one(ContactPoint, phone.contact_id).opted_out_at is not None


def test_dispute_pauses_and_hands_off(stack: Stack) -> None:
    phone = stack.debtor()
    phone.start_verified()
    [care] = phone.say("nao reconheço essa divida, nunca tive conta nesse banco")
    assert "suspender a cobrança" in body_of(care)
    with stack.database.transaction() as session:
        assert session.get_one(Debt, phone.debt_id).status == DebtStatus.DISPUTED
        item = session.scalars(select(HandoffItem).where(HandoffItem.debtor_id == phone.debtor_id)).one()
        assert item.queue == "care" and item.reason == "dispute"


def test_human_handoff_bot_silent_until_closed(stack: Stack) -> None:
    phone = stack.debtor()
    phone.start_verified()
    [handed] = phone.say("quero falar com um atendente por favor")
    assert "Uma pessoa da nossa equipe" in body_of(handed)
    assert phone.say("alô? tem alguém aí?") == []
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    queue = httpx.get(f"{stack.api}/api/v1/handoffs", params={"status": "open"}, headers=headers).json()[
        "items"
    ]
    [item] = [i for i in queue if i["debtor_id"] == str(phone.debtor_id)]
    assert (
        httpx.post(
            f"{stack.api}/api/v1/handoffs/{item['id']}/assign", json={"agent": "Ana"}, headers=headers
        ).status_code
        == 200
    )
    assert phone.say("ainda estou esperando") == []
    assert httpx.post(f"{stack.api}/api/v1/handoffs/{item['id']}/close", headers=headers).status_code == 200
    back = phone.say("quanto eu devo?")
    assert back and "Total atualizado" in texts(back)


def test_misunderstandings_menu_again_then_a_person(stack: Stack) -> None:
    phone = stack.debtor()
    phone.start_verified()
    [first] = phone.say("xpto qwerty zzz")
    assert "não entendi" in body_of(first)
    [second] = phone.say("hmmm xpto")
    assert "Total atualizado" in body_of(second) and second["interactive"]["type"] == "list"
    [third] = phone.say("qwerty asdf")
    assert "falar com uma pessoa" in body_of(third)
    [fourth] = phone.say("zzz zzz")
    assert "pessoa da nossa equipe" in body_of(fourth)
    assert phone.say("asdf") == []  # never loops: a person owns it now


# --------------------------------------------------------------------------- reliability


def test_restart_mid_conversation_resumes_from_the_database(stack: Stack) -> None:
    phone = stack.debtor()
    template = phone.first_contact()
    phone.act({"type": "button", "payload": outreach.CONFIRM_PAYLOAD, "text": "Sou eu", "context": template})
    stack.stop()
    wamid = phone.post({"type": "text", "text": "529"})  # Quita is down: the simulator retries the webhook
    time.sleep(0.5)
    stack.start()
    phone.wait_answered(wamid)
    [shown] = phone.new()
    assert "Total atualizado" in body_of(shown)


def test_a_message_recorded_but_never_answered_is_answered_at_the_next_start(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process stopped between recording the debtor's message and running the (in-memory) reply job."""
    from quita.kit import events
    from quita.whatsapp.models import Message

    phone = stack.debtor()
    phone.start_verified()
    with monkeypatch.context() as lost:
        lost.setitem(events._SUBSCRIBERS, events.INBOUND_MESSAGE, [])  # the reply job never queued
        wamid = phone.post({"type": "text", "text": "quanto eu devo?"})
        deadline = time.monotonic() + 20
        while True:
            with stack.database.transaction() as session:
                if session.scalar(select(Message.id).where(Message.wamid == wamid)) is not None:
                    break
            assert time.monotonic() < deadline, "the message was never recorded"
            time.sleep(0.02)
        stack.wait_idle()
    stack.stop()
    assert phone.new() == []
    stack.start()
    phone.wait_answered(wamid)
    [shown] = phone.new()
    assert "Total atualizado" in body_of(shown)
    stack.stop()
    stack.start()  # answered once: the next start finds nothing to catch up
    stack.wait_idle()
    assert phone.new() == []


def test_duplicated_webhooks_get_one_reply(stack: Stack) -> None:
    phone = stack.debtor()
    phone.start_verified()
    before = stack.stats()
    stack.sim_config(duplicate_rate=1.0)
    try:
        replies = phone.say("quanto eu devo?")
        time.sleep(0.5)  # let the duplicate deliveries land and be processed
        stack.wait_idle()
    finally:
        stack.sim_config(duplicate_rate=0.0)
    after = stack.stats()
    assert after["webhooks"]["duplicates"] > before["webhooks"]["duplicates"]
    assert len(replies) == 1 and phone.new() == []
    assert not after["duplicate_sends"]


def test_a_reply_meta_turns_away_for_a_moment_is_sent_again(stack: Stack) -> None:
    """At one message a second for the number, one of two simultaneous answers meets 130429 and goes out
    once the bucket refills, instead of being dropped."""
    phone = stack.debtor()
    phone.start_verified()
    throttled = int(stack.stats()["rejected_by_code"].get("130429", 0))
    stack.sim_config(throughput_mps=1)
    try:
        wamids = [phone.post({"type": "text", "text": t}) for t in ("quanto eu devo?", "qual o valor da divida?")]
        for wamid in wamids:
            phone.wait_answered(wamid)
    finally:
        stack.sim_config(throughput_mps=80)
    replies = phone.new()
    assert int(stack.stats()["rejected_by_code"].get("130429", 0)) > throttled
    assert len(replies) == 2 and all("Total atualizado" in body_of(r) for r in replies), replies


def test_an_answer_meta_keeps_refusing_is_handed_to_a_person(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from quita.bot import service as bot_service

    phone = stack.debtor()
    phone.start_verified()
    monkeypatch.setattr(bot_service, "REPLY_RETRY_BUDGET_S", 1.0)  # the test's patience, not the product's
    stack.sim_config(fault_5xx_rate=1.0)
    try:
        for text in ("quanto eu devo?", "qual o valor da divida?"):
            phone.wait_answered(phone.post({"type": "text", "text": text}))  # decided; its sending gave up
    finally:
        stack.sim_config(fault_5xx_rate=0.0)
    assert phone.new() == []
    with stack.database.transaction() as session:
        items = bot_service.list_handoffs(session, stack.tenant_id, status="open")
        held = [(i.reason, i.queue, i.debtor_id) for i in items if i.debtor_id == phone.debtor_id]
    assert held == [("reply_not_sent", "general", phone.debtor_id)]  # one item for the conversation, not one per answer
    phone.wait_answered(phone.post({"type": "text", "text": "quanto eu devo?"}))  # the bot goes on once Meta takes it
    assert any("Total atualizado" in body_of(r) for r in phone.new())


def test_two_messages_at_once_each_answered_once(stack: Stack) -> None:
    phone = stack.debtor()
    phone.start_verified()
    version = phone.state().version
    wamids: list[str] = []
    threads = [
        threading.Thread(target=lambda t=t: wamids.append(phone.post({"type": "text", "text": t})))
        for t in ("quanto eu devo?", "qual o valor da divida?")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for wamid in wamids:
        phone.wait_answered(wamid)
    replies = phone.new()
    assert len(replies) == 2, replies
    assert all("Total atualizado" in body_of(r) for r in replies)
    assert phone.state().version == version + 2


# --------------------------------------------------------------------------- quita bot chat


def test_bot_chat_from_the_terminal(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from quita.cli import app
    from quita.config import get_settings

    phone = stack.debtor()
    phone.first_contact()
    monkeypatch.setenv("QUITA_DATABASE_URL", stack.settings.database_url)
    get_settings.cache_clear()
    try:
        args = ["bot", "chat", "--tenant", "bot-e2e", "--phone", f"+{phone.number}", "--sim-url", stack.sim.url,
                "--quiet", "0.6", "--wait", "3"]  # fmt: skip
        # "1" taps the template's first quick reply ([Sou eu]); after the disclosure "2" taps the list's "Parcelar".
        result = CliRunner().invoke(app, args, input="1\n529\n2\nsair\n")
        unknown = CliRunner().invoke(app, [*args[:4], "--phone", "+5511900000000", *args[6:]])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Conversando como Maria da Silva" in out
    assert "[1] Sim" in out or "[1] Sou eu" in out
    assert "três primeiros dígitos" in out
    assert "Total atualizado" in out and "[2] Parcelar" in out
    assert "Estas são as condições" in out and "CET" in out
    assert unknown.exit_code == 2 and "não pertence" in unknown.output
    with stack.database.transaction() as session:
        assert session.scalars(
            select(BotConversation).where(BotConversation.debtor_id == phone.debtor_id)
        ).one()
    assert phone.state().step == "choosing_plan"

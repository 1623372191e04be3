"""The steps of ``quita demo`` as functions, so a test can run the very same path in-process.

The demo is Quita's main job in miniature: a sample portfolio plus a small "vitrine" of debtors spread over
Brazil's four time zones (so that at most hours of a weekday someone is inside their contact window), the
default cadence planned by the real planner and sent by the embedded dispatcher to the WhatsApp simulator,
and one debtor who writes first, receives a boleto and a Pix code, and can pay them on the phone page: the
PSP simulator then fires the Pix webhook or drops a CNAB return, which the folder watcher imports.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select, update

from quita.audit import service as audit
from quita.cadence.models import PlanDecision
from quita.cadence.planner import PlanStats
from quita.config import Settings
from quita.dispatch.models import OutboxMessage
from quita.kit.db import Database, utcnow
from quita.portfolio.models import ContactKind, ContactPoint, Debt, Debtor
from quita.simulator.psp.schemas import PspConfig
from quita.simulator.whatsapp.schemas import SimConfig
from quita.tenant import service as tenants
from quita.tenant.models import Tenant, TenantKind

log = logging.getLogger("quita.demo")

DEMO_TENANT = "demo"
DEMO_CREDITOR = {
    "legal_name": "Banco Exemplo de Crédito S.A.", "cnpj": "11.222.333/0001-81",
    "address": "Avenida Paulista, 1000, Bela Vista", "city": "São Paulo", "uf": "SP", "cep": "01310-100",
    "trade_name": "Exemplo Crédito", "is_financial_institution": True,
}  # fmt: skip
# The simulators' credentials: shared by the demo's channel / payment account and the simulator it starts.
DEMO_SIM_TOKEN, DEMO_SIM_SECRET, DEMO_VERIFY_TOKEN = (
    "demo-sim-token",
    "demo-sim-app-secret",
    "demo-verify-token",
)
DEMO_PSP_CLIENT, DEMO_PSP_SECRET, DEMO_PIX_WEBHOOK_SECRET = "demo-psp", "demo-psp-secret", "demo-pix-webhook"
DEMO_BOLETO_FIELDS = {"agencia": "1234", "conta": "56789", "carteira": "17", "convenio": "1234567"}
OPT_IN_SOURCE = "demo"
OPT_IN_WORDING = (
    "Demonstração do Quita: contato sintético. Aceito receber mensagens do Banco Exemplo de Crédito S.A. "
    "pelo WhatsApp sobre meus débitos, e posso cancelar a qualquer momento respondendo SAIR."
)
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


@dataclass(frozen=True, slots=True)
class ShowcaseDebtor:
    """One debtor of the vitrine: a real municipality of each Brazilian time zone."""

    external_id: str
    name: str
    cpf: str
    phone: str  # E.164
    city: str
    ibge_code: str
    uf: str
    timezone: str
    principal: str
    due_offset_days: int  # due date = today + offset (0: the D0 step is active today)


# Phones in the 9 8xxx-0xxx range of each DDD: the synthetic sample never uses the 0xxx suffix block below.
SHOWCASE: tuple[ShowcaseDebtor, ...] = (
    ShowcaseDebtor("VITRINE-NOR", "Iracema Tavares", "39053344705", "+5581988710001", "Fernando de Noronha",
                   "2605459", "PE", "America/Noronha", "187.40", 0),
    ShowcaseDebtor("VITRINE-SP", "Maria Aparecida Souza", "52998224725", "+5511988710002", "São Paulo",
                   "3550308", "SP", "America/Sao_Paulo", "349.90", 0),
    ShowcaseDebtor("VITRINE-AM", "Raimundo Nonato Lima", "11144477735", "+5592988710003", "Manaus",
                   "1302603", "AM", "America/Manaus", "512.00", 0),
    ShowcaseDebtor("VITRINE-AC", "Francisca Oliveira", "98765432100", "+5568988710004", "Rio Branco",
                   "1200401", "AC", "America/Rio_Branco", "96.75", 0),
    ShowcaseDebtor("VITRINE-MT", "Benedito Arruda Campos", "71428793860", "+5565988710005", "Cuiabá",
                   "5103403", "MT", "America/Cuiaba", "263.10", 0),
)  # fmt: skip
PAYER = SHOWCASE[1]
"""The vitrine debtor who writes first and gets the boleto and the Pix code."""


@dataclass(frozen=True, slots=True)
class Prepared:
    tenant_id: uuid.UUID
    api_key: str
    imported_rows: int
    rejected_rows: int
    opted_in: int


def write_showcase(path: Path, today: dt.date) -> Path:
    """The vitrine as a creditor file, imported through the same importer as any portfolio."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["id_titulo", "nome", "cpf_cnpj", "telefone", "cidade", "codigo_ibge", "uf", "vencimento",
                         "valor", "multa_pct", "juros_mes_pct"])  # fmt: skip
        for d in SHOWCASE:
            due = today + dt.timedelta(days=d.due_offset_days)
            writer.writerow([d.external_id, d.name, d.cpf, d.phone, d.city, d.ibge_code, d.uf,
                             due.strftime("%d/%m/%Y"), d.principal.replace(".", ","), "2", "1"])  # fmt: skip
    return path


def prepare(
    database: Database, settings: Settings, *, rows: int, today: dt.date | None = None, bad_rows: float = 0.02
) -> Prepared:
    """Demo tenant, creditor and API key; the sample portfolio and the vitrine imported; WhatsApp opt-in
    evidence recorded for the tenant's phones (the default rule set requires it for proactive contact)."""
    from quita.importing.service import import_file
    from quita.portfolio.sample import write_sample_portfolio

    today = today or dt.datetime.now(SAO_PAULO).date()
    with database.transaction() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == DEMO_TENANT))
        if tenant is None:
            tenant = tenants.create_tenant(
                session, slug=DEMO_TENANT, name="Demonstração", kind=TenantKind.CREDITOR, actor="demo"
            )
            tenants.add_creditor(session, tenant, actor="demo", **DEMO_CREDITOR)  # type: ignore[arg-type]
        _, api_key = tenants.create_api_key(session, tenant, name=f"demo {today}", actor="demo")
        tenant_id = tenant.id
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    imported = rejected = 0
    files = [write_showcase(settings.data_dir / "vitrine.csv", today)]
    if rows:
        sample = settings.data_dir / "carteira-exemplo.csv"
        write_sample_portfolio(sample, rows=rows, seed=42, bad_rows=bad_rows, today=today)
        files.insert(0, sample)
    for path in files:
        with database.transaction() as session:
            summary = import_file(session, tenant_id=tenant_id, path=path, actor="demo", today=today)
        imported += summary.read - summary.rejected
        rejected += summary.rejected
    with database.transaction() as session:
        opted_in = record_demo_opt_in(session, tenant_id)
    return Prepared(tenant_id, api_key, imported, rejected, opted_in)


def record_demo_opt_in(session: object, tenant_id: uuid.UUID) -> int:
    """Opt-in evidence (source ``demo``, with the wording shown) on every phone of the demo tenant that has
    none: the synthetic debtors stand for people who agreed to be contacted on WhatsApp."""
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    now = utcnow()
    result = session.execute(
        update(ContactPoint)
        .where(
            ContactPoint.tenant_id == tenant_id,
            ContactPoint.kind == ContactKind.PHONE,
            ContactPoint.opt_in_at.is_(None),
            ContactPoint.opted_out_at.is_(None),
        )
        .values(opt_in_at=now, opt_in_source=OPT_IN_SOURCE, opt_in_wording=OPT_IN_WORDING)
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        audit.record(
            session,
            tenant_id=tenant_id,
            actor="demo",
            action="contacts.opt_in_recorded",
            entity_type="tenant",
            entity_id=tenant_id,
            after={"contacts": count, "source": OPT_IN_SOURCE, "wording": OPT_IN_WORDING},
        )
    return count


def simulator_configs(api_url: str, cnab_dir: Path, sim_url: str) -> tuple[SimConfig, PspConfig]:
    """The WhatsApp simulator posts to Quita's webhook; the PSP posts Pix payments to the demo tenant's Pix
    webhook (``/pix`` appended, as the API Pix does) and writes boleto returns into ``cnab_dir``."""
    # Meta allows bursts of up to 45 messages in 6 s to one user (borrowed from later quota); the simulator's
    # default burst of 5 would throttle a lively bot conversation (6 answers in a row) with error 131056.
    whatsapp = SimConfig(
        token=DEMO_SIM_TOKEN,
        app_secret=DEMO_SIM_SECRET,
        webhook_url=f"{api_url}/webhooks/whatsapp",
        pair_burst=45,
    )
    psp = PspConfig(
        client_id=DEMO_PSP_CLIENT,
        client_secret=DEMO_PSP_SECRET,
        pix_webhook_url=f"{api_url}/webhooks/pix/{DEMO_TENANT}",
        pix_webhook_secret=DEMO_PIX_WEBHOOK_SECRET,
        cnab_dir=str(cnab_dir),
        public_base_url=f"{sim_url}/psp",
        merchant_name="Exemplo Credito",
        merchant_city="Sao Paulo",
    )
    return whatsapp, psp


def connect(database: Database, tenant_id: uuid.UUID, sim_url: str, config: SimConfig) -> list[str]:
    """The WhatsApp channel (pointing at the simulator), the starter templates, and the payment account
    (Banco do Brasil boletos, Pix key, the PSP simulator). Returns the template names installed."""
    from quita.payments import service as payments
    from quita.whatsapp import service as whatsapp
    from quita.whatsapp import templates

    number = config.phone_numbers[0]
    with database.transaction() as session:
        channel = whatsapp.channel_by_phone_number_id(session, number.phone_number_id)
        if channel is None:
            channel = whatsapp.create_channel(
                session,
                tenant_id=tenant_id,
                phone_number_id=number.phone_number_id,
                waba_id=config.waba_id,
                access_token=DEMO_SIM_TOKEN,
                app_secret=DEMO_SIM_SECRET,
                verify_token=DEMO_VERIFY_TOKEN,
                actor="demo",
                name="WhatsApp (simulador)",
                display_phone_number=number.display_phone_number,
                graph_url=sim_url,
            )
        channel.graph_url = sim_url  # the simulator may listen on another port than last time
        installed = templates.install_starter(session, channel, actor="demo")
        payments.configure_account(
            session,
            tenant_id,
            creditor_id=None,
            actor="demo",
            changes={
                "bank": "001",
                "boleto_fields": DEMO_BOLETO_FIELDS,
                "pix_key": "cobranca@exemplo.com.br",
                "merchant_name": "EXEMPLO CREDITO",
                "merchant_city": "SAO PAULO",
                "psp_base_url": f"{sim_url}/psp",
                "psp_client_id": DEMO_PSP_CLIENT,
                "psp_client_secret": DEMO_PSP_SECRET,
                "webhook_secret": DEMO_PIX_WEBHOOK_SECRET,
            },
        )
        return [t.name for t in installed]


def plan(database: Database, now: dt.datetime | None = None) -> PlanStats:
    """One tick of the real planner (the one ``quita serve`` runs every minute), now."""
    from quita.cadence.tasks import run_tick

    stats = run_tick(database, now=now)
    if stats is None:  # the embedded planner loop is ticking right now: it does the same work
        return PlanStats()
    return stats


@dataclass(frozen=True, slots=True)
class ShowcaseLine:
    debtor: ShowcaseDebtor
    local_time: dt.datetime
    outcome: str  # sent | queued | deferred | blocked | none
    earliest_at: dt.datetime | None
    reasons: tuple[str, ...]


def showcase_status(
    database: Database, tenant_id: uuid.UUID, now: dt.datetime | None = None
) -> list[ShowcaseLine]:
    """What the planner decided today for each vitrine debtor: an outbox row, or a recorded deferral/block."""
    now = now or utcnow()
    lines = []
    with database.transaction() as session:
        for d in SHOWCASE:
            debt_id = session.scalar(
                select(Debt.id).where(Debt.tenant_id == tenant_id, Debt.external_id == d.external_id)
            )
            local = now.astimezone(ZoneInfo(d.timezone))
            outbox = session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.tenant_id == tenant_id,
                    OutboxMessage.debt_id == debt_id,
                )
                .order_by(OutboxMessage.created_at.desc())
            ).first()
            decision = session.scalars(
                select(PlanDecision)
                .where(
                    PlanDecision.tenant_id == tenant_id,
                    PlanDecision.debt_id == debt_id,
                )
                .order_by(PlanDecision.decided_at.desc())
            ).first()
            if outbox is not None and (decision is None or outbox.created_at >= decision.decided_at):
                outcome = "sent" if outbox.status == "sent" else "queued"
                lines.append(
                    ShowcaseLine(d, local, outcome, None, (f"{outbox.template_name}: {outbox.status}",))
                )
            elif decision is not None:
                reasons = tuple(f"{r['rule_id']}: {r['message_pt']}" for r in decision.reasons)
                lines.append(ShowcaseLine(d, local, decision.outcome, decision.earliest_at, reasons))
            else:
                lines.append(ShowcaseLine(d, local, "none", None, ()))
    return lines


def next_window(lines: list[ShowcaseLine]) -> dt.datetime | None:
    """The earliest moment any held-back vitrine debtor may be contacted."""
    moments = [line.earliest_at for line in lines if line.outcome == "deferred" and line.earliest_at]
    return min(moments) if moments else None


# --- the debtor who writes first ------------------------------------------------------------------------


def debtor_writes_first(
    sim_url: str, phone: str, name: str, text: str = "Oi, quero pagar minha dívida"
) -> None:
    """The debtor sends a message from the phone (as tapping on the phone page does): it opens the 24 h
    window, and answering someone who wrote first is not limited by contact windows."""
    response = httpx.post(
        f"{sim_url}/_sim/inbound",
        timeout=10,
        json={"from": phone.lstrip("+"), "name": name, "type": "text", "text": text},
    )
    response.raise_for_status()


# --- the debtor who talks to the bot ---------------------------------------------------------------------


BOT_OPENING = "Oi, sou eu mesma"
"""What the payer writes first (as on the phone page): answering someone who wrote first is not limited by
contact windows, so the conversation can be shown at any hour; the bot then asks for the CPF digits."""


@dataclass(frozen=True, slots=True)
class BotConversationStart:
    debtor_id: uuid.UUID
    debt_id: uuid.UUID
    contact_id: uuid.UUID
    phone: str  # digits, as the phone page's address
    identity_answer: str  # the first three CPF digits the person types


def _payer_rows(
    database: Database, tenant_id: uuid.UUID, debtor: ShowcaseDebtor
) -> tuple[uuid.UUID, uuid.UUID, str, uuid.UUID]:
    """The showcase debtor's debt id, debtor id, name and phone contact id."""
    with database.transaction() as session:
        found = session.execute(
            select(Debt.id, Debtor.id, Debtor.name, ContactPoint.id)
            .join(Debtor, Debtor.id == Debt.debtor_id)
            .join(ContactPoint, ContactPoint.debtor_id == Debtor.id)
            .where(
                Debt.tenant_id == tenant_id,
                Debt.external_id == debtor.external_id,
                ContactPoint.tenant_id == tenant_id,
                ContactPoint.value == debtor.phone,
            )
        ).one()
    return found[0], found[1], found[2], found[3]


def start_bot_conversation(
    database: Database,
    tenant_id: uuid.UUID,
    sim_url: str,
    debtor: ShowcaseDebtor = PAYER,
    timeout: float = 60.0,
) -> BotConversationStart:
    """The payer writes first; waits until the bot's question reached the phone (the NLU model may be trained
    on first use). From there a person on the phone page confirms identity, sees the itemised debt, negotiates,
    accepts, receives the first instalment's boleto and Pix and pays it (the PSP simulator's "Pagar")."""
    debt_id, debtor_id, _name, contact_id = _payer_rows(database, tenant_id, debtor)
    phone = debtor.phone.lstrip("+")

    def business_messages() -> int:
        answer = httpx.get(f"{sim_url}/_sim/messages", params={"to": phone}, timeout=10)
        answer.raise_for_status()
        return len(answer.json()["data"])

    before = business_messages()
    debtor_writes_first(sim_url, debtor.phone, debtor.name, BOT_OPENING)
    deadline = time.monotonic() + timeout
    while business_messages() <= before:
        if time.monotonic() > deadline:
            raise TimeoutError("o bot não respondeu à primeira mensagem do devedor")
        time.sleep(0.2)
    return BotConversationStart(debtor_id, debt_id, contact_id, phone, debtor.cpf[:3])


@dataclass(frozen=True, slots=True)
class AgreementProgress:
    status: str  # the agreement's: active | kept | broken
    installments: int
    paid: int
    debt_status: str


def agreement_progress(
    database: Database, tenant_id: uuid.UUID, debt_id: uuid.UUID
) -> AgreementProgress | None:
    """The newest agreement of the debt and how many of its instalments are paid."""
    from quita.bot.models import Agreement, AgreementInstallment

    with database.transaction() as session:
        agreement = session.scalars(
            select(Agreement)
            .where(Agreement.tenant_id == tenant_id, Agreement.debt_id == debt_id)
            .order_by(Agreement.accepted_at.desc())
        ).first()
        if agreement is None:
            return None
        statuses = session.scalars(
            select(AgreementInstallment.status).where(
                AgreementInstallment.tenant_id == tenant_id, AgreementInstallment.agreement_id == agreement.id
            )
        ).all()
        debt_status = session.scalar(
            select(Debt.status).where(Debt.tenant_id == tenant_id, Debt.id == debt_id)
        )
        return AgreementProgress(
            agreement.status,
            agreement.installments,
            sum(1 for s in statuses if s == "paid"),
            str(debt_status),
        )


class ReturnFolderWatcher:
    """Imports the CNAB returns the PSP simulator drops (paid boletos) every ``every`` seconds: the
    ``payments.import_returns`` job run periodically inside the demo process."""

    def __init__(self, database: Database, tenant_id: uuid.UUID, folder: Path, every: float = 3.0) -> None:
        self.database, self.tenant_id, self.folder, self.every = database, tenant_id, folder, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="quita-demo-cnab", daemon=True)
        self.imported = 0

    def scan(self) -> int:
        from quita.payments.jobs import import_folder

        self.folder.mkdir(parents=True, exist_ok=True)
        found = import_folder(self.database, self.tenant_id, self.folder, actor="demo:retornos")
        self.imported += len(found.imported)
        return len(found.imported)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.scan():
                    log.info("retorno CNAB importado de %s", self.folder)
            except Exception:
                log.exception("importação da pasta de retornos falhou; nova tentativa em %.0f s", self.every)
            self._stop.wait(self.every)

    def start(self) -> ReturnFolderWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


def debt_state(database: Database, tenant_id: uuid.UUID, debt_id: uuid.UUID) -> tuple[str, dict[str, int]]:
    """The debt's status and its outbox rows counted by status."""
    with database.transaction() as session:
        status = session.scalar(select(Debt.status).where(Debt.tenant_id == tenant_id, Debt.id == debt_id))
        rows = session.scalars(
            select(OutboxMessage.status).where(
                OutboxMessage.tenant_id == tenant_id, OutboxMessage.debt_id == debt_id
            )
        ).all()
    counts: dict[str, int] = {}
    for r in rows:
        counts[str(r)] = counts.get(str(r), 0) + 1
    return str(status), counts


def money(value: Decimal) -> str:
    from quita.br.money import format_brl

    return format_brl(value)


class ServerThread:
    """A uvicorn server on its own thread (Quita's API or the simulator); ``start()`` waits until it listens."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        import uvicorn

        self.host, self.port = host, port
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_level="warning",
                access_log=False,
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(
                    f"não foi possível subir o servidor em {self.host}:{self.port} (porta em uso?)"
                )
            time.sleep(0.02)
        return self

    def is_alive(self) -> bool:
        return self.thread.is_alive()

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass(frozen=True, slots=True)
class HeldBack:
    debtor_name: str
    step_key: str
    outcome: str
    earliest_at: dt.datetime | None
    reasons: tuple[str, ...]


def held_back(database: Database, tenant_id: uuid.UUID, limit: int = 10) -> tuple[int, list[HeldBack]]:
    """The contacts the planner recorded as deferred or blocked (with why), newest first, and their count."""
    with database.transaction() as session:
        rows = session.execute(
            select(PlanDecision, Debtor.name)
            .join(Debtor, Debtor.id == PlanDecision.debtor_id)
            .where(PlanDecision.tenant_id == tenant_id, Debtor.tenant_id == tenant_id)
            .order_by(PlanDecision.decided_at.desc())
        ).all()
        items = [
            HeldBack(name, d.step_key, d.outcome, d.earliest_at,
                     tuple(f"{r['rule_id']}: {r['message_pt']}" for r in d.reasons))
            for d, name in rows[:limit]
        ]  # fmt: skip
    return len(rows), items

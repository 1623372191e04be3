"""A payment put on the showcase payer's phone without the bot: the payment tests (a Pix paid at the PSP, a
CNAB return in the watched folder) start from it. The bot's own payment flow has its tests in ``tests/bot``."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from quita.config import Settings
from quita.kit.db import Database
from quita.server.demo import PAYER, ShowcaseDebtor, _payer_rows, debtor_writes_first
from tests.whatsapp import outreach


@dataclass(frozen=True, slots=True)
class PaymentOffer:
    debtor_id: uuid.UUID
    debt_id: uuid.UUID
    boleto_linha: str
    pix_copia_e_cola: str
    errors: tuple[str, ...]


def wait_for_inbound(
    database: Database, tenant_id: uuid.UUID, contact_id: uuid.UUID, timeout: float = 20.0
) -> dt.datetime:
    """Until Quita's webhook receiver has processed the debtor's message (the window is then open)."""
    from quita.whatsapp import service as whatsapp

    deadline = time.monotonic() + timeout
    while True:
        with database.transaction() as session:
            last = whatsapp.last_inbound_at(session, tenant_id, contact_id)
        if last is not None:
            return last
        if time.monotonic() > deadline:
            raise TimeoutError("a mensagem do devedor não chegou ao Quita (webhook do simulador)")
        time.sleep(0.1)


def offer_payment(
    database: Database, settings: Settings, tenant_id: uuid.UUID, sim_url: str, debtor: ShowcaseDebtor = PAYER
) -> PaymentOffer:
    """The debtor writes first; the test, standing in for the bot's dialog, records the identity confirmation,
    issues a boleto (PDF, hybrid) and a Pix ``cobv`` at the PSP, and sends both to the phone."""
    from quita.cadence import service as cadences
    from quita.payments import service as payments
    from quita.payments.models import ChargeKind

    debt_id, debtor_id, name, contact_id = _payer_rows(database, tenant_id, debtor)
    debtor_writes_first(sim_url, debtor.phone, name)
    last_inbound = wait_for_inbound(database, tenant_id, contact_id)
    with database.transaction() as session:
        # In place of the bot's identity dialog: the person asked to pay on the number on file.
        cadences.confirm_identity(
            session,
            tenant_id,
            debtor_id=debtor_id,
            contact_id=contact_id,
            method="test:devedor_pediu_para_pagar",
            actor="demo",
        )
        boleto = payments.issue_charge(
            session, tenant_id, debt_id, kind=ChargeKind.BOLETO, actor="demo", data_dir=settings.data_dir
        )
        pix = payments.issue_charge(
            session, tenant_id, debt_id, kind=ChargeKind.PIX, actor="demo", data_dir=settings.data_dir
        )
        assert boleto.linha_digitavel and boleto.pdf_path and pix.brcode
        boleto_view = outreach.BoletoToSend(
            linha_digitavel=boleto.linha_digitavel,
            pdf=Path(boleto.pdf_path).read_bytes(),
            amount=boleto.amount,
            due_date=boleto.due_date,
            reference=debtor.external_id,
        )
        pix_view = outreach.PixToSend(copia_e_cola=pix.brcode, amount=pix.amount, due_date=pix.due_date)
    sent = outreach.send_payment_options(
        database,
        tenant_id,
        debtor_id=debtor_id,
        contact_id=contact_id,
        to=debtor.phone,
        boleto=boleto_view,
        pix=pix_view,
        last_inbound_at=last_inbound,
        actor="demo",
    )
    errors = tuple(s.error for s in sent if s.error)
    return PaymentOffer(debtor_id, debt_id, boleto_view.linha_digitavel, pix_view.copia_e_cola, errors)

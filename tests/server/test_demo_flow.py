"""``quita demo``'s own steps, in-process on SQLite with the real simulator over loopback: the default cadence
planned by the real planner and sent by the dispatcher only inside each debtor's window; a debtor who writes
first gets a boleto and a Pix code on the phone; paying the Pix settles the debt and cancels its messages."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, update

from quita.cadence.planner import PlanItem, plan_tenant
from quita.config import Settings
from quita.dispatch.models import OutboxMessage, OutboxStatus
from quita.dispatch.tasks import BackgroundDispatch
from quita.kit.db import Database
from quita.kit.db.migrate import upgrade
from quita.portfolio.models import ContactPoint, Debt
from quita.server import demo
from quita.server.app import create_app
from quita.simulator.app import create_app as create_simulator
from tests.conftest import free_port
from tests.server.payment_offer import offer_payment

# A Wednesday with no national or state holiday: 12:00 in São Paulo, everyone is inside the window.
TODAY = dt.date(2026, 3, 18)
MIDDAY = dt.datetime(2026, 3, 18, 15, 0, tzinfo=dt.UTC)
# 20:30 in São Paulo, 21:30 in Noronha, 19:30 in Manaus (AM's window closes at 18:00): closed;
# 19:30 in Cuiabá, 18:30 in Rio Branco: open.
EVENING = dt.datetime(2026, 3, 18, 23, 30, tzinfo=dt.UTC)


@dataclass
class World:
    database: Database
    settings: Settings
    tenant_id: uuid.UUID
    api_url: str
    sim_url: str


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("QUITA_SECRET_KEY", Fernet.generate_key().decode())
    url = f"sqlite:///{tmp_path / 'quita.db'}"
    upgrade(url)
    database = Database(url)
    settings = Settings(database_url=url, data_dir=tmp_path / "dados")
    prepared = demo.prepare(database, settings, rows=20, today=TODAY, bad_rows=0.0)
    api_port, sim_port = free_port(), free_port()
    api_url, sim_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{sim_port}"
    sim_config, psp_config = demo.simulator_configs(api_url, tmp_path / "retornos", sim_url)
    simulator = demo.ServerThread(create_simulator(sim_config, psp_config), "127.0.0.1", sim_port).start()
    try:
        installed = demo.connect(database, prepared.tenant_id, sim_url, sim_config)
        assert "quita_confirmacao_identidade" in installed
        api = demo.ServerThread(create_app(settings, database), "127.0.0.1", api_port).start()
        try:
            yield World(database, settings, prepared.tenant_id, api_url, sim_url)
        finally:
            api.stop()
    finally:
        simulator.stop()
        database.dispose()


def _contact_opt_in(world: World, phone: str) -> tuple[str | None, str | None]:
    with world.database.transaction() as session:
        row = session.execute(
            select(ContactPoint.opt_in_source, ContactPoint.opt_in_wording).where(
                ContactPoint.tenant_id == world.tenant_id, ContactPoint.value == phone
            )
        ).one()
    return row.opt_in_source, row.opt_in_wording


def _vitrine_items(world: World, now: dt.datetime) -> dict[str, PlanItem]:
    items: list[PlanItem] = []
    plan_tenant(world.database, world.tenant_id, now, write=False, on_item=items.append)
    with world.database.transaction() as session:
        ids = dict(
            session.execute(select(Debt.id, Debt.external_id).where(Debt.tenant_id == world.tenant_id)).all()
        )
    return {ids[i.debt_id]: i for i in items if ids[i.debt_id].startswith("VITRINE-")}


def _sim_messages(world: World, phone: str) -> list[dict[str, object]]:
    answer = httpx.get(f"{world.sim_url}/_sim/messages", params={"to": phone.lstrip("+")}, timeout=10)
    data: list[dict[str, object]] = answer.json()["data"]
    return data


def _dispatch_until_sent(world: World, expected: int, timeout: float = 30.0) -> dict[str, int]:
    dispatch = BackgroundDispatch(world.database, plan_every=None).start()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with world.database.transaction() as session:
                sent = session.scalars(select(OutboxMessage.status)).all()
            if sum(1 for s in sent if s == OutboxStatus.SENT) >= expected:
                break
            time.sleep(0.2)
    finally:
        dispatch.stop()
    counts: dict[str, int] = {}
    for s in sent:
        counts[str(s)] = counts.get(str(s), 0) + 1
    return counts


def test_demo_plans_inside_windows_delivers_boleto_and_pix_and_payment_stops_the_cadence(
    world: World,
) -> None:
    # Opt-in evidence was recorded by the demo setup, with its source and wording.
    assert _contact_opt_in(world, demo.PAYER.phone) == (demo.OPT_IN_SOURCE, demo.OPT_IN_WORDING)

    # In the evening only the western time zones are inside their window; the others are deferred to
    # 08:00 local time tomorrow, with the rule that held them back.
    evening = _vitrine_items(world, EVENING)
    assert {k: v.outcome for k, v in evening.items()} == {
        "VITRINE-AC": "allowed", "VITRINE-MT": "allowed",
        "VITRINE-SP": "deferred", "VITRINE-NOR": "deferred", "VITRINE-AM": "deferred",
    }  # fmt: skip
    sp = evening["VITRINE-SP"]
    assert sp.earliest_at == dt.datetime(2026, 3, 19, 11, 0, tzinfo=dt.UTC)  # 08:00 in São Paulo
    assert sp.reasons and all(r["message_pt"] for r in sp.reasons)
    assert evening["VITRINE-NOR"].earliest_at == dt.datetime(
        2026, 3, 19, 10, 0, tzinfo=dt.UTC
    )  # 08:00 Noronha
    assert evening["VITRINE-AM"].earliest_at == dt.datetime(2026, 3, 19, 12, 0, tzinfo=dt.UTC)  # 08:00 Manaus
    assert "TIME-AM" in {r["rule_id"] for r in evening["VITRINE-AM"].reasons}
    assert all(i.template == "quita_confirmacao_identidade" for i in evening.values())  # nobody confirmed yet

    # At midday the real planner writes outbox rows for every vitrine debtor.
    stats = demo.plan(world.database, MIDDAY)
    assert stats.allowed >= len(demo.SHOWCASE)
    lines = {
        line.debtor.external_id: line
        for line in demo.showcase_status(world.database, world.tenant_id, MIDDAY)
    }
    assert {k: v.outcome for k, v in lines.items()} == dict.fromkeys(lines, "queued")

    # The dispatcher works on the wall clock: the rows planned "at midday" become due now. The payer's row
    # is kept back (as a pair limit would) so that the payment finds it unsent.
    with world.database.transaction() as session:
        payer_debt = session.scalar(select(Debt.id).where(Debt.external_id == demo.PAYER.external_id))
        now = dt.datetime.now(dt.UTC)
        session.execute(update(OutboxMessage).values(not_before=now, expires_at=None))
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.debt_id == payer_debt)
            .values(not_before=now + dt.timedelta(hours=1))
        )
        total = len(session.scalars(select(OutboxMessage.id)).all())
    counts = _dispatch_until_sent(world, expected=total - 1)
    assert counts == {"sent": total - 1, "pending": 1}
    received = _sim_messages(world, demo.SHOWCASE[3].phone)  # Rio Branco
    assert [m["request"]["template"]["name"] for m in received] == ["quita_confirmacao_identidade"]  # type: ignore[index]

    # The payer writes first and receives a boleto (PDF + linha digitável) and a Pix copia e cola.
    offer = offer_payment(world.database, world.settings, world.tenant_id, world.sim_url)
    assert offer.errors == ()
    phone = _sim_messages(world, demo.PAYER.phone)
    assert {str(m["type"]) for m in phone} == {"document", "text"}
    [document] = [m["request"]["document"] for m in phone if m["type"] == "document"]  # type: ignore[index]
    assert offer.boleto_linha in document["caption"] and document["filename"].endswith(".pdf")
    # The bot answers "quero pagar" too (its own text, in whatever order the two arrive): the Pix is in one text.
    texts = [m["request"]["text"]["body"] for m in phone if m["type"] == "text"]  # type: ignore[index]
    assert any(offer.pix_copia_e_cola in body for body in texts), texts
    assert all(m["status"] != "failed" for m in phone)

    # Paying the Pix at the PSP fires the webhook: the debt is paid and its pending message cancelled.
    paid = httpx.post(f"{world.sim_url}/_sim/psp/pay", json={"brcode": offer.pix_copia_e_cola}, timeout=15)
    assert paid.status_code == 200, paid.text
    status, outbox = demo.debt_state(world.database, world.tenant_id, offer.debt_id)
    assert status == "paid"
    assert outbox == {"cancelled": 1}


def test_paid_boleto_return_is_imported_by_the_folder_watcher(world: World, tmp_path: Path) -> None:
    offer = offer_payment(world.database, world.settings, world.tenant_id, world.sim_url)
    paid = httpx.post(
        f"{world.sim_url}/_sim/psp/pay", json={"linha_digitavel": offer.boleto_linha}, timeout=15
    )
    assert paid.status_code == 200, paid.text
    watcher = demo.ReturnFolderWatcher(world.database, world.tenant_id, tmp_path / "retornos")
    assert watcher.scan() == 1
    assert watcher.scan() == 0  # the same file again credits nothing
    status, _ = demo.debt_state(world.database, world.tenant_id, offer.debt_id)
    assert status == "paid"


def test_record_demo_opt_in_only_fills_missing_evidence(world: World) -> None:
    with world.database.transaction() as session:
        assert demo.record_demo_opt_in(session, world.tenant_id) == 0

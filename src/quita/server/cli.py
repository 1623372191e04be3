"""``quita serve`` (the API with in-process workers) and ``quita demo`` (everything, on SQLite)."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from typing import Any

import typer
import uvicorn
from rich.panel import Panel
from sqlalchemy import select

from quita.config import Settings, get_settings
from quita.kit.cli import console, fail, open_database
from quita.kit.db import Database
from quita.kit.db.migrate import upgrade
from quita.tenant import service as tenants
from quita.tenant.models import Tenant, TenantKind

DEMO_TENANT = "demo"
DEMO_CREDITOR = {
    "legal_name": "Banco Exemplo de Crédito S.A.", "cnpj": "11.222.333/0001-81",
    "address": "Avenida Paulista, 1000, Bela Vista", "city": "São Paulo", "uf": "SP", "cep": "01310-100",
    "trade_name": "Exemplo Crédito", "is_financial_institution": True,
}
# The simulator's credentials: shared by the demo's channel and the simulator it starts.
DEMO_SIM_TOKEN, DEMO_SIM_SECRET, DEMO_VERIFY_TOKEN = "demo-sim-token", "demo-sim-app-secret", "demo-verify-token"


def serve(
    host: str = typer.Option(None, "--host"),
    port: int = typer.Option(None, "--port"),
    migrate: bool = typer.Option(True, "--migrate/--no-migrate", help="Aplica migrações antes de subir"),
) -> None:
    """Sobe a API (e os workers embutidos)."""
    from quita.server.app import create_app

    settings = get_settings()
    if migrate:
        upgrade(settings.database_url)
    uvicorn.run(create_app(settings), host=host or settings.api_host, port=port or settings.api_port,
                log_level=settings.log_level)


def demo(
    rows: int = typer.Option(2000, "--rows", min=10, help="Tamanho da carteira de exemplo"),
    port: int = typer.Option(None, "--port"),
    serve_api: bool = typer.Option(True, "--serve/--no-serve"),
    simulator_port: int = typer.Option(8081, "--simulator-port", help="Porta do simulador do WhatsApp"),
    send: int = typer.Option(3, "--send", min=0, help="Devedores que recebem a confirmação de identidade"),
) -> None:
    """Cria o banco SQLite, carrega uma carteira de exemplo, sobe o simulador do WhatsApp e a API."""
    from quita.importing.cli import print_summary
    from quita.importing.service import import_file
    from quita.portfolio.sample import write_sample_portfolio

    settings = get_settings()
    console.print(f"banco: [bold]{settings.database_url}[/]")
    upgrade(settings.database_url)
    database = open_database()
    with database.transaction() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == DEMO_TENANT))
        if tenant is None:
            tenant = tenants.create_tenant(session, slug=DEMO_TENANT, name="Demonstração", kind=TenantKind.CREDITOR,
                                           actor="demo")
            tenants.add_creditor(session, tenant, actor="demo", **DEMO_CREDITOR)  # type: ignore[arg-type]
        _, api_key = tenants.create_api_key(session, tenant, name=f"demo {dt.date.today()}", actor="demo")
        tenant_id = tenant.id
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    sample = settings.data_dir / "carteira-exemplo.csv"
    generated = write_sample_portfolio(sample, rows=rows, seed=42, bad_rows=0.02)
    console.print(f"carteira de exemplo: {sample} ({generated.rows} linhas, "
                  f"{len(generated.injected_errors)} com defeito proposital)")
    with database.transaction() as session:
        summary = import_file(session, tenant_id=tenant_id, path=sample, actor="demo")
    print_summary(summary)
    api_port = port or settings.api_port
    base = f"http://{settings.api_host}:{api_port}"
    if not serve_api:
        database.dispose()
        console.print(Panel.fit(
            f"API: {base}/docs\nchave de API (guarde-a; não será mostrada de novo):\n  {api_key}",
            title="Quita pronta",
        ))
        return
    _demo_with_whatsapp(database, settings, tenant_id, api_key, base, api_port, simulator_port, send)


def _demo_with_whatsapp(database: Database, settings: Settings, tenant_id: uuid.UUID, api_key: str, base: str,
                        api_port: int, simulator_port: int, send: int) -> None:
    """Quita and the WhatsApp simulator, each a uvicorn server on its own thread; Ctrl-C stops both."""
    from quita.server.app import create_app
    from quita.simulator.app import create_app as create_simulator
    from quita.simulator.whatsapp.schemas import SimConfig
    from quita.whatsapp import outreach, templates
    from quita.whatsapp import service as whatsapp

    sim_url = f"http://{settings.api_host}:{simulator_port}"
    config = SimConfig(token=DEMO_SIM_TOKEN, app_secret=DEMO_SIM_SECRET, webhook_url=f"{base}/webhooks/whatsapp")
    number = config.phone_numbers[0]
    simulator = _ServerThread(create_simulator(config), settings.api_host, simulator_port)
    quita = _ServerThread(create_app(settings, database), settings.api_host, api_port)
    simulator.start()
    quita.start()
    try:
        with database.transaction() as session:
            channel = whatsapp.channel_by_phone_number_id(session, number.phone_number_id)
            if channel is None:
                channel = whatsapp.create_channel(
                    session, tenant_id=tenant_id, phone_number_id=number.phone_number_id, waba_id=config.waba_id,
                    access_token=DEMO_SIM_TOKEN, app_secret=DEMO_SIM_SECRET, verify_token=DEMO_VERIFY_TOKEN,
                    actor="demo", name="WhatsApp (simulador)", display_phone_number=number.display_phone_number,
                    graph_url=sim_url,
                )
            channel.graph_url = sim_url  # the simulator may listen on another port than last time
            installed = templates.install_starter(session, channel, actor="demo")
        console.print(f"modelos iniciais enviados ao simulador: {', '.join(t.name for t in installed)}")
        sent = outreach.send_identity_checks(database, tenant_id, limit=send, actor="demo") if send else []
        lines = []
        for item in sent:
            digits = item.number.lstrip("+")
            status = "enviada" if item.error is None else f"erro: {item.error}"
            lines.append(f"  {item.debtor_name}: {sim_url}/_sim/phone/{digits} ({status})\n"
                         f"    conversa: {base}/api/v1/debtors/{item.debtor_id}/conversation")
        console.print(Panel.fit(
            f"API: {base}/docs\n"
            f"chave de API (guarde-a; não será mostrada de novo):\n  {api_key}\n"
            f"simulador do WhatsApp: {sim_url}",
            title="Quita está no ar",
        ))
        console.print("celulares dos devedores (abra um, toque no botão da mensagem):", soft_wrap=True)
        console.print("\n".join(lines), soft_wrap=True, highlight=False)
        console.print(f"veja a resposta chegar:\n  curl -H 'Authorization: Bearer {api_key}' <conversa acima>\n"
                      "Ctrl-C encerra a API e o simulador.", soft_wrap=True, highlight=False)
        while quita.is_alive() and simulator.is_alive():
            quita.join(0.5)
    except KeyboardInterrupt:
        console.print("encerrando…")
    finally:
        quita.stop()
        simulator.stop()
        database.dispose()


class _ServerThread:
    def __init__(self, app: Any, host: str, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                config = self.server.config
                raise fail(f"não foi possível subir o servidor em {config.host}:{config.port} (porta em uso?)")
            time.sleep(0.02)

    def is_alive(self) -> bool:
        return self.thread.is_alive()

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("demo")(demo)

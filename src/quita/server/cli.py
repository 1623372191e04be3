"""``quita serve`` (the API with in-process workers) and ``quita demo`` (everything, on SQLite).

The demo's steps live in :mod:`quita.server.demo` so that a test runs the very same path; this module only
starts the servers in the right order and prints where to look.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import typer
import uvicorn
from rich.panel import Panel

from quita.config import Settings, get_settings
from quita.kit.cli import console, fail, open_database
from quita.kit.db import Database
from quita.kit.db.migrate import upgrade


def serve(
    host: str = typer.Option(None, "--host"),
    port: int = typer.Option(None, "--port"),
    migrate: bool = typer.Option(True, "--migrate/--no-migrate", help="Aplica migrações antes de subir"),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64,
        help="Processos servindo a mesma porta (só PostgreSQL; no SQLite há um único gravador)",
    ),
) -> None:
    """Sobe a API (e os workers embutidos)."""
    from quita.server.app import create_app

    settings = get_settings()
    if workers > 1 and settings.database_url.startswith("sqlite"):
        raise fail("--workers > 1 exige PostgreSQL: o SQLite tem um único gravador (e o despacho embutido é único)")
    if migrate:
        upgrade(settings.database_url)
    host, port = host or settings.api_host, port or settings.api_port
    if workers > 1:
        # Each process builds its own app (and webhook writer); uvicorn shares the listening socket.
        uvicorn.run("quita.server.app:create_app", factory=True, host=host, port=port, workers=workers,
                    log_level=settings.log_level)
        return
    uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level)


def demo(
    rows: int = typer.Option(2000, "--rows", min=0, help="Tamanho da carteira de exemplo (além da vitrine)"),
    port: int = typer.Option(None, "--port"),
    serve_api: bool = typer.Option(True, "--serve/--no-serve"),
    simulator_port: int = typer.Option(8081, "--simulator-port", help="Porta do simulador (WhatsApp e PSP)"),
    pay: bool = typer.Option(
        True, "--pay/--no-pay", help="Uma devedora da vitrine começa a conversa com o bot (acordo, boleto e Pix)"
    ),
) -> None:
    """Carteira de exemplo, régua padrão pelo planejador e despachante reais, simulador do WhatsApp e do PSP."""
    from quita.server import demo as steps

    settings = get_settings()
    console.print(f"banco: [bold]{settings.database_url}[/]")
    upgrade(settings.database_url)
    database = open_database()
    prepared = steps.prepare(database, settings, rows=rows)
    console.print(
        f"carteira de exemplo + vitrine importadas: {prepared.imported_rows} linhas aceitas, "
        f"{prepared.rejected_rows} rejeitadas (defeitos propositais; veja {settings.data_dir}/*.erros.csv)\n"
        f"opt-in de WhatsApp registrado (origem {steps.OPT_IN_SOURCE!r}) em {prepared.opted_in} telefones",
        soft_wrap=True,
        highlight=False,
    )
    api_port = port or settings.api_port
    base = f"http://{settings.api_host}:{api_port}"
    if not serve_api:
        database.dispose()
        console.print(
            Panel.fit(
                f"API: {base}/docs\nchave de API (guarde-a; não será mostrada de novo):\n  {prepared.api_key}",
                title="Quita pronta",
            )
        )
        return
    try:
        _run_demo(
            database, settings, prepared.tenant_id, prepared.api_key, base, api_port, simulator_port, pay
        )
    finally:
        database.dispose()


def _run_demo(
    database: Database,
    settings: Settings,
    tenant_id: uuid.UUID,
    api_key: str,
    base: str,
    api_port: int,
    simulator_port: int,
    pay: bool,
) -> None:
    """Simulator first (the channel's templates are created there), then one planner tick, then Quita with
    its embedded dispatcher and planner loop, the CNAB folder watcher, and the debtor who pays."""
    from quita.server import demo as steps
    from quita.server.app import create_app
    from quita.simulator.app import create_app as create_simulator

    host = settings.api_host
    sim_url = f"http://{host}:{simulator_port}"
    cnab_dir = (settings.data_dir / "retornos-psp").resolve()
    sim_config, psp_config = steps.simulator_configs(base, cnab_dir, sim_url)
    simulator = steps.ServerThread(create_simulator(sim_config, psp_config), host, simulator_port)
    _start(simulator)
    quita: steps.ServerThread | None = None
    watcher: steps.ReturnFolderWatcher | None = None
    try:
        installed = steps.connect(database, tenant_id, sim_url, sim_config)
        console.print(
            f"modelos do WhatsApp no simulador: {', '.join(installed)}; conta de recebimento: boleto "
            f"Banco do Brasil + Pix no PSP simulado ({sim_url}/psp)",
            soft_wrap=True,
            highlight=False,
        )
        stats = steps.plan(database)
        console.print(
            f"planejamento da régua padrão agora: {stats.scanned} títulos examinados, {stats.candidates} com passo "
            f"hoje → {stats.allowed} na fila de envio, {stats.deferred} adiados, "
            f"{stats.blocked} bloqueados",
            soft_wrap=True,
            highlight=False,
        )
        # quita serve's embedded mode: dispatcher + planner loop in-process
        embedded = settings.model_copy(update={"embedded_dispatch": True})
        quita = steps.ServerThread(create_app(embedded, database), host, api_port)
        _start(quita)
        watcher = steps.ReturnFolderWatcher(database, tenant_id, cnab_dir).start()
        offer = _offer(database, settings, tenant_id, sim_url) if pay else None
        time.sleep(2.0)  # the dispatcher sends the first rows
        _print_where_to_look(database, tenant_id, api_key, base, sim_url, cnab_dir, offer)
        while quita.is_alive() and simulator.is_alive():
            quita.join(0.5)
    except KeyboardInterrupt:
        console.print("encerrando…")
    finally:
        if watcher is not None:
            watcher.stop()
        if quita is not None:
            quita.stop()
        simulator.stop()


def _start(server: Any) -> None:
    try:
        server.start()
    except RuntimeError as exc:
        raise fail(str(exc)) from None


def _offer(database: Database, settings: Settings, tenant_id: uuid.UUID, sim_url: str) -> Any:
    """The payer writes first and the bot answers (issue 6): the rest is done by a person on the phone page."""
    from quita.server import demo as steps

    try:
        return steps.start_bot_conversation(database, tenant_id, sim_url)
    except Exception as exc:  # the rest of the demo is still worth showing
        console.print(f"[red]conversa com o bot não iniciada: {exc}[/]")
        return None


def _print_where_to_look(
    database: Database, tenant_id: uuid.UUID, api_key: str, base: str, sim_url: str, cnab_dir: Any, offer: Any
) -> None:
    from quita.server import demo as steps

    console.print(
        Panel.fit(
            f"API: {base}/docs\n"
            f"chave de API (guarde-a; não será mostrada de novo):\n  {api_key}\n"
            f"simulador do WhatsApp e do PSP: {sim_url}  (estatísticas: {sim_url}/_sim/stats)",
            title="Quita está no ar",
        )
    )
    lines = steps.showcase_status(database, tenant_id)
    label = {"sent": "mensagem enviada", "queued": "na fila de envio", "deferred": "adiada", "blocked": "bloqueada",
             "none": "sem passo da régua hoje"}  # fmt: skip
    out = ["vitrine: um devedor em cada fuso (abra o celular de cada um):"]
    for line in lines:
        d = line.debtor
        state = label.get(line.outcome, line.outcome)
        if line.earliest_at is not None:
            state += f" até {line.earliest_at.astimezone(steps.SAO_PAULO):%d/%m %H:%M} (horário de Brasília)"
        out.append(f"  {d.name} — {d.city}/{d.uf}, agora são {line.local_time:%H:%M} lá: {state}")
        out.extend(f"      {reason}" for reason in line.reasons if line.outcome in ("deferred", "blocked"))
        out.append(f"      {sim_url}/_sim/phone/{d.phone.lstrip('+')}")
    if not any(line.outcome in ("sent", "queued") for line in lines):
        opens = steps.next_window(lines)
        out.append(
            "  ninguém da vitrine pode ser contatado agora (fora da janela de horário em todos os fusos, ou dia"
            " sem contato)."
            + (
                f" A próxima janela abre em {opens.astimezone(steps.SAO_PAULO):%d/%m às %H:%M} (Brasília);"
                " o planejador roda a cada minuto e envia sozinho."
                if opens
                else ""
            )
        )
    console.print("\n".join(out), soft_wrap=True, highlight=False)
    if offer is not None:
        console.print(
            f"negociação com o bot: {steps.PAYER.name} escreveu {steps.BOT_OPENING!r} e o bot pediu os três primeiros"
            f" dígitos do CPF. No celular dela, {sim_url}/_sim/phone/{offer.phone}:\n"
            f"  digite {offer.identity_answer} → débito discriminado (valor original, multa, juros, credor com CNPJ e"
            " endereço) → escreva 'dá pra fazer em 6x?' → toque em Confirmo → chegam o boleto e o Pix da 1ª parcela"
            " → toque em 'Pagar com Pix'\n"
            f"  o acordo avança (1 de 6 parcelas paga): curl -H 'Authorization: Bearer {api_key}' "
            f"{base}/api/v1/debts/{offer.debt_id}\n"
            f"  pelo terminal, no lugar do celular: quita bot chat --tenant {steps.DEMO_TENANT} --phone +{offer.phone}"
            f" --sim-url {sim_url}\n"
            f"  pedidos de atendimento humano: quita handoff list --tenant {steps.DEMO_TENANT}\n"
            f"  (Pix: webhook {base}/webhooks/pix/{steps.DEMO_TENANT}/pix; boleto: retorno CNAB gravado em"
            f" {cnab_dir} e importado a cada 3 s)",
            soft_wrap=True,
            highlight=False,
        )
    count, held = steps.held_back(database, tenant_id)
    if held:
        out = [f"contatos retidos pelo planejador hoje: {count} (os {len(held)} mais recentes):"]
        for h in held:
            when = f" até {h.earliest_at.astimezone(steps.SAO_PAULO):%d/%m %H:%M}" if h.earliest_at else ""
            out.append(
                f"  {h.debtor_name} ({h.step_key}): {'adiado' if h.outcome == 'deferred' else 'bloqueado'}"
                f"{when} — {' | '.join(h.reasons)}"
            )
        console.print("\n".join(out), soft_wrap=True, highlight=False)
    console.print(
        "o que o planejador faria agora, e por quê (nada é gravado):\n"
        f"  QUITA_DATABASE_URL={get_settings().database_url} .venv/bin/quita cadence preview --tenant {steps.DEMO_TENANT}"
        " --at $(TZ=America/Sao_Paulo date +%H:%M)\n"
        "Ctrl-C encerra a API e o simulador.",
        soft_wrap=True,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("demo")(demo)

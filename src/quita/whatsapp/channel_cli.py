"""Commands that need the database: ``quita channel``, ``quita templates``, ``quita evidence``.

(The database-free tools stay in :mod:`quita.whatsapp.cli`, ``quita wa``.) Secrets are accepted on
the command line or from the environment and are never printed back.
"""

from __future__ import annotations

import typer
from rich.table import Table

from quita.kit.cli import cli_actor, console, err_console, open_database, reports_errors
from quita.tenant import service as tenants
from quita.whatsapp import evidence, service, templates
from quita.whatsapp.models import DEFAULT_API_VERSION, DEFAULT_GRAPH_URL

channel_app = typer.Typer(no_args_is_help=True, help="Canais (números) do WhatsApp.")
templates_app = typer.Typer(no_args_is_help=True, help="Modelos (templates) do WhatsApp.")
evidence_app = typer.Typer(no_args_is_help=True, help="Registro das conversas (evidência encadeada).")


@channel_app.command("add-whatsapp")
@reports_errors
def add_whatsapp(
    tenant: str = typer.Option(..., "--tenant", help="Identificador (slug) ou id do tenant"),
    phone_number_id: str = typer.Option(..., "--phone-number-id"),
    waba_id: str = typer.Option(..., "--waba-id"),
    access_token: str = typer.Option(..., "--access-token", envvar="QUITA_WA_ACCESS_TOKEN"),
    app_secret: str = typer.Option(..., "--app-secret", envvar="QUITA_WA_APP_SECRET"),
    verify_token: str = typer.Option(..., "--verify-token", envvar="QUITA_WA_VERIFY_TOKEN"),
    graph_url: str = typer.Option(DEFAULT_GRAPH_URL, "--graph-url", help="URL da Graph API (ou do simulador)"),
    api_version: str = typer.Option(DEFAULT_API_VERSION, "--api-version"),
    throughput: int = typer.Option(80, "--throughput", help="Mensagens por segundo do número"),
    tier: int = typer.Option(250, "--tier", help="Limite de conversas iniciadas em 24 h (0 = ilimitado)"),
    name: str | None = typer.Option(None, "--name"),
    display_phone_number: str | None = typer.Option(None, "--display-phone-number"),
) -> None:
    """Configura um número do WhatsApp Business (Cloud API) para um tenant."""
    database = open_database()
    with database.transaction() as session:
        owner = tenants.get_tenant(session, tenant)
        channel = service.create_channel(
            session, tenant_id=owner.id, phone_number_id=phone_number_id, waba_id=waba_id,
            access_token=access_token, app_secret=app_secret, verify_token=verify_token, actor=cli_actor(),
            name=name, display_phone_number=display_phone_number, graph_url=graph_url, api_version=api_version,
            throughput_mps=throughput, messaging_tier_limit=tier or None,
        )
        console.print(f"canal criado: {channel.id} (número {phone_number_id}, WABA {waba_id}, {channel.graph_url})")
    database.dispose()


@channel_app.command("list")
@reports_errors
def list_channels(tenant: str | None = typer.Option(None, "--tenant")) -> None:
    """Lista os números configurados (sem segredos)."""
    database = open_database()
    with database.transaction() as session:
        tenant_id = tenants.get_tenant(session, tenant).id if tenant else None
        rows = service.list_channels(session, tenant_id)
        table = Table(title="canais WhatsApp")
        for column in ("id", "tenant", "nome", "phone_number_id", "WABA", "graph URL", "msg/s", "tier", "pausado"):
            table.add_column(column)
        for c in rows:
            table.add_row(str(c.id), str(c.tenant_id), c.name, c.phone_number_id, c.waba_id, c.graph_url,
                          str(c.throughput_mps), str(c.messaging_tier_limit or "ilimitado"),
                          c.pause_reason or ("sim" if c.paused_at else ""))
    console.print(table)
    database.dispose()


@templates_app.command("sync")
@reports_errors
def sync_templates(tenant: str = typer.Option(..., "--tenant")) -> None:
    """Copia do WhatsApp (GET /{waba-id}/message_templates, todas as páginas) os modelos de cada número."""
    database = open_database()
    with database.transaction() as session:
        owner = tenants.get_tenant(session, tenant)
        seen_wabas: set[str] = set()
        for channel in service.list_channels(session, owner.id):
            if channel.waba_id in seen_wabas:
                continue
            seen_wabas.add(channel.waba_id)
            count = templates.sync(session, channel)
            console.print(f"WABA {channel.waba_id}: {count} modelo(s) sincronizado(s)")
    database.dispose()


@templates_app.command("install-starter")
@reports_errors
def install_starter(tenant: str = typer.Option(..., "--tenant")) -> None:
    """Envia à Meta os modelos de cobrança iniciais (pt-BR, categoria UTILITY)."""
    database = open_database()
    with database.transaction() as session:
        owner = tenants.get_tenant(session, tenant)
        channel = service.default_channel(session, owner.id)
        for template in templates.install_starter(session, channel, actor=cli_actor()):
            console.print(f"{template.name} ({template.language}): {template.status}")
    database.dispose()


@templates_app.command("list")
@reports_errors
def list_templates(tenant: str = typer.Option(..., "--tenant")) -> None:
    """Mostra o registro de modelos e se cada um pode ser usado pelas réguas."""
    database = open_database()
    with database.transaction() as session:
        owner = tenants.get_tenant(session, tenant)
        table = Table(title="modelos")
        for column in ("nome", "idioma", "categoria", "status", "parâmetros", "utilizável", "revisar"):
            table.add_column(column)
        for t in templates.list_templates(session, owner.id):
            table.add_row(t.name, t.language, t.category, t.status, ", ".join(t.parameter_names),
                          "sim" if t.usable else "NÃO", "sim" if t.needs_review else "")
    console.print(table)
    database.dispose()


@templates_app.command("review")
@reports_errors
def review_template(
    name: str = typer.Argument(...),
    language: str = typer.Option("pt_BR", "--language"),
    tenant: str = typer.Option(..., "--tenant"),
) -> None:
    """Marca como revisado um modelo que a Meta reclassificou ou pausou."""
    database = open_database()
    with database.transaction() as session:
        owner = tenants.get_tenant(session, tenant)
        template = templates.review(session, owner.id, name, language, actor=cli_actor())
        console.print(f"{template.name}: revisado; utilizável = {'sim' if template.usable else 'não'}")
    database.dispose()


@evidence_app.command("verify")
@reports_errors
def verify_evidence(tenant: str | None = typer.Option(None, "--tenant")) -> None:
    """Confere todas as cadeias do registro de conversas; aponta o primeiro elo quebrado de cada uma."""
    database = open_database()
    checked = entries = broken = 0
    with database.transaction() as session:
        tenant_id = tenants.get_tenant(session, tenant).id if tenant else None
        for report in evidence.verify(session, tenant_id):
            checked += 1
            entries += report.entries
            if report.broken is not None:
                broken += 1
                err_console.print(
                    f"[bold red]QUEBRADA[/] conversa {report.conversation_id} (tenant {report.tenant_id}): "
                    f"elo {report.broken.seq} ({report.broken.ref}): {report.broken.reason}", highlight=False,
                )
    database.dispose()
    console.print(f"{checked} conversa(s), {entries} registro(s) conferidos; {broken} cadeia(s) quebrada(s)")
    if broken:
        raise typer.Exit(1)

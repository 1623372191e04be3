"""``quita serve`` (the API with in-process workers) and ``quita demo`` (everything, on SQLite)."""

from __future__ import annotations

import datetime as dt

import typer
import uvicorn
from rich.panel import Panel
from sqlalchemy import select

from quita.config import get_settings
from quita.kit.cli import console, open_database
from quita.kit.db.migrate import upgrade
from quita.tenant import service as tenants
from quita.tenant.models import Tenant, TenantKind

DEMO_TENANT = "demo"
DEMO_CREDITOR = {
    "legal_name": "Banco Exemplo de Crédito S.A.", "cnpj": "11.222.333/0001-81",
    "address": "Avenida Paulista, 1000, Bela Vista", "city": "São Paulo", "uf": "SP", "cep": "01310-100",
    "trade_name": "Exemplo Crédito", "is_financial_institution": True,
}


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
) -> None:
    """Cria o banco SQLite, carrega uma carteira de exemplo e sobe a API."""
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
    database.dispose()
    api_port = port or settings.api_port
    base = f"http://{settings.api_host}:{api_port}"
    console.print(Panel.fit(
        f"API: {base}/docs\n"
        f"chave de API (guarde-a; não será mostrada de novo):\n  {api_key}\n\n"
        f"experimente:\n  curl -H 'Authorization: Bearer {api_key}' '{base}/api/v1/debts?limit=5'",
        title="Quita está no ar" if serve_api else "Quita pronta",
    ))
    if serve_api:
        from quita.server.app import create_app

        uvicorn.run(create_app(settings), host=settings.api_host, port=api_port, log_level="warning")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("demo")(demo)

"""``quita worker`` (a scaled-mode dispatcher + planner process) and ``quita dispatch status``."""

from __future__ import annotations

import logging
import signal
import threading

import typer
from rich.table import Table
from sqlalchemy import select

from quita.dispatch import service
from quita.dispatch.models import DispatchAlert
from quita.kit.cli import console, fail, open_database

app = typer.Typer(no_args_is_help=True, help="Fila de envio: situação e alertas.")


def worker(
    redis_url: str | None = typer.Option(
        None,
        "--redis-url",
        envvar="QUITA_REDIS_URL",
        help="limites globais no Redis (obrigatório com PostgreSQL)",
    ),
    concurrency: int = typer.Option(256, "--concurrency", min=1, max=2000),
    batch: int = typer.Option(500, "--batch", min=1, max=10_000),
    plan_every: float = typer.Option(60.0, "--plan-every", help="segundos entre planejamentos (0 desliga)"),
    give_up_after: float = typer.Option(
        900.0, "--give-up-after", help="segundos até um envio incerto virar unknown"
    ),
    doubt_after: float = typer.Option(90.0, "--doubt-after"),
    http_timeout: float = typer.Option(30.0, "--http-timeout"),
) -> None:
    """Processo de envio: reivindica mensagens (SKIP LOCKED), respeita os limites e envia; planeja se for líder."""
    from quita.dispatch.limits import RedisLimiter
    from quita.dispatch.tasks import BackgroundDispatch
    from quita.dispatch.worker import DispatchSettings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    database = open_database()
    if not database.is_sqlite and not redis_url:
        raise fail("com PostgreSQL (vários workers) informe --redis-url: os limites precisam ser globais")
    settings = DispatchSettings(
        batch=batch,
        concurrency=concurrency,
        give_up_after=give_up_after,
        doubt_after=doubt_after,
        http_timeout=http_timeout,
    )
    limiter = RedisLimiter(redis_url) if redis_url else None
    runner = BackgroundDispatch(database, limiter, settings, plan_every=plan_every or None).start()
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    console.print(
        f"worker {runner.dispatcher.name} no ar ({'Redis' if redis_url else 'memória'}); Ctrl+C para sair"
    )
    done.wait()
    runner.stop()
    database.dispose()


@app.command("status")
def status(tenant: str | None = typer.Option(None, "--tenant")) -> None:
    """Mensagens por situação e alertas abertos."""
    from quita.tenant import service as tenants

    database = open_database()
    try:
        with database.transaction() as session:
            tenant_id = tenants.get_tenant(session, tenant).id if tenant else None
            counts = service.counts(session, tenant_id)
            query = (
                select(DispatchAlert)
                .where(DispatchAlert.resolved_at.is_(None))
                .order_by(DispatchAlert.created_at)
            )
            if tenant_id is not None:
                query = query.where(DispatchAlert.tenant_id == tenant_id)
            alerts = list(session.scalars(query.limit(50)))
    finally:
        database.dispose()
    table = Table(title="Fila de envio")
    table.add_column("situação")
    table.add_column("mensagens", justify="right")
    for name, n in sorted(counts.items()):
        table.add_row(name, f"{n:,}".replace(",", "."))
    console.print(table)
    for alert in alerts:
        console.print(f"[red]alerta[/] {alert.created_at:%d/%m %H:%M} {alert.kind}: {alert.message}")


def register(root: typer.Typer) -> None:
    root.command("worker")(worker)
    root.add_typer(app, name="dispatch")


if __name__ == "__main__":  # ``python -m quita.dispatch.cli`` runs a worker (tests start real processes so)
    typer.run(worker)

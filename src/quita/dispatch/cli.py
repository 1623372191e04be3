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
from quita.kit.db import Database
from quita.kit.jobs import JobRunner

app = typer.Typer(no_args_is_help=True, help="Fila de envio: situação e alertas.")


def worker(
    redis_url: str | None = typer.Option(
        None,
        "--redis-url",
        envvar="QUITA_REDIS_URL",
        help="limites globais no Redis (obrigatório com PostgreSQL)",
    ),
    broker_url: str | None = typer.Option(
        None,
        "--broker-url",
        envvar="QUITA_BROKER_URL",
        help="fila de jobs (amqp://… RabbitMQ ou redis://…); sem ela os jobs rodam em threads deste processo",
    ),
    job_queue: str | None = typer.Option(None, "--job-queue", envvar="QUITA_JOB_QUEUE"),
    job_threads: int = typer.Option(
        4, "--job-threads", min=0, max=64, help="threads de jobs (0: não consome)"
    ),
    dispatch: bool = typer.Option(True, "--dispatch/--no-dispatch", help="enviar mensagens e planejar"),
    concurrency: int = typer.Option(256, "--concurrency", min=1, max=2000),
    batch: int = typer.Option(500, "--batch", min=1, max=10_000),
    plan_every: float = typer.Option(60.0, "--plan-every", help="segundos entre planejamentos (0 desliga)"),
    give_up_after: float = typer.Option(
        900.0, "--give-up-after", help="segundos até um envio incerto virar unknown"
    ),
    doubt_after: float = typer.Option(90.0, "--doubt-after"),
    http_timeout: float = typer.Option(30.0, "--http-timeout"),
) -> None:
    """Processo de trabalho: envia (SKIP LOCKED, limites globais), planeja se for líder e consome os jobs da fila."""
    from quita.dispatch.limits import RedisLimiter
    from quita.dispatch.tasks import BackgroundDispatch
    from quita.dispatch.worker import DispatchSettings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from quita.config import get_settings

    config = get_settings()  # the same settings (.env included) `quita serve` reads: both agree on the broker
    broker_url = broker_url or config.broker_url
    job_queue = job_queue or config.job_queue
    database = open_database()
    if dispatch and not database.is_sqlite and not redis_url:
        raise fail("com PostgreSQL (vários workers) informe --redis-url: os limites precisam ser globais")
    jobs = start_jobs(database, broker_url, job_queue, job_threads)
    runner = None
    if dispatch:
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
    parts = [f"envio ({'Redis' if redis_url else 'memória'})"] if runner else []
    if job_threads:
        parts.append(
            f"jobs ({'fila ' + job_queue if broker_url else 'threads locais'}, {job_threads} threads)"
        )
    console.print(
        f"worker {runner.dispatcher.name if runner else ''} no ar: {', '.join(parts) or 'nada a fazer'}; Ctrl+C para sair"
    )
    done.wait()
    if runner is not None:
        runner.stop()
    jobs.shutdown()
    database.dispose()


def start_jobs(database: Database, broker_url: str | None, queue: str, threads: int) -> JobRunner:
    """The worker's job runner. With a broker, jobs this process enqueues go to the broker and, unless
    ``threads`` is 0, a Dramatiq worker inside this process consumes the queue: one kind of process to
    deploy, scaled by starting more of them (``--no-dispatch`` makes a jobs-only process, e.g. to keep
    heavy imports off the dispatcher's machine). Without a broker they run on local threads."""
    import quita.kit.db.registry  # noqa: F401  (every capability: models, event subscriptions)
    from quita.kit.jobs import load_all_jobs, runner_for

    load_all_jobs()
    runner = runner_for(database, broker_url=broker_url, queue=queue, threads=max(1, threads))
    database.job_sink = runner.submit
    if broker_url and threads:
        from quita.kit.broker import BrokerRunner

        assert isinstance(runner, BrokerRunner)
        runner.consume(threads)
    from quita.config import get_settings

    if threads and get_settings().nlu_preload:
        from quita.bot.hooks import preload

        preload()
    return runner


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

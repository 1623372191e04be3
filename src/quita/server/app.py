"""The ASGI application: routers of every capability, the unit of work per request, and the
in-process job runner of the embedded mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import quita
from quita.bot import api as bot_api
from quita.bot import hooks as bot_hooks
from quita.bot import jobs as bot_jobs
from quita.cadence import api as cadence_api
from quita.config import Settings, get_settings
from quita.dispatch import tasks as dispatch_tasks
from quita.importing import api as importing_api
from quita.importing import jobs as importing_jobs
from quita.kit.api import install_error_handlers
from quita.kit.db import Database
from quita.kit.jobs import runner_for, runs_elsewhere
from quita.payments import api as payments_api
from quita.payments import webhooks as payments_webhooks
from quita.portfolio import api as portfolio_api
from quita.whatsapp import api as whatsapp_api
from quita.whatsapp import jobs as whatsapp_jobs
from quita.whatsapp import webhooks as whatsapp_webhooks


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = database or Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runner = runner_for(  # threads here (embedded), or Dramatiq consumed by `quita worker` (scaled)
            database, broker_url=settings.broker_url, queue=settings.job_queue, threads=settings.job_threads
        )
        database.job_sink = runner.submit
        app.state.runner = runner
        if settings.nlu_preload and not runs_elsewhere(database):
            bot_hooks.preload()
        with database.transaction() as session:
            leftovers = importing_jobs.pending_job_ids(session)
        for job_id in leftovers:
            runner.submit(importing_jobs.RUN_IMPORT, {"job_id": str(job_id)})
        whatsapp_jobs.resume(database)
        runner.submit(bot_jobs.RESUME_JOB, {})  # messages a stopped process recorded but never answered
        embedded_dispatch = dispatch_tasks.start_embedded(database, settings.embedded_dispatch)
        try:
            yield
        finally:
            if embedded_dispatch is not None:
                embedded_dispatch.stop()
            await whatsapp_webhooks.shutdown(app)
            whatsapp_jobs.stop_pumps()  # the backlog waits for the next start, not for this shutdown
            runner.shutdown()
            database.job_sink = None

    app = FastAPI(
        title="Quita API",
        version=quita.__version__,
        description="Cobrança pelo WhatsApp, dentro da lei. Autentique com `Authorization: Bearer <chave>`.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    install_error_handlers(app)
    whatsapp_webhooks.install(app)  # raw ASGI intake for POST /webhooks/whatsapp (the hot path)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": quita.__version__}

    app.include_router(portfolio_api.router)
    app.include_router(importing_api.router)
    app.include_router(whatsapp_api.router)
    app.include_router(whatsapp_webhooks.router)
    app.include_router(payments_api.router)
    app.include_router(payments_webhooks.router)
    app.include_router(cadence_api.router)
    app.include_router(bot_api.router)
    return app

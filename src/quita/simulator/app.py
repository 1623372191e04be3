"""Composes the fake services into one ASGI app; each fake brings its routers and background tasks.

Control and page routes are mounted before the Graph catch-all (``/{version}/{object_id}``) so that paths
like ``/_sim/messages`` never reach it. A future fake Pix PSP mounts beside the WhatsApp one the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from quita.simulator.phone.api import phone_router
from quita.simulator.psp.api import psp_control_router, psp_router
from quita.simulator.psp.schemas import PspConfig
from quita.simulator.psp.service import PspSimulator
from quita.simulator.whatsapp.api import SendFastPath, attachments_router, graph_router
from quita.simulator.whatsapp.control import control_router
from quita.simulator.whatsapp.domain.errors import GraphError
from quita.simulator.whatsapp.schemas import SimConfig
from quita.simulator.whatsapp.service import WhatsAppSimulator
from quita.simulator.whatsapp.tasks import WebhookDispatcher


def create_app(config: SimConfig | None = None, psp_config: PspConfig | None = None) -> SendFastPath:
    """The ASGI app; ``app.app.state.whatsapp`` is the WhatsApp simulator (for in-process use)."""
    simulator = WhatsAppSimulator(config or SimConfig())
    dispatcher = WebhookDispatcher(simulator)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await dispatcher.start()
        try:
            yield
        finally:
            await dispatcher.stop()

    app = FastAPI(
        title="Quita simulator", lifespan=lifespan, docs_url="/_sim/docs", openapi_url="/_sim/openapi.json"
    )
    app.state.whatsapp = simulator
    app.state.psp = psp = PspSimulator(psp_config)

    @app.exception_handler(GraphError)
    async def graph_error(request: Request, exc: GraphError) -> JSONResponse:
        return JSONResponse(exc.envelope(), status_code=exc.http_status)

    app.include_router(control_router(simulator))
    app.include_router(psp_control_router(psp))
    app.include_router(psp_router(psp))
    app.include_router(phone_router())
    app.include_router(attachments_router(simulator))
    app.include_router(graph_router(simulator))
    return SendFastPath(app, simulator)

"""Control API (``/_sim/...``) that tests, demos and benchmarks use to drive and inspect the fake.

Not part of Meta's API and unauthenticated: the simulator is meant to listen on loopback.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import ValidationError

from quita.simulator.whatsapp.domain.errors import GraphError
from quita.simulator.whatsapp.schemas import InboundMessage
from quita.simulator.whatsapp.service import WhatsAppSimulator


def control_router(sim: WhatsAppSimulator) -> APIRouter:
    router = APIRouter(prefix="/_sim")

    @router.post("/inbound")
    async def inbound(message: InboundMessage) -> dict[str, Any]:
        try:
            record = sim.receive(message)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        except GraphError as exc:
            raise HTTPException(400, exc.details) from None
        return {"id": record.wamid, "wa_id": record.wa_id, "webhook": "queued"}

    @router.get("/messages")
    async def messages(
        to: str | None = Query(default=None, description="any form of the debtor's number"),
        limit: int = Query(default=1000, ge=1, le=100_000),
    ) -> dict[str, Any]:
        return {"data": sim.sent_to(to, limit)}

    @router.get("/conversation")
    async def conversation(number: str = Query(min_length=8, max_length=20)) -> dict[str, Any]:
        return sim.chat(number)

    @router.get("/stats")
    async def stats(
        include: str | None = Query(default=None, description="callback_data: add the full map"),
    ) -> Any:
        return sim.stats.as_json(include_callback_data=include == "callback_data")

    @router.get("/config")
    async def get_config() -> dict[str, Any]:
        return sim.config.model_dump()

    @router.post("/config")
    async def set_config(changes: dict[str, Any]) -> dict[str, Any]:
        try:
            return sim.update_config(changes).model_dump()
        except ValidationError as exc:
            raise HTTPException(422, exc.errors(include_url=False, include_context=False)) from None
        except GraphError as exc:
            raise HTTPException(422, f"templates: {exc.details}") from None

    @router.post("/reset")
    async def reset(keep_config: bool = False) -> dict[str, Any]:
        sim.reset(keep_config=keep_config)
        return {"reset": True, "config": sim.config.model_dump()}

    @router.get("/media/{media_id}")
    async def media(media_id: str) -> Response:
        """Media as the debtor's phone shows it (no token: it's the phone's own copy)."""
        item = sim.media.get(media_id)
        if item is None:
            raise HTTPException(404, "media not found")
        headers = {"Content-Disposition": f'inline; filename="{item.filename or media_id}"'}
        return Response(item.data, media_type=item.mime_type, headers=headers)

    @router.get("/health")
    async def health() -> dict[str, Any]:
        return {"ok": True}

    return router

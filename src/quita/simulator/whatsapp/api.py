"""The Graph API surface Quita (and pywa) call: messages, media, message_templates, phone numbers.

Paths are ``/{version}/...`` with any ``vNN.N`` version, like graph.facebook.com. Handlers read the raw
body and validate by hand: that is what lets errors come back in Meta's exact envelope and keeps the send
path free of per-request model building.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Receive, Scope, Send

from quita.simulator.whatsapp.domain import errors
from quita.simulator.whatsapp.domain.messages import parse_read, parse_send
from quita.simulator.whatsapp.service import WhatsAppSimulator

_VERSION = re.compile(r"^v\d{1,3}(\.\d{1,2})?$")
SUPPORTED_MIME = {
    "image/jpeg", "image/png", "image/webp",
    "application/pdf", "text/plain", "application/msword", "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "audio/aac", "audio/mp4", "audio/mpeg", "audio/amr", "audio/ogg", "video/mp4", "video/3gpp",
}  # fmt: skip


_SEND_PATH = re.compile(r"^/(v\d{1,3}(?:\.\d{1,2})?)/(\d{1,20})/messages/?$")


async def handle_send(
    sim: WhatsAppSimulator, object_id: str, headers: dict[str, str], query: str, raw: bytes
) -> Any:
    """``POST /{phone_number_id}/messages``: a dict answer, or DROP to hang up. Raises GraphError."""
    access_token = parse_qs(query).get("access_token", [None])[0] if query else None
    sim.check_token(headers.get("authorization"), access_token)
    number = sim.business_number(object_id)
    if number is None:
        raise errors.unknown_object(object_id, "POST")
    try:
        body = json.loads(raw)
    except ValueError:
        raise sim.reject(errors.invalid_parameter("The request body is not valid JSON.")) from None
    if isinstance(body, dict) and body.get("status") == "read":
        try:
            if body.get("messaging_product") != "whatsapp":
                raise errors.required_parameter("messaging_product")
            read = parse_read(body)
        except errors.GraphError as exc:
            raise sim.reject(exc) from None
        return sim.mark_read(number, read)
    try:
        send = parse_send(body)
    except errors.GraphError as exc:
        raise sim.reject(exc) from None
    fault = sim.draw_fault()
    latency = sim.draw_latency()
    if latency:
        await asyncio.sleep(latency)
    if fault == "5xx":
        raise errors.server_error() if sim.rng.random() < 0.5 else errors.service_unavailable()
    if fault == "drop":
        return DROP
    result = sim.send(number, send, body)
    if fault == "timeout":
        # Meta accepted the message but the answer never arrives in time: the double-send hazard.
        await asyncio.sleep(sim.config.fault_timeout_s)
    return result


DROP = object()


class SendFastPath:
    """Serves ``POST /{version}/{phone_number_id}/messages`` straight from ASGI, ahead of FastAPI.

    The send endpoint is the only hot one (benchmarks push 1,000/s through it); skipping the framework's
    middleware, routing and dependency resolution there roughly halves its CPU cost. Everything else goes to
    ``app`` unchanged.
    """

    def __init__(self, app: ASGIApp, sim: WhatsAppSimulator) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].endswith(("/messages", "/messages/"))
        ):
            await self.app(scope, receive, send)
            return
        match = _SEND_PATH.match(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        status = 200
        try:
            result = await handle_send(
                self.sim, match.group(2), headers, scope["query_string"].decode(), b"".join(chunks)
            )
        except errors.GraphError as exc:
            status, result = exc.http_status, exc.envelope()
        if result is DROP:
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4096")]}
            )
            await send({"type": "http.response.body", "body": b'{"messaging_product":', "more_body": True})
            return
        payload = json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode()
        response_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": payload})


def graph_router(sim: WhatsAppSimulator) -> APIRouter:
    router = APIRouter()

    def authorize(request: Request, version: str) -> None:
        if not _VERSION.match(version):
            raise errors.unknown_path(version)
        sim.check_token(request.headers.get("authorization"), request.query_params.get("access_token"))

    async def json_body(request: Request) -> Any:
        raw = await request.body()
        try:
            return json.loads(raw)
        except ValueError:
            raise errors.invalid_parameter("The request body is not valid JSON.") from None

    @router.post("/{version}/{object_id}/media")
    async def upload_media(version: str, object_id: str, request: Request) -> Response:
        authorize(request, version)
        if sim.business_number(object_id) is None:
            raise errors.unknown_object(object_id, "POST")
        form = await request.form()
        if form.get("messaging_product") != "whatsapp":
            raise errors.required_parameter("messaging_product")
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise errors.required_parameter("file")
        mime = str(form.get("type") or upload.content_type or "")
        if mime not in SUPPORTED_MIME:
            raise errors.GraphError(
                131053,
                "(#131053) Media upload error",
                f"Param file must be a file with one of {sorted(SUPPORTED_MIME)}",
            )
        item = sim.store_media(await upload.read(), mime, upload.filename)
        return JSONResponse({"id": item.id})

    @router.get("/{version}/{object_id}/message_templates")
    async def list_templates(version: str, object_id: str, request: Request) -> Response:
        authorize(request, version)
        if object_id != sim.config.waba_id:
            raise errors.unknown_object(object_id, "GET")
        return JSONResponse(template_page(sim, request))

    @router.post("/{version}/{object_id}/message_templates")
    async def create_template(version: str, object_id: str, request: Request) -> Response:
        authorize(request, version)
        if object_id != sim.config.waba_id:
            raise errors.unknown_object(object_id, "POST")
        definition = sim.add_template(await json_body(request))
        return JSONResponse(
            {"id": definition.id, "status": definition.status, "category": definition.category}
        )

    @router.get("/{version}/{object_id}/phone_numbers")
    async def list_numbers(version: str, object_id: str, request: Request) -> Response:
        authorize(request, version)
        if object_id != sim.config.waba_id:
            raise errors.unknown_object(object_id, "GET")
        return JSONResponse({"data": [phone_info(sim, p) for p in sim.numbers]})

    @router.get("/{version}/{object_id}")
    async def get_object(version: str, object_id: str, request: Request) -> Response:
        authorize(request, version)
        if object_id in sim.numbers:
            info = phone_info(sim, object_id)
            fields = request.query_params.get("fields")
            if fields:
                wanted = {f.strip() for f in fields.split(",")} | {"id"}
                info = {k: v for k, v in info.items() if k in wanted}
            return JSONResponse(info)
        if (item := sim.media.get(object_id)) is not None:
            base = str(request.base_url).rstrip("/")
            token = base64.urlsafe_b64encode(item.sha256.encode()[:12]).decode().rstrip("=")
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "url": f"{base}/whatsapp_business/attachments/?mid={item.id}&ext=1&hash={token}",
                    "mime_type": item.mime_type,
                    "sha256": item.sha256,
                    "file_size": len(item.data),
                    "id": item.id,
                }
            )
        if (template := sim.template_by_id(object_id)) is not None:
            return JSONResponse(template.to_graph())
        if object_id == sim.config.waba_id:
            return JSONResponse({"id": object_id, "name": "Quita Simulador WABA", "currency": "BRL"})
        raise errors.unknown_object(object_id, "GET")

    @router.delete("/{version}/{object_id}")
    async def delete_object(version: str, object_id: str, request: Request) -> Response:
        authorize(request, version)
        if sim.media.pop(object_id, None) is None:
            raise errors.unknown_object(object_id, "DELETE")
        return JSONResponse({"success": True})

    return router


def attachments_router(sim: WhatsAppSimulator) -> APIRouter:
    """The media download host (``lookaside.fbsbx.com`` in production): needs the same bearer token."""
    router = APIRouter()

    @router.get("/whatsapp_business/attachments/")
    async def download(request: Request) -> Response:
        sim.check_token(request.headers.get("authorization"), request.query_params.get("access_token"))
        item = sim.media.get(request.query_params.get("mid", ""))
        if item is None:
            return Response(status_code=404)
        return Response(item.data, media_type=item.mime_type)

    return router


def phone_info(sim: WhatsAppSimulator, phone_number_id: str) -> dict[str, Any]:
    config = next(p for p in sim.config.phone_numbers if p.phone_number_id == phone_number_id)
    display = config.display_phone_number
    pretty = (
        f"+{display[:2]} {display[2:4]} {display[4:-4]}-{display[-4:]}"
        if display.startswith("55")
        else display
    )
    return {
        "verified_name": config.verified_name,
        "code_verification_status": "VERIFIED",
        "display_phone_number": pretty,
        "quality_rating": "GREEN",
        "platform_type": "CLOUD_API",
        "throughput": {"level": "HIGH" if sim.config.throughput_mps > 80 else "STANDARD"},
        "messaging_limit_tier": "TIER_UNLIMITED",
        "id": phone_number_id,
    }


def template_page(sim: WhatsAppSimulator, request: Request) -> dict[str, Any]:
    """A page of templates with Graph cursor paging (``limit``, ``after``, ``before``) and filters."""
    params = request.query_params
    items = sim.template_list()
    if name := params.get("name"):
        items = [t for t in items if name in t.name]
    for key, attr in (("status", "status"), ("category", "category"), ("language", "language")):
        if wanted := params.get(key):
            allowed = {v.strip().upper() if key != "language" else v.strip() for v in wanted.split(",")}
            items = [t for t in items if getattr(t, attr) in allowed]
    try:
        limit = max(1, min(int(params.get("limit", "25")), 1000))
    except ValueError:
        raise errors.invalid_parameter("limit must be an integer.") from None
    start = 0
    if after := params.get("after"):
        start = _cursor_index(after) + 1
    elif before := params.get("before"):
        start = max(0, _cursor_index(before) - limit)
    page = items[start : start + limit]
    out: dict[str, Any] = {"data": [t.to_graph() for t in page]}
    if page:
        cursors = {"before": _cursor(start), "after": _cursor(start + len(page) - 1)}
        paging: dict[str, Any] = {"cursors": cursors}
        if start + len(page) < len(items):
            base = str(request.url.remove_query_params(["after", "before"]))
            sep = "&" if "?" in base else "?"
            paging["next"] = f"{base}{sep}after={cursors['after']}"
        if start > 0:
            base = str(request.url.remove_query_params(["after", "before"]))
            sep = "&" if "?" in base else "?"
            paging["previous"] = f"{base}{sep}before={cursors['before']}"
        out["paging"] = paging
    if "summary" in params:
        out["summary"] = {"total_count": len(items), "message_template_count": len(items)}
    return out


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"tpl:{index}".encode()).decode().rstrip("=")


def _cursor_index(cursor: str) -> int:
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(decoded.removeprefix("tpl:"))
    except ValueError:
        raise errors.invalid_parameter("Invalid paging cursor.") from None

"""A tiny scripted stand-in for the Graph API, served by uvicorn on 127.0.0.1 in a background thread.

Not the project simulator: it only answers what each client test scripts, and records what it received.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route


@dataclass
class Scripted:
    status: int = 200
    json: Any = None
    text: str | None = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeGraph:
    port: int = 0
    script: deque[Scripted] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    advertised_sha256: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        self.script.clear()
        self.requests.clear()
        self.media.clear()
        self.advertised_sha256.clear()


def _scripted_response(item: Scripted) -> Response:
    if item.text is not None:
        return Response(item.text, status_code=item.status, headers=item.headers, media_type="text/html")
    return JSONResponse(item.json, status_code=item.status, headers=item.headers)


def build_app(graph: FakeGraph) -> Starlette:
    async def messages(request: Request) -> Response:
        body = await request.json()
        graph.requests.append({"path": request.url.path, "headers": dict(request.headers), "json": body})
        if graph.script:
            item = graph.script.popleft()
            if item.delay:
                await asyncio.sleep(item.delay)
            return _scripted_response(item)
        if body.get("status") == "read":
            return JSONResponse({"success": True})
        to = body.get("to", "")
        wa_id = to[:4] + to[5:] if len(to) == 13 and to.startswith("55") else to  # legacy BR id
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": wa_id}],
                "messages": [{"id": f"wamid.TEST{len(graph.requests)}", "message_status": "accepted"}],
            }
        )

    async def upload(request: Request) -> Response:
        form = await request.form()
        upload_file = form["file"]
        assert not isinstance(upload_file, str)
        content = await upload_file.read()
        graph.requests.append(
            {"path": request.url.path, "headers": dict(request.headers), "form": dict(form)}
        )
        media_id = f"{len(graph.media) + 1000}"
        graph.media[media_id] = (content, str(form["type"]))
        return JSONResponse({"id": media_id})

    async def media_info(request: Request) -> Response:
        media_id = request.path_params["media_id"]
        graph.requests.append({"path": request.url.path, "headers": dict(request.headers)})
        if graph.script:  # a scripted answer first (a 5xx, a throttle), then the real one
            return _scripted_response(graph.script.popleft())
        if media_id not in graph.media:
            return JSONResponse(
                {
                    "error": {
                        "message": "(#100) Invalid parameter",
                        "type": "OAuthException",
                        "code": 100,
                        "error_data": {"details": f"Object with ID '{media_id}' does not exist"},
                        "fbtrace_id": "trace",
                    }
                },
                status_code=400,
            )
        content, mime = graph.media[media_id]
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "url": f"{graph.url}/lookaside/{media_id}",
                "mime_type": mime,
                "sha256": graph.advertised_sha256.get(media_id, hashlib.sha256(content).hexdigest()),
                "file_size": len(content),
                "id": media_id,
            }
        )

    async def lookaside(request: Request) -> Response:
        return RedirectResponse(f"/download/{request.path_params['media_id']}", status_code=302)

    async def download(request: Request) -> Response:
        graph.requests.append({"path": request.url.path, "headers": dict(request.headers)})
        if request.headers.get("authorization") != "Bearer test-token":
            return Response("forbidden", status_code=403)
        content, mime = graph.media[request.path_params["media_id"]]
        return Response(content, media_type=mime)

    return Starlette(
        routes=[
            Route("/{version}/{pnid}/messages", messages, methods=["POST"]),
            Route("/{version}/{pnid}/media", upload, methods=["POST"]),
            Route("/lookaside/{media_id}", lookaside),
            Route("/download/{media_id}", download),
            Route("/{version}/{media_id}", media_info),
        ]
    )


@contextmanager
def serve_fake_graph() -> Iterator[FakeGraph]:
    graph = FakeGraph()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    graph.port = sock.getsockname()[1]
    config = uvicorn.Config(
        build_app(graph), lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("fake Graph server did not start")
        time.sleep(0.01)
    try:
        yield graph
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


@contextmanager
def serve_hang_up() -> Iterator[int]:
    """A server that reads one request and closes the connection without answering (a reset mid-call)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def run() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(2)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                # Request received; hang up without a response.

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def free_port_with_nothing_listening() -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port

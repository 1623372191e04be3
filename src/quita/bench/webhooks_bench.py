"""``quita bench webhooks``: signed status webhooks per second acknowledged by a real server process.

The server is Quita's own app (``create_app``) under uvicorn in a separate process, exactly as
``quita serve`` runs it, plus one extra route, ``POST /_bench/bare``, which reads the body and answers
200 — the baseline: same process, stack and request size, no signature check and no database. Every
webhook body is distinct (a new wamid), so each one costs a durable write; only 200 answers count,
and afterwards the stored rows are counted to check that every acknowledged webhook is in the database.

The load generator is a small keep-alive HTTP/1.1 client on raw asyncio streams (httpx would be the
bottleneck on this machine), run in the benchmark process.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import PlainTextResponse

from quita.whatsapp.domain.signature import compute_signature

PHONE_ID, WABA_ID, SECRET = "100000000000077", "200000000000077", "bench-app-secret"


def bench_app() -> Any:
    """The served app: Quita's, plus the bare baseline route (uvicorn ``--factory`` target)."""
    from quita.server.app import create_app

    app = create_app()

    @app.post("/_bench/bare", include_in_schema=False)
    async def bare(request: Request) -> PlainTextResponse:
        await request.body()
        return PlainTextResponse("OK")

    return app


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    seconds: float
    errors: int
    stored: int | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _bodies(count: int) -> list[bytes]:
    base = int(time.time())
    bodies = []
    for n in range(count):
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5511999990077", "phone_number_id": PHONE_ID},
            "statuses": [{
                "id": f"wamid.BENCH{uuid.uuid4().hex}", "status": ("sent", "delivered", "read")[n % 3],
                "timestamp": str(base + n // 1000), "recipient_id": "5511987654321",
                "biz_opaque_callback_data": str(uuid.uuid4()),
                "pricing": {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"},
            }],
        }
        body = {"object": "whatsapp_business_account",
                "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": value}]}]}
        bodies.append(json.dumps(body, separators=(",", ":")).encode())
    return bodies


def _request(path: str, body: bytes, port: int) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Hub-Signature-256: {compute_signature(body, SECRET)}\r\n\r\n")
    return head.encode() + body


async def _worker(port: int, requests: list[bytes], start: int, step: int, deadline: float,
                  counts: dict[str, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    index = start
    try:
        while time.monotonic() < deadline and index < len(requests):
            writer.write(requests[index])
            index += step
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            if head[9:12] == b"200":
                counts["ok"] += 1
            else:
                counts["errors"] += 1
    finally:
        writer.close()


async def _load(port: int, requests: list[bytes], connections: int, seconds: float) -> tuple[int, int, float]:
    counts = {"ok": 0, "errors": 0}
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(*(_worker(port, requests, i, connections, deadline, counts) for i in range(connections)))
    return counts["ok"], counts["errors"], time.monotonic() - started


def _prepare_database(url: str, data_dir: Path) -> None:
    from quita.kit.db import Database
    from quita.kit.db.migrate import upgrade
    from quita.tenant import service as tenants
    from quita.tenant.models import TenantKind
    from quita.whatsapp import service

    upgrade(url)
    database = Database(url)
    with database.transaction() as session:
        tenant = tenants.create_tenant(session, slug="bench", name="Bench", kind=TenantKind.CREDITOR, actor="bench")
        service.create_channel(session, tenant_id=tenant.id, phone_number_id=PHONE_ID, waba_id=WABA_ID,
                               access_token="bench", app_secret=SECRET, verify_token="bench", actor="bench")
    database.dispose()


def _stored(url: str) -> int:
    from quita.kit.db import Database

    database = Database(url)
    with database.engine.connect() as conn:
        count = int(conn.execute(sa.text("SELECT count(*) FROM whatsapp_webhook_deliveries")).scalar_one())
    database.dispose()
    return count


def _serve(url: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "quita.bench.webhooks_bench:bench_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env={**env, "QUITA_DATABASE_URL": url}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:] if process.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def _case(label: str, url: str, seconds: float, connections: int, env: dict[str, str]) -> list[Result]:
    port = _free_port()
    server = _serve(url, port, env)
    try:
        expected = int(seconds * 6000) + 2000
        bodies = _bodies(expected)
        webhooks = [_request("/webhooks/whatsapp", b, port) for b in bodies]
        bare = [_request("/_bench/bare", b, port) for b in bodies]
        asyncio.run(_load(port, bare[:300], 8, 1.0))  # warm-up
        ok_bare, err_bare, t_bare = asyncio.run(_load(port, bare, connections, seconds))
        ok_wh, err_wh, t_wh = asyncio.run(_load(port, webhooks, connections, seconds))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    stored = _stored(url)
    return [
        Result(f"bare endpoint ({label})", ok_bare, t_bare, err_bare),
        Result(f"webhooks: {label}", ok_wh, t_wh, err_wh, stored),
    ]


def run(databases: list[str], postgres_url: str, seconds: float, connections: int) -> list[Result]:
    from cryptography.fernet import Fernet

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="quita-bench-webhooks-") as tmp:
        env = {**os.environ, "QUITA_SECRET_KEY": Fernet.generate_key().decode(), "QUITA_DATA_DIR": tmp,
               "QUITA_LOG_LEVEL": "warning"}
        os.environ["QUITA_SECRET_KEY"] = env["QUITA_SECRET_KEY"]
        for name in databases:
            if name == "sqlite":
                url = f"sqlite:///{tmp}/bench.db"
                _prepare_database(url, Path(tmp))
                results += _case("SQLite", url, seconds, connections, env)
            else:
                schema = f"quita_bench_{uuid.uuid4().hex[:8]}"
                admin = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1),
                                         isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
                separator = "&" if "?" in postgres_url else "?"
                url = f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
                try:
                    _prepare_database(url, Path(tmp))
                    results += _case("PostgreSQL", url, seconds, connections, env)
                finally:
                    with admin.connect() as conn:
                        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                    admin.dispose()
    return results

"""LeanTransport against a raw asyncio HTTP server on 127.0.0.1 that counts connections and misbehaves on cue."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from quita.whatsapp.transport import EAGER_BODY_LIMIT, LeanTransport

Handler = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]  # returns False to close


class Server:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.open = 0
        self.max_open = 0
        self.requests: list[bytes] = []

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self.max_open = max(self.max_open, self.open)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                if not await self.handler(head + body, writer):
                    return
                await writer.drain()
        finally:
            self.open -= 1
            writer.close()

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()


def ok(body: bytes = b'{"ok":true}', delay: float = 0.0) -> Handler:
    async def handle(request: bytes, writer: asyncio.StreamWriter) -> bool:
        if delay:
            await asyncio.sleep(delay)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        writer.write(body)
        return True

    return handle


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_keep_alive_reuses_one_connection_and_sends_the_body() -> None:
    async def main() -> None:
        server = Server(ok())
        async with server as url, httpx.AsyncClient(transport=LeanTransport(), base_url=url) as client:
            for n in range(5):
                response = await client.post(
                    "/v1/x/messages?a=1", json={"n": n}, headers={"Authorization": "Bearer t"}
                )
                assert response.status_code == 200 and response.json() == {"ok": True}
        assert server.connections == 1
        first = server.requests[0]
        assert first.startswith(b"POST /v1/x/messages?a=1 HTTP/1.1\r\n")
        assert b"Authorization: Bearer t" in first and first.endswith(b'{"n":0}')

    run(main())


def test_chunked_and_large_bodies_are_read_whole_and_the_connection_is_reused() -> None:
    big = bytes(range(256)) * (EAGER_BODY_LIMIT // 256 + 10)

    async def handle(request: bytes, writer: asyncio.StreamWriter) -> bool:
        if b"/chunked" in request:
            writer.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=1\r\n world\r\n0\r\n\r\n"
            )
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big) + big)
        return True

    async def main() -> None:
        server = Server(handle)
        async with server as url, httpx.AsyncClient(transport=LeanTransport(), base_url=url) as client:
            assert (await client.get("/chunked")).content == b"hello world"
            assert (await client.get("/big")).content == big
            async with client.stream("GET", "/big") as response:
                seen = 0
                async for part in response.aiter_bytes():
                    seen += len(part)
                    break  # stop early: the connection is out of sync and must not be reused
            assert (await client.get("/chunked")).content == b"hello world"
        assert server.connections == 2

    run(main())


def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    async def close_after(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await ok()(request, writer)
        return False

    async def main() -> None:
        server = Server(close_after)
        async with server as url, httpx.AsyncClient(transport=LeanTransport(), base_url=url) as client:
            for _ in range(3):
                assert (await client.post("/m", json={})).status_code == 200
                await asyncio.sleep(0.05)  # the loop sees the EOF
        assert server.connections == 3

    run(main())


def test_connection_close_header_and_expiry_retire_connections() -> None:
    async def closing(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
        return True

    async def main() -> None:
        server = Server(closing)
        async with server as url, httpx.AsyncClient(transport=LeanTransport(), base_url=url) as client:
            await client.get("/a")
            await client.get("/b")
        assert server.connections == 2
        server2 = Server(ok())
        transport = LeanTransport(keepalive_expiry=0.05)
        async with server2 as url, httpx.AsyncClient(transport=transport, base_url=url) as client:
            await client.get("/a")
            await asyncio.sleep(0.1)
            await client.get("/b")
        assert server2.connections == 2

    run(main())


def test_connection_limit_holds_under_concurrency() -> None:
    async def main() -> None:
        server = Server(ok(delay=0.02))
        transport = LeanTransport(max_connections=3)
        async with server as url, httpx.AsyncClient(transport=transport, base_url=url) as client:
            responses = await asyncio.gather(*(client.post("/m", json={"n": n}) for n in range(12)))
        assert all(r.status_code == 200 for r in responses)
        assert server.max_open <= 3 and server.connections <= 3

    run(main())


def test_failures_map_to_httpx_errors_the_client_classifies() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # bound, not listening: refused

    async def hang_up(request: bytes, writer: asyncio.StreamWriter) -> bool:
        return False

    async def half(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"messaging')
        return False

    async def slow(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(1.0)
        return False

    async def main() -> None:
        async with httpx.AsyncClient(transport=LeanTransport()) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(dead)
        for handler, error in ((hang_up, httpx.RemoteProtocolError), (half, httpx.RemoteProtocolError)):
            async with (
                Server(handler) as url,
                httpx.AsyncClient(transport=LeanTransport(), base_url=url) as client,
            ):
                with pytest.raises(error):
                    await client.post("/m", json={})
        async with (
            Server(slow) as url,
            httpx.AsyncClient(
                transport=LeanTransport(), base_url=url, timeout=httpx.Timeout(5.0, read=0.1)
            ) as client,
        ):
            with pytest.raises(httpx.ReadTimeout):
                await client.post("/m", json={})

    run(main())

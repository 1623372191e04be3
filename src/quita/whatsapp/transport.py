"""A lean HTTP/1.1 keep-alive transport for httpx: what the Cloud API client needs and nothing more.

Why not httpx's default transport (httpcore)? Measured on the 2-core dev machine with 256 connections,
it cost ~8 ms of CPU per request, for two reasons that grow with concurrency: its pool re-scans every
connection (``is_idle``/``has_expired``, a ``getpeername`` per check) for every queued request on every
state change, so the work is O(connections × requests in flight); and every request calls
``current_async_library()``, which tries ``import sniffio`` — absent here, so each call is a failed import
that walks ``sys.path``. This transport keeps idle connections in a deque per origin and a semaphore for
the connection limit, so a request costs O(1) pool work: ~0.2 ms of CPU instead of ~8.

It still speaks through httpx (``httpx.AsyncClient(transport=LeanTransport())``), so the client keeps
httpx's request building, redirects, decoding and exception types, which the error classification in
:mod:`quita.whatsapp.client` relies on:

* could not connect / no free connection in time → ``ConnectError``, ``ConnectTimeout``, ``PoolTimeout``
  (nothing left us: safe to resend);
* anything after the first byte was written → ``WriteError``, ``ReadTimeout``, ``ReadError``,
  ``RemoteProtocolError`` (the request may have been processed: in doubt).

Bodies up to 256 KiB with a ``Content-Length`` are read at once; larger, chunked or close-delimited
bodies are streamed, so a media download can stop at its size limit. HTTPS uses httpx's SSL context.
No proxies and no HTTP/2: :class:`quita.whatsapp.client.WhatsAppClient` falls back to httpx's own
transport when a proxy is configured in the environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import httpx

EAGER_BODY_LIMIT = 256 * 1024
_NO_BODY_STATUS = (204, 304)


class _Connection:
    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def usable(self, now: float, expiry: float) -> bool:
        """An idle connection the server closed (EOF seen), sent unasked bytes to, or kept too long is
        not reused: a request written into it could be lost without an answer (an in-doubt send)."""
        return (
            now - self.idle_since < expiry
            and not self.reader.at_eof()
            and not self.reader._buffer  # type: ignore[attr-defined]  # unsolicited bytes: out of sync
            and not self.writer.is_closing()
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class LeanTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive, at most ``max_connections`` open at once (all origins together)."""

    def __init__(
        self,
        *,
        max_connections: int = 100,
        keepalive_expiry: float = 4.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        # keepalive_expiry below uvicorn's 5 s default keeps us from writing into a socket the server is
        # about to close.
        self._max = max_connections
        self._expiry = keepalive_expiry
        self._ssl = ssl_context
        self._idle: dict[tuple[bytes, bytes, int], deque[_Connection]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._closed = False

    # ------------------------------------------------------------------ pool

    def _semaphore(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._max)
        return self._slots

    async def _acquire(
        self, request: httpx.Request | None, key: tuple[bytes, bytes, int], timeouts: dict[str, Any]
    ) -> _Connection:
        slots = self._semaphore()
        if slots.locked():
            try:
                async with asyncio.timeout(timeouts.get("pool")):
                    await slots.acquire()
            except TimeoutError:
                raise httpx.PoolTimeout("no free connection in time", request=request) from None
        else:
            await slots.acquire()
        try:
            idle = self._idle.get(key)
            if idle:
                now = time.monotonic()
                while idle:
                    conn = idle.pop()  # the most recently used: the least likely to have expired
                    if conn.usable(now, self._expiry):
                        return conn
                    conn.close()
            return await self._connect(request, key, timeouts.get("connect"))
        except BaseException:
            slots.release()
            raise

    async def _connect(
        self, request: httpx.Request | None, key: tuple[bytes, bytes, int], timeout: Any
    ) -> _Connection:
        scheme, host, port = key
        context: ssl.SSLContext | None = None
        if scheme == b"https":
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()
            context = self._ssl
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host.decode("ascii"),
                    port,
                    ssl=context,
                    server_hostname=host.decode("ascii") if context else None,
                    limit=2**20,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(
                f"connect to {host.decode()}:{port} timed out", request=request
            ) from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(
                f"connect to {host.decode()}:{port} failed: {exc!r}", request=request
            ) from exc
        return _Connection(reader, writer)

    def _release(self, key: tuple[bytes, bytes, int], conn: _Connection, reusable: bool) -> None:
        if reusable and not self._closed:
            conn.idle_since = time.monotonic()
            self._idle.setdefault(key, deque()).append(conn)
        else:
            conn.close()
        if self._slots is not None:
            self._slots.release()

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            while idle:
                idle.pop().close()
        self._idle.clear()

    # ------------------------------------------------------------------ one exchange

    async def exchange(
        self, key: tuple[bytes, bytes, int], head: bytes, body: bytes, timeouts: dict[str, Any]
    ) -> RawResponse:
        """One request whose head the caller built once (``key`` is (scheme, host, port)), answered with
        its whole body: the same pool, wire code and exception types as :meth:`handle_async_request`,
        without httpx's ``Request``/``Response`` objects, URL parsing and header merging, which cost
        ~0.3 ms of CPU per request, more than the socket work. The Cloud API client sends its messages
        through it (:meth:`quita.whatsapp.client.WhatsAppClient.send`)."""
        if self._closed:
            raise RuntimeError("the transport was closed")
        conn: _Connection | None = await self._acquire(None, key, timeouts)
        assert conn is not None
        reusable = False
        try:
            status, _reason, headers, _version, keep_alive = await _send_and_read_head(conn, head, body, None, timeouts)
            read_timeout = timeouts.get("read")
            if status in _NO_BODY_STATUS or 100 <= status < 200:
                reusable = keep_alive
                return RawResponse(status, headers, b"")
            chunked = _has_token(headers, b"transfer-encoding", b"chunked")
            length = None if chunked else _content_length(headers, None)
            if length is not None and length <= EAGER_BODY_LIMIT:
                content = await _read_exactly(conn.reader, length, None, read_timeout)
                reusable = keep_alive
                return RawResponse(status, headers, content)
            # Chunked, close-delimited or large (not what the Graph API answers a send): read through the
            # streaming path, which hands the connection back itself, up to the eager limit.
            stream, conn = _BodyStream(self, key, conn, None, read_timeout, length, chunked, keep_alive), None
            parts: list[bytes] = []
            size = 0
            try:
                async for part in stream:
                    size += len(part)
                    if size > EAGER_BODY_LIMIT:
                        raise httpx.RemoteProtocolError("response body too large for an API answer")
                    parts.append(part)
            finally:
                await stream.aclose()
            return RawResponse(status, headers, b"".join(parts))
        finally:
            if conn is not None:
                self._release(key, conn, reusable)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the transport was closed")
        url = request.url
        scheme = url.raw_scheme
        if scheme not in (b"http", b"https"):
            raise httpx.UnsupportedProtocol(f"unsupported scheme {scheme.decode()!r}", request=request)
        port = url.port or (443 if scheme == b"https" else 80)
        key = (scheme, url.raw_host, port)
        timeouts: dict[str, Any] = request.extensions.get("timeout") or {}
        body = await request.aread()
        head = _request_head(request, body)
        conn = await self._acquire(request, key, timeouts)
        reusable = False
        handed_over = False
        try:
            status, reason, headers, version, keep_alive = await _send_and_read_head(conn, head, body, request, timeouts)
            read_timeout = timeouts.get("read")
            if request.method == "HEAD" or status in _NO_BODY_STATUS or 100 <= status < 200:
                reusable = keep_alive
                return _response(status, reason, headers, request, b"")
            chunked = _has_token(headers, b"transfer-encoding", b"chunked")
            length = None if chunked else _content_length(headers, request)
            if length is not None and length <= EAGER_BODY_LIMIT:
                content = await _read_exactly(conn.reader, length, request, read_timeout)
                reusable = keep_alive
                return _response(status, reason, headers, request, content)
            stream = _BodyStream(self, key, conn, request, read_timeout, length, chunked, keep_alive)
            handed_over = True
            return httpx.Response(
                status,
                headers=headers,
                stream=stream,
                request=request,
                extensions={"http_version": version, "reason_phrase": reason},
            )
        finally:
            if not handed_over:
                self._release(key, conn, reusable)


class RawResponse(NamedTuple):
    """An answer read whole by :meth:`LeanTransport.exchange`."""

    status: int
    headers: list[tuple[bytes, bytes]]
    content: bytes


class _BodyStream(httpx.AsyncByteStream):
    """A body read as the caller iterates; the connection returns to the pool once it is fully read."""

    def __init__(
        self,
        transport: LeanTransport,
        key: tuple[bytes, bytes, int],
        conn: _Connection,
        request: httpx.Request | None,
        timeout: Any,
        length: int | None,
        chunked: bool,
        keep_alive: bool,
    ) -> None:
        self._transport = transport
        self._key = key
        self._conn: _Connection | None = conn
        self._request = request
        self._timeout = timeout
        self._length = length
        self._chunked = chunked
        self._keep_alive = keep_alive and (chunked or length is not None)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        conn = self._conn
        if conn is None:
            return
        reader, request, timeout = conn.reader, self._request, self._timeout
        if self._chunked:
            while True:
                line = await _read_line(reader, request, timeout)
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise httpx.RemoteProtocolError("malformed chunk size", request=request) from None
                if size == 0:
                    while await _read_line(reader, request, timeout):  # trailers, then the empty line
                        pass
                    break
                while size:
                    part = await _read_some(reader, min(size, 65536), request, timeout)
                    size -= len(part)
                    yield part
                await _read_line(reader, request, timeout)
        elif self._length is not None:
            left = self._length
            while left:
                part = await _read_some(reader, min(left, 65536), request, timeout)
                left -= len(part)
                yield part
        else:
            while True:
                try:
                    async with asyncio.timeout(timeout):
                        part = await reader.read(65536)
                except TimeoutError:
                    raise httpx.ReadTimeout("read timed out", request=request) from None
                except OSError as exc:
                    raise httpx.ReadError(f"read failed: {exc!r}", request=request) from exc
                if not part:
                    break
                yield part
        self._finish(reusable=self._keep_alive)

    def _finish(self, *, reusable: bool) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            self._transport._release(self._key, conn, reusable)

    async def aclose(self) -> None:
        self._finish(reusable=False)  # a body not read to the end leaves the connection out of sync


# ---------------------------------------------------------------------- wire format


async def _write(
    conn: _Connection, head: bytes, body: bytes, request: httpx.Request | None, timeout: Any
) -> None:
    try:
        conn.writer.write(head + body if len(body) < 65536 else head)
        if len(body) >= 65536:
            conn.writer.write(body)
        # Usually all of it left in the write call; drain() then only re-checks what the next read finds.
        if conn.writer.transport.get_write_buffer_size() or conn.writer.is_closing():
            async with asyncio.timeout(timeout):
                await conn.writer.drain()
    except TimeoutError:
        raise httpx.WriteTimeout("write timed out", request=request) from None
    except OSError as exc:
        raise httpx.WriteError(f"write failed: {exc!r}", request=request) from exc


def _request_head(request: httpx.Request, body: bytes) -> bytes:
    lines = [b"%s %s HTTP/1.1" % (request.method.encode("ascii"), request.url.raw_path)]
    for name, value in request.headers.raw:
        lower = name.lower()
        if lower in (b"content-length", b"transfer-encoding"):
            continue
        lines.append(name + b": " + value)
    if body or request.method in ("POST", "PUT", "PATCH"):
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n"


async def _send_and_read_head(
    conn: _Connection, head: bytes, body: bytes, request: httpx.Request | None, timeouts: dict[str, Any]
) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes, bool]:
    """Writes one request and reads the answer's status line and headers; the last item says whether the
    connection may serve another request once the body is read (HTTP/1.1 without ``Connection: close``)."""
    await _write(conn, head, body, request, timeouts.get("write"))
    status, reason, headers, version = await _read_head(conn.reader, request, timeouts.get("read"))
    keep_alive = version == b"HTTP/1.1" and not _has_token(headers, b"connection", b"close")
    return status, reason, headers, version, keep_alive


async def _read_head(
    reader: asyncio.StreamReader, request: httpx.Request | None, timeout: Any
) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes]:
    while True:
        try:
            async with asyncio.timeout(timeout):
                raw = await reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            raise httpx.ReadTimeout("read timed out", request=request) from None
        except asyncio.IncompleteReadError as exc:
            what = "without sending a response" if not exc.partial else "in the middle of the response head"
            raise httpx.RemoteProtocolError(f"server disconnected {what}", request=request) from None
        except asyncio.LimitOverrunError:
            raise httpx.RemoteProtocolError("response head too large", request=request) from None
        except OSError as exc:
            raise httpx.ReadError(f"read failed: {exc!r}", request=request) from exc
        lines = raw[:-4].split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            raise httpx.RemoteProtocolError(f"malformed status line {lines[0][:80]!r}", request=request)
        status = int(parts[1])
        if status == 100 or 102 <= status < 200:
            continue  # interim responses; the final one follows
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                raise httpx.RemoteProtocolError("malformed response header", request=request)
            headers.append((name.strip(), value.strip()))
        return status, parts[2] if len(parts) > 2 else b"", headers, parts[0]


def _has_token(headers: list[tuple[bytes, bytes]], name: bytes, token: bytes) -> bool:
    return any(k.lower() == name and token in (t.strip().lower() for t in v.split(b",")) for k, v in headers)


def _content_length(headers: list[tuple[bytes, bytes]], request: httpx.Request | None) -> int | None:
    for k, v in headers:
        if k.lower() == b"content-length":
            if not v.isdigit():
                raise httpx.RemoteProtocolError(f"bad Content-Length {v[:20]!r}", request=request)
            return int(v)
    return None


async def _read_exactly(
    reader: asyncio.StreamReader, n: int, request: httpx.Request | None, timeout: Any
) -> bytes:
    try:
        async with asyncio.timeout(timeout):
            return await reader.readexactly(n)
    except TimeoutError:
        raise httpx.ReadTimeout("read timed out", request=request) from None
    except asyncio.IncompleteReadError:
        raise httpx.RemoteProtocolError(
            "server disconnected in the middle of the body", request=request
        ) from None
    except OSError as exc:
        raise httpx.ReadError(f"read failed: {exc!r}", request=request) from exc


async def _read_some(
    reader: asyncio.StreamReader, n: int, request: httpx.Request | None, timeout: Any
) -> bytes:
    try:
        async with asyncio.timeout(timeout):
            part = await reader.read(n)
    except TimeoutError:
        raise httpx.ReadTimeout("read timed out", request=request) from None
    except OSError as exc:
        raise httpx.ReadError(f"read failed: {exc!r}", request=request) from exc
    if not part:
        raise httpx.RemoteProtocolError("server disconnected in the middle of the body", request=request)
    return part


async def _read_line(reader: asyncio.StreamReader, request: httpx.Request | None, timeout: Any) -> bytes:
    try:
        async with asyncio.timeout(timeout):
            return (await reader.readuntil(b"\r\n"))[:-2]
    except TimeoutError:
        raise httpx.ReadTimeout("read timed out", request=request) from None
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        raise httpx.RemoteProtocolError("malformed chunked body", request=request) from None
    except OSError as exc:
        raise httpx.ReadError(f"read failed: {exc!r}", request=request) from exc


def _response(
    status: int, reason: bytes, headers: list[tuple[bytes, bytes]], request: httpx.Request, content: bytes
) -> httpx.Response:
    return httpx.Response(
        status,
        headers=headers,
        stream=httpx.ByteStream(content),
        request=request,
        extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
    )

"""Async WhatsApp Cloud API client: sends, marks as read, uploads and downloads media.

Every failure is a typed exception the dispatcher can act on without reading messages (tree in
:mod:`quita.whatsapp.domain.errors`)::

    WhatsAppError
    ├── RetryNow ─┬─ NotSent               (connect refused / connect timeout: nothing left us)
    │             └─ MediaChecksumMismatch
    ├── RetryLater(retry_after)
    ├── StopAndAlert
    ├── PermanentFailure ── WindowClosed   (free-form refused before HTTP)
    ├── InDoubt                            (timeout or reset AFTER sending: maybe accepted)
    └── InvalidMessage                     (Meta's limits broken; before HTTP)

The Cloud API has no idempotency key, so the line between :class:`NotSent` (safe to resend) and
:class:`InDoubt` (never resend blindly) is what keeps a debtor from getting the same message twice.
Every send carries ``biz_opaque_callback_data`` = our message id, which the status webhooks echo, so an
in-doubt send is reconciled from webhooks instead of retried.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from quita.whatsapp.domain import limits
from quita.whatsapp.domain.errors import (
    InDoubt,
    InvalidMessage,
    MediaChecksumMismatch,
    NotSent,
    PermanentFailure,
    RetryLater,
    RetryNow,
    StopAndAlert,
    WhatsAppError,
    WindowClosed,
    error_from_envelope,
)
from quita.whatsapp.domain.messages import (
    Message,
    Recipient,
    build_mark_read_payload,
    build_message_payload,
    is_free_form,
)
from quita.whatsapp.domain.responses import MediaInfo, SendResult
from quita.whatsapp.domain.window import is_window_open, window_closes_at
from quita.whatsapp.transport import LeanTransport, RawResponse

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_GRAPH_URL",
    "DownloadedMedia",
    "InDoubt",
    "InvalidMessage",
    "MediaChecksumMismatch",
    "NotSent",
    "PermanentFailure",
    "RetryLater",
    "RetryNow",
    "SendResult",
    "StopAndAlert",
    "WhatsAppClient",
    "WhatsAppError",
    "WindowClosed",
]

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v25.0"  # newest Graph version in the reference notes (pywa pins 25.0)
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)
_CONNECT_PHASE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


@dataclass(frozen=True, slots=True)
class DownloadedMedia:
    content: bytes
    mime_type: str | None
    sha256_verified: bool  # False when Meta gave no hash we could read


def _utc_now() -> datetime:
    return datetime.now(UTC)


class WhatsAppClient:
    """One business phone number's Cloud API session. Use as ``async with WhatsAppClient(...) as wa``."""

    def __init__(
        self,
        *,
        phone_number_id: str,
        access_token: str,
        graph_url: str = DEFAULT_GRAPH_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        clock: Callable[[], datetime] = _utc_now,
        transport: httpx.AsyncBaseTransport | None = None,
        max_download_bytes: int = limits.MEDIA_MAX_BYTES["document"],
    ) -> None:
        if not re.fullmatch(r"v\d+\.\d+", api_version):
            raise ValueError(f"api_version must look like 'v25.0', got {api_version!r}")
        if not phone_number_id or not phone_number_id.isdigit():
            raise ValueError("phone_number_id must be the numeric id Meta assigned to the number")
        if not access_token:
            raise ValueError("access_token is required")
        self.phone_number_id = phone_number_id
        self._clock = clock
        self._max_download_bytes = max_download_bytes
        self._graph_is_https = graph_url.startswith("https://")
        if transport is None and not _proxy_configured():
            # httpx's own pool costs ~8 ms of CPU a request at dispatcher concurrency; see transport.py.
            transport = LeanTransport()
        self._http = httpx.AsyncClient(
            base_url=f"{graph_url.rstrip('/')}/{api_version}/",
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=timeout,
            transport=transport,
        )
        self._direct = DirectPost.build(transport, self._http, f"{phone_number_id}/messages", access_token)

    async def __aenter__(self) -> WhatsAppClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ sending

    async def send(
        self,
        to: str | Recipient,
        message: Message,
        *,
        callback_data: str,
        last_inbound_at: datetime | None = None,
        reply_to: str | None = None,
    ) -> SendResult:
        """Send one message; ``callback_data`` is our own message id (echoed in status webhooks).

        Free-form messages need ``last_inbound_at`` (the contact's last inbound message) within 24 h,
        otherwise :class:`WindowClosed` is raised and nothing is sent.
        """
        payload = build_message_payload(
            to, message, biz_opaque_callback_data=callback_data, reply_to=reply_to
        )
        if is_free_form(message) and not is_window_open(last_inbound_at, self._clock()):
            closed_at = window_closes_at(last_inbound_at)
            why = "the contact never wrote" if closed_at is None else f"closed at {closed_at.isoformat()}"
            raise WindowClosed(
                f"free-form message refused: 24 h customer-service window closed ({why}); send a template",
                last_inbound_at=last_inbound_at,
            )
        return await self._send_payload(payload)

    async def send_template_payload(self, payload: Mapping[str, Any]) -> SendResult:
        """Sends a template's full body as :func:`build_message_payload` made it. The dispatcher builds
        the body once and keeps its ``template`` part for the conversation record instead of building
        the message twice. Templates only: free-form messages go through :meth:`send` (24 h window)."""
        if payload.get("type") != "template":
            raise InvalidMessage("type", "send_template_payload sends templates only; use send()")
        return await self._send_payload(payload)

    async def _send_payload(self, payload: Mapping[str, Any]) -> SendResult:
        if self._direct is not None:
            body = await self._post_direct(self._direct, payload, idempotent=False)
        else:
            body = await self._call(
                "POST", f"{self.phone_number_id}/messages", idempotent=False, json=payload
            )
        return SendResult.from_response(body)

    async def mark_read(self, message_id: str, *, typing_indicator: bool = False) -> None:
        """Blue ticks on an inbound message; with ``typing_indicator`` the user also sees "digitando…"."""
        payload = build_mark_read_payload(message_id, typing_indicator=typing_indicator)
        if self._direct is not None:
            body = await self._post_direct(self._direct, payload, idempotent=True)
        else:
            body = await self._call("POST", f"{self.phone_number_id}/messages", idempotent=True, json=payload)
        if not (isinstance(body, Mapping) and body.get("success") is True):
            raise RetryNow(f"mark as read answered without success=true: {str(body)[:200]}")

    # ------------------------------------------------------------------ media

    async def upload_media(self, content: bytes, *, mime_type: str, filename: str) -> str:
        """Upload a file (e.g. a boleto PDF) and return its media id (valid for 30 days)."""
        kind = _media_kind(mime_type)
        if not content:
            raise InvalidMessage("media.content", "is empty")
        if len(content) > limits.MEDIA_MAX_BYTES[kind]:
            raise InvalidMessage("media.content", f"{len(content)} bytes exceeds the {kind} limit")
        body = await self._call(
            "POST",
            f"{self.phone_number_id}/media",
            idempotent=True,  # a repeated upload only leaves an unused media id behind
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, content, mime_type)},
        )
        media_id = body.get("id") if isinstance(body, Mapping) else None
        if not isinstance(media_id, str | int) or isinstance(media_id, bool) or not str(media_id):
            raise RetryNow(f"media upload answered without an id: {str(body)[:200]}")
        return str(media_id)

    async def get_media_info(self, media_id: str) -> MediaInfo:
        if not media_id or not re.fullmatch(r"[\w.-]+", media_id):
            raise InvalidMessage("media_id", "must be a media id as received in the webhook")
        body = await self._call("GET", media_id, idempotent=True)
        info = MediaInfo.from_response(body)
        if info is None:
            raise RetryNow(f"media lookup answered without id/url: {str(body)[:200]}")
        return info

    async def download_media(self, media_id: str) -> DownloadedMedia:
        """Fetch an inbound media file now: the URL Meta hands out expires within minutes."""
        info = await self.get_media_info(media_id)
        if self._graph_is_https and not info.url.startswith("https://"):
            raise StopAndAlert(
                f"refusing to send the access token to a non-HTTPS media URL: {info.url[:100]}"
            )
        if info.file_size is not None and info.file_size > self._max_download_bytes:
            raise PermanentFailure(f"media {media_id} has {info.file_size} bytes, above the download limit")
        content = await self._download(info.url)
        return DownloadedMedia(content, info.mime_type, _check_sha256(content, info.sha256))

    async def _download(self, url: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            async with self._http.stream("GET", url, follow_redirects=True) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise self._error_for(response, idempotent=True)
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self._max_download_bytes:
                        raise PermanentFailure("media download exceeded the size limit")
                    chunks.append(chunk)
        except httpx.TransportError as exc:
            raise RetryNow(f"media download failed: {exc!r}") from exc
        return b"".join(chunks)

    # ------------------------------------------------------------------ transport

    async def _call(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> Any:
        try:
            response = await self._http.request(method, path, **kwargs)
        except _CONNECT_PHASE as exc:
            raise NotSent(f"{method} {path}: could not connect, nothing was sent ({exc!r})") from exc
        except httpx.TransportError as exc:
            if idempotent:
                raise RetryNow(f"{method} {path}: network failure, safe to repeat ({exc!r})") from exc
            raise InDoubt(
                f"{method} {path}: network failure after the request was sent ({exc!r}); it may have been "
                "accepted: reconcile through status webhooks, do not resend"
            ) from exc
        if response.status_code >= 400 or response.status_code < 200:
            raise self._error_for(response, idempotent=idempotent)
        return _answer(method, path, idempotent, response.status_code, response.content)

    async def _post_direct(self, direct: DirectPost, payload: Mapping[str, Any], *, idempotent: bool) -> Any:
        """``POST …/messages`` through :meth:`LeanTransport.exchange`: the same request bytes (but for
        httpx's ``Accept-Encoding`` and ``User-Agent``) and the same classification as :meth:`_call`."""
        method, path = "POST", direct.path
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        try:
            raw = await direct.transport.exchange(
                direct.key, direct.head + b"%d\r\n\r\n" % len(data), data, direct.timeouts
            )
        except _CONNECT_PHASE as exc:
            raise NotSent(f"{method} {path}: could not connect, nothing was sent ({exc!r})") from exc
        except httpx.TransportError as exc:
            if idempotent:
                raise RetryNow(f"{method} {path}: network failure, safe to repeat ({exc!r})") from exc
            raise InDoubt(
                f"{method} {path}: network failure after the request was sent ({exc!r}); it may have been "
                "accepted: reconcile through status webhooks, do not resend"
            ) from exc
        status = raw.status
        if 200 <= status < 400 and not _encoded(raw):
            return _answer(method, path, idempotent, status, raw.content)
        response = httpx.Response(  # the rare path: httpx decodes and reads it as it would have
            status, headers=raw.headers, stream=httpx.ByteStream(raw.content), request=direct.request()
        )
        await response.aread()
        if response.status_code >= 400 or response.status_code < 200:
            raise self._error_for(response, idempotent=idempotent)
        return _answer(method, path, idempotent, status, response.content)

    def _error_for(self, response: httpx.Response, *, idempotent: bool) -> WhatsAppError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, Mapping):
            error = error_from_envelope(body, http_status=status, retry_after_hint=_retry_after(response))
            if error is not None:
                return error
        # No Meta envelope: a proxy or load balancer answered. The HTTP status is all there is.
        snippet = response.text[:200]
        if 400 <= status < 500 and status != 429:
            return StopAndAlert(
                f"HTTP {status} without a Graph error envelope: {snippet!r}", http_status=status
            )
        if idempotent or status == 429:
            return RetryLater(
                f"HTTP {status} without a Graph error envelope: {snippet!r}",
                retry_after=max(30.0, _retry_after(response) or 0.0),
                http_status=status,
            )
        return InDoubt(
            f"HTTP {status} without a Graph error envelope: {snippet!r}; the request may have been processed",
            http_status=status,
        )


def _answer(method: str, path: str, idempotent: bool, status: int, content: bytes) -> Any:
    """A 2xx/3xx body: JSON, or the error its Graph envelope carries (classified by the envelope's code,
    whatever the HTTP status said)."""
    try:
        body = json.loads(content)
    except ValueError:
        if idempotent:
            raise RetryNow(f"{method} {path}: answer is not JSON") from None
        raise InDoubt(f"{method} {path}: HTTP {status} with a body that is not JSON") from None
    if isinstance(body, Mapping):
        error = error_from_envelope(body, http_status=status)
        if error is not None:
            raise error
    return body


def _encoded(raw: RawResponse) -> bool:
    return any(k.lower() == b"content-encoding" for k, _ in raw.headers)


@dataclass(frozen=True, slots=True)
class DirectPost:
    """A prebuilt ``POST`` to one Graph path on a :class:`LeanTransport`: its request head up to the
    ``Content-Length`` value, built once per client instead of once per message."""

    transport: LeanTransport
    key: tuple[bytes, bytes, int]
    head: bytes
    timeouts: dict[str, Any]
    url: httpx.URL
    path: str

    @classmethod
    def build(
        cls, transport: httpx.AsyncBaseTransport | None, http: httpx.AsyncClient, path: str, token: str
    ) -> DirectPost | None:
        if not isinstance(transport, LeanTransport):
            return None  # httpx's own transport (a proxy is configured): the ordinary path
        if not token.isascii() or not token.isprintable():
            return None  # httpx refuses or encodes such a header; let it
        url = http.base_url.join(path)
        scheme = url.raw_scheme
        if scheme not in (b"http", b"https"):
            return None
        port = url.port or (443 if scheme == b"https" else 80)
        host = url.netloc  # with the port when it is not the scheme's default, as httpx sends it
        head = (
            b"POST " + url.raw_path + b" HTTP/1.1\r\nHost: " + host + b"\r\nAccept: */*\r\n"
            b"Connection: keep-alive\r\nUser-Agent: quita\r\nAuthorization: Bearer "
            + token.encode("ascii")
            + b"\r\nContent-Type: application/json\r\nContent-Length: "
        )
        timeout = http.timeout
        timeouts = {
            "connect": timeout.connect,
            "read": timeout.read,
            "write": timeout.write,
            "pool": timeout.pool,
        }
        return cls(transport, (scheme, url.raw_host, port), head, timeouts, url, path)

    def request(self) -> httpx.Request:
        return httpx.Request("POST", self.url)


def _proxy_configured() -> bool:
    """A proxy in the environment needs httpx's own transport (the lean one speaks only direct HTTP)."""
    proxies = urllib.request.getproxies()
    return any(k in proxies for k in ("http", "https", "all"))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def _media_kind(mime_type: str) -> str:
    main = mime_type.split("/", 1)[0].lower()
    if mime_type == "image/webp":
        return "sticker"
    if main in ("image", "audio", "video"):
        return main
    if "/" in mime_type:
        return "document"
    raise InvalidMessage("media.mime_type", f"{mime_type!r} is not a MIME type")


def _check_sha256(content: bytes, expected: str | None) -> bool:
    """Compare with Meta's hash, given as hex or base64; unreadable hashes are not judged."""
    if not expected:
        return False
    digest = hashlib.sha256(content).digest()
    if re.fullmatch(r"[0-9a-fA-F]{64}", expected):
        received = bytes.fromhex(expected)
    else:
        try:
            received = base64.b64decode(expected, validate=True)
        except (binascii.Error, ValueError):
            return False
        if len(received) != len(digest):
            return False
    if received != digest:
        raise MediaChecksumMismatch("downloaded media does not match the sha256 Meta reported")
    return True

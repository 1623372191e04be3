"""Reading Meta's success answers: the wamid and the canonical ``wa_id`` we must store.

For Brazilian numbers ``contacts[0].wa_id`` may differ from what we sent (the ninth digit), so the
caller stores it on the contact. A 200 without a wamid is treated as "in doubt", not as success.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from quita.whatsapp.domain.errors import InDoubt


def _first(value: object) -> Mapping[str, Any] | None:
    if isinstance(value, list) and value and isinstance(value[0], Mapping):
        return value[0]
    return None


def _str(value: object) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


@dataclass(frozen=True, slots=True)
class SendResult:
    wamid: str
    wa_id: str | None  # canonical WhatsApp id of the recipient; store it on the contact
    input: str | None  # what we sent as ``to``
    user_id: str | None  # BSUID when Meta returns one
    message_status: str | None  # templates only: accepted | held_for_quality_assessment | paused

    @classmethod
    def from_response(cls, body: object) -> SendResult:
        if not isinstance(body, Mapping):
            raise InDoubt("send answered 200 with a body that is not a JSON object")
        message = _first(body.get("messages"))
        wamid = _str(message.get("id")) if message else None
        if wamid is None:
            raise InDoubt("send answered 200 without messages[0].id; the message may or may not be queued")
        contact = _first(body.get("contacts")) or {}
        return cls(
            wamid=wamid,
            wa_id=_str(contact.get("wa_id")),
            input=_str(contact.get("input")),
            user_id=_str(contact.get("user_id")),
            message_status=_str(message.get("message_status")) if message else None,
        )


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """Answer of ``GET /{media-id}``; the ``url`` expires within minutes, so never store it."""

    id: str
    url: str
    mime_type: str | None
    sha256: str | None
    file_size: int | None

    @classmethod
    def from_response(cls, body: object) -> MediaInfo | None:
        if not isinstance(body, Mapping):
            return None
        media_id, url = _str(body.get("id")), _str(body.get("url"))
        if media_id is None or url is None:
            return None
        size = body.get("file_size")
        if isinstance(size, str) and size.isdigit():
            size = int(size)
        return cls(
            id=media_id,
            url=url,
            mime_type=_str(body.get("mime_type")),
            sha256=_str(body.get("sha256")),
            file_size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        )

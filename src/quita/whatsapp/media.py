"""Inbound media (a receipt photo, a signed PDF…): fetched as soon as the message is processed.

Meta's download URL expires within minutes and the media id within 30 days, so waiting for someone to
ask is not an option: processing an inbound media message enqueues ``whatsapp.download_media`` after
its commit. The job asks the Cloud API (through the channel's client) for the file, checks Meta's
SHA-256, writes it under ``<data_dir>/media/<tenant>/<sha256[:2]>/<sha256>`` (content-addressed: the
same file twice is stored once), records an :class:`InboundMedia` row linked to the message and the
conversation, and appends an ``event`` entry to the conversation record with the hash, size and type,
so the file is covered by the evidence chain. The bot's receipt review reads :func:`for_message`.

Retries: a transient failure is tried again within the job (~15 s); past that, or when the process stopped
before the job ran, the next start queues every download still missing (:func:`queue_missing`); permanent
failures (too big, not found) are recorded as a row with ``error`` and no file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from quita.kit.db import Database, utcnow
from quita.kit.jobs import enqueue_after_commit, job
from quita.whatsapp import service
from quita.whatsapp.client import WhatsAppClient
from quita.whatsapp.domain.errors import InvalidMessage, PermanentFailure, StopAndAlert, WhatsAppError
from quita.whatsapp.models import Conversation, InboundMedia, Message, WhatsAppChannel

log = logging.getLogger("quita.whatsapp.media")

DOWNLOAD_MEDIA = "whatsapp.download_media"
RESUME_DOWNLOADS = "whatsapp.resume_media_downloads"
#: Meta keeps a media id for 30 days; a week covers any outage worth catching up on.
RESUME_WITHIN = dt.timedelta(days=7)
RETRY_DELAYS_S = (1.0, 2.0, 4.0, 8.0)  # a transient failure (Meta's 5xx, a timeout) is tried again within ~15 s
MEDIA_KINDS = frozenset({"document", "image", "audio", "video", "sticker"})


def media_of(body: dict[str, Any]) -> dict[str, Any] | None:
    """The ``media`` part of a stored inbound message body, when it has a media id."""
    media = body.get("media")
    return media if isinstance(media, dict) and media.get("id") else None


def for_message(session: Session, tenant_id: uuid.UUID, message_id: uuid.UUID) -> InboundMedia | None:
    return session.scalar(select(InboundMedia).where(
        InboundMedia.tenant_id == tenant_id, InboundMedia.message_id == message_id))


def absolute_path(media: InboundMedia, data_dir: Path | None = None) -> Path | None:
    if media.path is None:
        return None
    return _data_dir(data_dir) / media.path


def _data_dir(data_dir: Path | None) -> Path:
    if data_dir is not None:
        return data_dir
    from quita.config import get_settings

    return get_settings().data_dir


@job(DOWNLOAD_MEDIA)
def download_media_job(database: Database, payload: dict[str, Any]) -> None:
    download(database, uuid.UUID(str(payload["message_id"])))


@job(RESUME_DOWNLOADS)
def resume_downloads_job(database: Database, _payload: dict[str, Any]) -> None:
    queue_missing(database)


def queue_missing(database: Database, *, now: dt.datetime | None = None) -> int:
    """Queues the download of every inbound media message of the last ``RESUME_WITHIN`` that has no
    :class:`InboundMedia` row: its job was lost with a stopped process, or failed past its retries
    (:func:`quita.whatsapp.service.recent_inbound`). Returns how many were queued."""
    since = (now or utcnow()) - RESUME_WITHIN
    stored = exists(select(InboundMedia.id).where(InboundMedia.message_id == Message.id))
    with database.transaction() as session:
        missing = session.scalars(
            service.recent_inbound(since, Message.id).where(Message.kind.in_(MEDIA_KINDS), ~stored)
        ).all()
        for message_id in missing:
            enqueue_after_commit(session, DOWNLOAD_MEDIA, {"message_id": str(message_id)})
    return len(missing)


def download(database: Database, message_id: uuid.UUID, *, data_dir: Path | None = None) -> InboundMedia | None:
    """Fetches and stores the file of one inbound message; idempotent (returns the existing row)."""
    with database.transaction() as session:
        done = session.scalar(select(InboundMedia).where(InboundMedia.message_id == message_id))
        if done is not None:
            return done
        message = session.get(Message, message_id)
        if message is None or message.direction != "inbound":
            return None
        media = media_of(message.body)
        if media is None:
            return None
        channel = session.get_one(WhatsAppChannel, message.channel_id)
        tenant_id, conversation_id, kind = message.tenant_id, message.conversation_id, message.kind
        wamid = message.wamid
    media_id = str(media["id"])
    row: dict[str, Any] = {
        "id": uuid.uuid4(), "created_at": utcnow(), "tenant_id": tenant_id, "message_id": message_id,
        "conversation_id": conversation_id, "media_id": media_id[:128], "kind": kind[:30],
        "filename": (str(media["filename"])[:255] if media.get("filename") else None),
    }
    for attempt in range(1, len(RETRY_DELAYS_S) + 2):
        try:
            content, mime_type = service.run_with_client(channel, lambda client: _fetch(client, media_id))
            break
        except (PermanentFailure, StopAndAlert, InvalidMessage) as exc:  # retrying would not help
            log.warning("inbound media %s of message %s cannot be downloaded: %s", media_id, message_id, exc)
            row.update(mime_type=_str(media.get("mime_type"), 100), error=str(exc)[:500])
            return _record(database, row, None, wamid)
        except WhatsAppError as exc:  # a download is a read: repeating it is always safe
            if attempt > len(RETRY_DELAYS_S):
                raise  # left for the next start's catch-up (queue_missing)
            delay = RETRY_DELAYS_S[attempt - 1]
            log.info("inbound media %s: %s; again in %.0f s", media_id, exc, delay)
            time.sleep(max(delay, min(getattr(exc, "retry_after", 0.0), RETRY_DELAYS_S[-1])))
    sha256 = hashlib.sha256(content).hexdigest()
    relative = Path("media") / str(tenant_id) / sha256[:2] / sha256
    _write(_data_dir(data_dir) / relative, content)
    row.update(mime_type=_str(mime_type or media.get("mime_type"), 100), size=len(content), sha256=sha256,
               path=relative.as_posix())
    return _record(database, row, sha256, wamid)


async def _fetch(client: WhatsAppClient, media_id: str) -> tuple[bytes, str | None]:
    downloaded = await client.download_media(media_id)
    return downloaded.content, downloaded.mime_type


def _str(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if value else None


def _write(path: Path, content: bytes) -> None:
    """Atomic and durable: a crash leaves either no file or the whole file, never a torn one."""
    if path.exists() and path.stat().st_size == len(content):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    with open(partial, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def _record(database: Database, row: dict[str, Any], sha256: str | None, wamid: str | None) -> InboundMedia | None:
    with database.transaction() as session:
        statement = service._insert_ignore(session, InboundMedia, row, ("message_id",)).returning(InboundMedia.id)
        if session.execute(statement).first() is not None:  # first to store it: record it in the chain
            conversation = session.get_one(Conversation, row["conversation_id"])
            content = {key: row.get(key) for key in ("media_id", "kind", "filename", "mime_type", "size", "sha256",
                                                     "path", "error") if row.get(key) is not None}
            entry = service.append_entry(
                session, conversation, direction="event", actor="system",
                kind="media_stored" if sha256 else "media_unavailable", content=content, occurred_at=utcnow(),
                message_id=row["message_id"], wamid=wamid,
            )
            stored = session.get_one(InboundMedia, row["id"])
            stored.entry_id = entry.id
        return session.scalar(select(InboundMedia).where(InboundMedia.message_id == row["message_id"]))

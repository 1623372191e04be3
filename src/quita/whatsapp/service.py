"""WhatsApp use cases: channels, the conversation record, messages and their statuses.

Services flush, the caller commits. Every query filters on the tenant, except the two lookups the
webhook router needs before it knows the tenant (by ``phone_number_id`` / ``waba_id``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import threading
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from quita.audit import service as audit
from quita.br.phones import InvalidPhone, match_key
from quita.kit import secrets
from quita.kit.db import utcnow
from quita.kit.db.bulk import insert_ignoring_duplicates
from quita.kit.errors import Conflict, InvalidInput, NotFound
from quita.kit.jsonable import jsonable
from quita.portfolio.models import ContactKind, ContactPoint, ContactStatus
from quita.whatsapp.client import WhatsAppClient
from quita.whatsapp.domain.chain import GENESIS, canonical_time, content_hash, link_hash, plain_content_hash
from quita.whatsapp.domain.status import RANK, next_status
from quita.whatsapp.models import (
    DEFAULT_API_VERSION,
    DEFAULT_GRAPH_URL,
    Conversation,
    ConversationEntry,
    Message,
    StatusEvent,
    WhatsAppChannel,
)

NOT_ON_WHATSAPP = 131026
T = TypeVar("T")

# --------------------------------------------------------------------------- channels


def create_channel(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    phone_number_id: str,
    waba_id: str,
    access_token: str,
    app_secret: str,
    verify_token: str,
    actor: str,
    name: str | None = None,
    display_phone_number: str | None = None,
    graph_url: str = DEFAULT_GRAPH_URL,
    api_version: str = DEFAULT_API_VERSION,
    throughput_mps: int = 80,
    messaging_tier_limit: int | None = 250,
) -> WhatsAppChannel:
    for label, value in (("phone-number-id", phone_number_id), ("waba-id", waba_id)):
        if not value.isdigit():
            raise InvalidInput(f"{label} deve conter só dígitos (o id que a Meta atribuiu)", code="invalid_id")
    for label, value in (("access-token", access_token), ("app-secret", app_secret), ("verify-token", verify_token)):
        if not value.strip():
            raise InvalidInput(f"{label} é obrigatório", code="missing_secret")
    if not graph_url.startswith(("https://", "http://")):
        raise InvalidInput("graph-url deve começar com https:// (ou http:// para o simulador)", code="invalid_url")
    if not 1 <= throughput_mps <= 1000:
        raise InvalidInput("throughput deve estar entre 1 e 1000 mensagens/s", code="invalid_throughput")
    if session.scalar(select(WhatsAppChannel.id).where(WhatsAppChannel.phone_number_id == phone_number_id)):
        raise Conflict(f"o número {phone_number_id} já está configurado", code="channel_exists")
    channel = WhatsAppChannel(
        tenant_id=tenant_id, name=name or f"WhatsApp {display_phone_number or phone_number_id}",
        phone_number_id=phone_number_id, waba_id=waba_id, display_phone_number=display_phone_number,
        graph_url=graph_url.rstrip("/"), api_version=api_version,
        access_token_enc=secrets.encrypt(access_token), app_secret_enc=secrets.encrypt(app_secret),
        verify_token_enc=secrets.encrypt(verify_token), throughput_mps=throughput_mps,
        messaging_tier_limit=messaging_tier_limit,
    )
    session.add(channel)
    session.flush()
    audit.record(
        session, tenant_id=tenant_id, actor=actor, action="whatsapp.channel_added", entity_type="whatsapp_channel",
        entity_id=channel.id,
        after={"phone_number_id": phone_number_id, "waba_id": waba_id, "graph_url": channel.graph_url},
    )
    return channel


def list_channels(session: Session, tenant_id: uuid.UUID | None) -> Sequence[WhatsAppChannel]:
    """``tenant_id=None`` lists every tenant's numbers (operators' CLI only)."""
    query = select(WhatsAppChannel).order_by(WhatsAppChannel.created_at)
    if tenant_id is not None:
        query = query.where(WhatsAppChannel.tenant_id == tenant_id)
    return session.scalars(query).all()


def get_channel(session: Session, tenant_id: uuid.UUID, channel_id: uuid.UUID) -> WhatsAppChannel:
    channel = session.scalar(
        select(WhatsAppChannel).where(WhatsAppChannel.tenant_id == tenant_id, WhatsAppChannel.id == channel_id)
    )
    if channel is None:
        raise NotFound("canal WhatsApp não encontrado", code="channel_not_found")
    return channel


def default_channel(session: Session, tenant_id: uuid.UUID) -> WhatsAppChannel:
    channel = session.scalar(
        select(WhatsAppChannel).where(WhatsAppChannel.tenant_id == tenant_id).order_by(WhatsAppChannel.created_at)
    )
    if channel is None:
        raise NotFound("o tenant não tem canal WhatsApp configurado", code="channel_not_found")
    return channel


def channel_by_phone_number_id(session: Session, phone_number_id: str) -> WhatsAppChannel | None:
    """Webhook routing: the number decides the tenant."""
    return session.scalar(select(WhatsAppChannel).where(WhatsAppChannel.phone_number_id == phone_number_id))


def channels_by_waba(session: Session, waba_id: str) -> Sequence[WhatsAppChannel]:
    return session.scalars(select(WhatsAppChannel).where(WhatsAppChannel.waba_id == waba_id)).all()


def access_token(channel: WhatsAppChannel) -> str:
    return secrets.decrypt(channel.access_token_enc)


def app_secret(channel: WhatsAppChannel) -> str:
    return secrets.decrypt(channel.app_secret_enc)


def verify_token(channel: WhatsAppChannel) -> str:
    return secrets.decrypt(channel.verify_token_enc)


def client_for(channel: WhatsAppChannel) -> WhatsAppClient:
    """An async Cloud API client for this number (use ``async with``)."""
    return WhatsAppClient(
        phone_number_id=channel.phone_number_id, access_token=access_token(channel),
        graph_url=channel.graph_url, api_version=channel.api_version,
    )


def run_with_client(channel: WhatsAppChannel, work: Callable[[WhatsAppClient], Awaitable[T]]) -> T:
    """Runs ``work(client)`` from synchronous code (a job thread) with this number's shared client.

    A job that sends one or two replies used to build a client, a connection and an event loop each time
    (``asyncio.run``): ~10 ms of CPU and a TCP handshake per reply. Here one background event loop per
    process keeps one client per number (keyed by everything that configures it, so a changed token or
    URL gets a new client) and its connection pool across jobs; the calling thread waits for the result.
    """
    return _SHARED.run(channel, work)


class _SharedClients:
    """The process's sending loop (a daemon thread) and its clients; rebuilt after a fork."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: dict[tuple[str, ...], WhatsAppClient] = {}

    def run(self, channel: WhatsAppChannel, work: Callable[[WhatsAppClient], Awaitable[T]]) -> T:
        key = (str(channel.id), channel.phone_number_id, channel.graph_url, channel.api_version,
               channel.access_token_enc)  # fmt: skip
        with self._lock:
            loop = self._running_loop()
            client = self._clients.get(key)
            if client is None:
                stale = [k for k in self._clients if k[0] == key[0]]
                for old in stale:  # reconfigured number: close the old client on the loop
                    asyncio.run_coroutine_threadsafe(self._clients.pop(old).aclose(), loop)
                client = self._clients[key] = client_for(channel)

        async def call() -> T:
            return await work(client)

        return asyncio.run_coroutine_threadsafe(call(), loop).result()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or self._pid != os.getpid() or not self._loop.is_running():
            loop = asyncio.new_event_loop()
            started = threading.Event()
            loop.call_soon(started.set)
            threading.Thread(target=loop.run_forever, name="quita-wa-send", daemon=True).start()
            started.wait()
            self._loop, self._pid, self._clients = loop, os.getpid(), {}
        return self._loop


_SHARED = _SharedClients()


# --------------------------------------------------------------------------- contacts


@dataclass(frozen=True, slots=True)
class MatchedContact:
    contact_id: uuid.UUID
    debtor_id: uuid.UUID


def _key(number: str | None) -> str | None:
    if not number or not number.startswith("55"):
        return None
    try:
        return match_key(number)
    except InvalidPhone:
        return None


def match_contact(
    session: Session, tenant_id: uuid.UUID, *, wa_id: str | None, user_id: str | None
) -> MatchedContact | None:
    """Brazilian ninth-digit-tolerant key first, then the exact international number, then the BSUID."""
    candidates: list[ContactPoint] = []
    key = _key(wa_id)
    base = select(ContactPoint).where(ContactPoint.tenant_id == tenant_id, ContactPoint.kind == ContactKind.PHONE)
    if key is not None:
        candidates = list(session.scalars(base.where(ContactPoint.match_key == key)))
    elif wa_id:
        candidates = list(session.scalars(base.where(ContactPoint.value == f"+{wa_id}")))
    if not candidates and user_id:
        candidates = list(session.scalars(base.where(ContactPoint.wa_user_id == user_id)))
    if not candidates:
        return None
    # A number shared by several debtors: prefer the one WhatsApp already confirmed, then the oldest.
    candidates.sort(key=lambda c: (c.wa_id != wa_id, c.wa_user_id != user_id, c.created_at, c.id))
    chosen = candidates[0]
    if wa_id and chosen.wa_id != wa_id:
        chosen.wa_id = wa_id[:20]
    if user_id and chosen.wa_user_id != user_id:
        chosen.wa_user_id = user_id[:64]
    return MatchedContact(chosen.id, chosen.debtor_id)


def _contact(session: Session, tenant_id: uuid.UUID, contact_id: uuid.UUID | None) -> ContactPoint | None:
    if contact_id is None:
        return None
    return session.scalar(
        select(ContactPoint).where(ContactPoint.tenant_id == tenant_id, ContactPoint.id == contact_id)
    )


# --------------------------------------------------------------------------- conversation record


def _peer(contact_id: uuid.UUID | None, wa_id: str | None, user_id: str | None) -> str:
    if contact_id is not None:
        return f"contact:{contact_id}"
    if wa_id:
        return f"wa:{wa_id}"
    if user_id:
        return f"user:{user_id}"
    raise InvalidInput("conversa sem contato, número nem BSUID", code="conversation_without_peer")


def conversation_for(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    channel_id: uuid.UUID,
    contact_id: uuid.UUID | None,
    debtor_id: uuid.UUID | None,
    wa_id: str | None = None,
    user_id: str | None = None,
) -> Conversation:
    """The chain for this number × person, created on first use, locked for the rest of the transaction."""
    peer = _peer(contact_id, wa_id, user_id)
    query = select(Conversation).where(
        Conversation.tenant_id == tenant_id, Conversation.channel_id == channel_id, Conversation.peer == peer
    )
    conversation = session.scalar(query.with_for_update())
    if conversation is None:
        values = {
            "id": uuid.uuid4(), "tenant_id": tenant_id, "channel_id": channel_id, "peer": peer,
            "debtor_id": debtor_id, "contact_id": contact_id, "wa_id": wa_id, "wa_user_id": user_id,
            "entry_count": 0, "created_at": utcnow(), "updated_at": utcnow(),
        }
        session.execute(_insert_ignore(session, Conversation, values, ("tenant_id", "channel_id", "peer")))
        conversation = session.scalars(query.with_for_update().execution_options(populate_existing=True)).one()
    if wa_id and conversation.wa_id != wa_id:
        conversation.wa_id = wa_id
    if user_id and conversation.wa_user_id != user_id:
        conversation.wa_user_id = user_id
    return conversation


def entry_fields(
    *, tenant_id: uuid.UUID, conversation_id: uuid.UUID, seq: int, direction: str, actor: str, kind: str,
    content: Mapping[str, Any], message_id: uuid.UUID | None, wamid: str | None, occurred_at: dt.datetime,
) -> dict[str, Any]:
    """The canonical content of an entry: what its ``content_hash`` covers."""
    return {
        "tenant_id": tenant_id, "conversation_id": conversation_id, "seq": seq, "direction": direction,
        "actor": actor, "kind": kind, "content": content, "message_id": message_id, "wamid": wamid,
        "occurred_at": occurred_at,
    }


def append_entry(
    session: Session,
    conversation: Conversation,
    *,
    direction: str,
    actor: str,
    kind: str,
    content: Mapping[str, Any],
    occurred_at: dt.datetime,
    message_id: uuid.UUID | None = None,
    wamid: str | None = None,
) -> ConversationEntry:
    """Adds one link at the head of the chain.

    The head is read by the same statement that advances it (``UPDATE … RETURNING``), which takes the
    conversation's write lock on both databases before reading: two writers appending to one
    conversation at once (a webhook and a send, say) queue up instead of forking the chain.
    """
    clean = jsonable(content)
    # Time is hashed at microsecond precision, which both databases keep.
    occurred_at = occurred_at.astimezone(dt.UTC)
    head = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(entry_count=Conversation.entry_count + 1)
        .returning(Conversation.entry_count, Conversation.head_hash)
        .execution_options(synchronize_session=False)
    ).one()
    seq, prev = head.entry_count, head.head_hash or GENESIS
    fields = entry_fields(
        tenant_id=conversation.tenant_id, conversation_id=conversation.id, seq=seq, direction=direction,
        actor=actor, kind=kind, content=clean, message_id=message_id, wamid=wamid, occurred_at=occurred_at,
    )
    own = content_hash(fields)
    entry = ConversationEntry(
        tenant_id=conversation.tenant_id, conversation_id=conversation.id, seq=seq, direction=direction,
        actor=actor, kind=kind, content=clean, message_id=message_id, wamid=wamid, occurred_at=occurred_at,
        prev_hash=prev, content_hash=own, entry_hash=link_hash(prev, own),
    )
    session.add(entry)
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(head_hash=entry.entry_hash)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(conversation, "entry_count", seq)
    set_committed_value(conversation, "head_hash", entry.entry_hash)
    session.flush()
    return entry


# --------------------------------------------------------------------------- messages and statuses


def _insert_ignore(session: Session, model: Any, values: Mapping[str, Any], keys: Sequence[str]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING (:func:`quita.kit.db.bulk.insert_ignoring_duplicates`) with ``values``."""
    return insert_ignoring_duplicates(session, model.__table__, keys).values(**values)


def record_outbound(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    channel_id: uuid.UUID,
    contact_id: uuid.UUID | None,
    debtor_id: uuid.UUID | None,
    message_id: uuid.UUID,
    wamid: str | None,
    kind: str,
    body: dict[str, Any],
    actor: str,
    template_name: str | None = None,
    template_params: list[Any] | dict[str, Any] | None = None,
    wa_id: str | None = None,
) -> Message:
    """Stores a sent (or in-doubt: ``wamid=None``) message, chains it, and applies parked statuses."""
    contact = _contact(session, tenant_id, contact_id)
    if contact_id is not None and contact is None:
        raise NotFound("contato não encontrado", code="contact_not_found")
    if contact is not None and wa_id and contact.wa_id != wa_id:
        contact.wa_id = wa_id[:20]
    if contact is not None and debtor_id is None:
        debtor_id = contact.debtor_id
    conversation = conversation_for(
        session, tenant_id=tenant_id, channel_id=channel_id, contact_id=contact_id, debtor_id=debtor_id,
        wa_id=wa_id or (body.get("to") if isinstance(body.get("to"), str) else None),
    )
    now = utcnow()
    message = Message(
        id=message_id, tenant_id=tenant_id, channel_id=channel_id, conversation_id=conversation.id,
        contact_id=contact_id, debtor_id=debtor_id, direction="outbound", wamid=wamid, kind=kind,
        body=jsonable(body), template_name=template_name,
        template_params=jsonable(template_params) if template_params is not None else None,
        actor=actor, status="accepted" if wamid else None, status_at=now if wamid else None, occurred_at=now,
    )
    session.add(message)
    content: dict[str, Any] = {"type": kind}
    if template_name is not None:
        content["template"] = {"name": template_name, "parameters": template_params}
    else:
        content["body"] = body
    append_entry(
        session, conversation, direction="outbound", actor=actor, kind=kind, content=content, occurred_at=now,
        message_id=message_id, wamid=wamid,
    )
    _apply_parked(session, message)
    return message


@dataclass(frozen=True, slots=True)
class OutboundRecord:
    """One accepted send for :func:`record_outbound_batch` (the arguments of :func:`record_outbound`)."""

    tenant_id: uuid.UUID
    channel_id: uuid.UUID
    contact_id: uuid.UUID | None
    debtor_id: uuid.UUID | None
    message_id: uuid.UUID
    wamid: str | None
    kind: str
    body: dict[str, Any]
    actor: str
    template_name: str | None = None
    template_params: list[Any] | dict[str, Any] | None = None
    wa_id: str | None = None


def record_outbound_batch(session: Session, records: Sequence[OutboundRecord]) -> None:
    """:func:`record_outbound` for many sends at once (the dispatcher writes hundreds per transaction).

    ``body`` and ``template_params`` must already be plain JSON (str, int, list, dict): unlike
    :func:`record_outbound` they are stored as given, without a :func:`jsonable` pass.

    The same rows and the same chain, with a handful of statements instead of ~8 ORM round trips per
    message: one read of the contacts, one insert of the missing conversations, per conversation one
    ``UPDATE … RETURNING`` that reserves ``k`` sequence numbers (taking its write lock first, like
    :func:`append_entry`), then every message and entry in one driver-level insert each
    (:func:`quita.kit.db.bulk.bulk_insert`: ``executemany`` on SQLite, ``COPY`` on PostgreSQL, in the
    session's transaction). Parked statuses are looked up once for the whole batch.
    """
    import json

    from quita.kit.db.bulk import bulk_insert

    if not records:
        return
    contact_ids = {r.contact_id for r in records if r.contact_id is not None}
    contacts = {
        c.id: c
        for c in session.execute(
            select(ContactPoint.id, ContactPoint.tenant_id, ContactPoint.debtor_id, ContactPoint.wa_id).where(
                ContactPoint.id.in_(contact_ids)
            )
        )
    } if contact_ids else {}
    wa_updates: dict[uuid.UUID, str] = {}
    rows: list[tuple[OutboundRecord, uuid.UUID | None, str, str | None]] = []
    for r in records:
        contact = contacts.get(r.contact_id) if r.contact_id is not None else None
        if r.contact_id is not None and (contact is None or contact.tenant_id != r.tenant_id):
            raise NotFound("contato não encontrado", code="contact_not_found")
        if contact is not None and r.wa_id and contact.wa_id != r.wa_id:
            wa_updates[contact.id] = r.wa_id[:20]
        debtor_id = r.debtor_id if r.debtor_id is not None or contact is None else contact.debtor_id
        wa_id = r.wa_id or (r.body.get("to") if isinstance(r.body.get("to"), str) else None)
        rows.append((r, debtor_id, _peer(r.contact_id, wa_id, None), wa_id))
    for contact_id, wa_id in wa_updates.items():
        session.execute(
            update(ContactPoint).where(ContactPoint.id == contact_id).values(wa_id=wa_id)
            .execution_options(synchronize_session=False)
        )
    # conversations: one per (tenant, channel, peer), created when missing
    groups: dict[tuple[uuid.UUID, uuid.UUID, str], list[tuple[OutboundRecord, uuid.UUID | None, str | None]]] = {}
    for r, debtor_id, peer, wa_id in rows:
        groups.setdefault((r.tenant_id, r.channel_id, peer), []).append((r, debtor_id, wa_id))
    conversation_ids = _conversation_ids(session, groups)
    now = utcnow()
    ids = random.Random()  # entry ids without a getrandom() syscall per row (it releases the GIL)
    messages: list[tuple[Any, ...]] = []
    entries: list[tuple[Any, ...]] = []
    dumps = json.dumps  # what the JSON columns' bind processor does (None included: JSON null, as before)
    heads = _reserve_heads(session, {conversation_ids[key]: len(items) for key, items in groups.items()}, now)
    new_heads: list[dict[str, Any]] = []
    occurred_at = now.astimezone(dt.UTC)
    for key, items in groups.items():
        conversation_id = conversation_ids[key]
        head = heads[conversation_id]
        seq, prev = head.entry_count - len(items), head.head_hash or GENESIS
        # the same fields in canonical form for the hash, built from plain values (see plain_content_hash)
        plain: dict[str, Any] = {"conversation_id": str(conversation_id), "direction": "outbound",
                                 "occurred_at": canonical_time(occurred_at), "tenant_id": str(key[0])}
        for r, debtor_id, _wa_id in items:
            seq += 1
            messages.append((
                r.message_id, r.tenant_id, r.channel_id, conversation_id, r.contact_id, debtor_id, r.wamid,
                r.kind, dumps(r.body), r.template_name, dumps(r.template_params), r.actor,
                "accepted" if r.wamid else None, now if r.wamid else None,
            ))
            content: dict[str, Any] = {"type": r.kind}
            params = r.template_params
            if r.template_name is not None:
                content["template"] = {"name": r.template_name, "parameters": params}
            else:
                content["body"] = r.body
            if r.template_name is not None and type(params) is list and all(type(p) is str for p in params):
                plain.update(seq=seq, actor=r.actor, kind=r.kind, content=content,
                             message_id=str(r.message_id), wamid=r.wamid)
                own = plain_content_hash(plain)
            else:
                own = content_hash(entry_fields(
                    tenant_id=r.tenant_id, conversation_id=conversation_id, seq=seq, direction="outbound",
                    actor=r.actor, kind=r.kind, content=content, message_id=r.message_id, wamid=r.wamid,
                    occurred_at=occurred_at,
                ))
            entry_hash = link_hash(prev, own)
            entries.append((
                uuid.UUID(int=ids.getrandbits(128), version=4), r.tenant_id, conversation_id, seq, r.actor,
                r.kind, dumps(content), r.message_id, r.wamid, prev, own, entry_hash,
            ))
            prev = entry_hash
        new_heads.append({"b_id": conversation_id, "b_head": prev, "b_wa": items[-1][2] or head.wa_id})
    table: Any = Conversation.__table__
    session.execute(
        update(table).where(table.c.id == bindparam("b_id"))
        .values(head_hash=bindparam("b_head"), wa_id=bindparam("b_wa")),
        new_heads,
    )
    # Driver-level inserts in the session's transaction (COPY on PostgreSQL): each column's bind processor
    # still runs, without SQLAlchemy's per-row parameter building, the larger cost of a batch.
    connection = session.connection()
    message_table: Any = Message.__table__
    entry_table: Any = ConversationEntry.__table__
    constants = {"direction": "outbound", "occurred_at": occurred_at, "created_at": now}
    bulk_insert(connection, message_table, _MESSAGE_COLUMNS, messages, constants, raw=("body", "template_params"))
    bulk_insert(connection, entry_table, _ENTRY_COLUMNS, entries, constants, raw=("content",))
    _apply_parked_batch(session, records)


_MESSAGE_COLUMNS = (
    "id", "tenant_id", "channel_id", "conversation_id", "contact_id", "debtor_id", "wamid", "kind", "body",
    "template_name", "template_params", "actor", "status", "status_at",
)
_ENTRY_COLUMNS = (
    "id", "tenant_id", "conversation_id", "seq", "actor", "kind", "content", "message_id", "wamid",
    "prev_hash", "content_hash", "entry_hash",
)


def _reserve_heads(session: Session, counts: Mapping[uuid.UUID, int], now: dt.datetime) -> dict[uuid.UUID, Any]:
    """Advances every conversation's ``entry_count`` by its number of new entries and returns the heads, with
    one ``UPDATE … RETURNING`` per distinct count (usually one). On PostgreSQL the rows are first locked in
    id order, so two batches touching the same conversations queue instead of deadlocking."""
    ids = sorted(counts)
    if session.get_bind().dialect.name == "postgresql":
        for i in range(0, len(ids), 500):
            session.execute(
                select(Conversation.id).where(Conversation.id.in_(ids[i : i + 500]))
                .order_by(Conversation.id).with_for_update()
            ).all()
    by_count: dict[int, list[uuid.UUID]] = {}
    for conversation_id in ids:
        by_count.setdefault(counts[conversation_id], []).append(conversation_id)
    heads: dict[uuid.UUID, Any] = {}
    for k, members in by_count.items():
        for i in range(0, len(members), 500):
            for row in session.execute(
                update(Conversation)
                .where(Conversation.id.in_(members[i : i + 500]))
                .values(entry_count=Conversation.entry_count + k, updated_at=now)
                .returning(Conversation.id, Conversation.entry_count, Conversation.head_hash, Conversation.wa_id)
                .execution_options(synchronize_session=False)
            ):
                heads[row.id] = row
    return heads


def _conversation_ids(
    session: Session, groups: Mapping[tuple[uuid.UUID, uuid.UUID, str], Sequence[tuple[Any, Any, Any]]]
) -> dict[tuple[uuid.UUID, uuid.UUID, str], uuid.UUID]:
    found: dict[tuple[uuid.UUID, uuid.UUID, str], uuid.UUID] = {}
    by_scope: dict[tuple[uuid.UUID, uuid.UUID], list[str]] = {}
    for tenant_id, channel_id, peer in groups:
        by_scope.setdefault((tenant_id, channel_id), []).append(peer)

    def read() -> None:
        for (tenant_id, channel_id), peers in by_scope.items():
            for i in range(0, len(peers), 500):
                for cid, peer in session.execute(
                    select(Conversation.id, Conversation.peer).where(
                        Conversation.tenant_id == tenant_id, Conversation.channel_id == channel_id,
                        Conversation.peer.in_(peers[i : i + 500]),
                    )
                ):
                    found[(tenant_id, channel_id, peer)] = cid

    read()
    missing = [key for key in groups if key not in found]
    rows = []
    for key in missing:
        tenant_id, channel_id, peer = key
        r, debtor_id, wa_id = groups[key][0]
        rows.append({
            "id": uuid.uuid4(), "tenant_id": tenant_id, "channel_id": channel_id, "peer": peer,
            "debtor_id": debtor_id, "contact_id": r.contact_id, "wa_id": wa_id, "wa_user_id": None,
            "entry_count": 0, "created_at": utcnow(), "updated_at": utcnow(),
        })
    keys = ["tenant_id", "channel_id", "peer"]
    for i in range(0, len(rows), 200):  # INSERT … ON CONFLICT DO NOTHING, many rows per statement
        statement: Any
        if session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            statement = pg_insert(Conversation).values(rows[i : i + 200]).on_conflict_do_nothing(index_elements=keys)
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            statement = sqlite_insert(Conversation).values(rows[i : i + 200]).on_conflict_do_nothing(index_elements=keys)
        session.execute(statement)
    if missing:
        read()
    return found


def _apply_parked_batch(session: Session, records: Sequence[OutboundRecord]) -> None:
    """Statuses that arrived before their message (rare): applied like :func:`record_outbound` does."""
    callbacks = [str(r.message_id) for r in records]
    wamids = [r.wamid for r in records if r.wamid]
    hits: set[uuid.UUID] = set()
    by_callback = {str(r.message_id): r.message_id for r in records}
    by_wamid = {r.wamid: r.message_id for r in records if r.wamid}
    for i in range(0, len(callbacks), 500):
        part_c, part_w = callbacks[i : i + 500], wamids[i : i + 500]
        conditions = [StatusEvent.callback_data.in_(part_c)]
        if part_w:
            conditions.append(StatusEvent.wamid.in_(part_w))
        for callback_data, wamid in session.execute(
            select(StatusEvent.callback_data, StatusEvent.wamid).where(or_(*conditions))
        ):
            if callback_data in by_callback:
                hits.add(by_callback[callback_data])
            if wamid in by_wamid:
                hits.add(by_wamid[wamid])
    for message_id in hits:
        message = session.get(Message, message_id)
        if message is not None:
            _apply_parked(session, message)


def _apply_parked(session: Session, message: Message) -> None:
    conditions = [StatusEvent.callback_data == str(message.id)]
    if message.wamid:
        conditions.append(StatusEvent.wamid == message.wamid)
    parked = session.scalars(select(StatusEvent).where(or_(*conditions))).all()
    for event in sorted(parked, key=lambda e: (e.occurred_at or utcnow(), e.created_at)):
        if event.tenant_id is not None and event.tenant_id != message.tenant_id:
            continue
        _apply_status(session, message, event)


class StatusFacts(Protocol):
    """What applying a status reads: a stored :class:`StatusEvent` or a :class:`StatusItem` just stored."""

    @property
    def wamid(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def occurred_at(self) -> dt.datetime | None: ...
    @property
    def error_codes(self) -> list[int] | None: ...
    @property
    def pricing(self) -> dict[str, Any] | None: ...


def _apply_status(session: Session, message: Message, event: StatusFacts) -> None:
    if message.wamid is None:
        message.wamid = event.wamid
    new = next_status(message.status, event.status)
    if new is not None:
        message.status = new
        message.status_at = event.occurred_at or utcnow()
    if event.error_codes:
        message.error_codes = sorted({*(message.error_codes or []), *event.error_codes})
    if event.pricing:
        message.pricing = event.pricing
    if event.status == "failed" and NOT_ON_WHATSAPP in (event.error_codes or []):
        contact = _contact(session, message.tenant_id, message.contact_id)
        if contact is not None and contact.status == ContactStatus.VALID:
            contact.status = ContactStatus.NO_WHATSAPP


@dataclass(frozen=True, slots=True)
class StatusItem:
    """One status webhook item to store (the arguments of :func:`store_status`), normalised."""

    tenant_id: uuid.UUID | None
    channel_id: uuid.UUID | None
    delivery_id: uuid.UUID | None
    wamid: str
    status: str
    callback_data: str | None
    recipient_id: str | None
    occurred_at: dt.datetime | None
    errors: list[dict[str, Any]] | None
    pricing: dict[str, Any] | None
    conversation: dict[str, Any] | None
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    @classmethod
    def of(cls, *, tenant_id: uuid.UUID | None, channel_id: uuid.UUID | None, delivery_id: uuid.UUID | None,
           wamid: str, status: str, callback_data: str | None, recipient_id: str | None,
           occurred_at: dt.datetime | None, errors: list[dict[str, Any]] | None, pricing: dict[str, Any] | None,
           conversation: dict[str, Any] | None) -> StatusItem:
        """Cut to the columns' sizes, the status lower-cased (Meta's are; a forged upper-case one is the same)."""
        return cls(
            tenant_id, channel_id, delivery_id, wamid[:128], status.lower()[:20],
            callback_data[:512] if callback_data else None, recipient_id[:64] if recipient_id else None,
            occurred_at, errors or None, pricing, conversation,
        )  # fmt: skip

    @property
    def error_codes(self) -> list[int] | None:
        return [e["code"] for e in self.errors or [] if isinstance(e.get("code"), int)] or None

    def row(self, now: dt.datetime) -> dict[str, Any]:
        return {
            "id": self.id, "created_at": now, "tenant_id": self.tenant_id, "channel_id": self.channel_id,
            "delivery_id": self.delivery_id, "wamid": self.wamid, "status": self.status,
            "callback_data": self.callback_data, "recipient_id": self.recipient_id, "occurred_at": self.occurred_at,
            "error_codes": self.error_codes, "errors": self.errors, "pricing": self.pricing,
            "conversation": self.conversation,
        }  # fmt: skip


def store_status(session: Session, **values: Any) -> StatusEvent | None:
    """Stores one status webhook item and applies it; ``None`` when it is a redelivery (already stored).
    ``values``: the fields of :meth:`StatusItem.of`."""
    item = StatusItem.of(**values)
    return session.get_one(StatusEvent, item.id) if store_statuses(session, [item]) else None


def store_statuses(session: Session, items: Sequence[StatusItem]) -> list[StatusItem]:
    """Stores status webhook items and applies the new ones to their messages, in order, set-wise: one insert
    for the events (a redelivery, or the same item twice in ``items``, inserts nothing: unique per wamid and
    status) and one locked read of their messages per tenant, where item by item took five statements each —
    Meta sends about three statuses per message sent, so the pump must keep up with three times the
    dispatcher. Returns the items stored now. A status whose message is not recorded yet stays parked."""
    fresh: dict[tuple[str, str], StatusItem] = {}
    for item in items:
        fresh.setdefault((item.wamid, item.status), item)
    if not fresh:
        return []
    now, candidates = utcnow(), list(fresh.values())
    # one cached statement, the rows as parameters (SQLAlchemy batches them into multi-row inserts itself)
    statement = insert_ignoring_duplicates(session, StatusEvent.__table__, ("wamid", "status"))  # type: ignore[arg-type]
    stored = set(session.scalars(statement.returning(StatusEvent.id), [i.row(now) for i in candidates]))
    new = [i for i in candidates if i.id in stored]
    by_tenant: dict[uuid.UUID, list[StatusItem]] = {}
    for item in new:
        if item.tenant_id is not None:
            by_tenant.setdefault(item.tenant_id, []).append(item)
    for tenant_id, mine in by_tenant.items():
        _apply_statuses(session, tenant_id, mine)
    return new


def _apply_statuses(session: Session, tenant_id: uuid.UUID, items: list[StatusItem]) -> None:
    """Each item to its message, found by wamid or else by our id echoed in ``callback_data`` (never when that
    message already carries another wamid: two sends are never merged)."""
    by_wamid = {
        m.wamid: m
        for m in session.scalars(
            select(Message).where(Message.tenant_id == tenant_id, Message.wamid.in_({i.wamid for i in items}))
            .order_by(Message.id).with_for_update()  # locked in one order: two pumps cannot deadlock on a pair
        )
    }
    ours: dict[str, uuid.UUID] = {}
    for item in items:
        if item.wamid not in by_wamid and item.callback_data:
            try:
                ours[item.callback_data] = uuid.UUID(item.callback_data)
            except ValueError:
                continue
    by_id: dict[uuid.UUID, Message] = {}
    if ours:
        by_id = {
            m.id: m
            for m in session.scalars(
                select(Message).where(Message.tenant_id == tenant_id, Message.id.in_(set(ours.values())))
                .order_by(Message.id).with_for_update()
            )
        }
    for item in items:
        message = by_wamid.get(item.wamid)
        if message is None and item.callback_data in ours:
            message = by_id.get(ours[item.callback_data])
            if message is None or message.wamid not in (None, item.wamid):
                continue
        if message is not None:
            _apply_status(session, message, item)
            by_wamid.setdefault(item.wamid, message)


def status_events_for(session: Session, tenant_id: uuid.UUID, callback_data: str) -> list[StatusEvent]:
    """Every status received for our message id, oldest first (the dispatcher reconciles in-doubt sends)."""
    return list(
        session.scalars(
            select(StatusEvent)
            .where(StatusEvent.tenant_id == tenant_id, StatusEvent.callback_data == callback_data)
            .order_by(StatusEvent.occurred_at, StatusEvent.created_at)
        )
    )


def recent_inbound(since: dt.datetime, *columns: Any) -> Any:
    """``SELECT columns`` of the inbound messages recorded since ``since``, oldest first, for the start-up
    catch-ups (the bot's unanswered messages, media never fetched). Read through the conversations a debtor
    wrote to in that time, so the messages are found by their (tenant, conversation, created_at) index
    instead of a scan of every message ever sent. Add the caller's own conditions with ``.where``."""
    return (
        select(*columns)
        .join(Conversation, and_(Conversation.tenant_id == Message.tenant_id, Conversation.id == Message.conversation_id))
        .where(Conversation.last_inbound_at >= since, Message.created_at >= since, Message.direction == "inbound")
        .order_by(Message.created_at)
    )


def inbound_event(message: Mapping[str, Any], wa_id: str | None) -> dict[str, Any]:
    """The payload of :data:`quita.kit.events.INBOUND_MESSAGE` for a recorded inbound message (its column values,
    ``body`` being the normalised content), from the pump and from the bot's start-up catch-up alike."""
    content: Mapping[str, Any] = message["body"] or {}
    media = content.get("media")
    occurred = message["occurred_at"]
    return {
        "tenant_id": message["tenant_id"], "channel_id": message["channel_id"],
        "conversation_id": message["conversation_id"], "contact_id": message["contact_id"],
        "debtor_id": message["debtor_id"], "message_id": message["id"], "wamid": message["wamid"], "wa_id": wa_id,
        "text": content.get("text"), "reply_id": content.get("reply_id") or content.get("button_payload"),
        "reply_title": content.get("reply_title"), "context_wamid": content.get("context_id"),
        "media_id": media.get("id") if isinstance(media, dict) else None,
        "occurred_at": occurred.isoformat() if occurred is not None else None,
    }  # fmt: skip


def last_inbound_at(session: Session, tenant_id: uuid.UUID, contact_id: uuid.UUID) -> dt.datetime | None:
    """When this contact last wrote to any of the tenant's numbers (opens the 24 h window)."""
    value: dt.datetime | None = session.scalar(
        select(func.max(Conversation.last_inbound_at)).where(
            Conversation.tenant_id == tenant_id, Conversation.contact_id == contact_id
        )
    )
    if value is not None and value.tzinfo is None:  # aggregates bypass the column type on SQLite
        value = value.replace(tzinfo=dt.UTC)
    return value



# --------------------------------------------------------------------------- reading the record


@dataclass(frozen=True, slots=True)
class ConversationItem:
    entry: ConversationEntry
    message: Message | None
    statuses: list[StatusEvent]


def debtor_conversation(session: Session, tenant_id: uuid.UUID, debtor_id: uuid.UUID) -> list[ConversationItem]:
    """Every entry of every chain of this debtor, in recording order, with each message's status history."""
    conversation_ids = list(
        session.scalars(
            select(Conversation.id).where(Conversation.tenant_id == tenant_id, Conversation.debtor_id == debtor_id)
        )
    )
    if not conversation_ids:
        return []
    entries = session.scalars(
        select(ConversationEntry)
        .where(ConversationEntry.tenant_id == tenant_id, ConversationEntry.conversation_id.in_(conversation_ids))
        .order_by(ConversationEntry.created_at, ConversationEntry.seq)
    ).all()
    message_ids = [e.message_id for e in entries if e.message_id is not None]
    messages = {
        m.id: m
        for m in session.scalars(select(Message).where(Message.tenant_id == tenant_id, Message.id.in_(message_ids)))
    }
    wamids = [m.wamid for m in messages.values() if m.wamid]
    by_wamid: dict[str, list[StatusEvent]] = {}
    if wamids:
        for event in session.scalars(
            select(StatusEvent)
            .where(StatusEvent.tenant_id == tenant_id, StatusEvent.wamid.in_(wamids))
            .order_by(StatusEvent.occurred_at, StatusEvent.created_at)
        ):
            by_wamid.setdefault(event.wamid, []).append(event)
    for events in by_wamid.values():  # same-second statuses: show them in ladder order
        events.sort(key=lambda e: (e.occurred_at or e.created_at, RANK.get(e.status, 9)))
    items = []
    for entry in entries:
        message = messages.get(entry.message_id) if entry.message_id else None
        statuses = by_wamid.get(message.wamid, []) if message is not None and message.wamid else []
        items.append(ConversationItem(entry, message, statuses))
    return items


__all__ = [
    "ConversationItem",
    "MatchedContact",
    "append_entry",
    "channel_by_phone_number_id",
    "client_for",
    "conversation_for",
    "create_channel",
    "debtor_conversation",
    "last_inbound_at",
    "list_channels",
    "match_contact",
    "record_outbound",
    "status_events_for",
    "store_status",
]

"""Checking the conversation record: every chain, link by link, against its stored hashes.

The database already refuses UPDATE and DELETE on ``conversation_entries``; this is the independent
check for what a trigger cannot stop (someone with the database owner's rights dropping it, a restored
tampered backup). The first broken link of each chain is named so a person can look at it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from quita.whatsapp.domain.chain import BrokenLink, StoredLink, first_broken_link
from quita.whatsapp.models import Conversation, ConversationEntry
from quita.whatsapp.service import entry_fields


@dataclass(frozen=True, slots=True)
class ChainReport:
    conversation_id: uuid.UUID
    tenant_id: uuid.UUID
    entries: int
    broken: BrokenLink | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _links(session: Session, conversation: Conversation) -> Iterator[StoredLink]:
    rows = session.scalars(
        select(ConversationEntry)
        .where(ConversationEntry.tenant_id == conversation.tenant_id,
               ConversationEntry.conversation_id == conversation.id)
        .order_by(ConversationEntry.seq)
        .execution_options(yield_per=1000)
    )
    for row in rows:
        fields = entry_fields(
            tenant_id=row.tenant_id, conversation_id=row.conversation_id, seq=row.seq, direction=row.direction,
            actor=row.actor, kind=row.kind, content=row.content, message_id=row.message_id, wamid=row.wamid,
            occurred_at=row.occurred_at,
        )
        yield StoredLink(row.seq, fields, row.prev_hash, row.content_hash, row.entry_hash, str(row.id))


def verify_conversation(session: Session, conversation: Conversation) -> ChainReport:
    count = 0
    last_hash = None

    def counted() -> Iterator[StoredLink]:
        nonlocal count, last_hash
        for link in _links(session, conversation):
            count += 1
            last_hash = link.entry_hash
            yield link

    broken = first_broken_link(counted())
    if broken is None and (count != conversation.entry_count or last_hash != conversation.head_hash):
        broken = BrokenLink(count, f"conversation {conversation.id}",
                            f"the chain ends at entry {count} but its head says {conversation.entry_count} "
                            "(entries were removed from the end)")
    return ChainReport(conversation.id, conversation.tenant_id, count, broken)


def verify(session: Session, tenant_id: uuid.UUID | None = None) -> Iterator[ChainReport]:
    """One report per conversation (``tenant_id=None``: every tenant)."""
    query = select(Conversation).order_by(Conversation.tenant_id, Conversation.created_at, Conversation.id)
    if tenant_id is not None:
        query = query.where(Conversation.tenant_id == tenant_id)
    for conversation in session.scalars(query).all():
        yield verify_conversation(session, conversation)

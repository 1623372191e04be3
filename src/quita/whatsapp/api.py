"""WhatsApp routes: ``/api/v1/channels``, ``/api/v1/templates``, ``/api/v1/debtors/{id}/conversation``.

The webhook receiver lives in :mod:`quita.whatsapp.webhooks` (it is authenticated by signature, not
by API key).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from quita.kit.api import DbSession
from quita.portfolio import service as portfolio
from quita.tenant.auth import CurrentPrincipal
from quita.whatsapp import service, templates
from quita.whatsapp.schemas import (
    ChannelList,
    ChannelRead,
    ConversationEntryRead,
    ConversationRead,
    StatusRead,
    TemplateCreate,
    TemplateList,
    TemplateRead,
)

router = APIRouter(prefix="/api/v1", tags=["whatsapp"])


@router.get("/channels", response_model=ChannelList)
def list_channels(principal: CurrentPrincipal, session: DbSession) -> ChannelList:
    rows = service.list_channels(session, principal.tenant_id)
    return ChannelList(items=[ChannelRead.model_validate(r) for r in rows])


@router.get("/templates", response_model=TemplateList)
def list_templates(principal: CurrentPrincipal, session: DbSession) -> TemplateList:
    rows = templates.list_templates(session, principal.tenant_id)
    return TemplateList(items=[TemplateRead.model_validate(r) for r in rows])


@router.post("/templates", response_model=TemplateRead, status_code=201)
def create_template(principal: CurrentPrincipal, session: DbSession, body: TemplateCreate) -> TemplateRead:
    """Submits the template to Meta (or the simulator) and records it in the registry."""
    channel = (service.get_channel(session, principal.tenant_id, body.channel_id) if body.channel_id
               else service.default_channel(session, principal.tenant_id))
    definition = body.model_dump(exclude={"channel_id"}, exclude_none=True)
    template = templates.create(session, channel, definition, actor=principal.actor)
    return TemplateRead.model_validate(template)


@router.get("/debtors/{debtor_id}/conversation", response_model=ConversationRead)
def debtor_conversation(principal: CurrentPrincipal, session: DbSession, debtor_id: uuid.UUID) -> ConversationRead:
    """The conversation record of one debtor, every number, in time order, with status histories."""
    portfolio.get_debtor(session, principal.tenant_id, debtor_id)  # 404 across tenants
    items = service.debtor_conversation(session, principal.tenant_id, debtor_id)
    entries = [
        ConversationEntryRead(
            id=i.entry.id, conversation_id=i.entry.conversation_id, seq=i.entry.seq, direction=i.entry.direction,
            actor=i.entry.actor, kind=i.entry.kind, content=i.entry.content, wamid=i.entry.wamid,
            occurred_at=i.entry.occurred_at, entry_hash=i.entry.entry_hash, message_id=i.entry.message_id,
            status=i.message.status if i.message is not None else None,
            statuses=[StatusRead(status=s.status, occurred_at=s.occurred_at, error_codes=s.error_codes,
                                 pricing=s.pricing) for s in i.statuses],
        )
        for i in items
    ]
    return ConversationRead(debtor_id=debtor_id, entries=entries)


__all__ = ["router"]

"""Handoff queue routes: ``/api/v1/handoffs`` (list, assign to a person, close back to the bot).

The agents' web inbox comes later; until then these routes and ``quita handoff`` are how a person takes a
conversation from the bot and gives it back. Every query is scoped to the API key's tenant.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from quita.bot import service
from quita.kit.api import DbSession, decode_cursor, encode_cursor
from quita.tenant.auth import CurrentPrincipal

router = APIRouter(prefix="/api/v1", tags=["bot"])
Limit = Annotated[int, Query(ge=1, le=500, description="Itens por página")]
Cursor = Annotated[str | None, Query(description="Cursor devolvido em next_cursor")]
HandoffStatus = Literal["open", "assigned", "closed"]


class HandoffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    bot_conversation_id: uuid.UUID
    debtor_id: uuid.UUID | None
    debt_id: uuid.UUID | None
    queue: str
    reason: str
    status: str
    assigned_to: str | None
    assigned_at: dt.datetime | None
    created_at: dt.datetime


class HandoffPage(BaseModel):
    items: list[HandoffRead]
    next_cursor: str | None


class AssignBody(BaseModel):
    agent: str = Field(min_length=1, max_length=100, description="Quem assume a conversa")


class CloseBody(BaseModel):
    agent: str | None = Field(
        default=None, max_length=100, description="Quem encerra (padrão: a chave de API)"
    )


@router.get("/handoffs", response_model=HandoffPage)
def list_handoffs(
    principal: CurrentPrincipal,
    session: DbSession,
    status: HandoffStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> HandoffPage:
    rows = service.list_handoffs(
        session, principal.tenant_id, status, after=decode_cursor(cursor), limit=limit + 1
    )
    items = [HandoffRead.model_validate(r) for r in rows[:limit]]
    return HandoffPage(items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > limit else None)


@router.post("/handoffs/{handoff_id}/assign", response_model=HandoffRead)
def assign_handoff(
    principal: CurrentPrincipal, session: DbSession, handoff_id: uuid.UUID, body: AssignBody
) -> HandoffRead:
    item = service.assign_handoff(session, principal.tenant_id, handoff_id, body.agent.strip())
    return HandoffRead.model_validate(item)


@router.post("/handoffs/{handoff_id}/close", response_model=HandoffRead)
def close_handoff(
    principal: CurrentPrincipal, session: DbSession, handoff_id: uuid.UUID, body: CloseBody | None = None
) -> HandoffRead:
    agent = (body.agent if body and body.agent else None) or principal.actor
    item = service.close_handoff(session, principal.tenant_id, handoff_id, agent)
    return HandoffRead.model_validate(item)

"""API shapes of the WhatsApp channel. No schema here has a field for a secret: none can leak."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ChannelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    phone_number_id: str
    waba_id: str
    display_phone_number: str | None
    graph_url: str
    api_version: str
    throughput_mps: int
    messaging_tier_limit: int | None
    paused_at: dt.datetime | None
    pause_reason: str | None
    created_at: dt.datetime


class ChannelList(BaseModel):
    items: list[ChannelRead]


class TemplateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    waba_id: str
    meta_id: str | None
    name: str
    language: str
    category: str
    status: str
    components: list[dict[str, Any]]
    parameter_names: list[str]
    usable: bool
    needs_review: bool
    status_reason: str | None
    updated_at: dt.datetime


class TemplateList(BaseModel):
    items: list[TemplateRead]


class TemplateCreate(BaseModel):
    """Meta's creation body (``POST /{waba-id}/message_templates``), passed through as given."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(pattern=r"^[a-z0-9_]{1,512}$")
    language: str = Field(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    category: str = Field(pattern=r"^(UTILITY|MARKETING|AUTHENTICATION)$")
    components: list[dict[str, Any]] = Field(min_length=1)
    parameter_format: str | None = Field(default=None, pattern=r"^(POSITIONAL|NAMED)$")
    channel_id: uuid.UUID | None = Field(default=None, description="Número (canal) cujo WABA recebe o modelo")


class StatusRead(BaseModel):
    status: str
    occurred_at: dt.datetime | None
    error_codes: list[int] | None
    pricing: dict[str, Any] | None


class ConversationEntryRead(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    seq: int
    direction: str
    actor: str
    kind: str
    content: dict[str, Any]
    wamid: str | None
    occurred_at: dt.datetime
    entry_hash: str
    message_id: uuid.UUID | None
    status: str | None = None
    statuses: list[StatusRead] = []


class ConversationRead(BaseModel):
    debtor_id: uuid.UUID
    entries: list[ConversationEntryRead]

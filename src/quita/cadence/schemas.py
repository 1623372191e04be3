"""API shapes of cadences. The definition itself is validated by the domain parser (path + reason)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict


class CadenceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    priority: int
    enabled: bool
    content_hash: str
    definition: dict[str, Any]
    updated_at: dt.datetime


class CadenceList(BaseModel):
    items: list[CadenceRead]
    default_in_use: bool
    """True when the tenant has no cadence of its own and the shipped default applies."""

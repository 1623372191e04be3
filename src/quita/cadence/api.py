"""``/api/v1/cadences``: list the tenant's cadences, create or replace one (same schema as the YAML)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from quita.cadence import service
from quita.cadence.schemas import CadenceList, CadenceRead
from quita.kit.api import DbSession
from quita.tenant.auth import CurrentPrincipal

router = APIRouter(prefix="/api/v1/cadences", tags=["cadences"])


@router.get("", response_model=CadenceList)
def list_cadences(principal: CurrentPrincipal, session: DbSession) -> CadenceList:
    rows = service.list_definitions(session, principal.tenant_id)
    return CadenceList(items=[CadenceRead.model_validate(r) for r in rows], default_in_use=not rows)


@router.post("", response_model=CadenceRead, status_code=201)
def save_cadence(
    principal: CurrentPrincipal,
    session: DbSession,
    definition: dict[str, Any] = Body(..., description="A régua, no mesmo formato do YAML (docs/cadence.md)"),
) -> CadenceRead:
    row = service.save_cadence(session, principal.tenant_id, definition, actor=principal.actor)
    return CadenceRead.model_validate(row)

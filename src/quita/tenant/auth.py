"""API authentication: every route but health needs a tenant API key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from quita.kit.api import get_database
from quita.kit.errors import Unauthorized
from quita.tenant import service

_bearer = HTTPBearer(auto_error=False, description="Chave de API: Authorization: Bearer qk_...")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Chave de API (alternativa)")


@dataclass(frozen=True)
class Principal:
    tenant_id: uuid.UUID
    key_prefix: str

    @property
    def actor(self) -> str:
        return f"apikey:{self.key_prefix}"


def authenticate(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_header)],
) -> Principal:
    presented = bearer.credentials if bearer is not None else header_key
    if not presented:
        raise Unauthorized("chave de API ausente: envie Authorization: Bearer <chave>", code="missing_api_key")
    with get_database(request).transaction() as session:
        key = service.authenticate(session, presented)
        return Principal(tenant_id=key.tenant_id, key_prefix=key.prefix)


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]

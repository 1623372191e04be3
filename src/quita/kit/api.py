"""HTTP plumbing shared by every capability: the per-request unit of work, JSON errors, cursors."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from quita.kit.db import Database
from quita.kit.errors import InvalidInput, QuitaError


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back on error."""
    with get_database(request).transaction() as session:
        yield session


# scope="function": the commit happens before the response leaves. With FastAPI's default ("request") it
# ran after the response was sent, so a client could get 200 for a write it could not yet read back (seen:
# two handoff closes in a row, the second still saw the first open) or for a commit that then failed.
DbSession = Annotated[Session, Depends(get_session, scope="function")]


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    return body


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(QuitaError)
    async def quita_error(_: Request, exc: QuitaError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()
        ]
        first = details[0] if details else {"field": "?", "message": "inválido"}
        message = f"parâmetro inválido: {first['field']}: {first['message']}"
        return JSONResponse(error_body("invalid_request", message, details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(exc.status_code, "http_error")
        message = "recurso não encontrado" if exc.status_code == 404 else str(exc.detail)
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> uuid.UUID | None:
    """Keyset pagination by id: stable under inserts and cheap on millions of rows."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return uuid.UUID(bytes=raw)
    except (ValueError, binascii.Error):
        raise InvalidInput("cursor de paginação inválido", code="invalid_cursor") from None

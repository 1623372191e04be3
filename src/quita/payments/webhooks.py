"""Pix webhook receiver: ``POST /webhooks/pix/{tenant_slug}/pix`` (the PSP appends ``/pix`` to the
registered webhookUrl).

The API Pix protects callbacks with mTLS, which a reverse proxy terminates: the proxy must require and
verify the PSP's client certificate. Quita adds a shared secret of its own (header ``X-Webhook-Secret`` or
query parameter ``secret``, compared in constant time), so a request that bypasses the proxy still
fails. The raw body is stored in its own transaction before processing, and the PSP gets 200 only after
the payments are committed; a retry is harmless because each Pix is keyed by its endToEndId.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from quita.kit.api import error_body, get_database
from quita.kit.db import utcnow
from quita.payments import reconciliation
from quita.payments.models import PaymentAccount, PixWebhookDelivery
from quita.payments.schemas import PixNotification
from quita.payments.service import account_secret
from quita.tenant.models import Tenant

log = logging.getLogger("quita.payments.webhooks")
router = APIRouter(tags=["webhooks"])
MAX_BODY = 1_000_000
ACTOR = "psp:webhook"


def _clean_secret(value: str | None) -> str | None:
    """Some PSPs append ``/pix`` to the whole registered URL, query string included (``?secret=abc/pix``)."""
    if value is None:
        return None
    return value[: -len("/pix")] if value.endswith("/pix") else value


def _authorised(secrets_: list[str], presented: str | None) -> bool:
    if not presented:
        return False
    matched = False
    for expected in secrets_:
        matched |= hmac.compare_digest(expected.encode(), presented.encode())
    return matched


def _unauthorised() -> JSONResponse:
    return JSONResponse(error_body("unauthorized", "webhook não autenticado"), status_code=401)


@router.post("/webhooks/pix/{tenant_slug}/pix", include_in_schema=True)
@router.post("/webhooks/pix/{tenant_slug}", include_in_schema=False)
async def pix_webhook(
    request: Request,
    tenant_slug: str,
    secret: Annotated[str | None, Query()] = None,
    x_webhook_secret: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse(error_body("payload_too_large", "notificação grande demais"), status_code=413)
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(
        _handle, request, tenant_slug, x_webhook_secret or _clean_secret(secret), body
    )


def _handle(request: Request, tenant_slug: str, presented: str | None, body: bytes) -> JSONResponse:
    database = get_database(request)
    with database.transaction() as session:
        tenant = session.scalar(sa.select(Tenant).where(Tenant.slug == tenant_slug))
        accounts = (
            session.scalars(sa.select(PaymentAccount).where(PaymentAccount.tenant_id == tenant.id)).all()
            if tenant is not None
            else []
        )
        configured = [s for s in (account_secret(a, "webhook_secret") for a in accounts) if s]
        if tenant is None or not _authorised(configured, presented):
            return _unauthorised()
        tenant_id = tenant.id
        delivery = PixWebhookDelivery(tenant_id=tenant_id, body=body.decode("utf-8", errors="replace"))
        session.add(delivery)
        session.flush()
        delivery_id = delivery.id
    try:
        notification = PixNotification.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        message = _validation_message(exc)
        with database.transaction() as session:
            session.get_one(PixWebhookDelivery, delivery_id).error = message[:500]
        return JSONResponse(error_body("invalid_payload", message), status_code=400)
    try:
        with database.transaction() as session:
            result = reconciliation.apply_pix_items(session, tenant_id, notification.pix, actor=ACTOR)
            stored = session.get_one(PixWebhookDelivery, delivery_id)
            stored.processed_at = utcnow()
            stored.payments = result.new
    except Exception as exc:  # stored raw already; the PSP retries on 5xx and the retry is idempotent
        log.exception("pix webhook processing failed")
        with database.transaction() as session:
            session.get_one(PixWebhookDelivery, delivery_id).error = f"{type(exc).__name__}: {exc}"[:500]
        return JSONResponse(
            error_body("processing_failed", "falha ao processar; tente de novo"), status_code=500
        )
    summary: dict[str, Any] = {
        "received": result.received,
        "new": result.new,
        "duplicates": result.duplicates,
    }
    return JSONResponse(summary, status_code=200)


def _validation_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"notificação Pix inválida: {where}: {first.get('msg', '')}"
    return f"notificação Pix não é JSON válido: {exc}"

"""Charges and review items over HTTP (``/api/v1/charges``, ``/api/v1/payment-reviews``).

The Pix webhook lives in ``webhooks.py``: it is called by PSPs, not by API-key holders.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from quita.kit.api import DbSession
from quita.kit.errors import InvalidInput, NotFound
from quita.payments import service
from quita.payments.models import ReviewStatus
from quita.payments.schemas import ChargeCreate, ChargeRead, ReviewRead
from quita.tenant.auth import CurrentPrincipal

router = APIRouter(prefix="/api/v1", tags=["payments"])


@router.post("/charges", response_model=ChargeRead, status_code=201)
def create_charge(
    request: Request, principal: CurrentPrincipal, session: DbSession, body: ChargeCreate
) -> ChargeRead:
    if body.debt_id is None and not body.external_id:
        raise InvalidInput("informe debt_id ou external_id", code="missing_debt")
    debt_id = body.debt_id or service.find_debt(session, principal.tenant_id, body.external_id or "").id
    charge = service.issue_charge(
        session,
        principal.tenant_id,
        debt_id,
        kind=body.kind,
        due_date=body.due_date,
        actor=principal.actor,
        data_dir=Path(request.app.state.settings.data_dir),
    )
    return ChargeRead.model_validate(charge)


@router.get("/charges/{charge_id}", response_model=ChargeRead)
def read_charge(principal: CurrentPrincipal, session: DbSession, charge_id: uuid.UUID) -> ChargeRead:
    return ChargeRead.model_validate(service.get_charge(session, principal.tenant_id, charge_id))


@router.get("/charges/{charge_id}/pdf", response_class=FileResponse)
def charge_pdf(principal: CurrentPrincipal, session: DbSession, charge_id: uuid.UUID) -> FileResponse:
    charge = service.get_charge(session, principal.tenant_id, charge_id)
    if not charge.pdf_path or not Path(charge.pdf_path).is_file():
        raise NotFound("esta cobrança não tem PDF", code="no_pdf")
    return FileResponse(charge.pdf_path, media_type="application/pdf", filename=f"boleto-{charge.id}.pdf")


@router.get("/payment-reviews", response_model=list[ReviewRead])
def reviews(
    principal: CurrentPrincipal, session: DbSession, status: ReviewStatus | None = ReviewStatus.OPEN
) -> list[ReviewRead]:
    return [
        ReviewRead.model_validate(r)
        for r in service.list_reviews(session, principal.tenant_id, status=status)
    ]

"""Import over HTTP: upload a file, follow the background job, download its error report."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse

from quita.importing import jobs
from quita.importing.models import ImportJob
from quita.importing.schemas import ImportJobRead
from quita.kit.api import DbSession
from quita.kit.errors import InvalidInput, NotFound
from quita.tenant.auth import CurrentPrincipal

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])


def _read(record: ImportJob) -> ImportJobRead:
    return ImportJobRead.model_validate(record).model_copy(update={"has_error_report": bool(record.error_report_path)})


@router.post("", response_model=ImportJobRead, status_code=202)
def upload(
    request: Request,
    principal: CurrentPrincipal,
    session: DbSession,
    file: Annotated[UploadFile, File(description="CSV (qualquer separador, UTF-8 ou Latin-1) ou XLSX")],
    creditor_cnpj: Annotated[str | None, Form()] = None,
) -> ImportJobRead:
    if not file.filename:
        raise InvalidInput("envie o arquivo no campo 'file'", code="missing_file")
    record = jobs.create_job(
        session, tenant_id=principal.tenant_id, filename=file.filename, content=file.file,
        data_dir=request.app.state.settings.data_dir, creditor_cnpj=creditor_cnpj,
    )
    return _read(record)


@router.get("/{job_id}", response_model=ImportJobRead)
def status(principal: CurrentPrincipal, session: DbSession, job_id: uuid.UUID) -> ImportJobRead:
    return _read(jobs.get_job(session, principal.tenant_id, job_id))


@router.get("/{job_id}/errors", response_class=FileResponse)
def error_report(principal: CurrentPrincipal, session: DbSession, job_id: uuid.UUID) -> FileResponse:
    record = jobs.get_job(session, principal.tenant_id, job_id)
    if not record.error_report_path or not Path(record.error_report_path).is_file():
        raise NotFound("esta importação não tem relatório de erros", code="no_error_report")
    return FileResponse(record.error_report_path, media_type="text/csv", filename=f"{record.filename}.erros.csv")

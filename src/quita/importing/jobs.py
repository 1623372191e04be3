"""Import jobs: an upload becomes a durable ``import_jobs`` row, then runs in the background."""

from __future__ import annotations

import re
import shutil
import traceback
import uuid
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from quita.importing.domain.columns import NotAPortfolio
from quita.importing.models import ImportJob, ImportStatus
from quita.importing.service import import_file
from quita.kit.db import Database, utcnow
from quita.kit.errors import NotFound, QuitaError
from quita.kit.jobs import enqueue_after_commit, job

RUN_IMPORT = "importing.run"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def create_job(
    session: Session, *, tenant_id: uuid.UUID, filename: str, content: IO[bytes], data_dir: Path,
    creditor_cnpj: str | None = None,
) -> ImportJob:
    """Stores the upload under the data directory and queues its import after commit."""
    job_id = uuid.uuid4()
    safe = _SAFE_NAME.sub("_", Path(filename).name)[:120] or "carteira.csv"
    folder = data_dir / "imports" / str(tenant_id) / str(job_id)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe
    with target.open("wb") as out:
        shutil.copyfileobj(content, out, 1 << 20)
    record = ImportJob(id=job_id, tenant_id=tenant_id, filename=safe, path=str(target), creditor_cnpj=creditor_cnpj)
    session.add(record)
    session.flush()
    enqueue_after_commit(session, RUN_IMPORT, {"job_id": str(job_id)})
    return record


def get_job(session: Session, tenant_id: uuid.UUID, job_id: uuid.UUID) -> ImportJob:
    record = session.scalar(select(ImportJob).where(ImportJob.id == job_id, ImportJob.tenant_id == tenant_id))
    if record is None:
        raise NotFound("importação não encontrada", code="import_not_found")
    return record


@job(RUN_IMPORT)
def run_import_job(database: Database, payload: dict[str, str]) -> None:
    job_id = uuid.UUID(payload["job_id"])
    with database.transaction() as session:
        record = session.get(ImportJob, job_id)
        if record is None or record.status in (ImportStatus.DONE, ImportStatus.FAILED):
            return
        record.status, record.started_at = ImportStatus.RUNNING, utcnow()
        tenant_id, path, creditor = record.tenant_id, Path(record.path), record.creditor_cnpj
    try:
        with database.transaction() as session:
            summary = import_file(
                session, tenant_id=tenant_id, path=path, actor=f"import:{job_id}", creditor_cnpj=creditor,
                job_id=job_id,
            )
            record = session.get_one(ImportJob, job_id)
            record.status, record.finished_at = ImportStatus.DONE, utcnow()
            record.rows_read, record.rows_imported = summary.read, summary.imported
            record.rows_updated, record.rows_unchanged = summary.updated, summary.unchanged
            record.rows_rejected = summary.rejected
            record.error_report_path = str(summary.error_report) if summary.error_report else None
    except (NotAPortfolio, QuitaError) as exc:
        _mark_failed(database, job_id, getattr(exc, "message", None) or str(exc))
    except Exception:
        _mark_failed(database, job_id, "erro interno ao importar:\n" + traceback.format_exc(limit=3))
        raise


def _mark_failed(database: Database, job_id: uuid.UUID, message: str) -> None:
    with database.transaction() as session:
        record = session.get_one(ImportJob, job_id)
        record.status, record.finished_at, record.error = ImportStatus.FAILED, utcnow(), message


def pending_job_ids(session: Session) -> list[uuid.UUID]:
    """Jobs a previous process queued or was running when it stopped; they are run again
    (safe: an import is one transaction and idempotent)."""
    return list(
        session.scalars(
            select(ImportJob.id).where(ImportJob.status.in_([ImportStatus.QUEUED, ImportStatus.RUNNING]))
        )
    )

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict

from quita.importing.models import ImportStatus


class ImportJobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    filename: str
    status: ImportStatus
    rows_read: int
    rows_imported: int
    rows_updated: int
    rows_unchanged: int
    rows_rejected: int
    has_error_report: bool = False
    error: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
